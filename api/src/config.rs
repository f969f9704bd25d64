//! Configuration: environment variables, optionally over a TOML file named by `MINQING_CONFIG`.

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use crate::outbound::AllowList;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// Who may read the Prometheus metrics at `/metrics` (`MINQING_METRICS`).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum MetricsMode {
    /// No `/metrics` route at all: 404 like any unknown path (the default).
    #[default]
    Off,
    /// `token:<secret>`: only with `Authorization: Bearer <secret>`; any other request answers
    /// the same 404 as an unknown path, so the endpoint's existence is not revealed.
    Token(String),
    /// Anyone who reaches the port: only for a private network (route names, request
    /// counts, pool use and outbox depth are then readable by all who can connect).
    Open,
}

impl MetricsMode {
    /// Parses `off`, `open` or `token:<secret>` (the secret at least 16 characters, no
    /// spaces). Errors never repeat the value: it may hold the secret.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text == "off" {
            return Ok(MetricsMode::Off);
        }
        if text == "open" {
            return Ok(MetricsMode::Open);
        }
        let Some(secret) = text.strip_prefix("token:") else {
            anyhow::bail!("MINQING_METRICS must be off, open or token:<secret>");
        };
        anyhow::ensure!(
            secret.chars().count() >= 16 && !secret.chars().any(char::is_whitespace),
            "MINQING_METRICS token:<secret> needs a secret of at least 16 characters without spaces"
        );
        Ok(MetricsMode::Token(secret.to_string()))
    }
}

/// Never prints the token.
impl std::fmt::Debug for MetricsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsMode::Off => f.write_str("Off"),
            MetricsMode::Token(_) => f.write_str("Token(REDACTED)"),
            MetricsMode::Open => f.write_str("Open"),
        }
    }
}

/// Where photo bytes live (`MINQING_PHOTOS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PhotoStorage {
    /// `<data dir>/photos` (the default).
    #[default]
    DataDir,
    /// `file:///absolute/path`: a directory of its own.
    Local(PathBuf),
    /// `s3://bucket/prefix`: an S3-compatible object store.
    S3(S3Settings),
}

/// An S3-compatible bucket for photos; `Debug` never shows the secret key or session token.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    /// `MINQING_S3_ENDPOINT` (`http(s)://host:port`, no trailing `/`): a MinIO, Ceph or other
    /// S3-compatible server, addressed path-style. `None`: AWS itself, virtual-hosted style.
    pub endpoint: Option<String>,
    /// `MINQING_S3_REGION`, `us-east-1` unless set.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl S3Settings {
    /// `s3://bucket/prefix`, for messages and logs (no credentials in it).
    pub fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"REDACTED")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "REDACTED"),
            )
            .finish()
    }
}

