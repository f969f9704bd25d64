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

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub data_dir: PathBuf,
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
    /// Internal hosts and networks outbound requests (webhooks) may reach; empty: none.
    pub outbound_allow: AllowList,
    /// Check-in kinds that need a photo in towns without their own list; default none.
    pub photo_required_kinds: Vec<minqing_protocol::CheckinKind>,
    /// How long a request's whole body may take to arrive (JSON, photos, forms); 408 after.
    pub body_timeout: std::time::Duration,
}

/// The same settings as a TOML file may hold them (keys in lower case, without `MINQING_`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
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
    outbound_allow: Option<String>,
    photo_required_kinds: Option<String>,
    body_timeout_secs: Option<i64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://minqing.db".into(),
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
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
            outbound_allow: AllowList::default(),
            photo_required_kinds: Vec::new(),
            // A 15 MB photo at 4 Mbit/s; a connection trickling bytes is cut after this.
            body_timeout: std::time::Duration::from_secs(30),
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
        Ok(Config {
            timezone,
            photo_required_kinds,
            db_wait,
            body_timeout,
            job_interval,
            outbound_allow,
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
