//! Photos in an S3-compatible object store (AWS S3, MinIO, Ceph, …) through `object_store`,
//! behind the same synchronous [`PhotoStore`] as the local disk (`MINQING_PHOTOS=s3://…`).
//!
//! The bridge from the synchronous trait to the async client: the store owns a small tokio
//! runtime of its own (one worker thread, `minqing-s3`) on which all of its HTTP runs. Each
//! call spawns its future there and waits for the answer on a plain channel. Callers already
//! call the store from the blocking pool (`web::block`) or from a command-line thread, so no
//! actix worker ever waits on the network; and the client's connections live on one runtime
//! that outlives every request, instead of on whichever actix worker (each has a runtime of
//! its own) happened to open them. Waiting on a channel rather than `Handle::block_on` also
//! means a call from the wrong thread is slow, not a panic.

use std::future::Future;
use std::io;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};

use super::store::{validate_key, PhotoStore};
use crate::config::S3Settings;

/// A readiness probe must answer quickly, whatever the network does.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

pub struct S3Store {
    client: Arc<AmazonS3>,
    /// The key prefix as a path (`None`: the bucket's root).
    prefix: Option<Path>,
    /// `s3://bucket/prefix`, for messages.
    location: String,
    /// `Some` until dropped; see the module's documentation.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// Prepares the client; nothing is sent until the first call (see [`PhotoStore::check`]).
    pub fn new(settings: &S3Settings) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    // A whole photo (≤ 2048 px, a few hundred KB) over a slow county link.
                    .with_timeout(Duration::from_secs(60))
                    .with_allow_http(
                        settings
                            .endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    ),
            )
            // A few quick retries, not object_store's default of ten over three minutes: an
            // upload waits on this, and a dead store should be said to be dead.
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
            });
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token);
        }
        builder = match &settings.endpoint {
            // MinIO and most self-hosted servers: http://host:port/bucket/key.
            Some(endpoint) => builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false),
            None => builder.with_virtual_hosted_style_request(true),
        };
        let client = builder.build().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("photo store {}: {e}", settings.location()),
            )
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("minqing-s3")
            .enable_all()
            .build()?;
        Ok(S3Store {
            client: Arc::new(client),
            prefix: (!settings.prefix.is_empty()).then(|| Path::from(settings.prefix.as_str())),
            location: settings.location(),
            runtime: Some(runtime),
        })
    }

    /// `s3://bucket/prefix`.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(&self, key: &str) -> io::Result<Path> {
        validate_key(key)?;
        Ok(match &self.prefix {
            Some(prefix) => prefix.clone().join(key),
            None => Path::from(key),
        })
    }

    /// Runs `call` on the store's runtime and waits for it (see the module's documentation).
    fn run<T: Send + 'static>(
        &self,
        what: &str,
        timeout: Option<Duration>,
        call: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| io::Error::other("the S3 client has stopped"))?;
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let answer = match timeout {
                Some(limit) => tokio::time::timeout(limit, call).await.ok(),
                None => Some(call.await),
            };
            let _ = tx.send(answer);
        });
        match rx.recv() {
            Ok(Some(Ok(value))) => Ok(value),
            Ok(Some(Err(e))) => Err(self.failed(what, e)),
            Ok(None) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "photo store {}: {what} took longer than {timeout:?}",
                    self.location
                ),
            )),
            Err(_) => Err(io::Error::other(format!(
                "photo store {}: {what} was dropped (the S3 client is stopping)",
                self.location
            ))),
        }
    }

    /// The error as an `io::Error` of the matching kind, saying which store and what failed.
    fn failed(&self, what: &str, e: object_store::Error) -> io::Error {
        let kind = match &e {
            object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("photo store {}: {what}: {e}", self.location))
    }
}

