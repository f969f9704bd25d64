//! Scoring benchmark: a county of 10,000 organ cadres with 3,000,000 check-ins and 200,000
//! work orders over the past year (plus stays and democratic ratings); measures scoring last
//! month for the whole category (`GET /scores`, every cadre computed and ranked on each
//! request) and one cadre's explained breakdown (`GET /scores/{id}`), on SQLite and on
//! PostgreSQL (MINQING_BENCH_POSTGRES or MINQING_TEST_POSTGRES).
//!
//! Run: `cargo bench --bench scores` (MINQING_BENCH_CADRES, MINQING_BENCH_CHECKINS,
//! MINQING_BENCH_ORDERS, MINQING_BENCH_SECS change the size).

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use minqing_api::auth::password::hash_password;
use minqing_api::config::Config;
use minqing_api::db::checkins::{self, CheckinRow, StayRow};
use minqing_api::db::models::UserRow;
use minqing_api::db::scoring::{self, RatingRow};
use minqing_api::db::users;
use minqing_api::db::work_logs::{self, WorkLogRow};
use minqing_api::db::work_orders::{self, WorkOrderRow};
use minqing_e2e::TestDatabase;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "support.rs"]
mod support;
use support::{analyze, county, env_num, ms, read_load, start, PASSWORD};
const TOWNS: usize = 10;
const VILLAGES_PER_TOWN: usize = 10;
const KINDS: [&str; 5] = [
    "night_study",
    "night_visit",
    "night_discussion",
    "night_help",
    "work_log",
];

struct Size {
    cadres: usize,
    checkins: u64,
    orders: u64,
    secs: u64,
}

