//! Photo byte storage behind a small trait, so the local disk can later give way to an
//! S3-compatible store without touching callers.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAX_KEY_LEN: usize = 100;

/// Where photo bytes live; local disk now, an S3-compatible store later.
pub trait PhotoStore: Send + Sync {
    /// Idempotent: keys are content hashes, so the same key twice is the same photo.
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    /// `Ok(None)` when nothing is stored under `key`.
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
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
}

/// Only `[0-9a-z.]`, at most 100 characters, and the first two (the shard directory) not
/// dots: a key is always one plain file name, never `..` or a path.
fn validate_key(key: &str) -> io::Result<()> {
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
