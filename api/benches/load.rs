//! Load benchmark: starts the real server (SQLite, and PostgreSQL when MINQING_BENCH_POSTGRES
//! or MINQING_TEST_POSTGRES names a server) and measures, with the load generator on the same
//! machine:
//! - `POST /checkins` from 32 concurrent cadres for a fixed time: accepted/s, p50, p99;
//! - `GET /checkins` of one cadre's month from a table of 1,000,000 check-ins: p50, p99.
//!
//! Run: `cargo bench --bench load` (MINQING_BENCH_SECS, MINQING_BENCH_ROWS to change the size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use minqing_api::auth::password::hash_password;
use minqing_api::config::Config;
use minqing_api::db::checkins::{self, CheckinRow};
use minqing_api::db::models::UserRow;
use minqing_api::db::{users, Db};
use minqing_api::startup::Application;
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

#[path = "support.rs"]
mod support;
use support::{env_num, ms, post, stats, Stats};

const CLIENTS: usize = 32;
const SEEDED_CADRES: usize = 1000;
const PASSWORD: &str = "bench-password";

struct Town {
    base: String,
    village: String,
    cadres: Vec<(String, String)>,
    db: Db,
}

/// A county, a town, a village with a boundary, and `SEEDED_CADRES` cadres assigned to it.
/// Starts a server on `db` (each call another one, with its own pool, as a second machine
/// behind a balancer would run): its API base and database handle.
fn start_server(db: &TestDatabase) -> (String, Db) {
    let config = Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        data_dir: db.dir().join("data"),
        jwt_secret: Some("a-bench-secret-that-is-long-enough-0123456789".into()),
        admin_phone: Some("13800000000".into()),
        admin_password: Some(PASSWORD.into()),
        db_pool_size: 16,
        ..Config::default()
    };
    let app = Application::build(config).expect("the server starts");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let handle = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    (base, handle)
}

async fn build_town(client: &reqwest::Client, db: &TestDatabase) -> Town {
    let (base, handle) = start_server(db);
    let admin = post(
        client,
        &format!("{base}/auth/login"),
        None,
        json!({"phone": "13800000000", "password": PASSWORD}),
    )
    .await;
    let admin = admin["access_token"].as_str().unwrap().to_string();
    let county = post(
        client,
        &format!("{base}/org-units"),
        Some(&admin),
        json!({"name": "县", "kind": "county"}),
    )
    .await;
    let town = post(
        client,
        &format!("{base}/org-units"),
        Some(&admin),
        json!({"name": "镇", "kind": "town", "parent_id": county["id"]}),
    )
    .await;
    let village = post(
        client,
        &format!("{base}/org-units"),
        Some(&admin),
        json!({"name": "村", "kind": "village", "parent_id": town["id"]}),
    )
    .await;
    let village = village["id"].as_str().unwrap().to_string();
    client
        .put(format!("{base}/villages/{village}/boundary"))
        .bearer_auth(&admin)
        .json(&json!({"center": {"lat": 29.08, "lon": 119.65}, "radius_m": 1500.0}))
        .send()
        .await
        .unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let now = Utc::now().naive_utc();
    let town_id = town["id"].as_str().unwrap().to_string();
    let mut conn = handle.conn().unwrap();
    let mut cadres = Vec::new();
    conn.write(|conn| {
        for i in 0..SEEDED_CADRES {
            let row = UserRow {
                id: uuid::Uuid::now_v7().to_string(),
                phone: format!("137{i:08}"),
                name: format!("干部{i}"),
                password_hash: hash.clone(),
                role: "cadre".into(),
                org_unit_id: Some(town_id.clone()),
                cadre_category: Some("organ".into()),
                staff_type: Some("established".into()),
                rater_group: Some("established".into()),
                active: true,
                created_at: now,
                updated_at: now,
            };
            users::insert(conn, &row)?;
            users::set_villages(conn, &row.id, std::slice::from_ref(&village))?;
            cadres.push((row.id, row.phone));
        }
        Ok(())
    })
    .unwrap();
    Town {
        base,
        village,
        cadres,
        db: handle,
    }
}

async fn login(client: &reqwest::Client, base: &str, phone: &str) -> String {
    let reply = post(
        client,
        &format!("{base}/auth/login"),
        None,
        json!({"phone": phone, "password": PASSWORD}),
    )
    .await;
    reply["access_token"].as_str().unwrap().to_string()
}

/// 32 cadres post check-ins as fast as the servers answer, for `secs` seconds, each cadre
/// through one of `bases` in turn (as a balancer spreads them).
async fn write_load(
    client: &reqwest::Client,
    town: &Town,
    bases: &[String],
    secs: u64,
) -> (Stats, usize) {
    let mut signed_in = Vec::new();
    for (n, (_, phone)) in town.cadres.iter().take(CLIENTS).enumerate() {
        let base = &bases[n % bases.len()];
        let url = Arc::new(format!("{base}/checkins"));
        signed_in.push((login(client, base, phone).await, url));
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (n, (token, url)) in signed_in.into_iter().enumerate() {
        let (client, village) = (client.clone(), town.village.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                // Spread over the past day so the implied speed stays plausible.
                let recorded_at = Utc::now() - Days::seconds(((i * 97 + n as u64 * 13) % 80_000) as i64 + 60);
                let body = json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "night_visit", "village_id": village,
                    "lat": 29.08 + (i % 7) as f64 * 1e-4, "lon": 119.65, "accuracy_m": 10.0,
                    "recorded_at": recorded_at.to_rfc3339(), "device_id": format!("phone-{n}")});
                let sent = Instant::now();
                match client.post(url.as_str()).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => latencies.push(sent.elapsed()),
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await.unwrap();
        all.extend(latencies);
        failures += failed;
    }
    (stats(all, start.elapsed()), failures)
}

