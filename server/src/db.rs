//! The database: SQLite (WAL mode, the default) or PostgreSQL (`DATABASE_URL=postgres://…`),
//! each with its own migrations (`migrations/sqlite`, `migrations/postgres`, kept in step).
//!
//! How to write a query for both databases:
//! - Write the SQL once and run it through [`on_db!`]: `on_db!(db, |pool| sqlx::query("…")
//!   .bind(x).execute(pool).await)`. The body is expanded once per pool type, so `query_as`,
//!   `FromRow` rows and whole transactions (`let mut tx = pool.begin().await?; …`) work as usual.
//!   Both arms must give one type: end an `execute` with `.map(Done::from)` ([`Done`]).
//! - Placeholders `$1, $2, …` (SQLite's driver reads `$N` as index N). Integers are i64 (BIGINT
//!   in Postgres); wrap SUM in `CAST(SUM(x) AS BIGINT)`; no scalar `max(a, b)`/`min(a, b)`
//!   (use CASE), no `INSERT OR …` (use `ON CONFLICT`), no SQLite date functions. `unixepoch()`
//!   works on both: the Postgres migrations define it. Flags: INTEGER 0/1 in SQLite and BOOLEAN
//!   in Postgres, read and bound as Rust `bool`, tested bare (`WHERE is_preview`), never `= 1`.
//! - A read-then-write transaction starts with `pool.begin_write()` ([`BeginWrite`]): SQLite's
//!   `BEGIN IMMEDIATE`, and on Postgres a transaction holding one shared advisory lock, so such
//!   transactions run one at a time on both, whatever the number of replicas.
//! - Where the SQL must differ (full-text search), match on [`Db`] and write each arm.
//! - New migrations: the same timestamp and name in both directories.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// A pool on one of the two supported databases. Cheap to clone (both pools are handles).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `body` with `pool` bound to the concrete pool (`&SqlitePool` or `&PgPool`); the body
/// is compiled once per database, so it may use anything either driver accepts.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

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

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
// sqlx's Postgres migrator holds an advisory lock (pg_advisory_lock on the database's name)
// while it reads and applies migrations, so replicas starting together apply each one once.
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// True for the URLs that select PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Connections each pool keeps at most (SQLite: readers beside the one writer).
pub const POOL_CONNECTIONS: u32 = 8;

/// Opens the database (creating a SQLite file if needed) and brings its schema up to date.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    let connect_err = |source| DbError::Connect {
        url: redact(url),
        source,
    };
    if is_postgres_url(url) {
        let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        POSTGRES_MIGRATOR.run(&pool).await?;
        return Ok(Db::Postgres(pool));
    }
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
        .max_connections(POOL_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(connect_err)?;
    SQLITE_MIGRATOR.run(&pool).await?;
    Ok(Db::Sqlite(pool))
}

/// The URL without its password, for error messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Db {
    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
    }

    /// Closes every connection (waits for those in use to come back).
    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// True when the database answers a trivial query.
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    db.ping().await
}

/// The lock every [`BeginWrite`] transaction on Postgres takes: one key, so these transactions
/// are serialised like SQLite's writers are.
const WRITE_LOCK_KEY: i64 = 0x5354_4152_4652_4e54; // "STARFRNT"

/// A transaction for read-then-write work that must not interleave with another such
/// transaction (SQLite would otherwise refuse the deferred upgrade to a write lock at once;
/// Postgres' READ COMMITTED would let two read the same row and both act on it).
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<Transaction<'static, Self::Database>, sqlx::Error>>
           + Send;
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.begin().await?;
        // Released at commit or rollback. Every later statement in the transaction sees what
        // the previous holder committed (READ COMMITTED takes a snapshot per statement).
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// What an `execute` reports on either database (`on_db!` arms must agree on a type):
/// `on_db!(db, |pool| sqlx::query("…").execute(pool).await.map(Done::from))`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

impl From<sqlx::sqlite::SqliteQueryResult> for Done {
    fn from(done: sqlx::sqlite::SqliteQueryResult) -> Self {
        Self {
            rows_affected: done.rows_affected(),
        }
    }
}

impl From<sqlx::postgres::PgQueryResult> for Done {
    fn from(done: sqlx::postgres::PgQueryResult) -> Self {
        Self {
            rows_affected: done.rows_affected(),
        }
    }
}
