//! Product files through `object_store`: a local directory by default, or an S3-compatible bucket
//! (`STORAGE=s3`) that every replica shares, so no file lives only on one server's disk.
//! Public files (covers, samples) are served as they are; private files (what buyers pay for) are
//! only reachable through the server's checks: bytes from this server (local) or a short-lived
//! pre-signed URL the server hands out after the checks (S3).

use crate::config::{S3Config, StorageConfig};
use axum::body::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::{Method, SignedUrlOptions, Signer};
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

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

/// How the store itself should answer for a file: a bucket serves pre-signed downloads without
/// the server, so the type and the download name are kept with the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    pub content_type: String,
    pub disposition: Option<String>,
}

impl Headers {
    /// Shown in place (covers, samples).
    pub fn inline(content_type: &str) -> Self {
        Headers {
            content_type: content_type.to_owned(),
            disposition: None,
        }
    }

    /// Saved under `file_name` (what buyers download).
    pub fn attachment(content_type: &str, file_name: &str) -> Self {
        Headers {
            content_type: content_type.to_owned(),
            disposition: Some(content_disposition(file_name)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key {0:?}")]
    InvalidKey(String),
    #[error("stored file {0} is missing")]
    NotFound(String),
    #[error("storage I/O failed for {key}")]
    Io {
        key: String,
        #[source]
        source: io::Error,
    },
    #[error("the object store failed for {key}")]
    Store {
        key: String,
        #[source]
        source: object_store::Error,
    },
    #[error("cannot open the file store: {0}")]
    Setup(String),
}

/// Parts of a big upload: S3 wants at least 5 MiB per part but the last; smaller files go up in
/// one request.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once per upload: bounds memory to about this many parts.
const PARTS_IN_FLIGHT: usize = 4;

#[derive(Clone, Debug)]
enum Backend {
    Local { root: PathBuf },
    S3 { s3: Arc<AmazonS3>, bucket: String },
}

#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
}

impl Storage {
    /// Files under `root` (`public/…`, `private/…`), created if missing.
    pub fn local(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|err| {
            StorageError::Setup(format!("cannot create {}: {err}", root.display()))
        })?;
        // fsync: a file the database points at must survive a power cut, as it would in S3.
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|err| StorageError::Setup(err.to_string()))?
            .with_fsync(true);
        Ok(Self {
            store: Arc::new(store),
            backend: Backend::Local { root },
        })
    }

