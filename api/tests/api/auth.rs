use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, start, test_config, ADMIN_PHONE, PASSWORD};

#[tokio::test]
async fn login_returns_tokens_and_the_user() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = app.login_reply("13900000011", PASSWORD).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert_eq!(reply.body["user"]["id"], w.cadre1);
    assert_eq!(reply.body["user"]["role"], "cadre");
    assert!(reply.body["refresh_token"].as_str().unwrap().len() >= 40);

    let me = app
        .get("/me", reply.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], w.cadre1);
    assert_eq!(me.body["org_unit"]["id"], w.town1);
    assert_eq!(me.body["org_unit"]["name"], "青山镇");
}

#[tokio::test]
async fn me_lists_a_cadres_villages() {
    let app = spawn_app().await;
    let w = app.world().await;
    let put = app
        .put(
            &format!("/users/{}/villages", w.cadre1),
            &app.admin,
            json!({"village_ids": [w.village1]}),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let me = app.get("/me", &w.cadre1_token).await;
    assert_eq!(me.body["village_ids"], json!([w.village1]));
    assert_eq!(me.body["villages"][0]["name"], "溪口村");
    let villager = app.get("/me", &w.villager1_token).await;
    assert_eq!(villager.body["role"], "villager");
    assert_eq!(villager.body["villages"][0]["id"], w.village1);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_phones_get_the_same_401() {
    let app = spawn_app().await;
    let wrong = app.login_reply(ADMIN_PHONE, "not-the-password").await;
    let unknown = app.login_reply("13712345678", "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
}

#[tokio::test]
async fn repeated_failures_for_a_phone_are_throttled_even_with_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_reply(ADMIN_PHONE, "wrong-password").await.status,
            401
        );
    }
    let blocked = app
        .login_reply(ADMIN_PHONE, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(blocked.status, 429);
    let retry: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // Another phone from the same address is not blocked by this phone's failures.
    assert_eq!(
        app.login_reply("13712345678", "wrong-password")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled() {
    let app = spawn_app().await;
    for i in 0..30 {
        let phone = format!("137{:08}", i);
        assert_eq!(app.login_reply(&phone, "wrong-password").await.status, 401);
    }
    assert_eq!(
        app.login_reply("13799999999", "wrong-password")
            .await
            .status,
        429
    );
}

/// `n` wrong logins sent at once, the i-th for `phone(i)`: how many were let past the attempt
/// limits (their password checked, 401, or left waiting too long for a hashing slot, 429 with
/// a Retry-After of a second or two) and how many the limits refused (429 for minutes).
async fn wrong_logins_at_once(
    app: &crate::helpers::TestApp,
    n: usize,
    phone: impl Fn(usize) -> String,
) -> (usize, usize) {
    let sends = (0..n).map(|i| {
        let (client, url) = (app.client.clone(), format!("{}/auth/login", app.base));
        let body = json!({"phone": phone(i), "password": "wrong-password"});
        tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap() })
    });
    let (mut checked, mut busy, mut limited) = (0, 0, 0);
    for send in sends.collect::<Vec<_>>() {
        let reply = send.await.unwrap();
        match reply.status().as_u16() {
            401 => checked += 1,
            429 => {
                assert_eq!(reply.headers()["content-type"], "application/problem+json");
                let retry: u64 = reply.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                if retry <= 2 {
                    busy += 1;
                } else {
                    limited += 1;
                }
            }
            other => panic!("{other}"),
        }
    }
    assert!(
        checked >= 1,
        "{checked} checked, {busy} busy, {limited} limited"
    );
    (checked + busy, limited)
}

#[tokio::test]
async fn concurrent_guesses_for_one_phone_cannot_outrun_the_limit() {
    let app = spawn_app().await;
    let (admitted, limited) = wrong_logins_at_once(&app, 40, |_| ADMIN_PHONE.to_string()).await;
    assert!(admitted <= 5, "{admitted} of 40 let past the limit of 5");
    assert_eq!(admitted + limited, 40);
}

#[tokio::test]
async fn concurrent_guesses_from_one_address_cannot_outrun_the_limit() {
    let app = spawn_app().await;
    let (admitted, limited) = wrong_logins_at_once(&app, 60, |i| format!("137{i:08}")).await;
    assert!(admitted <= 30, "{admitted} of 60 let past the limit of 30");
    assert_eq!(admitted + limited, 60);
}

/// A client whose requests come from `ip` (any 127.x.y.z reaches the test server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .build()
        .unwrap()
}

