//! Issue 12, "should fix": weak passwords, accounts that tell on themselves, slow bodies,
//! response headers, wrong methods and racing retries.

use std::time::{Duration, Instant};

use minqing_e2e::photos::{jpeg, FixtureExif};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};

fn origin(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_string()
}

#[tokio::test]
async fn weak_passwords_are_refused_wherever_one_is_set() {
    let app = spawn_app().await;
    let w = app.world().await;
    let cadre = |password: &str| {
        json!({"name": "钱进", "phone": "13900000077", "role": "cadre", "org_unit_id": w.town1,
               "cadre_category": "organ", "password": password})
    };
    for password in [
        "123456789",
        "woaini1314",
        "QQ123456",
        "a12345678",
        "88888888",
        "        ",
        "password\t1",
        "pass\u{7}word-1",
        "13900000077",
        "wx-13900000077",
    ] {
        let reply = app.post("/users", &app.admin, cadre(password)).await;
        assert_eq!(reply.status, 422, "{password:?}: {:?}", reply.body);
        assert_eq!(reply.error_fields(), vec!["password"], "{password:?}");
    }
    assert_eq!(
        app.post("/users", &app.admin, cadre("溪口村-路灯-2026"))
            .await
            .status,
        201
    );

    // A reset: a common password, or the phone the user already has.
    let user = format!("/users/{}", w.cadre1);
    for password in ["qq123456", "my13900000011"] {
        let reply = app
            .patch(&user, &app.admin, json!({"password": password}))
            .await;
        assert_eq!(reply.status, 422, "{password}: {:?}", reply.body);
        assert_eq!(reply.error_fields(), vec!["password"]);
    }
    // ... or the phone it is given in the same change.
    let reply = app
        .patch(
            &user,
            &app.admin,
            json!({"phone": "13700001111", "password": "13700001111-x"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.error_fields(), vec!["password"]);
    app.login("13900000011", PASSWORD).await;

    // Villagers registering themselves.
    for password in [
        "woaini520",
        "13655550000abc",
        "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}",
    ] {
        let reply = app
            .call(
                Method::POST,
                "/auth/register",
                None,
                Some(
                    json!({"phone": "13655550000", "name": "孙婆婆", "password": password,
                            "village_id": w.village1}),
                ),
            )
            .await;
        assert_eq!(reply.status, 422, "{password:?}: {:?}", reply.body);
        assert_eq!(reply.error_fields(), vec!["password"]);
    }
}

async fn register(
    app: &TestApp,
    phone: &str,
    password: &str,
    village: &str,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let reply = app
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({"phone": phone, "name": "孙婆婆", "password": password, "village_id": village})),
        )
        .await;
    (reply.status, reply.body, started.elapsed())
}

