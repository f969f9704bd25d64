//! Two `minqing` processes on one PostgreSQL database and one S3 bucket, each with a data
//! directory of its own, as two servers behind a load balancer run: what one server does,
//! the other sees at once, and the background jobs both run handle each due item once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use minqing_e2e::photos::{jpeg, FixtureExif};
use minqing_e2e::s3::{s3_server_program, S3Server};
use minqing_e2e::server::Server;
use minqing_e2e::TestDatabase;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const ADMIN: (&str, &str) = ("13800000000", "admin-password-1");
const DEMO_PASSWORD: &str = "minqing-demo";
const LI_MING: &str = "13900000011";
const BUCKET: &str = "minqing-two";

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    delivery: String,
    event: String,
    order: String,
    /// The sender's port, to tell which server sent it.
    peer_port: u16,
    answered: bool,
}

#[derive(Default)]
struct Receiver {
    seen: Vec<Seen>,
    /// Leave the next delivery about this order unanswered, as if the receiver were slow.
    hang_for: Option<String>,
    hung: Vec<TcpStream>,
}

/// A webhook receiver on 127.0.0.1 that answers 200 to every delivery but the one it is
/// told to leave hanging.
fn start_receiver() -> (String, Arc<Mutex<Receiver>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let state: Arc<Mutex<Receiver>> = Arc::default();
    let shared = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let shared = shared.clone();
            std::thread::spawn(move || receive(stream, &shared));
        }
    });
    (format!("http://127.0.0.1:{port}/hook"), state)
}

fn receive(stream: TcpStream, state: &Mutex<Receiver>) {
    let peer_port = stream.peer_addr().map(|a| a.port()).unwrap_or_default();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let order = payload["work_order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut state = state.lock().unwrap();
    let hang = state.hang_for.as_deref() == Some(order.as_str());
    state.seen.push(Seen {
        delivery: headers
            .get("x-minqing-delivery")
            .cloned()
            .unwrap_or_default(),
        event: headers.get("x-minqing-event").cloned().unwrap_or_default(),
        order,
        peer_port,
        answered: !hang,
    });
    let mut stream = stream;
    if hang {
        state.hang_for = None;
        state.hung.push(stream);
        return;
    }
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// Polls `check` every 50 ms until it gives a value, failing after `limit`.
fn within<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn login(client: &Client, base: &str, (phone, password): (&str, &str)) -> (u16, Value) {
    let reply = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().unwrap_or(Value::Null))
}

fn token(client: &Client, base: &str, who: (&str, &str)) -> String {
    let (status, body) = login(client, base, who);
    assert_eq!(status, 200, "{who:?} signs in: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

fn sql(conn: &mut PgConnection, statement: &str) {
    diesel::sql_query(statement)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, query: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS n FROM {query}"))
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .n
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn open_orders(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT id FROM work_orders \
         WHERE status IN ('submitted', 'assigned', 'in_progress', 'reopened') ORDER BY id",
    )
    .load::<Id>(conn)
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

/// The process (of `pids`) that holds the TCP connection from 127.0.0.1:`port`.
fn owner_of_port(port: u16, pids: &[u32]) -> Option<u32> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let local = format!("0100007F:{port:04X}");
    let inode = table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&local.as_str())).then(|| fields.get(9).map(|s| s.to_string()))?
    })?;
    let socket = format!("socket:[{inode}]");
    pids.iter().copied().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == socket))
    })
}

