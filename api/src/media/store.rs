//! Photo byte storage behind a small trait: the local disk, or an S3-compatible store
//! (`super::s3`), chosen by `MINQING_PHOTOS` (see [`open`]) without touching callers. The
//! methods block (disk or network): call them from the blocking pool (`web::block`).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::s3::S3Store;
use crate::config::{Config, PhotoStorage};

const MAX_KEY_LEN: usize = 100;

/// Where photo bytes live: the local disk or an S3-compatible store.
pub trait PhotoStore: Send + Sync {
    /// Idempotent: keys are content hashes, so the same key twice is the same photo.
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    /// `Ok(None)` when nothing is stored under `key`.
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
    /// Whether the store can be reached at all (readiness): cheap, stores nothing.
    fn check(&self) -> io::Result<()>;
    /// Whether something is stored under `key` (a migration skips what is already there).
    fn contains(&self, key: &str) -> io::Result<bool> {
        Ok(self.get(key)?.is_some())
    }
}

/// The photo store the configuration names: `<data dir>/photos` unless `MINQING_PHOTOS`
/// says `file:///path` or `s3://bucket/prefix`. An S3 store is checked once, and only said
/// to be unreachable in the log, not refused.
pub fn open(config: &Config) -> io::Result<Arc<dyn PhotoStore>> {
    Ok(match &config.photos {
        PhotoStorage::DataDir => Arc::new(LocalDisk::new(config.data_dir.join("photos"))?),
        PhotoStorage::Local(root) => Arc::new(LocalDisk::new(root)?),
        PhotoStorage::S3(settings) => {
            let s3 = S3Store::new(settings)?;
            // Serve all the same (uploads then fail, and readiness says why): the store may
            // come up after the server.
            match s3.check() {
                Ok(()) => tracing::info!(location = s3.location(), "photos are stored in S3"),
                Err(e) => tracing::warn!(
                    location = s3.location(),
                    error = %e,
                    "photos are stored in S3, which cannot be reached yet"
                ),
            }
            Arc::new(s3)
        }
    })
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Files copied by this run.
    pub copied: usize,
    /// Files the destination already had (an earlier run, or uploads since the switch).
    pub present: usize,
}

/// Copies every photo file of `from` that `to` lacks (`minqing photos migrate`): a run
/// stopped halfway is resumed by running it again. `progress` hears the counts after each
/// file. Stops at the first failure, saying which file and how far it got.
pub fn migrate(
    from: &LocalDisk,
    to: &dyn PhotoStore,
    mut progress: impl FnMut(&Migrated),
) -> anyhow::Result<Migrated> {
    use anyhow::Context;
    let keys = from
        .keys()
        .with_context(|| format!("listing the photos in {}", from.root().display()))?;
    let mut done = Migrated::default();
    for key in keys {
        let copied = (|| -> io::Result<bool> {
            if to.contains(&key)? {
                return Ok(false);
            }
            // Listed a moment ago; gone now only if something else removed it.
            let bytes = from
                .get(&key)?
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the file disappeared"))?;
            to.put(&key, &bytes)?;
            Ok(true)
        })()
        .with_context(|| {
            format!(
                "copying {key} ({} copied, {} already there before it)",
                done.copied, done.present
            )
        })?;
        if copied {
            done.copied += 1;
        } else {
            done.present += 1;
        }
        progress(&done);
    }
    Ok(done)
}

/// Files under `root/<first 2 chars of key>/<key>`, so no directory grows huge.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Creates `root` if it does not exist.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(LocalDisk { root })
    }

    /// The directory photos are stored under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every stored photo's key, sorted (temporary and stray files are not keys).
    pub fn keys(&self) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        for shard in fs::read_dir(&self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(shard.path())? {
                let file = file?;
                let Ok(name) = file.file_name().into_string() else {
                    continue;
                };
                if file.file_type()?.is_file()
                    && validate_key(&name).is_ok()
                    && name.get(..2) == shard.file_name().to_str()
                {
                    keys.push(name);
                }
            }
        }
        keys.sort_unstable();
        Ok(keys)
    }

    fn shard(&self, key: &str) -> io::Result<PathBuf> {
        validate_key(key)?;
        // validate_key guarantees at least two ASCII characters.
        Ok(self.root.join(key.get(..2).unwrap_or(key)))
    }
}