#[tokio::test]
async fn registering_does_not_tell_whether_a_phone_has_an_account() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (status, body, fresh) =
        register(&app, "13655556666", "溪口村的新密码啊", &w.village1).await;
    assert_eq!(status, 202, "{body:?}");

    // The same phone again, and a cadre's phone: the same status and body, and as slow (the
    // password is hashed all the same).
    let mut taken = Vec::new();
    for phone in ["13655556666", "13900000011"] {
        let (again, again_body, took) =
            register(&app, phone, "另一个村民的密码", &w.village1).await;
        assert_eq!((again, &again_body), (status, &body), "{phone}");
        taken.push(took);
    }
    let slowest_taken = taken.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_taken * 4 > fresh,
        "a taken phone answers in {taken:?}, a new one in {fresh:?}"
    );

    // Nothing changed for the accounts that existed.
    app.login("13655556666", "溪口村的新密码啊").await;
    app.login("13900000011", PASSWORD).await;
    assert_eq!(
        app.login_reply("13900000011", "另一个村民的密码")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_disabled_account_answers_like_a_wrong_password() {
    let app = spawn_app().await;
    let w = app.world().await;
    let disable = app
        .patch(
            &format!("/users/{}", w.cadre1),
            &app.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(disable.status, 200);
    let disabled = app.login_reply("13900000011", PASSWORD).await;
    let wrong = app.login_reply("13900000001", "not-the-password").await;
    let unknown = app.login_reply("13911112222", PASSWORD).await;
    for other in [&wrong, &unknown] {
        assert_eq!(disabled.status, other.status);
        assert_eq!(disabled.body, other.body);
        assert_eq!(
            disabled.headers.get("www-authenticate"),
            other.headers.get("www-authenticate")
        );
    }
    assert_eq!(disabled.status, 401);
}

/// Sends `head` and then the body one byte at a time, one every `every`, until the server
/// answers; returns the answer and how long it took.
async fn trickle(
    app: &TestApp,
    head: String,
    body_len: usize,
    every: Duration,
) -> (String, Duration) {
    let address = origin(app).trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(address).await.expect("connects");
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    write
        .write_all(head.as_bytes())
        .await
        .expect("sends the head");
    let writer = tokio::spawn(async move {
        for _ in 0..body_len {
            tokio::time::sleep(every).await;
            if write.write_all(b"a").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    // Read until the server closes the connection; a server that waits for the whole body
    // would take `body_len × every` (minutes).
    let read_all =
        tokio::time::timeout(Duration::from_secs(15), read.read_to_end(&mut answer)).await;
    writer.abort();
    assert!(read_all.is_ok(), "no answer and no close within 15 s");
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_slow_body_is_cut_off_with_408() {
    let app = spawn_app_with(|c| c.body_timeout = Duration::from_secs(1)).await;
    let token = &app.admin;
    let cases = [
        (
            "POST /api/v1/auth/login HTTP/1.1",
            "application/json".to_string(),
            String::new(),
        ),
        (
            "POST /api/v1/media HTTP/1.1",
            "image/jpeg".to_string(),
            format!("Authorization: Bearer {token}\r\n"),
        ),
        (
            "POST /api/v1/media HTTP/1.1",
            "multipart/form-data; boundary=XyZ".to_string(),
            format!("Authorization: Bearer {token}\r\n"),
        ),
        (
            "POST /login HTTP/1.1",
            "application/x-www-form-urlencoded".to_string(),
            String::new(),
        ),
    ];
    for (line, content_type, extra) in cases {
        let head = format!(
            "{line}\r\nHost: localhost\r\nContent-Type: {content_type}\r\n{extra}Content-Length: 200\r\n\r\n"
        );
        let (answer, took) = trickle(&app, head, 200, Duration::from_millis(300)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{line}: {answer}");
        assert!(
            answer.contains("application/problem+json"),
            "{line}: {answer}"
        );
        assert!(
            answer.contains("urn:minqing:problem:request-timeout"),
            "{line}: {answer}"
        );
        assert!(took < Duration::from_secs(5), "{line}: took {took:?}");
    }
    // A body that arrives in time is read as usual.
    assert_eq!(
        app.login_reply(crate::helpers::ADMIN_PHONE, crate::helpers::ADMIN_PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn every_answer_says_nosniff_and_personal_ones_are_not_stored() {
    let app = spawn_app().await;
    let w = app.world().await;
    let client = &app.client;
    let upload = client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.cadre1_token)
        .header("content-type", "image/jpeg")
        .body(jpeg(40, 30, &FixtureExif::default()))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let photo: Value = upload.json().await.unwrap();
    let photo = photo["id"].as_str().unwrap().to_string();

    let login = client
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"phone": "13900000001", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let headers = login.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");

    let site = origin(&app);
    let api = |path: &str| format!("{}{path}", app.base);
    let personal = [
        api("/me"),
        api("/users"),
        api(&format!("/users/{}", w.cadre1)),
        api("/work-orders"),
        api("/checkins"),
        api("/no/such/route"),
        format!("{site}/"),
        format!("{site}/desk/"),
    ];
    for url in personal {
        let reply = client
            .get(&url)
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap();
        let headers = reply.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["cache-control"], "no-store", "{url}");
    }
    // Static assets, labels and photos keep the caching they chose.
    for (url, token) in [
        (format!("{site}/static/site.css"), None),
        (api("/labels"), None),
        (api(&format!("/media/{photo}")), Some(&w.cadre1_token)),
        (api(&format!("/media/{photo}/thumb")), Some(&w.cadre1_token)),
    ] {
        let mut request = client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), 200, "{url}");
        let headers = reply.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_ne!(headers["cache-control"], "no-store", "{url}");
    }
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;
    let site = origin(&app);
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/me", "GET"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (Method::PUT, "/api/v1/work-orders", "GET, POST"),
        (Method::DELETE, "/api/v1/work-orders/some-id", "GET"),
        (Method::GET, "/api/v1/work-orders/some-id/assign", "POST"),
        (Method::PUT, "/login", "GET, POST"),
        (Method::GET, "/logout", "POST"),
        (Method::POST, "/desk/orders/export", "GET"),
    ] {
        let reply = app
            .client
            .request(method.clone(), format!("{site}{path}"))
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 405, "{method} {path}");
        let headers = reply.headers().clone();
        assert_eq!(headers["allow"], allow, "{method} {path}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["type"], "urn:minqing:problem:method-not-allowed");
        assert_eq!(body["status"], 405);
    }
    for path in [
        "/api/v1/no/such/thing",
        "/api/v1/work-orders/a/b/c",
        "/nowhere",
    ] {
        let reply = app
            .client
            .delete(format!("{site}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{path}");
    }
}

/// Every row of the pages' method table, against the running server: the methods it lists
/// are routed, every other one answers 405 with exactly that `Allow`.
#[tokio::test]
async fn the_pages_method_table_matches_the_routes() {
    let app = spawn_app().await;
    let site = origin(&app);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (template, methods) in minqing_api::http::middleware::PAGE_ROUTES {
        let path: String = template
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let reply = client
                .request(method.clone(), format!("{site}{path}"))
                .send()
                .await
                .unwrap();
            if methods.contains(&method.as_str()) {
                assert_ne!(reply.status(), 405, "{method} {path}");
            } else {
                assert_eq!(reply.status(), 405, "{method} {path}");
                assert_eq!(
                    reply.headers()["allow"],
                    methods.join(", "),
                    "{method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn concurrent_retries_of_one_work_order_get_one_answer() {
    let app = spawn_app().await;
    let w = app.world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    let body = json!({"id": uuid::Uuid::new_v4().to_string(), "category": "road",
        "title": "村口路灯坏了", "description": "晚上路口太黑，老人出门不安全",
        "village_id": w.village1, "source": "villager"});
    let replies = futures_util::future::join_all((0..20).map(|_| {
        app.call(
            Method::POST,
            "/work-orders",
            Some(&w.villager1_token),
            Some(body.clone()),
        )
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 201)),
        "{statuses:?}"
    );
    let first = &replies[statuses.iter().position(|s| *s == 201).unwrap_or(0)].body;
    for reply in &replies {
        for field in ["id", "code", "status", "deadline_notice"] {
            assert_eq!(reply.body[field], first[field], "{field}: {:?}", reply.body);
        }
    }
    let listed = app.get("/work-orders", &w.villager1_token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn internal_notes_never_reach_the_reporter() {
    let app = spawn_app().await;
    let w = app.world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    let filed = app
        .call(
            Method::POST,
            "/work-orders",
            Some(&w.villager1_token),
            Some(json!({"category": "road", "title": "村口路灯坏了",
                "description": "晚上路口太黑", "village_id": w.village1, "source": "villager"})),
        )
        .await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let (id, code, token) = (
        filed.id(),
        filed.body["code"].as_str().unwrap().to_string(),
        filed.body["tracking_token"].as_str().unwrap().to_string(),
    );
    let secret = "反映人是村主任的亲戚，注意回避";
    let notes = format!("/work-orders/{id}/notes");
    let note = app
        .post(&notes, &w.sup1_token, json!({"note": secret}))
        .await;
    assert_eq!(note.status, 201, "{:?}", note.body);
    assert_eq!(note.body["kind"], "internal_note");
    assert_eq!(note.body["note"], secret);

    // The reporter may not write one; another town's supervisor does not see the order.
    let by_reporter = app
        .post(&notes, &w.villager1_token, json!({"note": "我也想备注"}))
        .await;
    assert_eq!(by_reporter.status, 403, "{:?}", by_reporter.body);
    let elsewhere = app.post(&notes, &w.sup2_token, json!({"note": "x"})).await;
    assert_eq!(elsewhere.status, 404);
    let empty = app.post(&notes, &w.sup1_token, json!({"note": "  "})).await;
    assert_eq!(empty.status, 422);
    assert_eq!(empty.error_fields(), vec!["note"]);

    // Staff see it in the timeline; the reporter does not, signed in or by tracking.
    let staff = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert!(staff.body["timeline"].to_string().contains(secret));
    let own = app
        .get(&format!("/work-orders/{id}"), &w.villager1_token)
        .await;
    assert_eq!(own.status, 200);
    assert!(!own.body.to_string().contains(secret), "{}", own.body);
    assert!(!own.body.to_string().contains("internal_note"));
    let track = app
        .call(
            Method::GET,
            &format!("/track/{code}?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(track.status, 200);
    assert!(!track.body.to_string().contains(secret), "{}", track.body);
    assert!(!track.body.to_string().contains("internal_note"));
    let page = app
        .client
        .get(format!("{}/t?code={code}&token={token}", origin(&app)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&code), "{page}");
    assert!(
        !page.contains(secret) && !page.contains("内部备注"),
        "{page}"
    );
}