/// Seeds `rows` check-ins spread over the seeded cadres and the past year.
fn seed(town: &Town, rows: u64) -> Duration {
    let started = Instant::now();
    let mut conn = town.db.conn().unwrap();
    let path: String = {
        let village = minqing_api::db::org::find(&mut conn, &town.village)
            .unwrap()
            .unwrap();
        village.path
    };
    let now = Utc::now();
    let per_cadre = rows / SEEDED_CADRES as u64;
    let mut batch = Vec::with_capacity(10_000);
    for (k, (user, _)) in town.cadres.iter().enumerate() {
        for j in 0..per_cadre {
            // About three a night, going back a year.
            let at = (now - Days::minutes((j as i64) * 175 + k as i64 % 60 + 1)).naive_utc();
            batch.push(CheckinRow {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: user.clone(),
                kind: "night_visit".into(),
                village_id: town.village.clone(),
                org_path: path.clone(),
                lat: 29.08,
                lon: 119.65,
                crs: "wgs84".into(),
                reported_lat: 29.08,
                reported_lon: 119.65,
                accuracy_m: 10.0,
                recorded_at: at,
                received_at: at,
                night_date: at.date(),
                device_id: Some("phone".into()),
                mock_location: false,
                note: None,
                household: None,
                status: "accepted".into(),
                flags: "[]".into(),
                request_hash: String::new(),
                stay_id: None,
                reviewed_by: None,
                reviewed_at: None,
                review_reason: None,
                session_id: None,
            });
            if batch.len() == 10_000 {
                conn.write(|conn| checkins::insert_many(conn, &batch))
                    .unwrap();
                batch.clear();
            }
        }
    }
    conn.write(|conn| checkins::insert_many(conn, &batch))
        .unwrap();
    started.elapsed()
}

/// One cadre's last 30 days, newest first (a page of 50), from 4 concurrent clients.
async fn read_load(client: &reqwest::Client, town: &Town, secs: u64) -> Stats {
    let mut tokens = Vec::new();
    for (id, phone) in town.cadres.iter().skip(100).step_by(50).take(8) {
        tokens.push((id.clone(), login(client, &town.base, phone).await));
    }
    let from = (Utc::now() - Days::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (client, base, tokens, from) = (
            client.clone(),
            town.base.clone(),
            tokens.clone(),
            from.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while Instant::now() < deadline {
                let (user, token) = &tokens[i % tokens.len()];
                i += 1;
                let url = format!("{base}/checkins?user_id={user}&from={from}&limit=50");
                let sent = Instant::now();
                let reply = client.get(&url).bearer_auth(token).send().await.unwrap();
                assert!(reply.status().is_success());
                let body: Value = reply.json().await.unwrap();
                assert!(!body["items"].as_array().unwrap().is_empty());
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    stats(all, start.elapsed())
}

async fn run(label: &str, db: TestDatabase, secs: u64, rows: u64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let town = build_town(&client, &db).await;
    let (written, failures) =
        write_load(&client, &town, std::slice::from_ref(&town.base), secs).await;
    println!(
        "| {label} | POST /checkins, {CLIENTS} clients, {secs} s | {} accepted ({failures} failed) | {:.0}/s | {} | {} |",
        written.count, written.per_sec, ms(written.p50), ms(written.p99)
    );
    if db.is_postgres() {
        // A second server on the same database, the clients spread over both.
        let (second, _) = start_server(&db);
        let bases = [town.base.clone(), second];
        let (written, failures) = write_load(&client, &town, &bases, secs).await;
        println!(
            "| {label}, two servers | POST /checkins, {CLIENTS} clients over 2 servers, {secs} s | {} accepted ({failures} failed) | {:.0}/s | {} | {} |",
            written.count, written.per_sec, ms(written.p50), ms(written.p99)
        );
    }
    let seeded = seed(&town, rows);
    eprintln!(
        "{label}: seeded {rows} check-ins in {:.1} s",
        seeded.as_secs_f64()
    );
    let read = read_load(&client, &town, secs).await;
    println!(
        "| {label} | GET /checkins (one cadre's month of {rows} rows), 4 clients | {} pages | {:.0}/s | {} | {} |",
        read.count, read.per_sec, ms(read.p50), ms(read.p99)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let secs = env_num("MINQING_BENCH_SECS", 10);
    let rows = env_num("MINQING_BENCH_ROWS", 1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("| backend | what | requests | rate | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    runtime.block_on(run("SQLite", TestDatabase::sqlite(), secs, rows));
    let postgres = std::env::var("MINQING_BENCH_POSTGRES")
        .ok()
        .or_else(minqing_e2e::postgres_server);
    match postgres {
        Some(server) => runtime.block_on(run("PostgreSQL", TestDatabase::postgres(&server), secs, rows)),
        None => eprintln!("PostgreSQL skipped: set MINQING_BENCH_POSTGRES (or MINQING_TEST_POSTGRES) to a server URL"),
    }
}