async fn login_from(app: &crate::helpers::TestApp, ip: &str, password: &str) -> reqwest::Response {
    client_from(ip)
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"phone": ADMIN_PHONE, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_guessing_cannot_lock_the_user_out_elsewhere() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "127.0.0.2", "wrong-password")
                .await
                .status(),
            401
        );
    }
    // That address is locked out of this phone, even with the right password…
    let locked = login_from(&app, "127.0.0.2", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(locked.status(), 429);
    // …while the user, elsewhere, signs in.
    let user = login_from(&app, "127.0.0.1", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(user.status(), 200);

    // Guessing spread over addresses still meets a limit for the phone: 20 in all.
    for ip in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        for _ in 0..5 {
            assert_eq!(login_from(&app, ip, "wrong-password").await.status(), 401);
        }
    }
    let everywhere = login_from(&app, "127.0.0.1", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(everywhere.status(), 429);
    let retry: u64 = everywhere.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let first = app
        .login_reply(ADMIN_PHONE, crate::helpers::ADMIN_PASSWORD)
        .await
        .body;
    let refresh1 = first["refresh_token"].as_str().unwrap().to_string();

    let second = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let refresh2 = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2);
    assert_eq!(
        app.get("/me", second.body["access_token"].as_str().unwrap())
            .await
            .status,
        200
    );

    // The spent token comes back: someone copied it. Both it and its successor die.
    let reuse = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(reuse.status, 401);
    let successor = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh2})),
        )
        .await;
    assert_eq!(successor.status, 401);

    // Another sign-in is another family and still works.
    let other = app
        .login_reply(ADMIN_PHONE, crate::helpers::ADMIN_PASSWORD)
        .await
        .body;
    let refreshed = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": other["refresh_token"]})),
        )
        .await;
    assert_eq!(refreshed.status, 200);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let session = app
        .login_reply(ADMIN_PHONE, crate::helpers::ADMIN_PASSWORD)
        .await
        .body;
    let token = session["access_token"].as_str().unwrap();
    let out = app
        .post(
            "/auth/logout",
            token,
            json!({"refresh_token": session["refresh_token"]}),
        )
        .await;
    assert_eq!(out.status, 204);
    let refresh = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": session["refresh_token"]})),
        )
        .await;
    assert_eq!(refresh.status, 401);
    let anonymous = app
        .call(
            Method::POST,
            "/auth/logout",
            None,
            Some(json!({"refresh_token": session["refresh_token"]})),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn only_valid_hs256_tokens_are_accepted() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    let app = spawn_app().await;
    let missing = app.call(Method::GET, "/me", None, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.headers["www-authenticate"], "Bearer");

    let parts: Vec<&str> = app.admin.split('.').collect();
    let claims = parts[1];
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(
        app.get("/me", &format!("{none_header}.{claims}."))
            .await
            .status,
        401
    );

    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &serde_json::from_slice::<serde_json::Value>(&URL_SAFE_NO_PAD.decode(claims).unwrap())
            .unwrap(),
        &jsonwebtoken::EncodingKey::from_secret(b"a-test-secret-that-is-long-enough-0123456789"),
    )
    .unwrap();
    assert_eq!(app.get("/me", &hs512).await.status, 401);

    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(br#"{"sub":"x","role":"admin","iat":1,"exp":9999999999}"#),
        parts[2]
    );
    assert_eq!(app.get("/me", &tampered).await.status, 401);
    assert_eq!(app.get("/me", &app.admin).await.status, 200);
}

