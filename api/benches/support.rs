//! Helpers shared by the benchmarks.
// Each benchmark binary includes this file and uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;

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
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while std::time::Instant::now() < deadline {
                let sent = std::time::Instant::now();
                let reply = client
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("the server answers");
                assert!(reply.status().is_success(), "{url}: {}", reply.status());
                let _: Value = reply.json().await.expect("JSON");
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
