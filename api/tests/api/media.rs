use minqing_e2e::photos::{jpeg, png, png_claiming, FixtureExif};
use serde_json::{json, Value};

use crate::helpers::clock::{at, last_night};
use crate::helpers::{checkin, flag_codes, flag_value, spawn_app, TestApp, CENTRE};

async fn upload(app: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    let reply = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn fetch(app: &TestApp, token: &str, path: &str) -> (u16, Vec<u8>) {
    let reply = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (
        reply.status().as_u16(),
        reply.bytes().await.unwrap().to_vec(),
    )
}

fn has_exif(jpeg: &[u8]) -> bool {
    jpeg.windows(6).any(|w| w == b"Exif\0\0")
}

#[tokio::test]
async fn photos_are_reencoded_without_exif_but_keep_their_evidence() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let original = jpeg(
        2600,
        1300,
        &FixtureExif {
            gps: Some((29.0812, 119.6523)),
            taken_at: Some("2026:11:20 20:15:00"),
            orientation: None,
        },
    );
    assert!(has_exif(&original));
    let (status, info) = upload(&app, &w.cadre1_token, "image/jpeg", original).await;
    assert_eq!(status, 201, "{info:?}");
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(2048), Some(1024))
    );
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);
    assert!((info["exif"]["lat"].as_f64().unwrap() - 29.0812).abs() < 1e-5);
    assert!((info["exif"]["lon"].as_f64().unwrap() - 119.6523).abs() < 1e-5);
    // 20:15 in Shanghai.
    assert_eq!(info["exif"]["taken_at"], "2026-11-20T12:15:00Z");

    let id = info["id"].as_str().unwrap();
    let (status, stored) = fetch(&app, &w.cadre1_token, &format!("/media/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(&stored[..3], &[0xFF, 0xD8, 0xFF]);
    assert!(!has_exif(&stored), "EXIF is stripped");
    let (status, thumb) = fetch(&app, &w.cadre1_token, &format!("/media/{id}/thumb")).await;
    assert_eq!(status, 200);
    assert!(thumb.len() < stored.len());
    let meta = app.get(&format!("/media/{id}/meta"), &w.cadre1_token).await;
    assert_eq!(meta.body["bytes"].as_u64().unwrap() as usize, stored.len());
    assert_eq!(meta.body["exif"], info["exif"]);
}

#[tokio::test]
async fn types_come_from_the_bytes_and_limits_hold() {
    let app = spawn_app().await;
    let w = app.world().await;
    let t = &w.cadre1_token;
    let (status, info) = upload(&app, t, "image/png", png(300, 200)).await;
    assert_eq!((status, info["width"].as_u64()), (201, Some(300)));
    // A PNG declared as JPEG is still read as what it is.
    assert_eq!(upload(&app, t, "image/jpeg", png(30, 20)).await.0, 201);
    assert_eq!(
        upload(&app, t, "image/jpeg", b"GIF89a\x01\x00\x01\x00".to_vec())
            .await
            .0,
        415
    );
    assert_eq!(
        upload(&app, t, "image/jpeg", b"%PDF-1.7 hello".to_vec())
            .await
            .0,
        415
    );
    assert_eq!(
        upload(&app, t, "image/png", png_claiming(100_000, 100_000))
            .await
            .0,
        413
    );
    assert_eq!(
        upload(&app, t, "image/jpeg", vec![0xFF; 16 * 1024 * 1024])
            .await
            .0,
        413
    );
    let mut truncated = jpeg(400, 300, &FixtureExif::default());
    truncated.truncate(truncated.len() / 3);
    assert_eq!(upload(&app, t, "image/jpeg", truncated).await.0, 422);
    let (status, turned) = upload(
        &app,
        t,
        "image/jpeg",
        jpeg(
            400,
            200,
            &FixtureExif {
                orientation: Some(6),
                ..Default::default()
            },
        ),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        (turned["width"].as_u64(), turned["height"].as_u64()),
        (Some(200), Some(400))
    );
}

#[tokio::test]
async fn multipart_uploads_work() {
    let app = spawn_app().await;
    let w = app.world().await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(jpeg(64, 48, &FixtureExif::default())).file_name("p.jpg"),
    );
    let reply = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.cadre1_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let info: Value = reply.json().await.unwrap();
    assert_eq!(info["width"], 64);
}

