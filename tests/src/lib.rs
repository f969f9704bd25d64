//! Test support shared by every suite: a database of its own for each test.
//!
//! SQLite always: a temporary file (never `:memory:`, which a pool would split into one
//! database per connection). PostgreSQL when `MINQING_TEST_POSTGRES` holds a server URL
//! (e.g. `postgres://postgres@127.0.0.1/postgres`): a fresh schema, dropped afterwards.

pub mod photos;
pub mod s3;
pub mod server;

use std::path::{Path, PathBuf};

use diesel::{Connection, PgConnection, RunQueryDsl};

pub const POSTGRES_ENV: &str = "MINQING_TEST_POSTGRES";

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())
}

/// A database for one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    /// A scratch directory for the test (SQLite file, photos, config files).
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// On PostgreSQL when `MINQING_TEST_POSTGRES` is set, else on SQLite.
    pub fn new() -> Self {
        match postgres_server() {
            Some(server) => Self::postgres(&server),
            None => Self::sqlite(),
        }
    }

    pub fn sqlite() -> Self {
        let dir = scratch_dir();
        TestDatabase {
            url: format!("sqlite://{}", dir.join("minqing.db").display()),
            dir,
            postgres: None,
        }
    }

    pub fn postgres(server: &str) -> Self {
        let schema = format!("minqing_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(server)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={server} does not connect: {e}"));
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("creating schema {schema}: {e}"));
        let separator = if server.contains('?') { '&' } else { '?' };
        TestDatabase {
            url: format!("{server}{separator}options=-csearch_path%3D{schema}"),
            dir: scratch_dir(),
            postgres: Some((server.to_string(), schema)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("minqing-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, schema)) = &self.postgres {
            if let Ok(mut conn) = PgConnection::establish(server) {
                let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
