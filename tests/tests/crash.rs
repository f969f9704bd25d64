//! `kill -9` of the real server in the middle of mixed writes, ten times, on SQLite (and on
//! PostgreSQL when `MINQING_TEST_POSTGRES` is set): every write answered 2xx is there after
//! the restart, and a client retrying it gets the first answer.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use minqing_e2e::server::Server;
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

const CYCLES: usize = 10;
/// How long writers run before the server is killed, varied by cycle.
const RUN_MS: [u64; CYCLES] = [150, 400, 250, 600, 300, 500, 200, 450, 350, 550];

/// One write and the answer the server gave it.
#[derive(Clone)]
struct Acknowledged {
    path: String,
    body: Value,
    answer: Value,
}

fn login(client: &reqwest::blocking::Client, base: &str, phone: &str) -> String {
    let session: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": phone, "password": "minqing-demo"}))
        .send()
        .expect("the server answers")
        .json()
        .unwrap();
    session["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{phone} signs in: {session}"))
        .to_string()
}

fn get(client: &reqwest::blocking::Client, base: &str, token: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Posts until the server goes away; keeps the writes it acknowledged.
fn writer(
    base: String,
    token: String,
    make: impl Fn(usize) -> (String, Value),
    kept: Arc<Mutex<Vec<Acknowledged>>>,
) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0.. {
        let (path, body) = make(i);
        let Ok(reply) = client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
        else {
            return;
        };
        let status = reply.status();
        let Ok(answer) = reply.json::<Value>() else {
            return;
        };
        if status.is_success() {
            kept.lock()
                .unwrap()
                .push(Acknowledged { path, body, answer });
        }
    }
}

#[test]
fn acknowledged_writes_survive_kill_9_and_retries_get_the_first_answer() {
    let db = TestDatabase::new();
    let kept: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let rated: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = reqwest::blocking::Client::new();
    for (cycle, run_ms) in RUN_MS.into_iter().enumerate() {
        let server = Server::start(&db, &["serve", "--demo"]);
        let base = server.base.clone();
        let cadre = login(&client, &base, "13900000011");
        let village = get(&client, &base, &cadre, "/me")["villages"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let started = Instant::now();
        let mut writers = Vec::new();
        for w in 0..2 {
            let (base, token, village, kept) =
                (base.clone(), cadre.clone(), village.clone(), kept.clone());
            writers.push(thread::spawn(move || {
                writer(
                    base,
                    token,
                    move |i| {
                        let at =
                            Utc::now() - chrono::Duration::minutes((cycle * 100 + i) as i64 % 600);
                        (
                            "/checkins".to_string(),
                            json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "night_visit",
                                   "village_id": village, "lat": 29.08, "lon": 119.65,
                                   "accuracy_m": 10.0 + w as f64, "recorded_at": at.to_rfc3339(),
                                   "device_id": "demo-phone"}),
                        )
                    },
                    kept,
                )
            }));
        }
        {
            let (base, token, village, kept) =
                (base.clone(), cadre.clone(), village.clone(), kept.clone());
            writers.push(thread::spawn(move || {
                writer(
                    base,
                    token,
                    move |i| {
                        (
                            "/work-orders".to_string(),
                            json!({"id": uuid::Uuid::new_v4().to_string(), "category": "road",
                                   "title": format!("村道坑洼 {cycle}-{i}"), "description": "走访时群众反映",
                                   "village_id": village, "source": "visit", "reporter_name": "钱大伯"}),
                        )
                    },
                    kept,
                )
            }));
        }
        // Orders resolved on the spot, rated by their reporter through the tracking token.
        let raters = {
            let (base, token, village, rated) =
                (base.clone(), cadre.clone(), village.clone(), rated.clone());
            thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                for i in 0.. {
                    let filed = client
                        .post(format!("{base}/work-orders"))
                        .bearer_auth(&token)
                        .json(&json!({"category": "road", "title": format!("路灯不亮 {cycle}-{i}"),
                            "description": "当场修好", "village_id": village, "source": "visit",
                            "reporter_name": "钱大伯", "resolved_on_spot": true, "resolution_note": "已修复"}))
                        .send();
                    let Some(order) = filed.ok().and_then(|r| r.json::<Value>().ok()) else {
                        return;
                    };
                    let (Some(id), Some(tracking)) =
                        (order["id"].as_str(), order["tracking_token"].as_str())
                    else {
                        continue;
                    };
                    let Ok(rating) = client
                        .post(format!("{base}/work-orders/{id}/rate?token={tracking}"))
                        .json(&json!({"score": 90, "comment": "满意"}))
                        .send()
                    else {
                        return;
                    };
                    if rating.status().is_success() {
                        rated.lock().unwrap().push(id.to_string());
                    }
                }
            })
        };
        writers.push(raters);
        let run = Duration::from_millis(run_ms);
        thread::sleep(run.saturating_sub(started.elapsed()));
        // kill -9 while the writers are mid-request.
        drop(server);
        for w in writers {
            w.join().unwrap();
        }
    }

    let acknowledged = kept.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 50,
        "the writers got through: {}",
        acknowledged.len()
    );
    let rated = rated.lock().unwrap().clone();
    assert!(!rated.is_empty(), "some ratings were made");
    let server = Server::start(&db, &["serve"]);
    let base = server.base.clone();
    let cadre = login(&client, &base, "13900000011");
    let mut missing = Vec::new();
    for a in &acknowledged {
        // The retry a phone makes after losing the answer.
        let reply = client
            .post(format!("{base}{}", a.path))
            .bearer_auth(&cadre)
            .json(&a.body)
            .send()
            .unwrap();
        let status = reply.status().as_u16();
        let answer: Value = reply.json().unwrap();
        let same = match a.path.as_str() {
            "/checkins" => answer == a.answer,
            _ => answer["id"] == a.answer["id"] && answer["code"] == a.answer["code"],
        };
        if status != 200 || !same {
            missing.push(format!(
                "{} {}: {status} {answer} (first {})",
                a.path, a.body["id"], a.answer
            ));
        }
    }
    eprintln!(
        "{} acknowledged writes and {} ratings over {CYCLES} kill -9 cycles",
        acknowledged.len(),
        rated.len()
    );
    assert!(
        missing.is_empty(),
        "{} of {} lost:\n{}",
        missing.len(),
        acknowledged.len(),
        missing.join("\n")
    );
    let supervisor = login(&client, &base, "13900000001");
    for order in &rated {
        let o = get(
            &client,
            &base,
            &supervisor,
            &format!("/work-orders/{order}"),
        );
        assert_eq!(o["status"], "closed", "{o}");
        assert_eq!(
            o["rating"]["score"].as_i64().or(o["rating"].as_i64()),
            Some(90),
            "{o}"
        );
    }
}
