//! Webhooks against a real HTTP receiver on 127.0.0.1 that fails the first delivery, and
//! the outbound guard: internal targets refused unless allowed, redirects not followed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{allow_loopback, spawn_app_with, TestApp, World, CENTRE};

const SECRET: &str = "a-receiver-secret-0123";

#[derive(Debug, Clone)]
struct Received {
    delivery: String,
    event: String,
    signature: String,
    body: Vec<u8>,
    answered: u16,
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn hook(req: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut log = log.lock().unwrap();
    // The very first delivery fails, as a receiver that is briefly down would.
    let answered = if log.is_empty() { 500 } else { 200 };
    log.push(Received {
        delivery: header("x-minqing-delivery"),
        event: header("x-minqing-event"),
        signature: header("x-minqing-signature"),
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

fn start_receiver() -> (String, Log) {
    let log: Log = Arc::default();
    let data = web::Data::new(log.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(hook))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/hook"), log)
}

async fn acked(log: &Log, event: &str, deadline: Instant) -> Vec<Received> {
    loop {
        let got: Vec<Received> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.event == event && r.answered == 200)
            .cloned()
            .collect();
        if !got.is_empty() || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn events_reach_a_receiver_signed_retried_and_once() {
    let app = spawn_app_with(|c| {
        c.job_interval = Duration::from_millis(100);
        allow_loopback(c);
    })
    .await;
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    app.post("/categories", &app.admin, category).await;
    let (url, log) = start_receiver();
    let bad = app
        .post(
            "/webhooks",
            &app.admin,
            json!({"url": "ftp://x", "secret": "short", "events": ["nope"]}),
        )
        .await;
    assert_eq!(bad.error_fields(), vec!["url", "secret", "events[0]"]);
    let hook = app.post("/webhooks", &app.admin, json!({"url": url, "secret": SECRET, "events": ["work_order.created", "work_order.overdue", "work_order.closed"]})).await;
    assert_eq!(hook.status, 201, "{:?}", hook.body);
    assert!(hook.body.get("secret").is_none());
    assert_eq!(app.get("/webhooks", &w.sup1_token).await.status, 403);
    assert_eq!(
        app.get("/webhooks", &app.admin).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let body = json!({"category": "road", "title": "桥头路灯不亮", "description": "晚上太黑", "village_id": w.village1,
                      "lat": CENTRE.0, "lon": CENTRE.1, "source": "villager"});
    let filed = app.post("/work-orders", &w.villager1_token, body).await;
    let id = filed.id();
    let deadline = Instant::now() + Duration::from_secs(15);
    let created = acked(&log, "work_order.created", deadline).await;
    assert_eq!(created.len(), 1, "{:?}", log.lock().unwrap());
    let all = log.lock().unwrap().clone();
    assert_eq!(all[0].answered, 500, "the first attempt failed");
    assert_eq!(
        all[0].delivery, created[0].delivery,
        "a retry keeps its delivery id"
    );

    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&created[0].body);
    assert_eq!(
        created[0].signature,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let payload: Value = serde_json::from_slice(&created[0].body).unwrap();
    assert_eq!(payload["event"], "work_order.created");
    assert_eq!(payload["work_order"]["id"], id.as_str());
    assert_eq!(payload["work_order"]["code"], filed.body["code"]);
    assert_eq!(
        payload["work_order"]["reporter_phone"], "139****0021",
        "receivers get masked phones"
    );

    // A deadline that passes: escalated once, delivered once.
    let due = chrono::Utc::now() + chrono::Duration::milliseconds(300);
    let assigned = app
        .post(
            &format!("/work-orders/{id}/assign"),
            &w.sup1_token,
            json!({"unit_id": w.town1, "due_at": due.to_rfc3339(), "commitment": "马上办"}),
        )
        .await;
    assert_eq!(assigned.status, 200);
    let overdue = acked(
        &log,
        "work_order.overdue",
        Instant::now() + Duration::from_secs(15),
    )
    .await;
    assert_eq!(overdue.len(), 1);
    // Several more ticks: nothing is delivered twice, and unsubscribed events are not sent.
    let quiet_until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < quiet_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log_now = log.lock().unwrap().clone();
    assert_eq!(
        log_now
            .iter()
            .filter(|r| r.answered == 200 && r.event == "work_order.created")
            .count(),
        1
    );
    assert_eq!(
        log_now
            .iter()
            .filter(|r| r.answered == 200 && r.event == "work_order.overdue")
            .count(),
        1
    );
    assert!(log_now.iter().all(|r| r.event != "work_order.assigned"));
    let detail = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    let escalations = detail.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .count();
    assert_eq!(escalations, 1);

    // Paused, the webhook gets no events; resumed, it gets the next ones.
    let hook_path = format!("/webhooks/{}", hook.id());
    assert_eq!(
        app.patch(&hook_path, &w.sup1_token, json!({"active": false}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.patch(
            "/webhooks/no-such-hook",
            &app.admin,
            json!({"active": false})
        )
        .await
        .status,
        404
    );
    let paused = app
        .patch(&hook_path, &app.admin, json!({"active": false}))
        .await;
    assert_eq!(paused.status, 200, "{:?}", paused.body);
    assert_eq!(paused.body["active"], false);
    let file = |title: &str| {
        json!({"category": "road", "title": title, "description": "请处理", "village_id": w.village1,
               "lat": CENTRE.0, "lon": CENTRE.1, "source": "villager"})
    };
    let unheard = app
        .post("/work-orders", &w.villager1_token, file("暂停时提交"))
        .await
        .id();
    let resumed = app
        .patch(&hook_path, &app.admin, json!({"active": true}))
        .await;
    assert_eq!(resumed.body["active"], true);
    let heard = app
        .post("/work-orders", &w.villager1_token, file("恢复后提交"))
        .await
        .id();
    let deadline = Instant::now() + Duration::from_secs(15);
    let order_ids = loop {
        let ids: Vec<String> = acked(&log, "work_order.created", deadline)
            .await
            .iter()
            .map(|r| {
                serde_json::from_slice::<Value>(&r.body).unwrap()["work_order"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        if ids.contains(&heard) || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(order_ids.contains(&heard), "{order_ids:?}");
    assert!(!order_ids.contains(&unheard), "{order_ids:?}");
}

#[tokio::test]
async fn resolved_orders_nobody_rates_close_after_seven_days() {
    let app = spawn_app_with(|c| c.job_interval = Duration::from_secs(3600)).await;
    let w = app.checkin_world().await;
    app.post("/categories", &app.admin, json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3})).await;
    let body = json!({"category": "road", "title": "x", "description": "y", "village_id": w.village1, "source": "villager"});
    let id = app
        .post("/work-orders", &w.villager1_token, body)
        .await
        .id();
    app.post(
        &format!("/work-orders/{id}/assign"),
        &w.sup1_token,
        json!({"unit_id": w.town1, "commitment": "办"}),
    )
    .await;
    app.post(
        &format!("/work-orders/{id}/accept"),
        &w.cadre1_token,
        json!({}),
    )
    .await;
    app.post(
        &format!("/work-orders/{id}/resolve"),
        &w.cadre1_token,
        json!({"resolution_note": "好了"}),
    )
    .await;

    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let in_six_days = chrono::Utc::now() + chrono::Duration::days(6);
    conn.write(|conn| {
        minqing_api::jobs::watch_deadlines(conn, in_six_days, chrono_tz::Asia::Shanghai)
    })
    .unwrap();
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.sup1_token)
            .await
            .body["status"],
        "resolved"
    );
    let in_eight_days = chrono::Utc::now() + chrono::Duration::days(8);
    conn.write(|conn| {
        minqing_api::jobs::watch_deadlines(conn, in_eight_days, chrono_tz::Asia::Shanghai)
    })
    .unwrap();
    let detail = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert_eq!(detail.body["status"], "closed");
    let last = detail.body["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "closed");
    assert_eq!(last["actor_kind"], "system");
    assert_eq!(last["data"]["unrated"], true);
    // A second run changes nothing more.
    conn.write(|conn| {
        minqing_api::jobs::watch_deadlines(conn, in_eight_days, chrono_tz::Asia::Shanghai)
    })
    .unwrap();
    let again = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert_eq!(
        again.body["timeline"].as_array().unwrap().len(),
        detail.body["timeline"].as_array().unwrap().len()
    );
}

/// Paths requested from a receiver that answers 200, except `/redirect`: 307 to `/target`.
type Hits = Arc<Mutex<Vec<String>>>;

fn start_plain_receiver() -> (u16, Hits) {
    let hits: Hits = Arc::default();
    let data = web::Data::new(hits.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |req: HttpRequest, hits: web::Data<Hits>| async move {
                hits.lock().unwrap().push(req.path().to_string());
                if req.path() == "/redirect" {
                    HttpResponse::TemporaryRedirect()
                        .insert_header(("location", "/target"))
                        .finish()
                } else {
                    HttpResponse::Ok().finish()
                }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (port, hits)
}

/// Every delivery as stored: (webhook id, attempts, delivered, last status, last error).
type DeliveryState = (String, i32, bool, Option<i32>, Option<String>);

fn deliveries(app: &TestApp) -> Vec<DeliveryState> {
    use diesel::prelude::*;
    use minqing_api::db::schema::webhook_deliveries as d;
    use minqing_api::db::{Db, DbConn};

    let db = Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let query = d::table.select((
        d::webhook_id,
        d::attempts,
        d::delivered_at.is_not_null(),
        d::last_status,
        d::last_error,
    ));
    match &mut conn {
        DbConn::Sqlite(c, _) => query.load(&mut **c),
        DbConn::Pg(c) => query.load(&mut **c),
    }
    .unwrap()
}

/// Waits until every queued delivery has been attempted at least `attempts` times.
async fn attempted(app: &TestApp, expected: usize, attempts: i32) -> Vec<DeliveryState> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let rows = deliveries(app);
        let done = rows.len() == expected && rows.iter().all(|r| r.1 >= attempts);
        if done || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn road_order(app: &TestApp, w: &World) {
    app.post("/categories", &app.admin, json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3})).await;
    let body = json!({"category": "road", "title": "桥头路灯不亮", "description": "晚上太黑", "village_id": w.village1, "source": "villager"});
    assert_eq!(
        app.post("/work-orders", &w.villager1_token, body)
            .await
            .status,
        201
    );
}

/// The review's internal targets, in the spellings a URL parser turns into them.
const INTERNAL: &[&str] = &[
    "http://127.0.0.1:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://127.1:{port}/hook",
    "http://0x7f.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://localhost:{port}/hook",
    "http://0.0.0.0:{port}/hook",
];

#[tokio::test]
async fn internal_targets_are_refused_when_a_webhook_is_created() {
    let app = spawn_app_with(|_| {}).await;
    let extra = [
        "http://10.0.0.8/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
    ];
    let urls = INTERNAL
        .iter()
        .map(|u| u.replace("{port}", "9"))
        .chain(extra.iter().map(|u| u.to_string()));
    for url in urls {
        let reply = app
            .post(
                "/webhooks",
                &app.admin,
                json!({"url": url, "secret": SECRET, "events": ["*"]}),
            )
            .await;
        assert_eq!(reply.status, 422, "{url}: {:?}", reply.body);
        assert_eq!(reply.error_fields(), vec!["url"], "{url}");
    }
    assert_eq!(
        app.get("/webhooks", &app.admin).await.body["items"],
        json!([])
    );

    // Listed in MINQING_OUTBOUND_ALLOW, the address is accepted; its neighbours are not.
    let allowed = spawn_app_with(allow_loopback).await;
    let ok = allowed
        .post(
            "/webhooks",
            &allowed.admin,
            json!({"url": "http://[::ffff:127.0.0.1]:9/hook", "secret": SECRET, "events": ["*"]}),
        )
        .await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let neighbour = allowed
        .post(
            "/webhooks",
            &allowed.admin,
            json!({"url": "http://127.0.0.2:9/hook", "secret": SECRET, "events": ["*"]}),
        )
        .await;
    assert_eq!(neighbour.error_fields(), vec!["url"]);
}

#[tokio::test]
async fn an_internal_target_that_got_in_is_never_contacted() {
    let app = spawn_app_with(|c| c.job_interval = Duration::from_millis(50)).await;
    let w = app.checkin_world().await;
    let (port, hits) = start_plain_receiver();
    // Stored before the guard existed, or while the allow-list still named them.
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    for url in INTERNAL {
        let row = minqing_api::db::webhooks::WebhookRow {
            id: uuid::Uuid::new_v4().to_string(),
            url: url.replace("{port}", &port.to_string()),
            secret: SECRET.into(),
            events: r#"["*"]"#.into(),
            active: true,
            created_at: chrono::Utc::now().naive_utc(),
        };
        minqing_api::db::webhooks::insert_webhook(&mut conn, &row).unwrap();
    }
    road_order(&app, &w).await;
    let rows = attempted(&app, INTERNAL.len(), 2).await;
    assert_eq!(rows.len(), INTERNAL.len(), "{rows:?}");
    for (_, attempts, delivered, status, error) in &rows {
        assert!(*attempts >= 2, "{rows:?}");
        assert!(!delivered && status.is_none(), "{rows:?}");
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains("MINQING_OUTBOUND_ALLOW"), "{error}");
    }
    assert!(
        hits.lock().unwrap().is_empty(),
        "{:?}",
        hits.lock().unwrap()
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = spawn_app_with(|c| {
        c.job_interval = Duration::from_millis(50);
        allow_loopback(c);
    })
    .await;
    let w = app.checkin_world().await;
    let (port, hits) = start_plain_receiver();
    let url = format!("http://127.0.0.1:{port}/redirect");
    let hook = app
        .post(
            "/webhooks",
            &app.admin,
            json!({"url": url, "secret": SECRET, "events": ["*"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{:?}", hook.body);
    road_order(&app, &w).await;
    attempted(&app, 1, 2).await;
    let seen = hits.lock().unwrap().clone();
    let rows = deliveries(&app);
    let (_, attempts, delivered, status, _) = &rows[0];
    assert!(*attempts >= 2, "{rows:?}");
    assert!(!delivered, "a redirect is a failed delivery: {rows:?}");
    assert_eq!(*status, Some(307));
    assert!(seen.iter().all(|p| p == "/redirect"), "{seen:?}");
    // One request per attempt (the last one may still be on its way to the log).
    assert!(seen.len() as i32 <= attempts + 1, "{seen:?} {rows:?}");
}