impl PhotoStorage {
    /// Reads `MINQING_PHOTOS` (`s3://bucket/prefix` or `file:///path`; unset: the data
    /// directory), and for S3 `MINQING_S3_ENDPOINT`, `MINQING_S3_REGION` and the `AWS_*`
    /// credentials. Errors name the variable and never repeat a credential.
    fn from_lookup(
        var: &impl Fn(&str) -> Option<String>,
        photos: Option<String>,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> anyhow::Result<Self> {
        let Some(url) = photos.map(|u| u.trim().to_string()) else {
            anyhow::ensure!(
                endpoint.is_none() && region.is_none(),
                "MINQING_S3_ENDPOINT and MINQING_S3_REGION need MINQING_PHOTOS=s3://bucket/prefix"
            );
            return Ok(PhotoStorage::DataDir);
        };
        if let Some(path) = url.strip_prefix("file://") {
            anyhow::ensure!(
                endpoint.is_none() && region.is_none(),
                "MINQING_S3_ENDPOINT and MINQING_S3_REGION need MINQING_PHOTOS=s3://bucket/prefix"
            );
            anyhow::ensure!(
                path.starts_with('/') && path.len() > 1,
                "MINQING_PHOTOS: a file:// store needs an absolute path, e.g. file:///var/lib/minqing/photos"
            );
            return Ok(PhotoStorage::Local(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            anyhow::bail!(
                "MINQING_PHOTOS must be s3://bucket/prefix or file:///absolute/path{}",
                if url.contains('@') {
                    String::new()
                } else {
                    format!(", not {url:?}")
                }
            );
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(
            !bucket.contains('@') && !bucket.contains(':'),
            "MINQING_PHOTOS must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        );
        anyhow::ensure!(
            (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
                && bucket.ends_with(|c: char| c.is_ascii_alphanumeric()),
            "MINQING_PHOTOS: {bucket:?} is not a bucket name (3 to 63 lower-case letters, digits, '-' and '.')"
        );
        let prefix = prefix.trim_end_matches('/');
        anyhow::ensure!(
            prefix.is_empty()
                || prefix.split('/').all(|part| {
                    !part.is_empty()
                        && part != "."
                        && part != ".."
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                }),
            "MINQING_PHOTOS: the key prefix {prefix:?} may hold only letters, digits, '-', '_' and '.' between single '/'"
        );
        let endpoint = endpoint
            .map(|text| -> anyhow::Result<String> {
                let parsed = reqwest::Url::parse(text.trim()).map_err(|e| {
                    anyhow::anyhow!("MINQING_S3_ENDPOINT must be a URL such as http://127.0.0.1:9000: {e}")
                })?;
                anyhow::ensure!(
                    matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
                    "MINQING_S3_ENDPOINT must be an http:// or https:// URL such as http://127.0.0.1:9000"
                );
                anyhow::ensure!(
                    parsed.username().is_empty() && parsed.password().is_none(),
                    "MINQING_S3_ENDPOINT must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                );
                anyhow::ensure!(
                    parsed.path() == "/" && parsed.query().is_none() && parsed.fragment().is_none(),
                    "MINQING_S3_ENDPOINT is the server alone (scheme, host, port): the bucket goes in MINQING_PHOTOS"
                );
                Ok(parsed.as_str().trim_end_matches('/').to_string())
            })
            .transpose()?;
        let region = region.map_or_else(|| "us-east-1".to_string(), |r| r.trim().to_string());
        anyhow::ensure!(
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "MINQING_S3_REGION must be a region name such as us-east-1, not {region:?}"
        );
        let (access_key_id, secret_access_key) =
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => (id, secret),
                _ => anyhow::bail!(
                    "MINQING_PHOTOS=s3://… needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ),
            };
        Ok(PhotoStorage::S3(S3Settings {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            session_token: var("AWS_SESSION_TOKEN"),
        }))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub data_dir: PathBuf,
    /// Where photo bytes live (`MINQING_PHOTOS`); the data directory unless set.
    pub photos: PhotoStorage,
    pub jwt_secret: Option<String>,
    pub admin_phone: Option<String>,
    pub admin_password: Option<String>,
    pub db_pool_size: u32,
    /// The longest a request waits for a database connection before it is answered 503.
    pub db_wait: std::time::Duration,
    pub access_ttl_secs: i64,
    pub refresh_ttl_days: i64,
    pub log_format: LogFormat,
    /// The towns' local time zone (IANA name): night windows and night dates are local.
    pub timezone: chrono_tz::Tz,
    /// How often background jobs run (reminders, escalation, auto-close, webhook delivery).
    pub job_interval: std::time::Duration,
    /// How long a webhook receiver may take to answer one delivery.
    pub webhook_timeout: std::time::Duration,
    /// Internal hosts and networks outbound requests (webhooks) may reach; empty: none.
    pub outbound_allow: AllowList,
    /// Load balancers whose `X-Forwarded-For` tells the client's address; empty: none, the
    /// peer address is the client's.
    pub trusted_proxies: AllowList,
    /// Check-in kinds that need a photo in towns without their own list; default none.
    pub photo_required_kinds: Vec<minqing_protocol::CheckinKind>,
    /// How long a request's whole body may take to arrive (JSON, photos, forms); 408 after.
    pub body_timeout: std::time::Duration,
    /// Who may read `/metrics`; off unless set.
    pub metrics: MetricsMode,
}

/// The same settings as a TOML file may hold them (keys in lower case, without `MINQING_`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    photos: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    jwt_secret: Option<String>,
    admin_phone: Option<String>,
    admin_password: Option<String>,
    db_pool_size: Option<u32>,
    db_wait_secs: Option<i64>,
    access_ttl_secs: Option<i64>,
    refresh_ttl_days: Option<i64>,
    log_format: Option<LogFormat>,
    timezone: Option<String>,
    job_interval_secs: Option<f64>,
    webhook_timeout_secs: Option<u64>,
    outbound_allow: Option<String>,
    trusted_proxies: Option<String>,
    photo_required_kinds: Option<String>,
    body_timeout_secs: Option<i64>,
    metrics: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://minqing.db".into(),
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            photos: PhotoStorage::DataDir,
            jwt_secret: None,
            admin_phone: None,
            admin_password: None,
            db_pool_size: 8,
            db_wait: crate::db::DEFAULT_CONNECTION_WAIT,
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 30,
            log_format: LogFormat::Text,
            timezone: chrono_tz::Asia::Shanghai,
            job_interval: std::time::Duration::from_secs(60),
            webhook_timeout: std::time::Duration::from_secs(10),
            outbound_allow: AllowList::default(),
            trusted_proxies: AllowList::default(),
            photo_required_kinds: Vec::new(),
            // A 15 MB photo at 4 Mbit/s; a connection trickling bytes is cut after this.
            body_timeout: std::time::Duration::from_secs(30),
            metrics: MetricsMode::Off,
        }
    }
}

impl Config {
    /// Reads the process environment (and the file `MINQING_CONFIG` names, if any).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Builds a configuration from any variable lookup; environment wins over the file.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = match var("MINQING_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the config file {path}"))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing the config file {path}"))?
            }
            None => FileConfig::default(),
        };
        let defaults = Config::default();
        let parsed = |key: &str| -> anyhow::Result<Option<i64>> {
            var(key)
                .map(|v| {
                    v.parse::<i64>()
                        .with_context(|| format!("{key} must be a whole number"))
                })
                .transpose()
        };
        let log_format = match var("MINQING_LOG_FORMAT").as_deref() {
            Some("json") => Some(LogFormat::Json),
            Some("text") => Some(LogFormat::Text),
            Some(other) => anyhow::bail!("MINQING_LOG_FORMAT must be text or json, not {other}"),
            None => None,
        };
        let pool_size = match parsed("MINQING_DB_POOL_SIZE")? {
            Some(n) if (1..=256).contains(&n) => Some(n as u32),
            Some(_) => anyhow::bail!("MINQING_DB_POOL_SIZE must be between 1 and 256"),
            None => file.db_pool_size,
        };
        let timezone = match var("MINQING_TIMEZONE").or(file.timezone) {
            Some(name) => name.parse::<chrono_tz::Tz>().map_err(|_| {
                anyhow::anyhow!(
                    "MINQING_TIMEZONE {name:?} is not an IANA time zone such as Asia/Shanghai"
                )
            })?,
            None => defaults.timezone,
        };
        let job_interval = match var("MINQING_JOB_INTERVAL_SECS") {
            Some(v) => Some(v.parse::<f64>().map_err(|_| {
                anyhow::anyhow!("MINQING_JOB_INTERVAL_SECS must be a number of seconds")
            })?),
            None => file.job_interval_secs,
        };
        let job_interval = match job_interval {
            Some(secs) if (0.05..=86_400.0).contains(&secs) => {
                std::time::Duration::from_secs_f64(secs)
            }
            Some(_) => anyhow::bail!("MINQING_JOB_INTERVAL_SECS must be between 0.05 and 86400"),
            None => defaults.job_interval,
        };
        let webhook_timeout = match var("MINQING_WEBHOOK_TIMEOUT_SECS") {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                anyhow::anyhow!("MINQING_WEBHOOK_TIMEOUT_SECS must be a whole number of seconds")
            })?),
            None => file.webhook_timeout_secs,
        };
        let webhook_timeout = match webhook_timeout {
            Some(secs) if (1..=60).contains(&secs) => std::time::Duration::from_secs(secs),
            Some(_) => anyhow::bail!("MINQING_WEBHOOK_TIMEOUT_SECS must be between 1 and 60"),
            None => defaults.webhook_timeout,
        };
        let trusted_proxies = match var("MINQING_TRUSTED_PROXIES").or(file.trusted_proxies) {
            Some(text) => AllowList::parse_networks(&text)
                .map_err(|e| anyhow::anyhow!("MINQING_TRUSTED_PROXIES: {e}"))?,
            None => defaults.trusted_proxies,
        };
        let outbound_allow = match var("MINQING_OUTBOUND_ALLOW").or(file.outbound_allow) {
            Some(text) => AllowList::parse(&text)
                .map_err(|e| anyhow::anyhow!("MINQING_OUTBOUND_ALLOW: {e}"))?,
            None => defaults.outbound_allow,
        };
        let body_timeout = match parsed("MINQING_BODY_TIMEOUT_SECS")?.or(file.body_timeout_secs) {
            Some(secs) if (1..=3600).contains(&secs) => {
                std::time::Duration::from_secs(secs.unsigned_abs())
            }
            Some(_) => anyhow::bail!("MINQING_BODY_TIMEOUT_SECS must be between 1 and 3600"),
            None => defaults.body_timeout,
        };
        let db_wait = match parsed("MINQING_DB_WAIT_SECS")?.or(file.db_wait_secs) {
            Some(secs) if (1..=120).contains(&secs) => {
                std::time::Duration::from_secs(secs.unsigned_abs())
            }
            Some(_) => anyhow::bail!("MINQING_DB_WAIT_SECS must be between 1 and 120"),
            None => defaults.db_wait,
        };
        let photo_required_kinds = match var("MINQING_PHOTO_REQUIRED_KINDS")
            .or(file.photo_required_kinds)
        {
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    serde_json::from_value(serde_json::Value::String(k.into())).map_err(|_| {
                        anyhow::anyhow!(
                            "MINQING_PHOTO_REQUIRED_KINDS: {k:?} is not a check-in kind (e.g. night_visit,stay_start)"
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            None => defaults.photo_required_kinds,
        };
        let metrics = match var("MINQING_METRICS").or(file.metrics) {
            Some(text) => MetricsMode::parse(&text)?,
            None => defaults.metrics,
        };
        let photos = PhotoStorage::from_lookup(
            &var,
            var("MINQING_PHOTOS").or(file.photos),
            var("MINQING_S3_ENDPOINT").or(file.s3_endpoint),
            var("MINQING_S3_REGION").or(file.s3_region),
        )?;
        Ok(Config {
            photos,
            metrics,
            timezone,
            photo_required_kinds,
            db_wait,
            body_timeout,
            job_interval,
            webhook_timeout,
            outbound_allow,
            trusted_proxies,
            database_url: var("DATABASE_URL")
                .or(file.database_url)
                .unwrap_or(defaults.database_url),
            bind: var("MINQING_BIND").or(file.bind).unwrap_or(defaults.bind),
            data_dir: var("MINQING_DATA_DIR")
                .map(PathBuf::from)
                .or(file.data_dir)
                .unwrap_or(defaults.data_dir),
            jwt_secret: var("MINQING_JWT_SECRET").or(file.jwt_secret),
            admin_phone: var("MINQING_ADMIN_PHONE").or(file.admin_phone),
            admin_password: var("MINQING_ADMIN_PASSWORD").or(file.admin_password),
            db_pool_size: pool_size.unwrap_or(defaults.db_pool_size),
            access_ttl_secs: parsed("MINQING_ACCESS_TTL_SECS")?
                .or(file.access_ttl_secs)
                .unwrap_or(defaults.access_ttl_secs),
            refresh_ttl_days: parsed("MINQING_REFRESH_TTL_DAYS")?
                .or(file.refresh_ttl_days)
                .unwrap_or(defaults.refresh_ttl_days),
            log_format: log_format
                .or(file.log_format)
                .unwrap_or(defaults.log_format),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_anything_set() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.database_url, "sqlite://minqing.db");
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.access_ttl_secs, 900);
        assert!(config.jwt_secret.is_none());
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("minqing-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("minqing.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\n",
        )
        .unwrap();
        let path = file.to_string_lossy().to_string();
        let config = Config::from_lookup(lookup(&[
            ("MINQING_CONFIG", &path),
            ("DATABASE_URL", "postgres://x@y/z"),
        ]))
        .unwrap();
        assert_eq!(config.bind, "0.0.0.0:9000");
        assert_eq!(config.database_url, "postgres://x@y/z");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::from_lookup(lookup(&[("MINQING_ACCESS_TTL_SECS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("MINQING_ACCESS_TTL_SECS"));
        assert!(Config::from_lookup(lookup(&[("MINQING_LOG_FORMAT", "xml")])).is_err());
        let err =
            Config::from_lookup(lookup(&[("MINQING_OUTBOUND_ALLOW", "10.0.0.0/40")])).unwrap_err();
        assert!(err.to_string().contains("MINQING_OUTBOUND_ALLOW"), "{err}");
        let err = Config::from_lookup(lookup(&[("MINQING_BODY_TIMEOUT_SECS", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("MINQING_BODY_TIMEOUT_SECS"),
            "{err}"
        );
    }

    #[test]
    fn the_body_timeout_is_thirty_seconds_unless_set() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.body_timeout.as_secs(), 30);
        let config = Config::from_lookup(lookup(&[("MINQING_BODY_TIMEOUT_SECS", "12")])).unwrap();
        assert_eq!(config.body_timeout.as_secs(), 12);
    }

    #[test]
    fn photo_required_kinds_are_none_unless_set() {
        use minqing_protocol::CheckinKind;
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert!(config.photo_required_kinds.is_empty());
        let config = Config::from_lookup(lookup(&[(
            "MINQING_PHOTO_REQUIRED_KINDS",
            "night_visit, stay_start",
        )]))
        .unwrap();
        assert_eq!(
            config.photo_required_kinds,
            vec![CheckinKind::NightVisit, CheckinKind::StayStart]
        );
        let err =
            Config::from_lookup(lookup(&[("MINQING_PHOTO_REQUIRED_KINDS", "selfie")])).unwrap_err();
        assert!(err.to_string().contains("selfie"), "{err}");
    }

    #[test]
    fn metrics_are_off_unless_set_and_the_token_is_never_shown() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.metrics, MetricsMode::Off);
        let open = Config::from_lookup(lookup(&[("MINQING_METRICS", "open")])).unwrap();
        assert_eq!(open.metrics, MetricsMode::Open);
        let secret = "s3cret-s3cret-s3cret";
        let token = Config::from_lookup(lookup(&[("MINQING_METRICS", &format!("token:{secret}"))]))
            .unwrap();
        assert_eq!(token.metrics, MetricsMode::Token(secret.into()));
        assert!(!format!("{token:?}").contains(secret));
        for bad in ["on", "token:", "token:short", "tokn:s3cret-s3cret-s3cret"] {
            let err = Config::from_lookup(lookup(&[("MINQING_METRICS", bad)])).unwrap_err();
            assert!(err.to_string().contains("MINQING_METRICS"), "{err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn photos_are_in_the_data_directory_unless_set() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.photos, PhotoStorage::DataDir);
        let config =
            Config::from_lookup(lookup(&[("MINQING_PHOTOS", "file:///srv/photos")])).unwrap();
        assert_eq!(
            config.photos,
            PhotoStorage::Local(PathBuf::from("/srv/photos"))
        );
    }

    #[test]
    fn an_s3_photo_store_is_read_and_its_secret_never_shown() {
        let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
        let config = Config::from_lookup(lookup(&[
            ("MINQING_PHOTOS", "s3://minqing-photos/county/photos/"),
            ("MINQING_S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_SESSION_TOKEN", "session-token-value"),
        ]))
        .unwrap();
        let PhotoStorage::S3(s3) = &config.photos else {
            panic!("{:?}", config.photos)
        };
        assert_eq!(s3.bucket, "minqing-photos");
        assert_eq!(s3.prefix, "county/photos");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.location(), "s3://minqing-photos/county/photos");
        assert_eq!(s3.secret_access_key, secret);
        let shown = format!("{config:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains("session-token-value"), "{shown}");

        let root = Config::from_lookup(lookup(&[
            ("MINQING_PHOTOS", "s3://photos"),
            ("MINQING_S3_REGION", "cn-north-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]))
        .unwrap();
        let PhotoStorage::S3(s3) = root.photos else {
            panic!("not S3")
        };
        assert_eq!((s3.prefix.as_str(), s3.region.as_str()), ("", "cn-north-1"));
        assert_eq!(s3.endpoint, None);
    }

    #[test]
    fn bad_photo_store_settings_are_named_without_echoing_credentials() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ];
        for (photos, endpoint, expected) in [
            ("ftp://bucket/x", None, "MINQING_PHOTOS"),
            ("photos", None, "MINQING_PHOTOS"),
            ("file://relative/dir", None, "absolute path"),
            ("s3://", None, "bucket name"),
            ("s3://Bad_Bucket/x", None, "bucket name"),
            ("s3://bucket//x", None, "prefix"),
            ("s3://bucket/a/../b", None, "prefix"),
            (
                "s3://bucket/x",
                Some("127.0.0.1:9000"),
                "MINQING_S3_ENDPOINT",
            ),
            ("s3://bucket/x", Some("ftp://host"), "MINQING_S3_ENDPOINT"),
            (
                "s3://bucket/x",
                Some("http://host/bucket"),
                "MINQING_S3_ENDPOINT",
            ),
            ("s3://bucket/x", Some("http://"), "MINQING_S3_ENDPOINT"),
        ] {
            let mut vars = vec![("MINQING_PHOTOS", photos)];
            vars.extend(endpoint.map(|e| ("MINQING_S3_ENDPOINT", e)));
            vars.extend(keys);
            let err = Config::from_lookup(lookup(&vars)).unwrap_err().to_string();
            assert!(err.contains(expected), "{photos} {endpoint:?}: {err}");
        }
        for leaky in [
            "s3://AKID:hunter2-secret@bucket/x",
            "ftp://u:hunter2-secret@h",
        ] {
            let mut vars = vec![("MINQING_PHOTOS", leaky)];
            vars.extend(keys);
            let err = Config::from_lookup(lookup(&vars)).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
        let err = Config::from_lookup(lookup(&[
            ("MINQING_PHOTOS", "s3://bucket/x"),
            (
                "MINQING_S3_ENDPOINT",
                "http://AKID:hunter2-secret@127.0.0.1:9000",
            ),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("credentials") && !err.contains("hunter2"),
            "{err}"
        );
        let err = Config::from_lookup(lookup(&[
            ("MINQING_PHOTOS", "s3://bucket/x"),
            ("AWS_ACCESS_KEY_ID", "id"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
        let err = Config::from_lookup(lookup(&[("MINQING_S3_ENDPOINT", "http://127.0.0.1:9000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("MINQING_PHOTOS=s3://"), "{err}");
    }

    #[test]
    fn the_outbound_allow_list_is_empty_unless_set() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.outbound_allow, AllowList::default());
        let config = Config::from_lookup(lookup(&[(
            "MINQING_OUTBOUND_ALLOW",
            "127.0.0.1,10.0.0.0/8",
        )]))
        .unwrap();
        assert_eq!(
            config.outbound_allow,
            AllowList::parse("127.0.0.1, 10.0.0.0/8").unwrap()
        );
    }
}
