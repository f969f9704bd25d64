//! Helpers shared by the benchmarks.
// Each benchmark binary includes this file and uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use minqing_api::config::Config;
use minqing_api::db::Db;
use minqing_api::startup::Application;
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

pub const PASSWORD: &str = "bench-password";

/// A server started on a test database, with the admin signed in.
pub struct Server {
    pub base: String,
    pub admin: String,
    pub db: Db,
}

/// Starts the real server on `db` (background jobs held off) and signs the admin in.
pub async fn start(client: &reqwest::Client, db: &TestDatabase) -> Server {
    let config = Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        data_dir: db.dir().join("data"),
        jwt_secret: Some("a-bench-secret-that-is-long-enough-0123456789".into()),
        admin_phone: Some("13800000000".into()),
        admin_password: Some(PASSWORD.into()),
        db_pool_size: 16,
        job_interval: Duration::from_secs(86_400),
        ..Config::default()
    };
    let app = Application::build(config).expect("the server starts");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let handle = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let login = post(
        client,
        &format!("{base}/auth/login"),
        None,
        json!({"phone": "13800000000", "password": PASSWORD}),
    )
    .await;
    Server {
        admin: login["access_token"].as_str().unwrap().to_string(),
        base,
        db: handle,
    }
}

/// After a bulk load the planners need statistics and PostgreSQL its visibility map, as
/// autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would gather them in production.
pub fn analyze(conn: &mut minqing_api::db::DbConn) {
    use diesel::connection::SimpleConnection;
    let done = match conn {
        minqing_api::db::DbConn::Sqlite(c, _) => c.batch_execute("ANALYZE"),
        minqing_api::db::DbConn::Pg(c) => c.batch_execute("VACUUM ANALYZE"),
    };
    done.expect("ANALYZE runs");
}

/// One town of the county: its id and its villages' ids and paths.
pub struct Town {
    pub id: String,
    pub villages: Vec<(String, String)>,
}

/// A work-order category `road` and a county of `towns` towns with `villages` villages each,
/// made through the API.
pub async fn county(
    client: &reqwest::Client,
    s: &Server,
    towns: usize,
    villages: usize,
) -> Vec<Town> {
    post(
        client,
        &format!("{}/categories", s.base),
        Some(&s.admin),
        json!({"code": "road", "name": "道路", "group": "基础设施", "default_due_working_days": 3}),
    )
    .await;
    let units = format!("{}/org-units", s.base);
    let unit = |body: Value| post(client, &units, Some(&s.admin), body);
    let county = unit(json!({"name": "县", "kind": "county"})).await;
    let mut made = Vec::new();
    for t in 0..towns {
        let town =
            unit(json!({"name": format!("镇{t}"), "kind": "town", "parent_id": county["id"]}))
                .await;
        let mut list = Vec::new();
        for v in 0..villages {
            let village = unit(
                json!({"name": format!("村{t}-{v}"), "kind": "village", "parent_id": town["id"]}),
            )
            .await;
            let id = village["id"].as_str().unwrap().to_string();
            let mut conn = s.db.conn().unwrap();
            let path = minqing_api::db::org::find(&mut conn, &id)
                .unwrap()
                .unwrap()
                .path;
            list.push((id, path));
        }
        made.push(Town {
            id: town["id"].as_str().unwrap().to_string(),
            villages: list,
        });
    }
    made
}

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Stats {
    pub count: usize,
    pub per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
}

pub fn stats(mut latencies: Vec<Duration>, elapsed: Duration) -> Stats {
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        count: latencies.len(),
        per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

pub async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let reply = req.send().await.expect("the server answers");
    assert!(reply.status().is_success(), "{url}: {}", reply.status());
    reply.json().await.expect("JSON")
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Repeats GET `path` (with `token`) from `clients` concurrent clients for `secs` seconds.
pub async fn read_load(
    client: &reqwest::Client,
    url: String,
    token: String,
    clients: usize,
    secs: u64,
) -> Stats {
    let auth = (reqwest::header::AUTHORIZATION, format!("Bearer {token}"));
    repeat_get(client, url, auth, clients, secs).await
}

/// GETs `url` with one header from `clients` concurrent clients for `secs` seconds, reading
/// every answer whole.
async fn repeat_get(
    client: &reqwest::Client,
    url: String,
    header: (reqwest::header::HeaderName, String),
    clients: usize,
    secs: u64,
) -> Stats {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, header) = (client.clone(), url.clone(), header.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while std::time::Instant::now() < deadline {
                let sent = std::time::Instant::now();
                let reply = client
                    .get(&url)
                    .header(header.0.clone(), &header.1)
                    .send()
                    .await
                    .expect("the server answers");
                assert!(reply.status().is_success(), "{url}: {}", reply.status());
                let _ = reply.bytes().await.expect("the whole answer");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a client task"));
    }
    stats(all, start.elapsed())
}

/// Signs in to the pages (POST /login) and returns the session cookie (`mq_session=…`).
pub async fn page_session(origin: &str, phone: &str) -> String {
    // The cookie comes with the redirect, so the redirect is not followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let reply = client
        .post(format!("{origin}/login"))
        .form(&[("phone", phone), ("password", PASSWORD)])
        .send()
        .await
        .expect("the server answers");
    reply
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("{phone} signs in to the pages: {}", reply.status()))
        .to_string()
}

/// Repeats GET of a page (with a session cookie) from `clients` concurrent clients for
/// `secs` seconds; the whole page is read each time.
pub async fn page_load(
    client: &reqwest::Client,
    url: String,
    cookie: String,
    clients: usize,
    secs: u64,
) -> Stats {
    repeat_get(
        client,
        url,
        (reqwest::header::COOKIE, cookie),
        clients,
        secs,
    )
    .await
}
