//! Storage: one code base on SQLite (default) and PostgreSQL.
//!
//! Queries are written once and compiled for each backend by [`db_run!`], which
//! expands its body once per connection type. Query functions take `&mut DbConn`,
//! so they compose inside [`DbConn::write`] transactions. Handlers reach the
//! database only through [`Db::run`], which moves the blocking diesel call off the
//! async workers.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiResult;

pub mod approvals;
pub mod attempts;
pub mod audit;
pub mod categories;
pub mod checkins;
pub mod compliance;
pub mod manual_values;
pub mod media;
pub mod models;
pub mod night_sessions;
pub mod org;
pub mod schema;
pub mod scoring;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod vetoes;
pub mod webhooks;
pub mod work_logs;
pub mod work_orders;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;
type PgPool = Pool<ConnectionManager<PgConnection>>;

/// A pooled connection to whichever backend is configured.
pub enum DbConn {
    /// With the lock that lets one write transaction at a time into the file.
    Sqlite(
        PooledConnection<ConnectionManager<SqliteConnection>>,
        WriteLock,
    ),
    Pg(PooledConnection<ConnectionManager<PgConnection>>),
}

/// SQLite takes one writer at a time. Queuing writers on an in-process lock, instead of
/// letting them collide in SQLite's busy handler (which sleeps in millisecond steps),
/// hands the file to the next writer the moment the last one commits.
pub type WriteLock = Arc<Mutex<()>>;

/// Runs `body` with `$c` bound to the concrete connection (`&mut SqliteConnection`
/// or `&mut PgConnection`); the body is compiled once for each backend.
macro_rules! db_run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(pooled, _) => {
                let $c: &mut diesel::SqliteConnection = &mut **pooled;
                $body
            }
            $crate::db::DbConn::Pg(pooled) => {
                let $c: &mut diesel::PgConnection = &mut **pooled;
                $body
            }
        }
    };
}
pub(crate) use db_run;

impl DbConn {
    /// Runs `work` in one transaction, committed if it returns `Ok`, rolled back otherwise.
    /// On SQLite the outermost one takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// read-then-write never fails with SQLITE_BUSY halfway through; nested calls are savepoints.
    pub fn write<R>(&mut self, work: impl FnOnce(&mut DbConn) -> ApiResult<R>) -> ApiResult<R> {
        use diesel::connection::{AnsiTransactionManager as Tm, TransactionManager};
        // The outermost SQLite transaction queues for the file's write lock first.
        let queue = match self {
            DbConn::Sqlite(c, lock) => {
                let outermost = Tm::transaction_manager_status_mut(&mut **c)
                    .transaction_depth()?
                    .is_none();
                outermost.then(|| lock.clone())
            }
            DbConn::Pg(_) => None,
        };
        let _turn = queue
            .as_ref()
            .map(|lock| lock.lock().unwrap_or_else(|e| e.into_inner()));
        match self {
            DbConn::Sqlite(c, _) if queue.is_some() => {
                Tm::begin_transaction_sql(&mut **c, "BEGIN IMMEDIATE")?
            }
            DbConn::Sqlite(c, _) => Tm::begin_transaction(&mut **c)?,
            DbConn::Pg(c) => Tm::begin_transaction(&mut **c)?,
        }
        let outcome = work(self);
        let finish = match (&outcome, &mut *self) {
            (Ok(_), DbConn::Sqlite(c, _)) => Tm::commit_transaction(&mut **c),
            (Ok(_), DbConn::Pg(c)) => Tm::commit_transaction(&mut **c),
            (Err(_), DbConn::Sqlite(c, _)) => Tm::rollback_transaction(&mut **c),
            (Err(_), DbConn::Pg(c)) => Tm::rollback_transaction(&mut **c),
        };
        match (outcome, finish) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(commit_failed)) => Err(commit_failed.into()),
            (Err(err), rollback) => {
                if let Err(rollback_failed) = rollback {
                    tracing::error!(error = %rollback_failed, "rolling back a transaction failed");
                }
                Err(err)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum AnyPool {
    Sqlite(SqlitePool, WriteLock),
    Pg(PgPool),
}

/// The connection pool; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // busy_timeout makes concurrent writers wait instead of failing; with WAL (set once in
        // `Db::connect`), synchronous=NORMAL keeps every committed transaction across a process crash.
        // Subtree filters are `path LIKE 'prefix%'`: only a case-sensitive LIKE can use an index.
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA case_sensitive_like = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Where a `DATABASE_URL` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    SqliteFile(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains(":memory:") {
            // A pool over :memory: would give each connection its own empty database.
            anyhow::bail!("DATABASE_URL must name a SQLite file (e.g. sqlite://minqing.db) or a postgres:// URL");
        }
        Ok(DatabaseUrl::SqliteFile(path.to_string()))
    }
}

/// How long a request waits for a database connection before it is answered 503: long
/// enough for a busy pool, short enough that a lost database is said at once.
pub const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(5);

impl Db {
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        Self::connect_waiting(url, pool_size, DEFAULT_CONNECTION_WAIT)
    }