#[tokio::test]
async fn photo_evidence_raises_flags_on_checkins() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    // Taken 3 km away, and 5 hours before the check-in.
    let taken = format!("{} 15:00:00", night.format("%Y:%m:%d"));
    let taken: &'static str = Box::leak(taken.into_boxed_str());
    let bytes = jpeg(
        320,
        240,
        &FixtureExif {
            gps: Some((CENTRE.0 + 0.027, CENTRE.1)),
            taken_at: Some(taken),
            orientation: None,
        },
    );
    let (_, photo) = upload(&app, &w.cadre1_token, "image/jpeg", bytes.clone()).await;
    let mut body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 20, 0),
    );
    body["photo_ids"] = json!([photo["id"]]);
    let first = app.post("/checkins", &w.cadre1_token, body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let far = flag_value(&first.body, "photo_exif_far")
        .as_f64()
        .unwrap_or(0.0);
    assert!((2900.0..3100.0).contains(&far), "{:?}", first.body);
    assert_eq!(flag_value(&first.body, "photo_exif_time"), json!(5.0));
    assert!(!flag_codes(&first.body).contains(&"photo_reused".to_string()));
    let stored = app
        .get(
            &format!("/checkins/{}", body["id"].as_str().unwrap()),
            &w.cadre1_token,
        )
        .await;
    assert_eq!(stored.body["photo_ids"], json!([photo["id"]]));

    // The same picture uploaded again for another night.
    let (_, again) = upload(&app, &w.cadre1_token, "image/jpeg", bytes).await;
    assert_ne!(again["id"], photo["id"]);
    assert_eq!(again["sha256"], photo["sha256"]);
    let mut second = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 21, 0),
    );
    second["photo_ids"] = json!([again["id"]]);
    let reused = app.post("/checkins", &w.cadre1_token, second).await;
    let value = flag_value(&reused.body, "photo_reused");
    assert_eq!(value["checkin_id"], body["id"], "{:?}", reused.body);
    assert_eq!(value["distance"], 0);

    // Someone else's photo cannot be attached.
    let (_, villager_photo) = upload(
        &app,
        &w.villager1_token,
        "image/jpeg",
        jpeg(32, 32, &FixtureExif::default()),
    )
    .await;
    let mut third = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 22, 0),
    );
    third["photo_ids"] = json!([villager_photo["id"]]);
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, third)
            .await
            .error_fields(),
        vec!["photo_ids[0]"]
    );
}

#[tokio::test]
async fn photos_are_shown_only_to_who_may_see_their_checkin() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let (_, photo) = upload(
        &app,
        &w.cadre1_token,
        "image/jpeg",
        jpeg(64, 64, &FixtureExif::default()),
    )
    .await;
    let path = format!("/media/{}", photo["id"].as_str().unwrap());
    assert_eq!(
        fetch(&app, &w.sup1_token, &path).await.0,
        404,
        "not attached yet"
    );
    let mut body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(last_night(), 0, 20, 0),
    );
    body["photo_ids"] = json!([photo["id"]]);
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, body).await.status,
        201
    );
    assert_eq!(fetch(&app, &w.cadre1_token, &path).await.0, 200);
    assert_eq!(fetch(&app, &w.sup1_token, &path).await.0, 200);
    assert_eq!(fetch(&app, &app.admin, &path).await.0, 200);
    assert_eq!(fetch(&app, &w.sup2_token, &path).await.0, 404);
    assert_eq!(
        fetch(&app, &w.villager1_token, &format!("{path}/thumb"))
            .await
            .0,
        404
    );
    assert_eq!(
        app.get(&format!("{path}/meta"), &w.sup2_token).await.status,
        404
    );
    let anonymous = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
