//! Product files on local disk. Public files (covers, samples) are served as they are; private
//! files (what buyers pay for) are only reachable through the server's checks.

use sha2::{Digest, Sha256};
use std::io;
use std::path::{Component, Path, PathBuf};

/// Numbers this process's temp files (see [`LocalStorage::put`]).
static TEMP_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Public,
    Private,
}

impl Area {
    fn dir(self) -> &'static str {
        match self {
            Area::Public => "public",
            Area::Private => "private",
        }
    }
}

/// What was stored: enough to serve it and prove its integrity later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub key: String,
    pub size_bytes: u64,
    pub sha256: String,
}

impl StoredFile {
    pub fn describe(key: &str, bytes: &[u8]) -> Self {
        StoredFile {
            key: key.to_owned(),
            size_bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key {0:?}")]
    InvalidKey(String),
    #[error("storage I/O failed for {key}")]
    Io {
        key: String,
        #[source]
        source: io::Error,
    },
}

#[derive(Clone, Debug)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory served under `/media`.
    pub fn public_dir(&self) -> PathBuf {
        self.root.join(Area::Public.dir())
    }

    /// The URL path a public key is served at.
    pub fn public_url(key: &str) -> String {
        format!("/media/{key}")
    }

    pub fn path(&self, area: Area, key: &str) -> Result<PathBuf, StorageError> {
        let relative = Path::new(key);
        // Keys are made by the server, but a key must never leave its area whatever its origin.
        let safe = !key.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(StorageError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(area.dir()).join(relative))
    }

    /// Writes `bytes` under `key` atomically (temp file + rename), so readers never see half a file.
    pub async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: &[u8],
    ) -> Result<StoredFile, StorageError> {
        let path = self.path(area, key)?;
        let io_err = |source| StorageError::Io {
            key: key.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io_err)?;
        }
        // A temp name of this writer's own: two processes storing the same key at once (replicas
        // seeding one shop) must not write into, or rename away, each other's half-written file.
        let tmp = path.with_extension(format!(
            "part.{}.{}",
            std::process::id(),
            TEMP_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        tokio::fs::write(&tmp, bytes).await.map_err(io_err)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io_err)?;
        Ok(StoredFile::describe(key, bytes))
    }

    pub async fn exists(&self, area: Area, key: &str) -> Result<bool, StorageError> {
        let path = self.path(area, key)?;
        tokio::fs::try_exists(&path)
            .await
            .map_err(|source| StorageError::Io {
                key: key.to_owned(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_stores_bytes_with_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path());
        let stored = storage
            .put(Area::Private, "books/a.pdf", b"abc")
            .await
            .unwrap();
        assert_eq!(stored.size_bytes, 3);
        assert_eq!(
            stored.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let on_disk = std::fs::read(dir.path().join("private/books/a.pdf")).unwrap();
        assert_eq!(on_disk, b"abc");
        assert!(storage.exists(Area::Private, "books/a.pdf").await.unwrap());
        assert!(!storage.exists(Area::Public, "books/a.pdf").await.unwrap());
    }

    #[test]
    fn keys_cannot_escape_their_area() {
        let storage = LocalStorage::new("/srv/files");
        for key in ["../etc/passwd", "/etc/passwd", "a/../../b", "", "./a"] {
            assert!(storage.path(Area::Public, key).is_err(), "{key}");
        }
        assert_eq!(
            storage.path(Area::Public, "covers/x.svg").unwrap(),
            PathBuf::from("/srv/files/public/covers/x.svg")
        );
    }
}
