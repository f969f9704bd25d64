//! Login burst benchmark: starts the real `minqing` binary as its own process (SQLite, or
//! PostgreSQL when MINQING_BENCH_POSTGRES or MINQING_TEST_POSTGRES names a server), then
//! - fires 200 wrong logins at once, each from its own loopback address and for its own
//!   (unknown) phone, so that no attempt limit stops them and every one wants a hash;
//! - runs 200 clients (each from its own address) signing in with valid passwords, over a
//!   small set of users, as fast as the server answers for 10 s.
//!
//! It samples the server process's resident memory (VmRSS, every 20 ms) throughout, with
//! its peak (VmHWM) at the end, and prints one table: peak RSS, p50/p99 latency, 200/401/429.
//!
//! Run: `cargo bench --bench login_burst` (MINQING_BENCH_SECS changes the 10 s; Linux only,
//! as it reads /proc and binds 127.0.x.y addresses).

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

#[path = "support.rs"]
mod support;
use support::{env_num, ms, post, stats};

const CLIENTS: usize = 200;
const USERS: usize = 20;
const ADMIN_PHONE: &str = "13800000000";
const PASSWORD: &str = "bench-password";

/// The server as a child process; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &TestDatabase) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_minqing"))
        .arg("serve")
        .current_dir(db.dir())
        .env("DATABASE_URL", &db.url)
        .env("MINQING_BIND", "127.0.0.1:0")
        .env("MINQING_ADMIN_PHONE", ADMIN_PHONE)
        .env("MINQING_ADMIN_PASSWORD", PASSWORD)
        .env(
            "MINQING_JWT_SECRET",
            "a-bench-secret-that-is-long-enough-0123456789",
        )
        .env("RUST_LOG", "warn")
        .env_remove("MINQING_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("minqing starts");
    // Owned by `Server` from here on, so the process is reaped whatever happens next.
    let mut server = Server {
        child,
        base: String::new(),
    };
    let stdout = server.child.stdout.take().expect("the server's output");
    let (tx, rx) = mpsc::channel();
    // Read the output to its end, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("the server says where it listens");
        if let Some(rest) = line.strip_prefix("Minqing is listening on ") {
            let origin = rest.split_whitespace().next().unwrap_or_default();
            server.base = format!("{origin}/api/v1");
            return server;
        }
    }
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Samples the server's RSS every 20 ms while it runs; the highest sample seen.
fn sample_rss(pid: u32, running: Arc<AtomicBool>, peak_kb: Arc<AtomicU64>) {
    std::thread::spawn(move || {
        while running.load(Ordering::Relaxed) {
            peak_kb.fetch_max(status_kb(pid, "VmRSS"), Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

/// A client whose connections come from 127.0.x.y: each has its own address, as 200
/// people behind 200 connections would.
fn client_from(n: usize) -> reqwest::Client {
    let ip: IpAddr = format!("127.0.{}.{}", 1 + n / 250, 1 + n % 250)
        .parse()
        .expect("a loopback address");
    reqwest::Client::builder()
        .local_address(Some(ip))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    ok: usize,
    unauthorized: usize,
    too_many: usize,
    other: usize,
}

impl Phase {
    fn add(&mut self, status: u16, took: Duration) {
        self.latencies.push(took);
        match status {
            200 => self.ok += 1,
            401 => self.unauthorized += 1,
            429 => self.too_many += 1,
            _ => self.other += 1,
        }
    }

    fn merge(&mut self, other: Phase) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.unauthorized += other.unauthorized;
        self.too_many += other.too_many;
        self.other += other.other;
    }
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    phone: &str,
    password: &str,
) -> (u16, Duration) {
    let sent = Instant::now();
    let reply = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .await
        .expect("the server answers");
    let status = reply.status().as_u16();
    let _ = reply.bytes().await;
    (status, sent.elapsed())
}

async fn wrong_burst(base: &str) -> Phase {
    let sends: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (client, base) = (client_from(i), base.to_string());
            tokio::spawn(async move {
                login(&client, &base, &format!("137{i:08}"), "wrong-password").await
            })
        })
        .collect();
    let mut phase = Phase::default();
    for send in sends {
        let (status, took) = send.await.expect("a client task");
        phase.add(status, took);
    }
    phase
}

async fn valid_load(base: &str, phones: &[String], secs: u64) -> (Phase, Duration) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let client = client_from(CLIENTS + i);
            let (base, phone) = (base.to_string(), phones[i % phones.len()].clone());
            tokio::spawn(async move {
                let mut phase = Phase::default();
                while Instant::now() < deadline {
                    let (status, took) = login(&client, &base, &phone, PASSWORD).await;
                    phase.add(status, took);
                }
                phase
            })
        })
        .collect();
    let mut all = Phase::default();
    for task in tasks {
        all.merge(task.await.expect("a client task"));
    }
    (all, start.elapsed())
}

