//! Photos in S3-compatible storage, end to end: the real `minqing` binary with
//! `MINQING_PHOTOS=s3://…` against moto's S3 server on 127.0.0.1 (see `minqing_e2e::s3`;
//! `.ci/run` installs it and sets `MINQING_TEST_S3_SERVER`). Uploads land in the bucket and
//! come back byte for byte; `minqing photos migrate` copies a local store into the bucket,
//! skips what is already there and can be run again.

use std::path::Path;
use std::process::Output;

use minqing_e2e::photos::{jpeg, FixtureExif};
use minqing_e2e::s3::{free_port, s3_server_program, S3Server};
use minqing_e2e::server::{command, Server};
use minqing_e2e::TestDatabase;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BUCKET: &str = "minqing-photos";
const PREFIX: &str = "county/photos";
const ACCESS_KEY: &str = "minqing-test";
const SECRET: &str = "s3-secret-that-must-never-be-printed";
/// A demo cadre (青山镇).
const DEMO_CADRE: &str = "13900000011";
const DEMO_PASSWORD: &str = "minqing-demo";

fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MINQING_PHOTOS", format!("s3://{BUCKET}/{PREFIX}")),
        ("MINQING_S3_ENDPOINT", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_string()),
    ]
}

fn start_with_s3(db: &TestDatabase, args: &[&str], endpoint: &str) -> Server {
    let env = s3_env(endpoint);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(db, args, &env)
}

fn sign_in(client: &reqwest::blocking::Client, server: &Server) -> String {
    let session: Value = client
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"phone": DEMO_CADRE, "password": DEMO_PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    session["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo cadre signs in: {session}"))
        .to_string()
}

/// Uploads a photo; its id and sha256 (of the stored JPEG).
fn upload(
    client: &reqwest::blocking::Client,
    server: &Server,
    token: &str,
    photo: Vec<u8>,
) -> (String, String) {
    let reply = client
        .post(format!("{}/media", server.base))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(photo)
        .send()
        .unwrap();
    let status = reply.status().as_u16();
    let body: Value = reply.json().unwrap();
    assert_eq!(status, 201, "upload: {body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["sha256"].as_str().unwrap().to_string(),
    )
}

