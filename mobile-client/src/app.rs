//! The cadre's phone app (PWA), embedded at compile time and served by the server at `/app/`.
//!
//! The files live in `mobile-client/app/`; there is no build step. `sw.js` carries the
//! placeholder `__MINQING_APP_VERSION__`, replaced here by a hash of every other file, so a
//! change to any of them makes a new service worker with a new cache.

use std::borrow::Cow;
use std::sync::OnceLock;

/// One file of the app: its bytes and the `Content-Type` to send them with.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: &'static str,
}

const VERSION_PLACEHOLDER: &str = "__MINQING_APP_VERSION__";
const SERVICE_WORKER: &str = "sw.js";

macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../app/", $name)) as &[u8])),*]
    };
}

/// Every file under `/app/` (the service worker too), by name.
pub const FILES: &[(&str, &[u8])] = files![
    "index.html",
    "style.css",
    "app.js",
    "pages.js",
    "sessions.js",
    "worklog.js",
    "api.js",
    "store.js",
    "outbox.js",
    "photo.js",
    "labels.js",
    "util.js",
    "ui.js",
    "sw.js",
    "manifest.webmanifest",
    "icon.svg",
    "icon-192.png",
    "icon-512.png",
];

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// A short hex hash (64-bit FNV-1a) of every file but the service worker, names included.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (name, bytes) in FILES.iter().filter(|(n, _)| *n != SERVICE_WORKER) {
            feed(name.as_bytes());
            feed(&(bytes.len() as u64).to_le_bytes());
            feed(bytes);
        }
        format!("{:012x}", hash >> 16)
    })
}

/// The embedded `sw.js` (`embedded`) with this build's version in it.
fn service_worker(embedded: &[u8]) -> &'static [u8] {
    static SW: OnceLock<Vec<u8>> = OnceLock::new();
    SW.get_or_init(|| {
        String::from_utf8_lossy(embedded)
            .replace(VERSION_PLACEHOLDER, version())
            .into_bytes()
    })
}

/// The file at `/app/{path}`; `""` is `index.html`. `None` for anything not in the app.
pub fn asset(path: &str) -> Option<Asset> {
    let name = if path.is_empty() { "index.html" } else { path };
    let (name, bytes) = FILES.iter().find(|(n, _)| *n == name)?;
    let bytes = if *name == SERVICE_WORKER {
        service_worker(bytes)
    } else {
        bytes
    };
    Some(Asset {
        bytes: Cow::Borrowed(bytes),
        content_type: content_type(name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str) -> String {
        String::from_utf8(asset(path).unwrap().bytes.into_owned()).unwrap()
    }

    #[test]
    fn index_is_the_root_and_its_own_name() {
        let root = asset("").unwrap();
        assert_eq!(root.content_type, "text/html; charset=utf-8");
        assert_eq!(root.bytes, asset("index.html").unwrap().bytes);
        assert!(text("").contains("<html"));
    }

    #[test]
    fn unknown_paths_are_none() {
        for path in [
            "nope.js",
            "/index.html",
            "../Cargo.toml",
            "app/index.html",
            "sw.js/",
        ] {
            assert!(asset(path).is_none(), "{path}");
        }
    }

    #[test]
    fn service_worker_carries_the_version() {
        let sw = text("sw.js");
        assert!(!sw.contains(VERSION_PLACEHOLDER));
        assert!(sw.contains(version()));
        assert_eq!(version().len(), 12);
        assert!(version().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn content_types() {
        let expect = [
            ("app.js", "text/javascript; charset=utf-8"),
            ("sw.js", "text/javascript; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("manifest.webmanifest", "application/manifest+json"),
            ("icon.svg", "image/svg+xml"),
            ("icon-192.png", "image/png"),
        ];
        for (path, ty) in expect {
            assert_eq!(asset(path).unwrap().content_type, ty, "{path}");
        }
        assert!(asset("icon-512.png").unwrap().bytes.starts_with(b"\x89PNG"));
    }

    #[test]
    fn every_file_in_the_folder_is_embedded_and_every_module_import_resolves() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/app");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(asset(&name).is_some(), "{name} is not embedded");
        }
        for (name, bytes) in FILES.iter().filter(|(n, _)| n.ends_with(".js")) {
            let source = String::from_utf8_lossy(bytes);
            for part in source.split("from './").skip(1) {
                let target = part.split('\'').next().unwrap();
                assert!(asset(target).is_some(), "{name} imports {target}");
            }
        }
    }

    #[test]
    fn the_service_worker_precaches_every_file() {
        let sw = text("sw.js");
        for (name, _) in FILES
            .iter()
            .filter(|(n, _)| *n != "index.html" && *n != SERVICE_WORKER)
        {
            assert!(
                sw.contains(&format!("'{name}'")),
                "sw.js does not precache {name}"
            );
        }
    }
}
