//! `minqing backup DIR` and `minqing restore DIR`: the database and the photo store, copied
//! so that every row's photo is in the copy.
//!
//! On SQLite the backup runs while the server serves: `VACUUM INTO` writes a consistent
//! snapshot of the database, then the photo store is copied. A photo's file is written
//! before its row, and files are never changed once written (they are named by their
//! content hash), so every photo a snapshot row names is in the copy. On PostgreSQL the
//! database is dumped with `pg_dump` (the line to run is printed) and the photos copied.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::db::DatabaseUrl;

const DATABASE_FILE: &str = "minqing.db";
const PHOTOS: &str = "photos";

/// What a backup or restore did, to print.
#[derive(Debug, PartialEq, Eq)]
pub struct Copied {
    pub database: Option<PathBuf>,
    pub photos: usize,
    /// For PostgreSQL: the command that dumps (or restores) the database.
    pub command: Option<String>,
}

/// Copies the database and the photo store (`data_dir/photos`) into `dir`, which must be
/// empty or not exist yet.
pub fn backup(database_url: &str, data_dir: &Path, dir: &Path) -> anyhow::Result<Copied> {
    if dir.exists()
        && fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: back up into a new directory",
            dir.display()
        );
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (database, command) = match DatabaseUrl::parse(database_url)? {
        DatabaseUrl::SqliteFile(path) => {
            let target = dir.join(DATABASE_FILE);
            let mut conn = SqliteConnection::establish(&path)
                .with_context(|| format!("opening SQLite database {path}"))?;
            conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
            let quoted = target.to_string_lossy().replace('\'', "''");
            conn.batch_execute(&format!("VACUUM INTO '{quoted}'"))
                .with_context(|| format!("writing the snapshot to {}", target.display()))?;
            (Some(target), None)
        }
        DatabaseUrl::Postgres(url) => (
            None,
            Some(format!(
                "pg_dump --format=custom --file={}/minqing.pgdump '{url}'",
                dir.display()
            )),
        ),
    };
    let photos = copy_tree(&data_dir.join(PHOTOS), &dir.join(PHOTOS))?;
    Ok(Copied {
        database,
        photos,
        command,
    })
}

/// Puts a backup back: the database file (SQLite; the server must be stopped, and an
/// existing database is replaced only with `force`) and the photos (files already there are
/// kept: a photo's name is its content).
pub fn restore(
    database_url: &str,
    data_dir: &Path,
    dir: &Path,
    force: bool,
) -> anyhow::Result<Copied> {
    if !dir.is_dir() {
        bail!("{} is not a backup directory", dir.display());
    }
    let (database, command) = match DatabaseUrl::parse(database_url)? {
        DatabaseUrl::SqliteFile(path) => {
            let source = dir.join(DATABASE_FILE);
            if !source.is_file() {
                bail!("{} holds no {DATABASE_FILE}", dir.display());
            }
            let target = PathBuf::from(&path);
            if target.exists() && !force {
                bail!(
                    "{path} exists: stop the server and pass --force to replace it with the backup"
                );
            }
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)?;
            }
            // The old write-ahead log belongs to the old file: it must not be replayed into
            // the restored one.
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{path}{suffix}"));
                if side.exists() {
                    fs::remove_file(&side)
                        .with_context(|| format!("removing {}", side.display()))?;
                }
            }
            let partial = PathBuf::from(format!("{path}.restoring"));
            fs::copy(&source, &partial).with_context(|| {
                format!("copying {} to {}", source.display(), partial.display())
            })?;
            fs::rename(&partial, &target)?;
            (Some(target), None)
        }
        DatabaseUrl::Postgres(url) => (
            None,
            Some(format!(
                "pg_restore --clean --if-exists --dbname='{url}' {}/minqing.pgdump",
                dir.display()
            )),
        ),
    };
    let photos = copy_tree(&dir.join(PHOTOS), &data_dir.join(PHOTOS))?;
    Ok(Copied {
        database,
        photos,
        command,
    })
}

/// Copies the files under `from` into `to` (made as needed), skipping files that exist in
/// `to` already; a missing `from` copies nothing. Each file is written under a temporary
/// name first, so an interrupted copy leaves no half file under a photo's name.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<usize> {
    if !from.is_dir() {
        return Ok(0);
    }
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut copied = 0;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&source, &target)?;
        } else if !target.exists() {
            let partial = to.join(format!(".{}.part", entry.file_name().to_string_lossy()));
            fs::copy(&source, &partial).with_context(|| format!("copying {}", source.display()))?;
            fs::rename(&partial, &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_database_and_its_photos_come_back() {
        // A test database's scratch directory, removed when the test ends.
        let scratch = minqing_e2e::TestDatabase::sqlite();
        let db = scratch.dir().join("live.db");
        let url = format!("sqlite://{}", db.display());
        let mut conn = SqliteConnection::establish(db.to_str().unwrap()).unwrap();
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);",
        )
        .unwrap();
        let data = scratch.dir().join("data");
        fs::create_dir_all(data.join("photos/ab")).unwrap();
        fs::write(data.join("photos/ab/abc.jpg"), b"jpeg").unwrap();

        let dir = scratch.dir().join("backup");
        let made = backup(&url, &data, &dir).unwrap();
        assert_eq!(made.photos, 1);
        assert!(
            backup(&url, &data, &dir).is_err(),
            "never into a used directory"
        );

        let fresh_data = scratch.dir().join("fresh");
        let fresh = scratch.dir().join("fresh.db");
        let fresh_url = format!("sqlite://{}", fresh.display());
        let back = restore(&fresh_url, &fresh_data, &dir, false).unwrap();
        assert_eq!(back.photos, 1);
        assert_eq!(
            fs::read(fresh_data.join("photos/ab/abc.jpg")).unwrap(),
            b"jpeg"
        );
        let mut restored = SqliteConnection::establish(fresh.to_str().unwrap()).unwrap();
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM t")
            .get_result(&mut restored)
            .unwrap();
        assert_eq!(n.n, 2);
        assert!(
            restore(&fresh_url, &fresh_data, &dir, false).is_err(),
            "an existing database is replaced only when forced"
        );
        assert_eq!(
            restore(&fresh_url, &fresh_data, &dir, true).unwrap().photos,
            0
        );
    }
}
