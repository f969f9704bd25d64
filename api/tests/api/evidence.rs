//! Evidence that cannot be recycled (DESIGN §2.2): `photo_reused` by perceptual hash across
//! the county, `repeated_position`, and a town's `photo_missing` rule.

use chrono::{DateTime, Utc};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::clock::{at, last_night};
use crate::helpers::{checkin, flag_codes, flag_value, spawn_app_with, TestApp, CENTRE, PASSWORD};

/// A photo-like scene from a seed: a gradient in a random direction, soft light and shade,
/// and a dozen coloured shapes.
fn scene(seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let colour = |rng: &mut StdRng| -> [f32; 3] { [0, 1, 2].map(|_| rng.random_range(0.0..255.0)) };
    let (from, to) = (colour(&mut rng), colour(&mut rng));
    let shapes: Vec<([f32; 4], [f32; 3])> = (0..12)
        .map(|_| {
            let (x, y) = (rng.random_range(0.0..0.9), rng.random_range(0.0..0.9));
            let (w, h) = (rng.random_range(0.05..0.4), rng.random_range(0.05..0.4));
            ([x, y, x + w, y + h], colour(&mut rng))
        })
        .collect();
    // Light and shade: random levels on an 8×6 lattice, enlarged (kept in 0..1 by resizing).
    let lattice = image::Rgb32FImage::from_fn(8, 6, |_, _| {
        let v = rng.random_range(0.0..1.0);
        Rgb([v, v, v])
    });
    let shade = DynamicImage::ImageRgb32F(lattice)
        .resize_exact(160, 120, FilterType::Triangle)
        .into_rgb32f();
    let small = RgbImage::from_fn(160, 120, |px, py| {
        let (x, y) = (px as f32 / 160.0, py as f32 / 120.0);
        let t = (x * 0.6 + y * 0.4).clamp(0.0, 1.0);
        let mut c = [0, 1, 2].map(|i| from[i] + (to[i] - from[i]) * t);
        for ([x0, y0, x1, y1], fill) in &shapes {
            if x >= *x0 && x < *x1 && y >= *y0 && y < *y1 {
                c = *fill;
            }
        }
        let light = (shade.get_pixel(px, py).0[0] - 0.5) * 120.0;
        Rgb(c.map(|v| (v + light).clamp(0.0, 255.0) as u8))
    });
    DynamicImage::ImageRgb8(small)
        .resize_exact(640, 480, FilterType::Triangle)
        .into_rgb8()
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .unwrap();
    out
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> String {
    let reply = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let info: Value = reply.json().await.unwrap();
    info["id"].as_str().unwrap().to_string()
}

/// Posts a night visit to village 1 with `photos`; the receipt.
async fn visit(app: &TestApp, token: &str, village: &str, when: &str, photos: &[&str]) -> Value {
    let mut body = checkin("night_visit", village, CENTRE.0, CENTRE.1, when);
    if !photos.is_empty() {
        body["photo_ids"] = json!(photos);
    }
    let reply = app.post("/checkins", token, body.clone()).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let mut receipt = reply.body;
    receipt["recorded_at"] = body["recorded_at"].clone();
    receipt
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .with_timezone(&Utc)
}

/// The `photo_reused` flag names `earlier`, within the threshold; its distance.
fn reused_from(receipt: &Value, earlier: &Value) -> u64 {
    let value = flag_value(receipt, "photo_reused");
    assert_eq!(value["checkin_id"], earlier["id"], "{receipt}");
    assert_eq!(time(&value["recorded_at"]), time(&earlier["recorded_at"]));
    let distance = value["distance"].as_u64().unwrap_or(u64::MAX);
    assert!(distance <= 14, "{receipt}");
    distance
}

#[tokio::test]
async fn copies_of_a_photo_are_flagged_naming_the_earlier_checkin_and_other_photos_are_not() {
    let app = spawn_app_with(|_| {}).await;
    let w = app.checkin_world().await;
    let night = last_night();
    let token = &w.cadre1_token;
    let original = scene(1);
    let first_photo = upload(&app, token, jpeg(&original, 92)).await;
    let first = visit(
        &app,
        token,
        &w.village1,
        &at(night, 0, 19, 0),
        &[&first_photo],
    )
    .await;
    assert!(
        !flag_codes(&first).contains(&"photo_reused".to_string()),
        "{first}"
    );

    // The stored photo, downloaded and saved again at quality 70.
    let stored = app
        .client
        .get(format!("{}/media/{first_photo}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let stored = image::load_from_memory(&stored).unwrap().into_rgb8();
    let resaved = upload(&app, token, jpeg(&stored, 70)).await;
    let receipt = visit(&app, token, &w.village1, &at(night, 0, 20, 0), &[&resaved]).await;
    reused_from(&receipt, &first);

    // Shrunk to 60 %.
    let small = DynamicImage::ImageRgb8(original.clone())
        .resize_exact(384, 288, FilterType::Lanczos3)
        .into_rgb8();
    let resized = upload(&app, token, jpeg(&small, 85)).await;
    let receipt = visit(&app, token, &w.village1, &at(night, 0, 21, 0), &[&resized]).await;
    reused_from(&receipt, &first);

    // 4 % cut off the left and 3 % off the bottom.
    let cut = image::imageops::crop_imm(&original, 26, 0, 614, 466).to_image();
    let cropped = upload(&app, token, jpeg(&cut, 85)).await;
    let receipt = visit(&app, token, &w.village1, &at(night, 0, 22, 0), &[&cropped]).await;
    reused_from(&receipt, &first);

    // The same bytes again: distance 0.
    let again = upload(&app, token, jpeg(&original, 92)).await;
    let receipt = visit(&app, token, &w.village1, &at(night, 0, 22, 30), &[&again]).await;
    assert_eq!(reused_from(&receipt, &first), 0);

    // Another photo, and two copies of a new one in the same check-in: nothing reused.
    let other = upload(&app, token, jpeg(&scene(2), 92)).await;
    let fresh = scene(3);
    let fresh_a = upload(&app, token, jpeg(&fresh, 92)).await;
    let fresh_b = upload(&app, token, jpeg(&fresh, 75)).await;
    let receipt = visit(
        &app,
        token,
        &w.village1,
        &at(night, 0, 23, 0),
        &[&other, &fresh_a, &fresh_b],
    )
    .await;
    assert!(
        !flag_codes(&receipt).contains(&"photo_reused".to_string()),
        "{receipt}"
    );

    // Someone else in the county, in another town, with a copy of the first photo.
    let other_cadre = app.login("13900000012", PASSWORD).await;
    let copy = upload(&app, &other_cadre, jpeg(&small, 80)).await;
    let receipt = visit(
        &app,
        &other_cadre,
        &w.village2,
        &at(night, 1, 1, 0),
        &[&copy],
    )
    .await;
    reused_from(&receipt, &first);
}

#[tokio::test]
async fn the_same_fix_half_an_hour_later_is_a_repeated_position_and_a_short_walk_is_not() {
    let app = spawn_app_with(|_| {}).await;
    let w = app.checkin_world().await;
    let night = last_night();
    let post = |lat: f64, accuracy: f64, when: String| {
        let mut body = checkin("night_visit", &w.village1, lat, CENTRE.1, &when);
        body["accuracy_m"] = json!(accuracy);
        let (app, token) = (&app, w.cadre1_token.clone());
        async move {
            let reply = app.post("/checkins", &token, body).await;
            assert_eq!(reply.status, 201, "{:?}", reply.body);
            reply.body
        }
    };
    let first = post(CENTRE.0, 7.385, at(night, 0, 19, 0)).await;
    assert!(flag_codes(&first).is_empty(), "{first}");
    // Ten minutes later the phone hands out the same fix: a phone lying still does.
    let soon = post(CENTRE.0, 7.385, at(night, 0, 19, 10)).await;
    assert!(flag_codes(&soon).is_empty(), "{soon}");
    // An hour later, the very same numbers: spoofed.
    let repeated = post(CENTRE.0, 7.385, at(night, 0, 20, 0)).await;
    assert_eq!(flag_codes(&repeated), vec!["repeated_position"]);
    let value = flag_value(&repeated, "repeated_position");
    assert_eq!(value["checkin_id"], soon["id"], "{repeated}");
    assert_eq!(
        time(&value["recorded_at"]),
        time(&json!(at(night, 0, 19, 10)))
    );
    // After a short walk (about 20 m) with a new fix: nothing.
    let walked = post(CENTRE.0 + 0.0002, 6.912, at(night, 0, 20, 30)).await;
    assert!(flag_codes(&walked).is_empty(), "{walked}");
    // The supervisor sees it on the check-in.
    let listed = app
        .get(
            &format!("/checkins/{}", repeated["id"].as_str().unwrap()),
            &w.sup1_token,
        )
        .await;
    assert_eq!(listed.body["flags"][0]["value"], value);
}

#[tokio::test]
async fn a_town_can_require_photos_for_some_kinds_over_the_servers_default() {
    // The server requires a photo for a stay's start unless a town says otherwise.
    let app = spawn_app_with(|c| {
        c.photo_required_kinds = vec![minqing_protocol::CheckinKind::StayStart];
    })
    .await;
    let w = app.checkin_world().await;
    let night = last_night();
    let token = &w.cadre1_token;
    let kinds = |receipt: &Value| flag_codes(receipt);

    let stay = checkin(
        "stay_start",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 21, 0),
    );
    let reply = app.post("/checkins", token, stay).await;
    assert_eq!(kinds(&reply.body), vec!["photo_missing"]);

    // Town 1 requires a photo for night visits only.
    let set = app
        .patch(
            &format!("/org-units/{}", w.town1),
            &app.admin,
            json!({"photo_required_kinds": ["night_visit"]}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["photo_required_kinds"], json!(["night_visit"]));
    let shown = app
        .get(&format!("/org-units/{}", w.town1), &app.admin)
        .await;
    assert_eq!(shown.body["photo_required_kinds"], json!(["night_visit"]));

    let bare = visit(&app, token, &w.village1, &at(night, 0, 19, 0), &[]).await;
    assert_eq!(kinds(&bare), vec!["photo_missing"]);
    assert_eq!(flag_value(&bare, "photo_missing"), json!(true));
    let help = checkin(
        "night_help",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 19, 30),
    );
    assert!(kinds(&app.post("/checkins", token, help).await.body).is_empty());
    let stay = checkin(
        "stay_start",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 21, 30),
    );
    let reply = app.post("/checkins", token, stay).await;
    assert!(kinds(&reply.body).is_empty(), "{:?}", reply.body);
    let photo = upload(&app, token, jpeg(&scene(9), 90)).await;
    let with_photo = visit(&app, token, &w.village1, &at(night, 0, 20, 0), &[&photo]).await;
    assert!(kinds(&with_photo).is_empty(), "{with_photo}");

    // Only towns hold the setting; null returns a town to the server's default.
    let village = app
        .patch(
            &format!("/org-units/{}", w.village1),
            &app.admin,
            json!({"photo_required_kinds": ["night_visit"]}),
        )
        .await;
    assert_eq!(village.status, 422);
    assert_eq!(village.error_fields(), vec!["photo_required_kinds"]);
    let cleared = app
        .patch(
            &format!("/org-units/{}", w.town1),
            &app.admin,
            json!({"photo_required_kinds": null}),
        )
        .await;
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.body["photo_required_kinds"], Value::Null);
    let bare = visit(&app, token, &w.village1, &at(night, 0, 22, 0), &[]).await;
    assert!(kinds(&bare).is_empty(), "{bare}");
}