#[tokio::test]
async fn disabled_users_lose_access_at_once() {
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
    assert_eq!(disable.body["active"], false);
    assert_eq!(app.get("/me", &w.cadre1_token).await.status, 401);
    // Like a wrong password: a disabled account's phone is not told apart.
    assert_eq!(app.login_reply("13900000011", PASSWORD).await.status, 401);
}

#[tokio::test]
async fn villagers_register_themselves_in_their_village() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = json!({"phone": "13655556666", "name": "孙婆婆", "password": "long-password", "village_id": w.village1});
    let reply = app
        .call(Method::POST, "/auth/register", None, Some(body.clone()))
        .await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "received");
    let token = app.login("13655556666", "long-password").await;
    let me = app.get("/me", &token).await;
    assert_eq!(me.body["role"], "villager");
    assert_eq!(me.body["org_unit_id"], w.village1);
    assert_eq!(me.body["village_ids"], json!([w.village1]));

    // The same answer for a phone that has an account (see hardening.rs).
    let again = app
        .call(Method::POST, "/auth/register", None, Some(body))
        .await;
    assert_eq!((again.status, again.body), (reply.status, reply.body));

    let not_a_village = app
        .call(Method::POST, "/auth/register", None,
            Some(json!({"phone": "13655557777", "name": "x", "password": "long-password", "village_id": w.town1})))
        .await;
    assert_eq!(not_a_village.status, 422);
    assert_eq!(not_a_village.error_fields(), vec!["village_id"]);

    let bad = app
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(
                json!({"phone": "123", "name": "", "password": "short", "village_id": w.village1}),
            ),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), vec!["phone", "name", "password"]);
}

#[tokio::test]
async fn registration_is_rate_limited_per_address() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let body = json!({"phone": format!("136{:08}", i), "name": "x", "password": "long-password", "village_id": "none"});
        statuses.push(
            app.call(Method::POST, "/auth/register", None, Some(body))
                .await
                .status,
        );
    }
    assert!(statuses[..10].iter().all(|s| *s == 422), "{statuses:?}");
    assert_eq!(statuses[10], 429);
}

