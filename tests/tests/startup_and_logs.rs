//! What the real `minqing` binary says on its way in and while it serves: a failed start in
//! one plain line, logs without colour codes off a terminal, JSON logs on request, and no
//! token or 查询码 in any log line.

use std::process::Output;
use std::time::Duration;

use minqing_e2e::server::{command, Server};
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};

/// The lines of stderr that say anything.
fn said(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn assert_one_plain_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = said(output);
    assert_eq!(lines.len(), 1, "one line on stderr: {lines:#?}");
    let line = lines[0].clone();
    assert!(!line.contains('\x1b'), "no colour codes: {line:?}");
    assert!(
        !line.to_lowercase().contains("backtrace") && !line.contains("panicked"),
        "{line}"
    );
    line
}

#[test]
fn a_port_already_taken_is_said_in_one_line() {
    let db = TestDatabase::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = taken.local_addr().expect("its address").to_string();
    let output = command(&db)
        .arg("serve")
        .env("MINQING_BIND", &address)
        // Even when asked for, a failed start is no place for a backtrace.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("minqing runs");
    let line = assert_one_plain_line(&output);
    assert!(line.starts_with("minqing: "), "{line}");
    assert!(line.contains(&address), "names the address: {line}");
    assert!(
        line.to_lowercase().contains("address already in use"),
        "says why: {line}"
    );
}

#[test]
fn an_unreachable_database_is_said_in_one_line() {
    let db = TestDatabase::new();
    // Nothing listens on port 1; the server gives up after its 10 s connection timeout.
    let output = command(&db)
        .arg("serve")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/minqing")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("minqing runs");
    let line = assert_one_plain_line(&output);
    assert!(line.contains("PostgreSQL"), "{line}");
}

#[test]
fn logs_are_plain_text_off_a_terminal_and_never_hold_tokens() {
    let db = TestDatabase::new();
    let server = Server::start(&db, &["serve"]);
    let client = reqwest::blocking::Client::new();
    let token = "s3cret-tracking-token-0042";
    let query_code = "424242";
    for request in [
        client.get(format!(
            "{}/track/MQ-20260101-0001?token={token}",
            server.base
        )),
        client.get(format!(
            "{}/t?code=MQ-20260101-0001&query_code={query_code}",
            server.origin
        )),
        client
            .post(format!(
                "{}/work-orders/none/rate?token={token}",
                server.base
            ))
            .json(&json!({"score": 90, "comment": "好"})),
        client.get(format!("{}/track/x?%74oken={token}", server.base)),
    ] {
        request.send().expect("the server answers");
    }
    let lines = server.output_since(Duration::from_millis(500));
    let requests: Vec<&String> = lines.iter().filter(|l| l.contains("request")).collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("/api/v1/track/MQ-20260101-0001?token=REDACTED")),
        "each request is logged, redacted: {lines:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("/t?code=REDACTED&query_code=REDACTED")),
        "{lines:#?}"
    );
    for line in &lines {
        assert!(
            !line.contains(token) && !line.contains(query_code),
            "{line}"
        );
        assert!(
            !line.contains('\x1b'),
            "no colour codes off a terminal: {line:?}"
        );
    }
}

#[test]
fn logs_are_json_when_configured() {
    let db = TestDatabase::new();
    let server = Server::start_with(&db, &["serve"], &[("MINQING_LOG_FORMAT", "json")]);
    reqwest::blocking::get(format!("{}/health?token=abc", server.base))
        .expect("the server answers");
    let lines = server.output_since(Duration::from_millis(500));
    let logged: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let request = logged
        .iter()
        .find(|v| v["fields"]["message"] == "request")
        .unwrap_or_else(|| panic!("a JSON line for the request: {lines:#?}"));
    assert_eq!(request["fields"]["status"], 200, "{request}");
    assert_eq!(
        request["span"]["http.target"], "/api/v1/health?token=REDACTED",
        "{request}"
    );
    assert!(request["span"]["request_id"].is_string(), "{request}");
}
