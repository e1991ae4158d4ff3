//! One migrator at a time on a SQLite file, across processes. sqlx's SQLite migrator takes no
//! lock of its own: two replicas starting together would both read "not applied" and both run
//! the same migration, the second failing on "table already exists" (or on SQLite's write lock).
//! Opening is no better: the first connections of two processes to a new file both switch it to
//! WAL, and SQLite refuses one of them "database is locked" without waiting. An exclusive `flock`
//! on a file beside the database, held from before the pool opens until the migrations are
//! applied, makes the second process wait, then find the file in WAL and every migration
//! applied. PostgreSQL needs none of this: sqlx takes an advisory lock there.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Held while migrations run; dropping it (closing the file) releases the lock.
#[derive(Debug)]
pub struct MigrationLock {
    _file: Option<File>,
}

/// The lock file for a database file: `<file>.migrate-lock`.
pub fn lock_path(db_file: &Path) -> PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push(".migrate-lock");
    PathBuf::from(name)
}

/// Waits for the exclusive start-up lock of `db_file`, which may not exist yet. A database that
/// is no file on disk (sqlx names in-memory ones `file:…`) is private to this process and needs
/// no lock.
pub async fn acquire(db_file: &Path) -> std::io::Result<MigrationLock> {
    let on_disk = !db_file.as_os_str().to_string_lossy().starts_with("file:")
        && db_file.as_os_str() != ":memory:"
        && db_file
            .parent()
            .is_none_or(|dir| dir.as_os_str().is_empty() || dir.is_dir());
    if !on_disk {
        return Ok(MigrationLock { _file: None });
    }
    let path = lock_path(db_file);
    // flock blocks the thread, so it waits on the blocking pool, not on a runtime worker.
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(MigrationLock { _file: Some(file) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        // The database file need not exist yet: the lock guards its creation too.
        let db = dir.path().join("shop.db");
        let first = acquire(&db).await.unwrap();
        let db2 = db.clone();
        let second = tokio::spawn(async move { acquire(&db2).await.unwrap() });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the lock is exclusive");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("released on drop")
            .unwrap();
        assert!(lock_path(&db).is_file());
    }

    #[tokio::test]
    async fn memory_databases_need_no_lock() {
        let lock = acquire(Path::new("file:sqlx-in-memory-1")).await.unwrap();
        assert!(lock._file.is_none());
        let lock = acquire(Path::new("/no/such/dir/shop.db")).await.unwrap();
        assert!(lock._file.is_none());
    }
}
