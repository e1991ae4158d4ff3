//! The database pool: SQLite in WAL mode by default, with migrations applied at start.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot take the migration lock beside {path}")]
    MigrationLock {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Opens (creating if needed) the database and brings its schema up to date.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    let connect_err = |source| DbError::Connect {
        url: url.to_owned(),
        source,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(connect_err)?
        .create_if_missing(true)
        // WAL lets readers run beside the single writer; NORMAL is durable across app crashes.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // Replicas starting together on one file take turns opening and migrating it (see
    // `migrate_lock`); the lock is released when this function returns.
    let db_file = options.get_filename().to_owned();
    let _lock = crate::migrate_lock::acquire(&db_file)
        .await
        .map_err(|source| DbError::MigrationLock {
            path: db_file.display().to_string(),
            source,
        })?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(connect_err)?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// True when the database answers a trivial query.
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(db).await.map(drop)
}
