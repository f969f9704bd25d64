//! Starts the real application on a random port with a database of its own, and speaks
//! HTTP to it like any client would.

use minqing_api::config::Config;
use minqing_api::outbound::AllowList;
use minqing_api::startup::Application;
use minqing_e2e::TestDatabase;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

pub const ADMIN_PHONE: &str = "13800000000";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "password-123";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The admin's access token.
    pub admin: String,
    pub db: TestDatabase,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `field` of each entry of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {:?}", self.body))
            .to_string()
    }
}

pub fn test_config(db: &TestDatabase) -> Config {
    Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        data_dir: db.dir().join("data"),
        jwt_secret: Some("a-test-secret-that-is-long-enough-0123456789".into()),
        admin_phone: Some(ADMIN_PHONE.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        db_pool_size: 4,
        ..Config::default()
    }
}

/// For tests whose webhook receiver listens on 127.0.0.1: loopback targets are refused
/// unless `MINQING_OUTBOUND_ALLOW` lists them.
pub fn allow_loopback(config: &mut Config) {
    config.outbound_allow = AllowList::parse("127.0.0.1").expect("a valid allow-list");
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `adjust` has changed the test configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDatabase::new();
    let mut config = test_config(&db);
    adjust(&mut config);
    let base = start(config);
    let client = reqwest::Client::new();
    let mut app = TestApp {
        base,
        client,
        admin: String::new(),
        db,
    };
    app.admin = app.login(ADMIN_PHONE, ADMIN_PASSWORD).await;
    app
}

/// Builds and spawns an application; returns its base URL.
pub fn start(config: Config) -> String {
    let app = Application::build(config).expect("the application builds");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn login_reply(&self, phone: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"phone": phone, "password": password})),
        )
        .await
    }

    pub async fn login(&self, phone: &str, password: &str) -> String {
        let reply = self.login_reply(phone, password).await;
        assert_eq!(reply.status, 200, "login of {phone}: {:?}", reply.body);
        reply.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// Creates an org unit as admin; returns its id.
    pub async fn unit(&self, name: &str, kind: &str, parent: Option<&str>) -> String {
        let reply = self
            .post(
                "/org-units",
                &self.admin,
                json!({"name": name, "kind": kind, "parent_id": parent}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.id()
    }

    /// Creates a user as admin; returns its id.
    pub async fn user(&self, body: Value) -> String {
        let mut body = body;
        body["password"] = json!(PASSWORD);
        let reply = self.post("/users", &self.admin, body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.id()
    }

    /// A county with two towns, their villages, and a supervisor, cadre and villager in each.
    pub async fn world(&self) -> World {
        let county = self.unit("示范县", "county", None).await;
        let town1 = self.unit("青山镇", "town", Some(&county)).await;
        let town2 = self.unit("云岭镇", "town", Some(&county)).await;
        let village1 = self.unit("溪口村", "village", Some(&town1)).await;
        let village2 = self.unit("云岭村", "village", Some(&town2)).await;
        let sup1 = self.user(json!({"name": "周敏", "phone": "13900000001", "role": "supervisor", "org_unit_id": town1})).await;
        let sup2 = self.user(json!({"name": "吴刚", "phone": "13900000002", "role": "supervisor", "org_unit_id": town2})).await;
        let cadre1 = self
            .user(json!({"name": "李明", "phone": "13900000011", "role": "cadre", "org_unit_id": town1, "cadre_category": "organ"}))
            .await;
        let cadre2 = self
            .user(json!({"name": "刘洋", "phone": "13900000012", "role": "cadre", "org_unit_id": town2, "cadre_category": "village"}))
            .await;
        let villager1 = self.user(json!({"name": "赵大爷", "phone": "13900000021", "role": "villager", "org_unit_id": village1})).await;
        let villager2 = self.user(json!({"name": "陈阿姨", "phone": "13900000022", "role": "villager", "org_unit_id": village2})).await;
        World {
            sup1_token: self.login("13900000001", PASSWORD).await,
            sup2_token: self.login("13900000002", PASSWORD).await,
            cadre1_token: self.login("13900000011", PASSWORD).await,
            villager1_token: self.login("13900000021", PASSWORD).await,
            county,
            town1,
            town2,
            village1,
            village2,
            sup1,
            sup2,
            cadre1,
            cadre2,
            villager1,
            villager2,
        }
    }
}

pub struct World {
    pub county: String,
    pub town1: String,
    pub town2: String,
    pub village1: String,
    pub village2: String,
    pub sup1: String,
    pub sup2: String,
    pub cadre1: String,
    pub cadre2: String,
    pub villager1: String,
    pub villager2: String,
    pub sup1_token: String,
    pub sup2_token: String,
    pub cadre1_token: String,
    pub villager1_token: String,
}

/// A closed square ring around (lon, lat), `half` degrees to each side.
pub fn square(lon: f64, lat: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]})
}

