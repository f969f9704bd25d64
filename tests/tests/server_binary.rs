//! The real `minqing` binary, started the way a newcomer starts it.

use minqing_e2e::server::{command, Server};
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

fn login(
    client: &reqwest::blocking::Client,
    base: &str,
    phone: &str,
    password: &str,
) -> reqwest::blocking::Response {
    client
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .expect("the server answers")
}

#[test]
fn serve_answers_health_on_an_empty_directory_and_stops_on_sigterm() {
    let db = TestDatabase::new();
    let server = Server::start(&db, &["serve"]);
    let client = reqwest::blocking::Client::new();
    let health: Value = client
        .get(format!("{}/health", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health, json!({"status": "ok", "db": "ok"}));
    assert_eq!(
        login(&client, &server.base, "13800000000", "admin-password-1").status(),
        200
    );
    assert!(
        db.dir().join("data").is_dir(),
        "the data directory is created"
    );
    let status = server.stop_gracefully();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[test]
fn demo_data_gives_working_logins() {
    let db = TestDatabase::new();
    let server = Server::start(&db, &["serve", "--demo"]);
    let client = reqwest::blocking::Client::new();
    let session: Value = login(&client, &server.base, "13900000001", "minqing-demo")
        .json()
        .unwrap();
    let token = session["access_token"]
        .as_str()
        .expect("the demo supervisor signs in");
    let users: Value = client
        .get(format!("{}/users", server.base))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"李明") && names.contains(&"赵大爷"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"刘洋"),
        "another town's cadre is not listed: {names:?}"
    );
    let villages: Value = client
        .get(format!("{}/org-units?kind=village", server.base))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let with_boundary = villages["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["boundary"].is_null())
        .count();
    assert_eq!(with_boundary, 3);
    let get = |path: &str| -> Value {
        client
            .get(format!("{}{path}", server.base))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let month = get("/checkins?limit=500")["items"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        month > 100,
        "a month of night work for the town's three cadres: {month}"
    );
    assert!(
        !get("/checkins?status=flagged")["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "some for review"
    );
    let stays = get("/stays?limit=500");
    assert!(
        stays["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"] == "valid"),
        "{stays}"
    );
    let orders = get("/work-orders?limit=500")["items"]
        .as_array()
        .unwrap()
        .len();
    assert!(orders > 50, "two months of 民情工单 in the town: {orders}");
    assert!(
        !get("/work-orders?overdue=true")["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "an overdue queue to chase"
    );
    assert!(
        !get("/work-orders?status=reopened")["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "some reopened"
    );
    let compliance = get("/compliance?group_by=village");
    assert!(compliance.as_array().unwrap().len() >= 2, "{compliance}");
    // Last month is scored and closed: frozen rows, and the records closing wrote.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let last_month = (today - chrono::Duration::days(i64::from(chrono::Datelike::day(&today))))
        .format("%Y-%m")
        .to_string();
    let scores = get(&format!("/scores?period={last_month}&category=organ"));
    let li = scores["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "李明")
        .unwrap_or_else(|| panic!("{scores}"));
    assert_eq!(li["frozen"], true);
    assert_eq!(li["adjustments"], 2.0);
    assert!(li["democratic"].as_f64().unwrap() > 0.0, "{li}");
    let this_month = today.format("%Y-%m").to_string();
    let live = get(&format!("/scores?period={this_month}&category=organ"));
    assert_eq!(live["items"][0]["frozen"], false, "{live}");
    assert!(
        !get("/records")["items"].as_array().unwrap().is_empty(),
        "achievement records"
    );
    // 夜学 at the town hall and 夜议 in a village, in each state; logs with 批阅.
    let sessions = get("/sessions?limit=50");
    let sessions = sessions["items"].as_array().unwrap();
    let statuses: Vec<&str> = sessions
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    for status in ["complete", "awaiting_minutes", "incomplete"] {
        assert!(statuses.contains(&status), "{status} in {statuses:?}");
    }
    assert!(
        sessions
            .iter()
            .any(|s| s["kind"] == "night_study" && s["attendees"].as_array().unwrap().len() == 3),
        "studies attended by the town's three cadres"
    );
    assert!(
        sessions
            .iter()
            .any(|s| s["kind"] == "night_discussion" && s["villagers_present"]["count"] == 17),
        "a 夜议 with villagers"
    );
    let li = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "李明")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let logs = get(&format!("/work-logs?user_id={li}&month={last_month}"));
    let logs = if logs["days_with_log"].as_i64() > Some(0) {
        logs
    } else {
        get(&format!("/work-logs?user_id={li}&month={this_month}"))
    };
    assert!(logs["days_with_log"].as_i64().unwrap() > 0, "{logs}");
    drop(server);
    // Loading the demo again on the same database changes nothing and still starts.
    let again = Server::start(&db, &["serve", "--demo"]);
    let users: Value = client
        .get(format!("{}/users?limit=500", again.base))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        users["items"].as_array().unwrap().len(),
        names.len(),
        "no demo user was added twice"
    );
}

#[test]
fn migrate_and_admin_create_user_work_from_the_command_line() {
    let db = TestDatabase::new();
    let migrate = command(&db).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let first = String::from_utf8_lossy(&migrate.stdout).to_string();
    assert!(
        first.starts_with("applied ") && !first.starts_with("applied 0 "),
        "{first}"
    );
    let again = command(&db).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0 migration"));

    let created = command(&db)
        .args([
            "admin",
            "create-user",
            "--phone",
            "13811112222",
            "--name",
            "县管理员",
            "--password",
            "cli-password-1",
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let weak = command(&db)
        .args([
            "admin",
            "create-user",
            "--phone",
            "13811113333",
            "--name",
            "x",
            "--password",
            "short",
        ])
        .output()
        .unwrap();
    assert!(!weak.status.success());

    let server = Server::start(&db, &["serve"]);
    let client = reqwest::blocking::Client::new();
    assert_eq!(
        login(&client, &server.base, "13811112222", "cli-password-1").status(),
        200
    );
}

#[test]
fn a_backup_taken_while_serving_restores_every_row_and_photo() {
    let db = TestDatabase::sqlite();
    let server = Server::start(&db, &["serve", "--demo"]);
    let client = reqwest::blocking::Client::new();
    let token = |base: &str, phone: &str| -> String {
        let session: Value = login(&client, base, phone, "minqing-demo").json().unwrap();
        session["access_token"].as_str().unwrap().to_string()
    };
    // A photo of the cadre's, on a check-in.
    let cadre = token(&server.base, "13900000011");
    let photo = minqing_e2e::photos::jpeg(640, 480, &Default::default());
    let media: Value = client
        .post(format!("{}/media", server.base))
        .bearer_auth(&cadre)
        .header("content-type", "image/jpeg")
        .body(photo)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let media_id = media["id"].as_str().unwrap().to_string();
    let before = |base: &str, token: &str, path: &str| -> Value {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let sup = token(&server.base, "13900000001");
    let counts = |base: &str, token: &str| -> Vec<usize> {
        [
            "/checkins?limit=500",
            "/work-orders?limit=500",
            "/users?limit=500",
            "/sessions?limit=500",
        ]
        .iter()
        .map(|p| before(base, token, p)["items"].as_array().unwrap().len())
        .collect()
    };
    let expected = counts(&server.base, &sup);
    let image = client
        .get(format!("{}/media/{media_id}", server.base))
        .bearer_auth(&cadre)
        .send()
        .unwrap()
        .bytes()
        .unwrap();

    // Backed up while it serves.
    let target = db.dir().join("backup-1");
    let made = command(&db).arg("backup").arg(&target).output().unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let said = String::from_utf8_lossy(&made.stdout).to_string();
    assert!(said.contains("photo file(s)"), "{said}");
    drop(server);

    // Restored into another directory and database, then started there.
    let fresh = TestDatabase::sqlite();
    let put = command(&fresh)
        .arg("restore")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let again = command(&fresh)
        .arg("restore")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing database is kept unless --force"
    );
    let restored = Server::start(&fresh, &["serve"]);
    let sup = token(&restored.base, "13900000001");
    assert_eq!(counts(&restored.base, &sup), expected);
    let cadre = token(&restored.base, "13900000011");
    let back = client
        .get(format!("{}/media/{media_id}", restored.base))
        .bearer_auth(&cadre)
        .send()
        .unwrap();
    assert_eq!(back.status(), 200);
    assert_eq!(back.bytes().unwrap(), image);
}