    /// A bucket of an S3-compatible store. Credentials not in `config` come from the usual
    /// `AWS_*` environment (or the instance's role), as AWS' own tools find them.
    pub fn s3(config: &S3Config) -> Result<Self, StorageError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(config.virtual_hosted_style);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_allow_http(endpoint.scheme() == "http");
        }
        if let Some(id) = &config.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        let s3 = Arc::new(
            builder
                .build()
                .map_err(|err| StorageError::Setup(err.to_string()))?,
        );
        Ok(Self {
            store: s3.clone(),
            backend: Backend::S3 {
                s3,
                bucket: config.bucket.clone(),
            },
        })
    }

    pub fn from_config(config: &StorageConfig, files_dir: &Path) -> Result<Self, StorageError> {
        match config {
            StorageConfig::Local => Self::local(files_dir),
            StorageConfig::S3(s3) => Self::s3(s3),
        }
    }

    /// Where files go, for the start-up log.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local { root } => format!("local directory {}", root.display()),
            Backend::S3 { bucket, .. } => format!("S3 bucket {bucket}"),
        }
    }

    /// The directory public files are served from, when they are on this server's disk.
    pub fn local_public_dir(&self) -> Option<PathBuf> {
        match &self.backend {
            Backend::Local { root } => Some(root.join(Area::Public.dir())),
            Backend::S3 { .. } => None,
        }
    }

    /// A file on this server's disk (local storage only), for serving it with byte ranges.
    pub fn local_path(&self, area: Area, key: &str) -> Option<PathBuf> {
        match &self.backend {
            Backend::Local { root } => {
                check_key(key).ok()?;
                Some(root.join(area.dir()).join(key))
            }
            Backend::S3 { .. } => None,
        }
    }

    /// The URL path a public key is served at.
    pub fn public_url(key: &str) -> String {
        format!("/media/{key}")
    }

    fn location(area: Area, key: &str) -> Result<ObjectPath, StorageError> {
        check_key(key)?;
        ObjectPath::parse(format!("{}/{key}", area.dir()))
            .map_err(|_| StorageError::InvalidKey(key.to_owned()))
    }

    fn store_err(key: &str, source: object_store::Error) -> StorageError {
        match source {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_owned()),
            source => StorageError::Store {
                key: key.to_owned(),
                source,
            },
        }
    }

    /// What the object keeps besides its bytes; a local directory keeps nothing (the server
    /// sets the headers when it serves the file).
    fn attributes(&self, headers: &Headers) -> Attributes {
        let mut attributes = Attributes::new();
        if let Backend::S3 { .. } = self.backend {
            attributes.insert(Attribute::ContentType, headers.content_type.clone().into());
            if let Some(disposition) = &headers.disposition {
                attributes.insert(Attribute::ContentDisposition, disposition.clone().into());
            }
        }
        attributes
    }

    /// Writes `bytes` under `key` in one request; readers never see half a file.
    pub async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: &[u8],
        headers: &Headers,
    ) -> Result<StoredFile, StorageError> {
        let location = Self::location(area, key)?;
        let options = PutOptions {
            attributes: self.attributes(headers),
            ..PutOptions::default()
        };
        self.store
            .put_opts(
                &location,
                PutPayload::from(Bytes::copy_from_slice(bytes)),
                options,
            )
            .await
            .map_err(|err| Self::store_err(key, err))?;
        Ok(StoredFile::describe(key, bytes))
    }

    /// A writer for a file of unknown (possibly large) size: it appears under `key` only once
    /// [`ObjectWriter::finish`] succeeds.
    pub fn writer(
        &self,
        area: Area,
        key: &str,
        headers: &Headers,
    ) -> Result<ObjectWriter, StorageError> {
        Ok(ObjectWriter {
            store: self.store.clone(),
            location: Self::location(area, key)?,
            key: key.to_owned(),
            attributes: self.attributes(headers),
            pending: Vec::new(),
            pending_len: 0,
            multipart: None,
        })
    }

    pub async fn exists(&self, area: Area, key: &str) -> Result<bool, StorageError> {
        let location = Self::location(area, key)?;
        match self.store.head(&location).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(Self::store_err(key, err)),
        }
    }

    /// The whole file in memory: for files known to be small (what the bot uploads to Telegram).
    pub async fn read(&self, area: Area, key: &str) -> Result<Bytes, StorageError> {
        let location = Self::location(area, key)?;
        let got = self
            .store
            .get(&location)
            .await
            .map_err(|err| Self::store_err(key, err))?;
        got.bytes().await.map_err(|err| Self::store_err(key, err))
    }

    /// One byte range of a file in memory (`range` clipped to the file): for a few KiB read
    /// from a file's start, such as an audio header.
    pub async fn read_range(
        &self,
        area: Area,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StorageError> {
        let location = Self::location(area, key)?;
        let got = self
            .store
            .get_opts(
                &location,
                GetOptions::new().with_range(Some(GetRange::Bounded(range))),
            )
            .await
            .map_err(|err| Self::store_err(key, err))?;
        got.bytes().await.map_err(|err| Self::store_err(key, err))
    }

    /// The file (or a range of it) as a stream.
    pub async fn get(
        &self,
        area: Area,
        key: &str,
        range: Option<GetRange>,
    ) -> Result<GetResult, StorageError> {
        let location = Self::location(area, key)?;
        self.store
            .get_opts(&location, GetOptions::new().with_range(range))
            .await
            .map_err(|err| Self::store_err(key, err))
    }

    /// Copies a stored file to a local path, chunk by chunk: for tools that need a file on
    /// disk (ffmpeg), whatever the store.
    pub async fn copy_to_file(
        &self,
        area: Area,
        key: &str,
        path: &std::path::Path,
    ) -> Result<(), StorageError> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let io = |source: std::io::Error| StorageError::Io {
            key: key.to_owned(),
            source,
        };
        let mut chunks = self.get(area, key, None).await?.into_stream();
        let mut file = tokio::fs::File::create(path).await.map_err(io)?;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|err| Self::store_err(key, err))?;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }

    /// Removes every file under `prefix/` (a folder of parts, such as a video's ladder); files
    /// already gone are fine. Returns how many went.
    pub async fn delete_prefix(&self, area: Area, prefix: &str) -> Result<usize, StorageError> {
        use futures_util::TryStreamExt;
        let location = Self::location(area, prefix)?;
        let files: Vec<_> = self
            .store
            .list(Some(&location))
            .try_collect()
            .await
            .map_err(|err| Self::store_err(prefix, err))?;
        for file in &files {
            match self.store.delete(&file.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(Self::store_err(prefix, err)),
            }
        }
        Ok(files.len())
    }

    /// Removes a file; one already gone is fine.
    pub async fn delete(&self, area: Area, key: &str) -> Result<(), StorageError> {
        let location = Self::location(area, key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(Self::store_err(key, err)),
        }
    }

    /// A pre-signed GET URL valid for `ttl` that makes the store itself answer with the file's
    /// type and as an attachment named `disposition`. `None` when the store cannot sign (local
    /// directory): then the server serves the bytes itself.
    pub async fn signed_download_url(
        &self,
        area: Area,
        key: &str,
        ttl: Duration,
        content_type: &str,
        disposition: &str,
    ) -> Result<Option<Url>, StorageError> {
        let Backend::S3 { s3, .. } = &self.backend else {
            return Ok(None);
        };
        let location = Self::location(area, key)?;
        let options = SignedUrlOptions::default().with_query([
            ("response-content-type", content_type),
            ("response-content-disposition", disposition),
            ("response-cache-control", "private, no-store"),
        ]);
        s3.signed_url_opts(Method::GET, &location, ttl, &options)
            .await
            .map(Some)
            .map_err(|err| Self::store_err(key, err))
    }
}