    /// [`Db::connect`], with `wait` as the longest wait for a connection.
    pub fn connect_waiting(url: &str, pool_size: u32, wait: Duration) -> anyhow::Result<Self> {
        let pool = match DatabaseUrl::parse(url)? {
            DatabaseUrl::SqliteFile(path) => {
                if let Some(dir) = Path::new(&path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating the directory of {path}"))?;
                }
                // The journal mode is a property of the file: switch it once, before the pool
                // opens its connections all at the same time.
                SqliteConnection::establish(&path)
                    .and_then(|mut c| {
                        c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
                    })
                    .with_context(|| format!("opening SQLite database {path}"))?;
                let pool = Pool::builder()
                    .max_size(pool_size)
                    .connection_timeout(wait)
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(ConnectionManager::<SqliteConnection>::new(path.clone()))
                    .with_context(|| format!("opening SQLite database {path}"))?;
                AnyPool::Sqlite(pool, WriteLock::default())
            }
            DatabaseUrl::Postgres(url) => {
                let pool = Pool::builder()
                    .max_size(pool_size)
                    .connection_timeout(wait)
                    .build(ConnectionManager::<PgConnection>::new(url))
                    .context("connecting to PostgreSQL")?;
                AnyPool::Pg(pool)
            }
        };
        Ok(Db { pool })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            AnyPool::Sqlite(..) => Backend::Sqlite,
            AnyPool::Pg(_) => Backend::Postgres,
        }
    }

    /// The pool's connections now: `(in use, idle, most it opens)`, for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let (state, max) = match &self.pool {
            AnyPool::Sqlite(pool, _) => (pool.state(), pool.max_size()),
            AnyPool::Pg(pool) => (pool.state(), pool.max_size()),
        };
        let idle = state.idle_connections;
        (state.connections.saturating_sub(idle), idle, max)
    }

    /// A connection for blocking code (CLI, startup); handlers use [`Db::run`].
    pub fn conn(&self) -> ApiResult<DbConn> {
        Ok(match &self.pool {
            AnyPool::Sqlite(pool, lock) => DbConn::Sqlite(pool.get()?, lock.clone()),
            AnyPool::Pg(pool) => DbConn::Pg(pool.get()?),
        })
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<R, F>(&self, work: F) -> ApiResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> ApiResult<R> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.conn()?;
            work(&mut conn)
        })
        .await?
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        let applied = match &mut conn {
            DbConn::Sqlite(c, _) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Pg(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        };
        applied.map_err(|e| anyhow::anyhow!("running migrations: {e}"))
    }

    pub fn ping(conn: &mut DbConn) -> ApiResult<()> {
        db_run!(conn, |c| c.batch_execute("SELECT 1"))?;
        Ok(())
    }
}

diesel::define_sql_function! {
    /// SQL `substr(text, start)`, 1-based; the same on SQLite and PostgreSQL.
    fn substr(text: diesel::sql_types::Text, start: diesel::sql_types::Integer) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `substr(text, start, length)`, 1-based; the same on SQLite and PostgreSQL.
    #[sql_name = "substr"]
    fn substr_len(text: diesel::sql_types::Text, start: diesel::sql_types::Integer, length: diesel::sql_types::Integer) -> diesel::sql_types::Text;
}

/// A new time-ordered id (UUIDv7, as text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://minqing.db").unwrap(),
            DatabaseUrl::SqliteFile("minqing.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/minqing/db.sqlite").unwrap(),
            DatabaseUrl::SqliteFile("/var/lib/minqing/db.sqlite".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}