impl PhotoStore for LocalDisk {
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let dir = self.shard(key)?;
        let path = dir.join(key);
        if path.try_exists()? {
            return Ok(());
        }
        if !dir.try_exists()? {
            fs::create_dir_all(&dir)?;
            sync_dir(&self.root)?;
        }
        // Write aside and rename, so a crash never leaves half a photo under its final
        // name. Temporary names start with '.', which no valid key does.
        let temp = dir.join(format!(".{key}.{}.{}.tmp", std::process::id(), next_id()));
        let written = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, &path));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        // Make the rename itself survive a power cut.
        sync_dir(&dir)
    }

    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.shard(key)?.join(key);
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn contains(&self, key: &str) -> io::Result<bool> {
        self.shard(key)?.join(key).try_exists()
    }

    /// The root exists and is a directory.
    fn check(&self) -> io::Result<()> {
        if fs::metadata(&self.root)?.is_dir() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", self.root.display()),
            ))
        }
    }
}

/// Only `[0-9a-z.]`, at most 100 characters, and the first two (the shard directory) not
/// dots: a key is always one plain file name, never `..` or a path.
pub(crate) fn validate_key(key: &str) -> io::Result<()> {
    let bytes = key.as_bytes();
    let valid = bytes.len() >= 2
        && bytes.len() <= MAX_KEY_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || *b == b'.')
        && bytes.iter().take(2).all(|b| *b != b'.');
    if valid {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid photo key {key:?}"),
        ))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create_new(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; NTFS journals renames anyway.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Distinguishes concurrent writers' temporary files within this process.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg";

    /// A fresh directory under the system temp dir, removed on drop (even when a test fails).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let name = format!("minqing-store-{}-{nanos}-{}", std::process::id(), next_id());
            Scratch(std::env::temp_dir().join(name))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn new_creates_the_root() {
        let scratch = Scratch::new();
        let root = scratch.0.join("photos").join("nested");
        LocalDisk::new(&root).unwrap();
        assert!(root.is_dir());
    }

    #[test]
    fn put_then_get_round_trips_under_a_shard_directory() {
        let scratch = Scratch::new();
        let store = LocalDisk::new(&scratch.0).unwrap();
        let thumb = KEY.replace(".jpg", ".thumb.jpg");
        store.put(KEY, b"photo bytes").unwrap();
        store.put(&thumb, b"thumb bytes").unwrap();

        assert_eq!(
            store.get(KEY).unwrap().as_deref(),
            Some(&b"photo bytes"[..])
        );
        assert_eq!(
            store.get(&thumb).unwrap().as_deref(),
            Some(&b"thumb bytes"[..])
        );
        assert!(scratch.0.join("9f").join(KEY).is_file());
        // Nothing but the two photos: no temporary file is left behind.
        assert_eq!(files_under(&scratch.0).len(), 2);
    }

    #[test]
    fn missing_key_is_none() {
        let scratch = Scratch::new();
        let store = LocalDisk::new(&scratch.0).unwrap();
        assert_eq!(store.get(KEY).unwrap(), None);
    }

    #[test]
    fn put_twice_is_fine_and_keeps_the_first() {
        let scratch = Scratch::new();
        let store = LocalDisk::new(&scratch.0).unwrap();
        store.put(KEY, b"first").unwrap();
        store.put(KEY, b"first").unwrap();
        // Content-addressed: a second put under the same key is not a replacement.
        store.put(KEY, b"second").unwrap();
        assert_eq!(store.get(KEY).unwrap().as_deref(), Some(&b"first"[..]));
        assert_eq!(files_under(&scratch.0).len(), 1);
    }

    #[test]
    fn bad_keys_are_rejected() {
        let scratch = Scratch::new();
        let store = LocalDisk::new(scratch.0.join("root")).unwrap();
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "a",
            ".",
            "..",
            "../etc",
            "..jpg",
            ".abc.jpg",
            "a.",
            "ab/../../x",
            "/etc/passwd",
            "AB12.jpg",
            "ab12.jpg\0",
            "ab 12.jpg",
            "ab\\cd.jpg",
            "ab12.jpé",
            long.as_str(),
        ] {
            let put = store.put(key, b"x").unwrap_err();
            assert_eq!(put.kind(), io::ErrorKind::InvalidInput, "{key:?}");
            let get = store.get(key).unwrap_err();
            assert_eq!(get.kind(), io::ErrorKind::InvalidInput, "{key:?}");
        }
        assert!(files_under(&scratch.0).is_empty());
        assert!(store.put(&"a".repeat(MAX_KEY_LEN), b"x").is_ok());
    }

    #[test]
    fn works_as_a_shared_trait_object() {
        let scratch = Scratch::new();
        let store: std::sync::Arc<dyn PhotoStore> =
            std::sync::Arc::new(LocalDisk::new(&scratch.0).unwrap());
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || store.put(KEY, b"same photo"))
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        assert_eq!(store.get(KEY).unwrap().as_deref(), Some(&b"same photo"[..]));
        assert_eq!(files_under(&scratch.0).len(), 1);
    }
}