/// Keys are made by the server, but a key must never leave its area whatever its origin.
fn check_key(key: &str) -> Result<(), StorageError> {
    let safe = !key.is_empty()
        && !key.contains('\\')
        && Path::new(key)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if safe {
        Ok(())
    } else {
        Err(StorageError::InvalidKey(key.to_owned()))
    }
}

/// Streams a file into the store: small files in one request, big ones as a multipart upload
/// with a bounded number of parts in flight (memory stays at a few parts, whatever the size).
pub struct ObjectWriter {
    store: Arc<dyn ObjectStore>,
    location: ObjectPath,
    key: String,
    attributes: Attributes,
    pending: Vec<Bytes>,
    pending_len: usize,
    multipart: Option<WriteMultipart>,
}

impl ObjectWriter {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        if let Some(upload) = &mut self.multipart {
            upload
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(|err| Storage::store_err(&self.key, err))?;
            upload.put(chunk);
            return Ok(());
        }
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= PART_BYTES {
            let options = PutMultipartOptions {
                attributes: self.attributes.clone(),
                ..PutMultipartOptions::default()
            };
            let started = self
                .store
                .put_multipart_opts(&self.location, options)
                .await
                .map_err(|err| Storage::store_err(&self.key, err))?;
            let mut upload = WriteMultipart::new_with_chunk_size(started, PART_BYTES);
            for chunk in self.pending.drain(..) {
                upload.put(chunk);
            }
            self.pending_len = 0;
            self.multipart = Some(upload);
        }
        Ok(())
    }

    pub async fn finish(self) -> Result<(), StorageError> {
        let key = self.key;
        match self.multipart {
            Some(upload) => upload.finish().await.map(drop),
            None => {
                let payload: PutPayload = self.pending.into_iter().collect();
                let options = PutOptions {
                    attributes: self.attributes,
                    ..PutOptions::default()
                };
                self.store
                    .put_opts(&self.location, payload, options)
                    .await
                    .map(drop)
            }
        }
        .map_err(|err| Storage::store_err(&key, err))
    }

    /// Gives up: nothing appears under the key, and uploaded parts are released.
    pub async fn abort(self) {
        if let Some(upload) = self.multipart {
            if let Err(err) = upload.abort().await {
                tracing::warn!(key = %self.key, error = %err, "cannot abort a multipart upload");
            }
        }
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_stores_bytes_with_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path()).unwrap();
        let stored = storage
            .put(
                Area::Private,
                "books/a.pdf",
                b"abc",
                &Headers::attachment("application/pdf", "a.pdf"),
            )
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
        assert_eq!(
            &storage.read(Area::Private, "books/a.pdf").await.unwrap()[..],
            b"abc"
        );
        storage.delete(Area::Private, "books/a.pdf").await.unwrap();
        storage.delete(Area::Private, "books/a.pdf").await.unwrap();
        assert!(!dir.path().join("private/books/a.pdf").exists());
        assert!(matches!(
            storage.read(Area::Private, "books/a.pdf").await,
            Err(StorageError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_big_file_goes_up_in_parts_and_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path()).unwrap();
        let chunk = Bytes::from(vec![7u8; 1024 * 1024]);
        let mut writer = storage
            .writer(
                Area::Private,
                "big/x.bin",
                &Headers::inline("application/octet-stream"),
            )
            .unwrap();
        for _ in 0..(PART_BYTES / chunk.len() + 3) {
            writer.write(chunk.clone()).await.unwrap();
        }
        assert!(writer.multipart.is_some(), "past one part it is multipart");
        assert!(!storage.exists(Area::Private, "big/x.bin").await.unwrap());
        writer.finish().await.unwrap();
        let len = std::fs::metadata(dir.path().join("private/big/x.bin"))
            .unwrap()
            .len();
        assert_eq!(len as usize, PART_BYTES + 3 * chunk.len());

        let mut aborted = storage
            .writer(
                Area::Private,
                "big/y.bin",
                &Headers::inline("application/octet-stream"),
            )
            .unwrap();
        for _ in 0..(PART_BYTES / chunk.len() + 1) {
            aborted.write(chunk.clone()).await.unwrap();
        }
        aborted.abort().await;
        assert!(!storage.exists(Area::Private, "big/y.bin").await.unwrap());
    }

    #[test]
    fn keys_cannot_escape_their_area() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path()).unwrap();
        for key in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "",
            "./a",
            "a\\..\\b",
        ] {
            assert!(Storage::location(Area::Public, key).is_err(), "{key}");
            assert!(storage.local_path(Area::Public, key).is_none(), "{key}");
        }
        assert_eq!(
            Storage::location(Area::Public, "covers/x.svg")
                .unwrap()
                .as_ref(),
            "public/covers/x.svg"
        );
    }
}