/// Local (Asia/Shanghai) wall-clock times for check-ins, always in the recent past.
pub mod clock {
    use chrono::{Duration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};

    fn shanghai() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("a valid offset")
    }

    /// The latest night whose next morning (till 07:00 local) is already over.
    pub fn last_night() -> NaiveDate {
        let now = Utc::now().with_timezone(&shanghai());
        let back = if now.hour() >= 7 { 1 } else { 2 };
        now.date_naive() - Duration::days(back)
    }

    /// The latest night already under way by 21:00 local: its evening check-ins are in
    /// the past and its minutes (due at the end of the next day) not yet overdue.
    pub fn recent_night() -> NaiveDate {
        let now = Utc::now().with_timezone(&shanghai());
        let back = if now.hour() >= 21 { 0 } else { 1 };
        now.date_naive() - Duration::days(back)
    }

    /// RFC 3339 (UTC) of `night` + `days` at `hh:mm` local time.
    pub fn at(night: NaiveDate, days: i64, hh: u32, mm: u32) -> String {
        let local = (night + Duration::days(days))
            .and_hms_opt(hh, mm, 0)
            .expect("a valid time");
        shanghai()
            .from_local_datetime(&local)
            .single()
            .expect("no gaps in a fixed offset")
            .with_timezone(&Utc)
            .to_rfc3339()
    }
}

/// A check-in body at the given place and time; override fields with `json_merge`. Its
/// accuracy is 12 m and a few millimetres, different each time, as a real phone's is: the
/// same fix repeated is `repeated_position`.
pub fn checkin(kind: &str, village: &str, lat: f64, lon: f64, recorded_at: &str) -> Value {
    static FIXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = FIXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000;
    json!({"id": uuid::Uuid::new_v4().to_string(), "kind": kind, "village_id": village, "lat": lat, "lon": lon,
           "accuracy_m": 12.0 + n as f64 / 1000.0, "recorded_at": recorded_at, "device_id": "phone-1"})
}

/// The codes of a receipt's flags.
pub fn flag_codes(receipt: &Value) -> Vec<String> {
    receipt["flags"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The value measured for flag `code`.
pub fn flag_value(receipt: &Value, code: &str) -> Value {
    receipt["flags"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["code"] == code))
        .map(|x| x["value"].clone())
        .unwrap_or(Value::Null)
}

/// The village centre used by check-in tests (Zhejiang).
pub const CENTRE: (f64, f64) = (29.08, 119.65);

impl TestApp {
    /// Gives village 1 a 1500 m circle and assigns cadre 1 to it.
    pub async fn checkin_world(&self) -> World {
        let w = self.world().await;
        let boundary = json!({"center": {"lat": CENTRE.0, "lon": CENTRE.1}, "radius_m": 1500.0});
        assert_eq!(
            self.put(
                &format!("/villages/{}/boundary", w.village1),
                &self.admin,
                boundary
            )
            .await
            .status,
            200
        );
        let assign = json!({"village_ids": [w.village1]});
        assert_eq!(
            self.put(
                &format!("/users/{}/villages", w.cadre1),
                &self.admin,
                assign
            )
            .await
            .status,
            200
        );
        w
    }
}
