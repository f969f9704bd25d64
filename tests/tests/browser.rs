//! The phone pages in a real browser: Debian's Chromium, driven by playwright-core
//! (`tests/browser/*.mjs`), against the real `minqing` binary with the demo county. The
//! scripts act as a person would (labelled controls, a 360×640 phone, mocked position,
//! network switched off and on); this side checks through the API that what the person saw
//! is what the server holds. Screenshots land in `target/browser-shots/`.
//!
//! Without Chromium, Node.js or `tests/browser/node_modules` these tests say loudly that
//! they were skipped; under CI (`CI` set) they fail instead, since `.ci/run` installs all three.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, Utc};
use minqing_e2e::photos::{jpeg, FixtureExif};
use minqing_e2e::server::{binary, Server};
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

const DEMO_PASSWORD: &str = "minqing-demo";
/// A demo cadre (青山镇) responsible for villages with boundaries.
const DEMO_CADRE: &str = "13900000011";
/// 青山镇's supervisor in the demo.
const DEMO_SUPERVISOR: &str = "13900000001";

struct Browser {
    chromium: PathBuf,
    scripts: PathBuf,
    shots: PathBuf,
}

/// The browser and driver, or `None` after saying loudly why the test is skipped.
fn browser(test: &str) -> Option<Browser> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !chromium.exists() {
        Some(format!("no Chromium at {}", chromium.display()))
    } else if !node_ok {
        Some("no Node.js (`node`) on PATH".to_string())
    } else if !scripts.join("node_modules/playwright-core").exists() {
        Some("playwright-core is not installed (`npm ci --prefix tests/browser`)".to_string())
    } else {
        None
    };
    if let Some(why) = missing {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("browser test {test} cannot run in CI: {why}; .ci/run installs it");
        }
        eprintln!(
            "\n********\n* SKIPPED browser test {test}: {why}.\n* Install Debian's chromium and \
             fonts-noto-cjk and run `npm ci --prefix tests/browser` to run it.\n********\n"
        );
        return None;
    }
    let shots = binary()
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("browser-shots"))
        .unwrap_or_else(|| std::env::temp_dir().join("browser-shots"));
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    Some(Browser {
        chromium,
        scripts,
        shots,
    })
}

impl Browser {
    /// Runs `tests/browser/<script>` with `env` and returns the JSON of its last output line.
    fn run(&self, script: &str, env: &[(&str, String)]) -> Value {
        let output = Command::new("node")
            .arg(self.scripts.join(script))
            .current_dir(&self.scripts)
            .env("CHROMIUM", &self.chromium)
            .env("MINQING_SHOTS", &self.shots)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{script} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        let last = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or("");
        serde_json::from_str(last).unwrap_or_else(|e| {
            panic!("{script} printed no JSON result ({e}):\n{stdout}\n{stderr}")
        })
    }
}

struct Api {
    client: reqwest::blocking::Client,
    base: String,
}

impl Api {
    fn login(&self, phone: &str, password: &str) -> String {
        let session: Value = self
            .client
            .post(format!("{}/auth/login", self.base))
            .json(&json!({"phone": phone, "password": password}))
            .send()
            .expect("the server answers")
            .json()
            .expect("JSON");
        session["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{phone} signs in: {session}"))
            .to_string()
    }

    fn get(&self, token: &str, path: &str) -> Value {
        let reply = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .expect("the server answers");
        assert!(
            reply.status().is_success(),
            "GET {path}: {}",
            reply.status()
        );
        reply.json().expect("JSON")
    }

    /// Every item of a list, following `next_cursor`.
    fn all(&self, token: &str, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=500&cursor={c}"),
                None => format!("{path}{sep}limit=500"),
            };
            let page = self.get(token, &url);
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let reply = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .expect("the server answers");
        let status = reply.status();
        let body: Value = reply.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    fn upload(&self, token: &str, photo: Vec<u8>) -> String {
        let reply: Value = self
            .client
            .post(format!("{}/media", self.base))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(photo)
            .send()
            .expect("the server answers")
            .json()
            .expect("JSON");
        reply["id"].as_str().expect("a photo id").to_string()
    }
}

/// The real binary serving the demo county, and an API client for it.
fn demo_county() -> (TestDatabase, Server, Api) {
    let db = TestDatabase::new();
    let server = Server::start(&db, &["serve", "--demo"]);
    let api = Api {
        client: reqwest::blocking::Client::new(),
        base: server.base.clone(),
    };
    (db, server, api)
}