fn download(
    client: &reqwest::blocking::Client,
    server: &Server,
    token: &str,
    path: &str,
) -> Vec<u8> {
    let reply = client
        .get(format!("{}/{path}", server.base))
        .bearer_auth(token)
        .send()
        .unwrap();
    let status = reply.status().as_u16();
    let bytes = reply.bytes().unwrap().to_vec();
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

/// Every file under the local photo store, as (key, bytes), sorted.
fn local_photos(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let Ok(shards) = std::fs::read_dir(root) else {
        return files;
    };
    for shard in shards {
        for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with('.') {
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn migrate(db: &TestDatabase, env: &[(&str, String)]) -> Output {
    let mut cmd = command(db);
    cmd.args(["photos", "migrate"])
        .env_remove("MINQING_PHOTOS")
        .env_remove("MINQING_S3_ENDPOINT");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("minqing photos migrate runs")
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn uploads_are_stored_in_the_bucket_and_served_back_byte_for_byte() {
    let Some(program) = s3_server_program("s3_photos::uploads_are_stored_in_the_bucket") else {
        return;
    };
    let moto = S3Server::start(&program);
    moto.create_bucket(BUCKET);
    let db = TestDatabase::new();
    let server = start_with_s3(&db, &["serve", "--demo"], &moto.endpoint);
    let client = reqwest::blocking::Client::new();
    let token = sign_in(&client, &server);

    let photo = jpeg(1200, 900, &FixtureExif::default());
    let (id, sha) = upload(&client, &server, &token, photo.clone());
    let served = download(&client, &server, &token, &format!("media/{id}"));
    let thumb = download(&client, &server, &token, &format!("media/{id}/thumb"));
    assert_eq!(hex::encode(Sha256::digest(&served)), sha);

    let (image_key, thumb_key) = (
        format!("{PREFIX}/{sha}.jpg"),
        format!("{PREFIX}/{sha}.thumb.jpg"),
    );
    assert_eq!(
        moto.keys(BUCKET, ""),
        vec![image_key.clone(), thumb_key.clone()]
    );
    assert!(
        moto.object(BUCKET, &image_key) == Some(served),
        "the photo in the bucket is the one served"
    );
    assert!(
        moto.object(BUCKET, &thumb_key) == Some(thumb),
        "the thumbnail in the bucket is the one served"
    );
    assert!(
        local_photos(&db.dir().join("data").join("photos")).is_empty(),
        "nothing is written to the local store"
    );

    // The same picture again: the same photo, nothing more in the bucket.
    let (_, again) = upload(&client, &server, &token, photo);
    assert_eq!(again, sha);
    assert_eq!(moto.keys(BUCKET, "").len(), 2);
    let status = server.stop_gracefully();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[test]
fn photos_migrate_copies_the_local_store_into_the_bucket_and_resumes() {
    let Some(program) = s3_server_program("s3_photos::photos_migrate_copies_the_local_store")
    else {
        return;
    };
    let moto = S3Server::start(&program);
    moto.create_bucket(BUCKET);
    let db = TestDatabase::new();
    let env = s3_env(&moto.endpoint);

    // Photos uploaded while the server kept them on its disk.
    let client = reqwest::blocking::Client::new();
    let ids: Vec<String> = {
        let server = Server::start(&db, &["serve", "--demo"]);
        let token = sign_in(&client, &server);
        (0..3)
            .map(|i| {
                let photo = jpeg(400 + 40 * i, 300, &FixtureExif::default());
                upload(&client, &server, &token, photo).0
            })
            .collect()
    };
    let root = db.dir().join("data").join("photos");
    let local = local_photos(&root);
    assert_eq!(local.len(), 6, "three photos and their thumbnails");
    // A write the server never finished is not a photo.
    let shard = root.join(&local[0].0[..2]);
    std::fs::write(shard.join(format!(".{}.1.0.tmp", local[0].0)), b"half").unwrap();
    // An earlier run that stopped after one file.
    moto.put_object(BUCKET, &format!("{PREFIX}/{}", local[0].0), &local[0].1);

    let first = migrate(&db, &env);
    assert!(first.status.success(), "{}", said(&first));
    assert!(
        said(&first).contains("copied 5 photo file(s); 1 already there"),
        "{}",
        said(&first)
    );
    let expected: Vec<String> = local.iter().map(|(k, _)| format!("{PREFIX}/{k}")).collect();
    assert_eq!(moto.keys(BUCKET, ""), expected);
    for (key, bytes) in &local {
        assert!(
            moto.object(BUCKET, &format!("{PREFIX}/{key}")).as_ref() == Some(bytes),
            "{key} is copied byte for byte"
        );
    }

    let second = migrate(&db, &env);
    assert!(second.status.success(), "{}", said(&second));
    assert!(
        said(&second).contains("copied 0 photo file(s); 6 already there"),
        "{}",
        said(&second)
    );
    assert_eq!(moto.keys(BUCKET, "").len(), 6);
    for run in [&first, &second] {
        assert!(!said(run).contains(SECRET), "{}", said(run));
    }

    // The server, switched to the bucket, serves the photos uploaded before.
    let server = start_with_s3(&db, &["serve"], &moto.endpoint);
    let token = sign_in(&client, &server);
    let by_key: std::collections::HashMap<_, _> = local.into_iter().collect();
    for id in &ids {
        let served = download(&client, &server, &token, &format!("media/{id}"));
        let key = format!("{}.jpg", hex::encode(Sha256::digest(&served)));
        assert!(
            by_key.get(&key) == Some(&served),
            "{id} is served from the bucket as stored"
        );
    }
    drop(server);

    // Failures say so and exit non-zero: no S3 store configured, a store that is not there.
    let unset = migrate(&db, &[]);
    assert!(!unset.status.success());
    assert!(
        said(&unset).contains("MINQING_PHOTOS=s3://"),
        "{}",
        said(&unset)
    );
    let mut down = env.clone();
    down[1].1 = format!("http://127.0.0.1:{}", free_port());
    let unreachable = migrate(&db, &down);
    assert!(!unreachable.status.success());
    assert!(
        said(&unreachable).contains("cannot be reached"),
        "{}",
        said(&unreachable)
    );
    assert!(
        !said(&unreachable).contains(SECRET),
        "{}",
        said(&unreachable)
    );
}