#[test]
#[ignore = "needs PostgreSQL: run with MINQING_TEST_POSTGRES set and --include-ignored (as .ci/run does)"]
fn two_servers_share_limits_sessions_photos_and_jobs() {
    let Some(moto) = s3_server_program("two_servers_share_limits_sessions_photos_and_jobs") else {
        return;
    };
    let server_url = minqing_e2e::postgres_server()
        .expect("MINQING_TEST_POSTGRES must name a PostgreSQL server for this test");
    let db = TestDatabase::postgres(&server_url);
    let s3 = S3Server::start(&moto);
    s3.create_bucket(BUCKET);
    let (hook_url, receiver) = start_receiver();
    let dirs = [db.dir().join("server-a"), db.dir().join("server-b")];
    let env = |dir: &std::path::Path| -> Vec<(String, String)> {
        vec![
            ("MINQING_DATA_DIR".into(), dir.display().to_string()),
            ("MINQING_PHOTOS".into(), format!("s3://{BUCKET}/photos")),
            ("MINQING_S3_ENDPOINT".into(), s3.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "minqing-test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "minqing-test-secret".into()),
            ("MINQING_JOB_INTERVAL_SECS".into(), "0.2".into()),
            ("MINQING_WEBHOOK_TIMEOUT_SECS".into(), "1".into()),
            ("MINQING_OUTBOUND_ALLOW".into(), "127.0.0.1".into()),
        ]
    };
    let start = |args: &[&str], dir: &std::path::Path| {
        let vars = env(dir);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Server::start_with(&db, args, &pairs)
    };
    let a = start(&["serve", "--demo"], &dirs[0]);
    let b = start(&["serve"], &dirs[1]);
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut pg = PgConnection::establish(&db.url).unwrap();

    // A photo uploaded through one server is served by the other.
    let cadre_a = token(&client, &a.base, (LI_MING, DEMO_PASSWORD));
    let photo = jpeg(640, 480, &FixtureExif::default());
    let uploaded: Value = client
        .post(format!("{}/media", a.base))
        .bearer_auth(&cadre_a)
        .header("content-type", "image/jpeg")
        .body(photo)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = uploaded["id"]
        .as_str()
        .expect("the photo is stored")
        .to_string();
    let from_a = client
        .get(format!("{}/media/{id}", a.base))
        .bearer_auth(&cadre_a)
        .send()
        .unwrap();
    assert_eq!(from_a.status(), 200);
    let from_a = from_a.bytes().unwrap();
    let from_b = client
        .get(format!("{}/media/{id}", b.base))
        .bearer_auth(&cadre_a)
        .send()
        .unwrap();
    assert_eq!(from_b.status(), 200, "server B serves server A's photo");
    assert_eq!(from_b.bytes().unwrap(), from_a);
    assert!(
        !s3.keys(BUCKET, "photos/").is_empty(),
        "the photo is in the bucket"
    );

    // Six wrong passwords spread over both servers lock the phone on both.
    let wrong = (LI_MING, "not-the-password");
    for (i, server) in [&a, &b, &a, &b, &a].iter().enumerate() {
        assert_eq!(
            login(&client, &server.base, wrong).0,
            401,
            "wrong try {}",
            i + 1
        );
    }
    assert_eq!(
        login(&client, &b.base, wrong).0,
        429,
        "the sixth is refused"
    );
    assert_eq!(
        login(&client, &a.base, (LI_MING, DEMO_PASSWORD)).0,
        429,
        "the phone is locked, even with the right password, on the other server too"
    );

    // A user disabled through one server is refused by the other on the next request.
    let admin = token(&client, &a.base, ADMIN);
    let supervisor = token(&client, &b.base, ("13900000001", DEMO_PASSWORD));
    let me = |base: &str| {
        client
            .get(format!("{base}/me"))
            .bearer_auth(&supervisor)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(me(&b.base), 200);
    let supervisor_id = diesel::sql_query("SELECT id FROM users WHERE phone = '13900000001'")
        .get_result::<Id>(&mut pg)
        .unwrap()
        .id;
    let disabled = client
        .patch(format!("{}/users/{supervisor_id}", a.base))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        me(&b.base),
        401,
        "server B refuses the disabled user at once"
    );

    // An order that becomes overdue while both run: one escalation, one delivery.
    let hook = client
        .post(format!("{}/webhooks", a.base))
        .bearer_auth(&admin)
        .json(&json!({"url": hook_url, "secret": "a-receiver-secret-0123",
                      "events": ["work_order.due_soon", "work_order.overdue"]}))
        .send()
        .unwrap();
    assert_eq!(hook.status(), 201);
    let orders = open_orders(&mut pg);
    let (first, second) = (&orders[0], &orders[1]);
    sql(
        &mut pg,
        &format!(
            "UPDATE work_orders SET due_at = (now() AT TIME ZONE 'UTC') + interval '1 second' \
             WHERE id = '{first}'"
        ),
    );
    let of = |order: &str, event: &str| -> Vec<Seen> {
        receiver
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.order == order && s.event == event)
            .cloned()
            .collect()
    };
    within(
        Duration::from_secs(30),
        "the overdue delivery arrives",
        || (!of(first, "work_order.overdue").is_empty()).then_some(()),
    );
    // Several more ticks of both servers pass: nothing is raised or sent again.
    let ticks_later = Instant::now() + Duration::from_secs(2);
    within(Duration::from_secs(5), "two seconds pass", || {
        (Instant::now() > ticks_later).then_some(())
    });
    assert_eq!(
        of(first, "work_order.overdue").len(),
        1,
        "one overdue delivery"
    );
    let mut events = |kind: &str| {
        count(
            &mut pg,
            &format!("work_order_events WHERE work_order_id = '{first}' AND kind = '{kind}' AND actor_kind = 'system'"),
        )
    };
    assert_eq!(events("escalated"), 1, "one escalation");
    // A tick may have seen the order due within the second, or not: at most one reminder,
    // and one delivery for it if there was one.
    let reminded = events("reminded");
    assert!(reminded <= 1);
    assert_eq!(of(first, "work_order.due_soon").len() as i64, reminded);

    // A server killed mid-delivery: the other sends it once the claim lapses; nothing lost,
    // and the repeat carries the same delivery id, so the receiver can tell it is one.
    receiver.lock().unwrap().hang_for = Some(second.clone());
    sql(
        &mut pg,
        &format!(
            "UPDATE work_orders SET due_at = (now() AT TIME ZONE 'UTC') + interval '1 hour' \
             WHERE id = '{second}'"
        ),
    );
    let hung = within(Duration::from_secs(30), "the reminder is sent", || {
        of(second, "work_order.due_soon").first().cloned()
    });
    let pids = [a.pid(), b.pid()];
    let sender = within(Duration::from_secs(5), "the sender is found", || {
        owner_of_port(hung.peer_port, &pids)
    });
    let (killed, survivor) = if sender == a.pid() { (a, b) } else { (b, a) };
    nix_kill(killed.pid());
    drop(killed);
    let resent = within(
        Duration::from_secs(30),
        "the survivor sends it again",
        || {
            let all = of(second, "work_order.due_soon");
            (all.len() >= 2).then_some(all)
        },
    );
    assert_eq!(resent.len(), 2, "{resent:?}");
    assert_eq!(
        resent[0].delivery, resent[1].delivery,
        "the same delivery, again"
    );
    assert!(!resent[0].answered && resent[1].answered);
    within(
        Duration::from_secs(10),
        "the delivery is recorded delivered",
        || {
            (count(
                &mut pg,
                &format!(
                    "webhook_deliveries WHERE id = '{}' AND delivered_at IS NOT NULL",
                    hung.delivery
                ),
            ) == 1)
                .then_some(())
        },
    );
    // Every delivery the receiver answered, it answered once.
    let seen = receiver.lock().unwrap().seen.clone();
    let mut answered: HashMap<&str, usize> = HashMap::new();
    for s in seen.iter().filter(|s| s.answered) {
        *answered.entry(s.delivery.as_str()).or_default() += 1;
    }
    assert!(answered.values().all(|n| *n == 1), "{seen:?}");
    assert!(survivor.pid() > 0);
}

/// SIGKILL: the server gets no chance to finish anything.
fn nix_kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