fn row(backend: &str, what: &str, phase: Phase, elapsed: Duration, peak_mb: f64) {
    let (ok, unauthorized, too_many, other) =
        (phase.ok, phase.unauthorized, phase.too_many, phase.other);
    let s = stats(phase.latencies, elapsed);
    println!(
        "| {backend} | {what} | {:.0} MB | {} | {} | {ok} | {unauthorized} | {too_many} | {other} |",
        peak_mb,
        ms(s.p50),
        ms(s.p99),
    );
}

async fn run(backend: &str, db: TestDatabase) {
    let server = start(&db);
    let pid = server.child.id();
    let client = reqwest::Client::new();
    let admin = post(
        &client,
        &format!("{}/auth/login", server.base),
        None,
        json!({"phone": ADMIN_PHONE, "password": PASSWORD}),
    )
    .await;
    let admin = admin["access_token"].as_str().expect("a token").to_string();
    let units = format!("{}/org-units", server.base);
    let county = post(
        &client,
        &units,
        Some(&admin),
        json!({"name": "县", "kind": "county"}),
    )
    .await;
    let town: Value = post(
        &client,
        &units,
        Some(&admin),
        json!({"name": "镇", "kind": "town", "parent_id": county["id"]}),
    )
    .await;
    let mut phones = Vec::new();
    for i in 0..USERS {
        let phone = format!("139{i:08}");
        post(
            &client,
            &format!("{}/users", server.base),
            Some(&admin),
            json!({"name": format!("干部{i}"), "phone": phone, "role": "cadre", "org_unit_id": town["id"],
                   "cadre_category": "organ", "password": PASSWORD}),
        )
        .await;
        phones.push(phone);
    }
    let idle_mb = status_kb(pid, "VmRSS") as f64 / 1024.0;

    let running = Arc::new(AtomicBool::new(true));
    let burst_peak = Arc::new(AtomicU64::new(0));
    sample_rss(pid, running.clone(), burst_peak.clone());
    let started = Instant::now();
    let burst = wrong_burst(&server.base).await;
    let burst_elapsed = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let after_burst_mb = status_kb(pid, "VmRSS") as f64 / 1024.0;

    let running = Arc::new(AtomicBool::new(true));
    let load_peak = Arc::new(AtomicU64::new(0));
    sample_rss(pid, running.clone(), load_peak.clone());
    let secs = env_num("MINQING_BENCH_SECS", 10);
    let (load, load_elapsed) = valid_load(&server.base, &phones, secs).await;
    running.store(false, Ordering::Relaxed);
    let after_load_mb = status_kb(pid, "VmRSS") as f64 / 1024.0;
    let hwm_mb = status_kb(pid, "VmHWM") as f64 / 1024.0;

    let logins = load.ok;
    row(
        backend,
        &format!("{CLIENTS} wrong logins at once"),
        burst,
        burst_elapsed,
        burst_peak.load(Ordering::Relaxed) as f64 / 1024.0,
    );
    row(
        backend,
        &format!("{CLIENTS} clients of valid logins, {secs} s"),
        load,
        load_elapsed,
        load_peak.load(Ordering::Relaxed) as f64 / 1024.0,
    );
    println!(
        "{backend}: RSS idle {idle_mb:.0} MB, after the burst {after_burst_mb:.0} MB, after the load {after_load_mb:.0} MB; \
         peak (VmHWM) {hwm_mb:.0} MB; {:.0} sign-ins/s; {} hashing slots (cores)",
        logins as f64 / load_elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
}

#[tokio::main]
async fn main() {
    println!("| backend | what | peak RSS | p50 | p99 | 200 | 401 | 429 | other |");
    println!("|---|---|---|---|---|---|---|---|---|");
    run("SQLite", TestDatabase::sqlite()).await;
    let postgres = std::env::var("MINQING_BENCH_POSTGRES")
        .ok()
        .or_else(minqing_e2e::postgres_server);
    if let Some(server) = postgres {
        run("PostgreSQL", TestDatabase::postgres(&server)).await;
    }
}