/// The centre of a village's boundary (a circle's centre, or the mean of a polygon's ring).
fn centre(boundary: &Value) -> (f64, f64) {
    if let Some(c) = boundary.get("center") {
        return (c["lat"].as_f64().unwrap(), c["lon"].as_f64().unwrap());
    }
    let ring = match boundary["type"].as_str() {
        Some("MultiPolygon") => &boundary["coordinates"][0][0],
        _ => &boundary["coordinates"][0],
    };
    let points: Vec<(f64, f64)> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[1].as_f64().unwrap(), p[0].as_f64().unwrap()))
        .collect();
    let n = points.len() as f64;
    (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    )
}

/// The demo cadre, one of their villages with a boundary, and a point at its centre.
fn cadre_and_village(api: &Api) -> (String, Value, Value, (f64, f64)) {
    let token = api.login(DEMO_CADRE, DEMO_PASSWORD);
    let me = api.get(&token, "/me");
    let village = me["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| !v["boundary"].is_null() && v["code"].is_string())
        .cloned()
        .expect("the demo cadre has a village with a boundary and a code");
    let point = centre(&village["boundary"]);
    (token, me, village, point)
}

/// A camera photo taken just now at `point`, as a phone would write it.
fn camera_photo(point: (f64, f64), width: u32, height: u32) -> Vec<u8> {
    let taken = (Utc::now() + Duration::hours(8))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    jpeg(
        width,
        height,
        &FixtureExif {
            orientation: None,
            gps: Some(point),
            taken_at: Some(Box::leak(taken.into_boxed_str())),
        },
    )
}

#[test]
fn a_villager_reports_from_the_village_page_tracks_with_the_query_code_and_rates() {
    let Some(browser) = browser("villager") else {
        return;
    };
    let (db, server, api) = demo_county();
    let (cadre, me, village, point) = cadre_and_village(&api);
    let photo = db.dir().join("report.jpg");
    std::fs::write(&photo, camera_photo(point, 2400, 1800)).unwrap();

    let reported = browser.run(
        "villager.mjs",
        &[
            ("MINQING_MODE", "report".into()),
            ("MINQING_BASE", server.origin.clone()),
            (
                "MINQING_VILLAGE_CODE",
                village["code"].as_str().unwrap().into(),
            ),
            ("MINQING_LAT", point.0.to_string()),
            ("MINQING_LON", point.1.to_string()),
            ("MINQING_PHOTO", photo.display().to_string()),
        ],
    );
    let code = reported["code"]
        .as_str()
        .expect("the page shows the 工单编号");
    let query_code = reported["query_code"]
        .as_str()
        .expect("the page shows the 查询码");
    assert!(code.starts_with("MQ-"), "{code}");
    assert!(
        query_code.len() == 6 && query_code.chars().all(|c| c.is_ascii_digit()),
        "{query_code}"
    );
    eprintln!(
        "village page, first load on emulated slow 3G (400 kbit/s, 400 ms): {} bytes, loaded in {} ms",
        reported["first_load_bytes"], reported["slow_3g_load_ms"]
    );
    assert!(
        reported["first_load_bytes"].as_u64().unwrap() <= 150 * 1024,
        "the village page's first load is at most 150 KB: {reported}"
    );

    // What the villager sent is what the county's staff see: the admin finds it by its code.
    let admin = api.login("13800000000", "admin-password-1");
    let orders = api.get(
        &admin,
        &format!(
            "/work-orders?village_id={}&limit=10",
            village["id"].as_str().unwrap()
        ),
    );
    let order = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .cloned()
        .expect("the order is listed for its village");
    assert_eq!(order["source"], "villager");
    assert_eq!(order["reporter_name"], "王秀英");
    assert_eq!(order["reporter_phone"], "13712345678");
    assert_eq!(order["photo_ids"].as_array().unwrap().len(), 1);
    assert!(
        order["lat"].as_f64().is_some(),
        "the mocked position is kept"
    );
    let id = order["id"].as_str().unwrap();

    // The town assigns it to the cadre, who resolves it with a photo.
    let unit = me["org_unit_id"].as_str().unwrap();
    api.post(
        &admin,
        &format!("/work-orders/{id}/assign"),
        json!({"unit_id": unit, "assignee_id": me["id"], "due_in_working_days": 3, "commitment": "三个工作日内修好路灯"}),
    );
    api.post(&cadre, &format!("/work-orders/{id}/accept"), json!({}));
    let after = api.upload(&cadre, camera_photo(point, 800, 600));
    api.post(
        &cadre,
        &format!("/work-orders/{id}/resolve"),
        json!({"resolution_note": "已更换灯泡，路灯恢复照明", "photo_ids": [after]}),
    );

    let rated = browser.run(
        "villager.mjs",
        &[
            ("MINQING_MODE", "rate".into()),
            ("MINQING_BASE", server.origin.clone()),
            ("MINQING_CODE", code.into()),
            ("MINQING_QUERY_CODE", query_code.into()),
        ],
    );
    assert_eq!(rated["status_before"], "已办结", "{rated}");
    assert!(
        rated["timeline"].as_str().unwrap().contains("已更换灯泡"),
        "{rated}"
    );
    assert_eq!(rated["photos_shown"], 1, "{rated}");
    let detail = api.get(&admin, &format!("/work-orders/{id}"));
    assert_eq!(detail["status"], "closed", "{detail}");
    assert_eq!(detail["rating"], 80, "{detail}");
}

#[test]
fn a_cadre_records_three_checkins_offline_and_they_arrive_exactly_once() {
    let Some(browser) = browser("cadre") else {
        return;
    };
    let (db, server, api) = demo_county();
    let (cadre, me, _village, point) = cadre_and_village(&api);
    // Three for the check-ins; three for the work log, the 夜学 check-in and its minutes.
    let photos: Vec<String> = (0..6)
        .map(|i| {
            let path = db.dir().join(format!("checkin-{i}.jpg"));
            std::fs::write(&path, camera_photo(point, 1600 + 200 * i, 1200)).unwrap();
            path.display().to_string()
        })
        .collect();
    let started = Utc::now();

    let outcome = browser.run(
        "cadre.mjs",
        &[
            ("MINQING_BASE", server.origin.clone()),
            ("MINQING_PHONE", DEMO_CADRE.into()),
            ("MINQING_PASSWORD", DEMO_PASSWORD.into()),
            ("MINQING_LAT", point.0.to_string()),
            ("MINQING_LON", point.1.to_string()),
            ("MINQING_PHOTOS", photos.join(",")),
        ],
    );
    let mut ids: Vec<String> = outcome["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 3, "{outcome}");

    // Exactly the three records the page made, each once, each with its photo.
    let mine = api.get(
        &cadre,
        &format!("/checkins?user_id={}&limit=500", me["id"].as_str().unwrap()),
    );
    let mut arrived: Vec<Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["session_id"].is_null())
        .filter(|c| {
            c["received_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t >= started)
        })
        .cloned()
        .collect();
    arrived.sort_by_key(|c| c["id"].as_str().unwrap().to_string());
    let arrived_ids: Vec<&str> = arrived.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        arrived_ids, ids,
        "the server holds exactly the three check-ins"
    );
    for checkin in &arrived {
        assert_eq!(
            checkin["photo_ids"].as_array().unwrap().len(),
            1,
            "{checkin}"
        );
        let shown = outcome["shown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == checkin["id"])
            .unwrap_or_else(|| panic!("the page shows {checkin}"));
        let flags = checkin["flags"].as_array().unwrap();
        assert_eq!(
            shown["flags_text"].as_array().unwrap().len(),
            flags.len(),
            "every flag the server raised is shown in words: {shown} vs {flags:?}"
        );
        let expected_status = if flags.is_empty() {
            "有效"
        } else {
            "待审核"
        };
        assert!(
            shown["status_text"]
                .as_str()
                .unwrap()
                .contains(expected_status),
            "{shown}"
        );
    }

    // The 夜学 the page opened holds its minutes and the cadre's one check-in (with its
    // photo); today's work log is the edited text.
    let night = api.get(
        &cadre,
        &format!("/sessions/{}", outcome["session"]["id"].as_str().unwrap()),
    );
    assert_eq!(night["kind"], "night_study", "{night}");
    assert_eq!(night["status"], "complete", "{night}");
    assert_eq!(night["minutes"], outcome["session"]["minutes"], "{night}");
    let attendees = night["attendees"].as_array().unwrap();
    assert_eq!(attendees.len(), 1, "{night}");
    assert_eq!(attendees[0]["user_id"], me["id"]);
    let attended = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == attendees[0]["checkin_id"])
        .unwrap_or_else(|| panic!("the attendance is among the cadre's check-ins: {night}"));
    assert_eq!(attended["session_id"], night["id"], "{attended}");
    assert_eq!(attended["photo_ids"].as_array().unwrap().len(), 1);
    let date = outcome["work_log"]["date"].as_str().unwrap();
    let logs = api.get(&cadre, &format!("/work-logs?month={}", &date[..7]));
    let today = logs["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap_or_else(|| panic!("{date} is in the month: {logs}"));
    assert_eq!(today["log"]["content"], outcome["work_log"]["content"]);
}

/// A rate as the desk writes it: one decimal percent, "—" for nothing to measure.
fn percent(rate: &Value) -> String {
    rate.as_f64()
        .map_or("—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

#[test]
fn a_supervisor_runs_the_month_from_the_desk_and_its_numbers_match_the_api() {
    let Some(browser) = browser("desk") else {
        return;
    };
    let (db, server, api) = demo_county();
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let first_of_month = today - Duration::days(i64::from(chrono::Datelike::day(&today)) - 1);
    let last_month_end = first_of_month - Duration::days(1);
    let last_month_start =
        last_month_end - Duration::days(i64::from(chrono::Datelike::day(&last_month_end)) - 1);
    let month = last_month_start.format("%Y-%m").to_string();
    let excel = db.dir().join("ledger.xlsx");

    let seen = browser.run(
        "desk.mjs",
        &[
            ("MINQING_BASE", server.origin.clone()),
            ("MINQING_PHONE", DEMO_SUPERVISOR.into()),
            ("MINQING_PASSWORD", DEMO_PASSWORD.into()),
            ("MINQING_CADRE_PHONE", DEMO_CADRE.into()),
            ("MINQING_MONTH", month.clone()),
            ("MINQING_DOWNLOAD", excel.display().to_string()),
        ],
    );
    let supervisor = api.login(DEMO_SUPERVISOR, DEMO_PASSWORD);

    // The order assigned from the overdue queue carries the new commitment.
    let orders = api.all(&supervisor, "/work-orders");
    let assigned = orders
        .iter()
        .find(|o| o["code"] == seen["assigned_code"])
        .unwrap_or_else(|| panic!("{} is listed", seen["assigned_code"]));
    let detail = api.get(
        &supervisor,
        &format!("/work-orders/{}", assigned["id"].as_str().unwrap()),
    );
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "assigned", "{last}");
    assert_eq!(last["note"], "三个工作日内办结并回访", "{last}");
    assert!(
        !detail["overdue"].as_bool().unwrap(),
        "a fresh deadline: {detail}"
    );

    // The check-in approved from the review page is approved.
    let checkin = api.get(
        &supervisor,
        &format!("/checkins/{}", seen["approved_checkin"].as_str().unwrap()),
    );
    assert_eq!(checkin["status"], "approved", "{checkin}");
    assert_eq!(checkin["review"]["reason"], "已电话核实，确在村里");

    // The Excel ledger holds every order the supervisor may see, newest first like the page.
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(&excel).expect("the download is an Excel workbook");
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0)
        .expect("a sheet")
        .expect("readable");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "工单编号", "{:?}", rows[0]);
    assert_eq!(rows.len() - 1, orders.len(), "one row per order");
    let page_codes: Vec<String> = seen["ledger_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let first_rows: Vec<String> = rows[1..=page_codes.len()]
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        first_rows, page_codes,
        "the file starts with the page's rows"
    );

    // The bulletin's numbers are the API's for the same month.
    let bulletin = &seen["bulletin"];
    assert!(
        bulletin["title"].as_str().unwrap().contains("督查通报"),
        "{bulletin}"
    );
    let compliance = api.get(
        &supervisor,
        &format!("/compliance?group_by=unit&from={last_month_start}&to={last_month_end}"),
    );
    let api_rows = compliance["items"]
        .as_array()
        .or(compliance.as_array())
        .unwrap()
        .clone();
    let units = bulletin["units"].as_array().unwrap();
    assert!(!units.is_empty(), "{bulletin}");
    for unit in units {
        let row = api_rows
            .iter()
            .find(|r| r["name"] == unit["name"])
            .unwrap_or_else(|| panic!("{unit} is in the API's answer {api_rows:?}"));
        assert_eq!(
            unit["assigned"].as_str().unwrap(),
            row["assigned"].to_string()
        );
        assert_eq!(
            unit["resolved"].as_str().unwrap(),
            row["resolved"].to_string()
        );
        assert_eq!(
            unit["response"].as_str().unwrap(),
            percent(&row["response_rate"])
        );
        assert_eq!(
            unit["on_time"].as_str().unwrap(),
            percent(&row["on_time_rate"])
        );
        assert_eq!(
            unit["satisfaction"].as_str().unwrap(),
            percent(&row["satisfaction_rate"])
        );
    }
    let scores = api.get(
        &supervisor,
        &format!("/scores?period={month}&category=organ"),
    );
    let body = bulletin["body"].as_str().unwrap();
    for top in scores["items"]
        .as_array()
        .or(scores.as_array())
        .unwrap()
        .iter()
        .filter(|r| r["town_rank"] == 1)
    {
        assert!(
            body.contains(top["name"].as_str().unwrap()),
            "{top} heads the bulletin's ranking"
        );
    }

    // Nobody else works at the desk.
    assert_eq!(seen["cadre_status"], 403, "{seen}");
    assert_eq!(seen["stranger_path"], "/login", "{seen}");
}
