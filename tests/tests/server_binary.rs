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