impl Drop for S3Store {
    /// The last reference may go inside an async context (an actix worker stopping), where
    /// dropping a runtime the ordinary way panics.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `<prefix>/~`, which sorts after every photo key (`[0-9a-z.]`). Parsed, not built from
/// parts: a part would be percent-encoded (`%7E`), and `%` sorts before every key.
fn past_every_key(prefix: Option<&Path>) -> Result<Path, object_store::path::Error> {
    match prefix {
        Some(prefix) => Path::parse(format!("{prefix}/~")),
        None => Path::parse("~"),
    }
}

impl PhotoStore for S3Store {
    /// Content-addressed: an object already under `key` is the same photo, so it is left
    /// alone (one HEAD) rather than sent again.
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        if self.contains(key)? {
            return Ok(());
        }
        let path = self.path(key)?;
        let client = self.client.clone();
        let payload = PutPayload::from(bytes.to_vec());
        self.run(&format!("storing {key}"), None, async move {
            client.put(&path, payload).await.map(drop)
        })
    }

    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        let client = self.client.clone();
        self.run(&format!("reading {key}"), None, async move {
            match client.get(&path).await {
                Ok(found) => Ok(Some(Vec::from(found.bytes().await?))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn contains(&self, key: &str) -> io::Result<bool> {
        let path = self.path(key)?;
        let client = self.client.clone();
        self.run(&format!("looking for {key}"), None, async move {
            match client.head(&path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// One list request that finds nothing: keys after `<prefix>/~`, which no photo key
    /// (`[0-9a-z.]`) is. It still proves the endpoint answers, the bucket exists and the
    /// credentials may list it; a missing bucket is a `NotFound` error.
    fn check(&self) -> io::Result<()> {
        let client = self.client.clone();
        let prefix = self.prefix.clone();
        let offset = past_every_key(prefix.as_ref())
            .map_err(|e| io::Error::other(format!("photo store {}: {e}", self.location)))?;
        self.run("checking the bucket", Some(CHECK_TIMEOUT), async move {
            match client
                .list_with_offset(prefix.as_ref(), &offset)
                .next()
                .await
            {
                Some(Err(e)) => Err(e),
                Some(Ok(_)) | None => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use minqing_e2e::s3::{free_port, s3_server_program, S3Server};

    use super::*;

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg";
    const SECRET: &str = "test-secret-key-never-shown";

    fn settings(endpoint: &str, bucket: &str, prefix: &str) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: Some(endpoint.into()),
            region: "us-east-1".into(),
            access_key_id: "minqing-test".into(),
            secret_access_key: SECRET.into(),
            session_token: None,
        }
    }

    #[test]
    fn round_trips_photos_on_a_real_s3_server() {
        let Some(program) = s3_server_program("media::s3::round_trips_photos_on_a_real_s3_server")
        else {
            return;
        };
        let moto = S3Server::start(&program);
        moto.create_bucket("minqing-photos");
        let store: Arc<dyn PhotoStore> = Arc::new(
            S3Store::new(&settings(&moto.endpoint, "minqing-photos", "town/photos")).unwrap(),
        );
        store.check().unwrap();
        assert_eq!(store.get(KEY).unwrap(), None);
        assert!(!store.contains(KEY).unwrap());

        // Several writers of the same photo at once, as two uploads of one picture would be.
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || store.put(KEY, b"photo bytes"))
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        assert!(store.contains(KEY).unwrap());
        assert_eq!(
            store.get(KEY).unwrap().as_deref(),
            Some(&b"photo bytes"[..])
        );
        let object = format!("town/photos/{KEY}");
        assert_eq!(moto.keys("minqing-photos", "town/"), vec![object.clone()]);
        assert_eq!(
            moto.object("minqing-photos", &object).as_deref(),
            Some(&b"photo bytes"[..])
        );
        // Content-addressed: a second put under the key is not a replacement.
        store.put(KEY, b"other bytes").unwrap();
        assert_eq!(
            store.get(KEY).unwrap().as_deref(),
            Some(&b"photo bytes"[..])
        );
        // Keys are checked before anything is sent.
        for key in ["../etc/passwd", "a", "AB.jpg", ".x.jpg"] {
            assert_eq!(
                store.put(key, b"x").unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
            assert_eq!(
                store.get(key).unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
        }
        assert_eq!(moto.keys("minqing-photos", "").len(), 1);

        // The bucket's root as the store, and a bucket that does not exist.
        let root = S3Store::new(&settings(&moto.endpoint, "minqing-photos", "")).unwrap();
        root.check().unwrap();
        assert_eq!(root.get(KEY).unwrap(), None);
        let missing = S3Store::new(&settings(&moto.endpoint, "no-such-bucket", "x")).unwrap();
        let err = missing.check().unwrap_err();
        assert!(err.to_string().contains("s3://no-such-bucket/x"), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }

    #[test]
    fn the_readiness_listing_starts_past_every_photo_key() {
        let prefix = Path::from("town/photos");
        let offset = past_every_key(Some(&prefix)).unwrap();
        assert_eq!(offset.as_ref(), "town/photos/~");
        assert!(offset > prefix.clone().join(KEY) && offset > prefix.join("zz.z"));
        assert_eq!(past_every_key(None).unwrap().as_ref(), "~");
    }

    #[test]
    fn an_unreachable_store_fails_soon_and_says_which() {
        // Nothing listens there: every call fails within the few quick retries.
        let endpoint = format!("http://127.0.0.1:{}", free_port());
        let store = S3Store::new(&settings(&endpoint, "minqing-photos", "p")).unwrap();
        let started = Instant::now();
        let err = store.check().unwrap_err();
        assert!(err.to_string().contains("s3://minqing-photos/p"), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
        assert!(store.put(KEY, b"x").is_err());
        assert!(store.get(KEY).is_err(), "unreachable is not missing");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        assert!(!format!("{store:?}").contains(SECRET));
    }

    #[test]
    fn is_made_and_dropped_inside_an_async_context_without_panicking() {
        // As in the server: built in `Application::build`, dropped when the workers stop.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store =
                S3Store::new(&settings("http://127.0.0.1:9", "minqing-photos", "")).unwrap();
            drop(store);
        });
    }
}