#[tokio::test]
async fn a_generated_jwt_secret_survives_a_restart() {
    let app = spawn_app_with(|c| c.jwt_secret = None).await;
    let mut config = test_config(&app.db);
    config.jwt_secret = None;
    let restarted = start(config);
    let reply = app
        .client
        .get(format!("{restarted}/me"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn the_first_admin_gets_a_generated_password_when_none_is_configured() {
    let db = minqing_e2e::TestDatabase::new();
    let mut config = test_config(&db);
    config.admin_password = None;
    let app = minqing_api::startup::Application::build(config.clone()).unwrap();
    let notice = app
        .first_admin_notice
        .clone()
        .expect("a notice with the password");
    let password = notice
        .split("password ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    let reply = reqwest::Client::new()
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": ADMIN_PHONE, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // A second start finds the admin and says nothing.
    let again = minqing_api::startup::Application::build(config).unwrap();
    assert!(again.first_admin_notice.is_none());
}

/// A running app (its database migrated) and a handle on that database.
async fn app_and_its_database() -> (crate::helpers::TestApp, minqing_api::db::Db) {
    let app = spawn_app().await;
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    (app, db)
}

/// The limits counted straight in the database, as every server counts them: per phone and
/// address first, then per phone from anywhere, then per address; a window reopens once it
/// has passed.
#[tokio::test]
async fn attempts_are_counted_per_pair_then_per_phone_then_per_address() {
    let (_app, db) = app_and_its_database().await;
    let conn = &mut db.conn().unwrap();
    let (limits, now) = (minqing_api::auth::Limiters::default(), chrono::Utc::now());
    for _ in 0..5 {
        limits
            .count_login(conn, "13900000001", "10.0.0.1", now)
            .unwrap();
    }
    assert!(limits
        .count_login(conn, "13900000001", "10.0.0.1", now)
        .is_err());
    // The same phone from elsewhere, and another phone from that address, still try.
    limits
        .count_login(conn, "13900000001", "10.0.0.2", now)
        .unwrap();
    limits
        .count_login(conn, "13900000002", "10.0.0.1", now)
        .unwrap();
    // 20 failures for one phone from any addresses lock that phone everywhere.
    for i in 3..=6 {
        for _ in 0..5 {
            let _ = limits.count_login(conn, "13900000001", &format!("10.0.0.{i}"), now);
        }
    }
    let refused = limits.count_login(conn, "13900000001", "10.0.0.99", now);
    assert!(matches!(
        refused,
        Err(minqing_api::error::ApiError::TooManyRequests {
            retry_after_secs: 899..=900
        })
    ));
    // A refused attempt counts nowhere: 10.0.0.99 has no failures.
    for i in 0..30 {
        limits
            .count_login(conn, &format!("1370000{i:04}"), "10.0.0.99", now)
            .unwrap();
    }
    assert!(limits
        .count_login(conn, "13799999999", "10.0.0.99", now)
        .is_err());
    // Fifteen minutes on, every window has passed.
    let later = now + chrono::Duration::minutes(15);
    limits
        .count_login(conn, "13900000001", "10.0.0.1", later)
        .unwrap();
    limits
        .count_login(conn, "13799999999", "10.0.0.99", later)
        .unwrap();
}

#[tokio::test]
async fn a_success_forgives_its_address_and_an_unchecked_attempt_counts_nowhere() {
    let (_app, db) = app_and_its_database().await;
    let conn = &mut db.conn().unwrap();
    let (limits, now) = (minqing_api::auth::Limiters::default(), chrono::Utc::now());
    for _ in 0..4 {
        limits
            .count_login(conn, "13900000001", "10.0.0.1", now)
            .unwrap();
    }
    limits
        .count_login(conn, "13900000001", "10.0.0.1", now)
        .unwrap();
    limits
        .login_succeeded(conn, "13900000001", "10.0.0.1", now)
        .unwrap();
    for _ in 0..5 {
        limits
            .count_login(conn, "13900000001", "10.0.0.1", now)
            .unwrap();
    }
    // Many signed-in colleagues behind one address never reach its limit.
    for i in 0..40 {
        let phone = format!("1370000{i:04}");
        limits.count_login(conn, &phone, "10.0.0.2", now).unwrap();
        limits
            .login_succeeded(conn, &phone, "10.0.0.2", now)
            .unwrap();
    }
    for _ in 0..40 {
        limits
            .count_login(conn, "13900000003", "10.0.0.3", now)
            .unwrap();
        limits
            .login_not_checked(conn, "13900000003", "10.0.0.3", now)
            .unwrap();
    }
}

async fn login_forwarded(
    app: &crate::helpers::TestApp,
    forwarded_for: &str,
    password: &str,
) -> u16 {
    app.client
        .post(format!("{}/auth/login", app.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"phone": ADMIN_PHONE, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Behind a trusted load balancer the limits count the client's own address, which the
/// balancer appends to `X-Forwarded-For`; anyone else's header is ignored.
#[tokio::test]
async fn behind_a_trusted_balancer_limits_count_each_client_address() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = minqing_api::outbound::AllowList::parse_networks("127.0.0.1").unwrap();
    })
    .await;
    for _ in 0..5 {
        assert_eq!(
            login_forwarded(&app, "6.6.6.6, 203.0.113.1", "wrong-password").await,
            401
        );
    }
    assert_eq!(
        login_forwarded(&app, "203.0.113.1", crate::helpers::ADMIN_PASSWORD).await,
        429
    );
    // Another client behind the same balancer is not locked out with the first.
    assert_eq!(
        login_forwarded(&app, "203.0.113.2", crate::helpers::ADMIN_PASSWORD).await,
        200
    );

    let untrusting = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            login_forwarded(&untrusting, "203.0.113.1", "wrong-password").await,
            401
        );
    }
    // Not trusted: the header changes nothing, the peer address is locked.
    assert_eq!(
        login_forwarded(&untrusting, "203.0.113.2", crate::helpers::ADMIN_PASSWORD).await,
        429
    );
}
