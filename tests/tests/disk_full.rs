//! The photo store's disk fills up under the real server: uploads then answer 507 with a
//! problem, and no half-written file or orphan row is left. The store is a 128 KiB tmpfs
//! mounted in a user and mount namespace of the test's own (`unshare -rm`), so nothing of
//! the machine's is touched.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use minqing_e2e::photos::{jpeg, FixtureExif};
use minqing_e2e::server::{binary, command_for, Server};
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn a_full_photo_store_answers_507_and_keeps_nothing_half_written() {
    let db = TestDatabase::sqlite();
    let photos = db.dir().join("data").join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut cmd = command_for(&db, "unshare");
    cmd.args([
        "-rm",
        "sh",
        "-c",
        "mount -t tmpfs -o size=128k tmpfs \"$1\" && exec \"$2\" serve",
        "sh",
    ])
    .arg(&photos)
    .arg(binary());
    let server = Server::spawn(cmd);
    let client = reqwest::blocking::Client::new();
    let session: Value = client
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"phone": "13800000000", "password": "admin-password-1"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_string();

    let (mut stored, mut refused) = (Vec::new(), 0);
    for i in 0..60 {
        let photo = jpeg(600 + i, 450, &FixtureExif::default());
        let reply = client
            .post(format!("{}/media", server.base))
            .bearer_auth(&token)
            .header("content-type", "image/jpeg")
            .body(photo)
            .send()
            .unwrap();
        let status = reply.status().as_u16();
        let kind = reply
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body: Value = reply.json().unwrap();
        match status {
            201 => stored.push(body["sha256"].as_str().unwrap().to_string()),
            507 => {
                assert_eq!(kind, "application/problem+json");
                assert_eq!(body["status"], 507, "{body}");
                refused += 1;
                if refused == 2 {
                    break;
                }
            }
            other => panic!("upload {i}: {other} {body}"),
        }
    }
    assert!(!stored.is_empty(), "some photos fit");
    assert!(refused > 0, "the store filled up: {} stored", stored.len());

    // The store as the server sees it (inside its namespace), copied out to look at.
    let seen = db.dir().join("seen");
    std::fs::create_dir_all(&seen).unwrap();
    let copied = std::process::Command::new("nsenter")
        .args([
            "-t",
            &server.pid().to_string(),
            "-U",
            "-m",
            "--preserve-credentials",
            "cp",
            "-a",
        ])
        .arg(photos.join("."))
        .arg(&seen)
        .status()
        .unwrap();
    assert!(
        copied.success(),
        "copying the store out of the server's namespace"
    );
    // Every file is whole: no temporary leftovers, each photo's bytes hash to its name.
    let mut files = Vec::new();
    for shard in std::fs::read_dir(&seen).unwrap() {
        for f in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "a temporary file was left: {name}");
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.ends_with(&[0xFF, 0xD9]), "{name} is a whole JPEG");
        if let Some(sha) = name.strip_suffix(".jpg").filter(|n| !n.ends_with(".thumb")) {
            assert_eq!(hex::encode(Sha256::digest(&bytes)), sha, "{name}");
        }
    }
    // A row only for each photo stored whole.
    drop(server);
    let path = db.url.trim_start_matches("sqlite://");
    let mut conn = SqliteConnection::establish(path).unwrap();
    let rows: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM media")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(rows.n, stored.len() as i64);
    for sha in &stored {
        assert!(
            files
                .iter()
                .any(|f| f.ends_with(format!("{}/{sha}.jpg", &sha[..2]))),
            "stored photo {sha} is on disk"
        );
    }
}