async fn run(label: &str, db: TestDatabase, size: &Size) {
    let client = reqwest::Client::new();
    let server = start(&client, &db).await;
    let (base, admin) = (server.base.clone(), server.admin.clone());
    let tz = Config::default().timezone;
    let towns = county(&client, &server, TOWNS, VILLAGES_PER_TOWN).await;
    let mut conn = server.db.conn().unwrap();

    let started = std::time::Instant::now();
    let now = Utc::now();
    let hash = hash_password(PASSWORD).unwrap();
    let cadres: Vec<UserRow> = (0..size.cadres)
        .map(|i| UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            phone: format!("1{:010}", 3_000_000_000u64 + i as u64),
            name: format!("干部{i}"),
            password_hash: hash.clone(),
            role: "cadre".into(),
            org_unit_id: Some(towns[i % TOWNS].id.clone()),
            cadre_category: Some("organ".into()),
            staff_type: Some("established".into()),
            rater_group: Some(
                ["leadership", "middle", "established", "non_established"][i % 4].into(),
            ),
            active: true,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        })
        .collect();
    conn.write(|conn| users::insert_many(conn, &cadres))
        .unwrap();

    let mut rng = StdRng::seed_from_u64(11);
    let local = |at: chrono::DateTime<Utc>| at.with_timezone(&tz);
    let mut batch = Vec::with_capacity(10_000);
    let mut stays = Vec::new();
    for n in 0..size.checkins {
        let i = (n as usize) % size.cadres;
        let (village, path) =
            &towns[i % TOWNS].villages[(n as usize / size.cadres) % VILLAGES_PER_TOWN];
        let at = now - Days::minutes(rng.random_range(60..60 * 24 * 365));
        let night = local(at).date_naive();
        let roll = rng.random_range(0..100);
        let (kind, status) = match roll {
            0..=1 => (KINDS[1], "rejected"),
            2..=9 => ("stay_start", "accepted"),
            _ => (KINDS[roll as usize % KINDS.len()], "accepted"),
        };
        let id = uuid::Uuid::new_v4().to_string();
        if kind == "stay_start" {
            stays.push(StayRow {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: cadres[i].id.clone(),
                village_id: village.clone(),
                org_path: path.clone(),
                night_date: night,
                start_id: id.clone(),
                end_id: Some(id.clone()),
                created_at: at.naive_utc(),
            });
        }
        batch.push(CheckinRow {
            id,
            user_id: cadres[i].id.clone(),
            kind: kind.into(),
            village_id: village.clone(),
            org_path: path.clone(),
            lat: 29.08,
            lon: 119.65,
            crs: "wgs84".into(),
            reported_lat: 29.08,
            reported_lon: 119.65,
            accuracy_m: 10.0,
            recorded_at: at.naive_utc(),
            received_at: at.naive_utc(),
            night_date: night,
            device_id: Some("phone".into()),
            mock_location: false,
            note: None,
            household: None,
            status: status.into(),
            flags: "[]".into(),
            request_hash: String::new(),
            stay_id: None,
            reviewed_by: None,
            reviewed_at: None,
            review_reason: None,
            session_id: None,
        });
        if batch.len() == 10_000 {
            conn.write(|conn| checkins::insert_many(conn, &batch))
                .unwrap();
            batch.clear();
        }
    }
    conn.write(|conn| checkins::insert_many(conn, &batch))
        .unwrap();
    // One stay per cadre and night: keep the first of any night drawn twice.
    stays.sort_by(|a, b| (&a.user_id, a.night_date).cmp(&(&b.user_id, b.night_date)));
    stays.dedup_by(|a, b| a.user_id == b.user_id && a.night_date == b.night_date);
    conn.write(|conn| checkins::insert_stays(conn, &stays))
        .unwrap();

    let mut batch = Vec::with_capacity(10_000);
    for n in 0..size.orders {
        let i = rng.random_range(0..size.cadres);
        let town = &towns[i % TOWNS];
        let (village, path) = &town.villages[rng.random_range(0..VILLAGES_PER_TOWN)];
        let created = now - Days::minutes(rng.random_range(60..60 * 24 * 365));
        let assigned = created + Days::hours(rng.random_range(1..48));
        let due = assigned + Days::days(rng.random_range(2..10));
        let roll = rng.random_range(0..100);
        let (status, resolved) = match roll {
            0..=79 => (
                "closed",
                Some(assigned + Days::hours(rng.random_range(2..300))),
            ),
            80..=89 => ("in_progress", None),
            _ => ("assigned", None),
        };
        batch.push(WorkOrderRow {
            id: uuid::Uuid::new_v4().to_string(),
            code: format!("MQ-{}-{n:07}", created.format("%Y%m%d")),
            tracking_token_hash: String::new(),
            category: "road".into(),
            title: "路灯不亮".into(),
            description: "请处理".into(),
            village_id: village.clone(),
            org_path: path.clone(),
            lat: Some(29.08),
            lon: Some(119.65),
            address: None,
            source: "visit".into(),
            reporter_id: None,
            reporter_name: Some("村民".into()),
            reporter_phone: Some("13900000000".into()),
            created_by: Some(cadres[rng.random_range(0..size.cadres)].id.clone()),
            status: status.into(),
            resolved_on_spot: false,
            unit_id: Some(town.id.clone()),
            assignee_id: Some(cadres[i].id.clone()),
            commitment: None,
            assigned_at: Some(assigned.naive_utc()),
            accepted_at: Some((assigned + Days::hours(rng.random_range(1..40))).naive_utc()),
            due_at: Some(due.naive_utc()),
            original_due_at: Some(due.naive_utc()),
            first_resolved_at: resolved.map(|r| r.naive_utc()),
            resolved_at: resolved.map(|r| r.naive_utc()),
            rating: resolved.map(|_| rng.random_range(50..101)),
            rated_at: resolved.map(|r| (r + Days::hours(20)).naive_utc()),
            reopen_count: 0,
            request_hash: None,
            created_at: created.naive_utc(),
        });
        if batch.len() == 10_000 {
            conn.write(|conn| work_orders::insert_many(conn, &batch, tz))
                .unwrap();
            batch.clear();
        }
    }
    conn.write(|conn| work_orders::insert_many(conn, &batch, tz))
        .unwrap();

    // Last month, complete; each cadre rated by three colleagues of the same town.
    let first_this = local(now).date_naive().with_day(1).unwrap();
    let last_month: NaiveDate = (first_this - Days::days(1)).with_day(1).unwrap();
    let period = last_month.format("%Y-%m").to_string();
    let ratings: Vec<RatingRow> = (0..size.cadres)
        .flat_map(|i| (1..=3).map(move |k| (i, (i + k * TOWNS) % size.cadres.max(1))))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| RatingRow {
            period: period.clone(),
            ratee_id: cadres[i].id.clone(),
            rater_id: cadres[j].id.clone(),
            rater_group: cadres[j].rater_group.clone().unwrap_or_default(),
            score: 60.0 + ((i * 7 + j) % 40) as f64,
            updated_at: now.naive_utc(),
        })
        .collect();
    conn.write(|conn| scoring::insert_ratings(conn, &ratings))
        .unwrap();
    // 工作日志: each cadre wrote a log on about two days of three last month.
    let last_day = first_this - Days::days(1);
    let mut logs = Vec::with_capacity(10_000);
    let mut logged = 0usize;
    for (i, cadre) in cadres.iter().enumerate() {
        for date in last_month.iter_days().take_while(|d| *d <= last_day) {
            if (i + date.day() as usize).is_multiple_of(3) {
                continue;
            }
            let at = date.and_hms_opt(13, 0, 0).unwrap();
            logs.push(WorkLogRow {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: cadre.id.clone(),
                org_path: town_path(&towns[i % TOWNS]),
                log_date: date,
                content: "走访农户，了解冬季取暖和用水情况，登记工单两件。".into(),
                created_at: at,
                updated_at: at,
            });
            if logs.len() == 10_000 {
                logged += logs.len();
                conn.write(|conn| work_logs::insert_many(conn, &logs))
                    .unwrap();
                logs.clear();
            }
        }
    }
    logged += logs.len();
    conn.write(|conn| work_logs::insert_many(conn, &logs))
        .unwrap();
    analyze(&mut conn);
    eprintln!(
        "{label}: seeded {} cadres, {} check-ins, {} stays, {} work orders, {} ratings, {} work logs in {:.1} s",
        size.cadres,
        size.checkins,
        stays.len(),
        size.orders,
        ratings.len(),
        logged,
        started.elapsed().as_secs_f64()
    );

    let ranked = read_load(
        &client,
        format!("{base}/scores?period={period}&category=organ&limit=50"),
        admin.clone(),
        1,
        size.secs,
    )
    .await;
    println!(
        "| {label} | GET /scores (month, {} cadres ranked; {} check-ins, {} orders), 1 client | {} | {} | {} |",
        size.cadres, size.checkins, size.orders, ranked.count, ms(ranked.p50), ms(ranked.p99)
    );
    let one = read_load(
        &client,
        format!("{base}/scores/{}?period={period}", cadres[0].id),
        admin,
        1,
        size.secs,
    )
    .await;
    println!(
        "| {label} | GET /scores/{{id}} (one cadre's breakdown with record ids), 1 client | {} | {} | {} |",
        one.count, ms(one.p50), ms(one.p99)
    );
}

/// The town's own path: its first village's path without the village.
fn town_path(town: &support::Town) -> String {
    let village = &town.villages[0].1;
    let trimmed = village.trim_end_matches('/');
    trimmed[..trimmed.rfind('/').map_or(0, |i| i + 1)].to_string()
}

fn main() {
    let size = Size {
        cadres: env_num("MINQING_BENCH_CADRES", 10_000) as usize,
        checkins: env_num("MINQING_BENCH_CHECKINS", 3_000_000),
        orders: env_num("MINQING_BENCH_ORDERS", 200_000),
        secs: env_num("MINQING_BENCH_SECS", 20),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("| backend | what | requests | p50 | p99 |");
    println!("|---|---|---|---|---|");
    runtime.block_on(run("SQLite", TestDatabase::sqlite(), &size));
    let postgres = std::env::var("MINQING_BENCH_POSTGRES")
        .ok()
        .or_else(minqing_e2e::postgres_server);
    match postgres {
        Some(server) => runtime.block_on(run("PostgreSQL", TestDatabase::postgres(&server), &size)),
        None => eprintln!("PostgreSQL skipped: set MINQING_BENCH_POSTGRES (or MINQING_TEST_POSTGRES) to a server URL"),
    }
}
