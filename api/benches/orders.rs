//! Work-order benchmark: with 1,000,000 orders in a county of 10 towns, measures one town
//! supervisor's overdue queue (`GET /work-orders?overdue=true`) and compliance grouped by
//! unit for a quarter (`GET /compliance?group_by=unit`), on SQLite and on PostgreSQL
//! (MINQING_BENCH_POSTGRES or MINQING_TEST_POSTGRES).
//!
//! The same town's desk pages are then measured as the supervisor opens them (server-rendered
//! HTML, signed in with a page session): 超期工单, 履约统计 for the quarter, and last month's
//! 督查通报 (target ≤ 200 ms each).
//!
//! Run: `cargo bench --bench orders` (MINQING_BENCH_SECS, MINQING_BENCH_ORDERS change the size).

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use minqing_api::auth::password::hash_password;
use minqing_api::db::models::UserRow;
use minqing_api::db::users;
use minqing_api::db::work_orders::{self, WorkOrderRow};
use minqing_e2e::TestDatabase;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

#[path = "support.rs"]
mod support;
use support::{
    analyze, county, env_num, ms, page_load, page_session, post, read_load, start, PASSWORD,
};
const TOWNS: usize = 10;
const VILLAGES_PER_TOWN: usize = 10;

async fn run(label: &str, db: TestDatabase, secs: u64, orders: u64) {
    let client = reqwest::Client::new();
    let server = start(&client, &db).await;
    let (base, admin) = (server.base.clone(), server.admin.clone());
    let towns = county(&client, &server, TOWNS, VILLAGES_PER_TOWN).await;
    // One supervisor for town 0, whose view is measured.
    let now = Utc::now();
    let mut conn = server.db.conn().unwrap();
    let supervisor = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        phone: "13700000001".into(),
        name: "督查".into(),
        password_hash: hash_password(PASSWORD).unwrap(),
        role: "supervisor".into(),
        org_unit_id: Some(towns[0].id.clone()),
        cadre_category: None,
        staff_type: None,
        rater_group: None,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    users::insert(&mut conn, &supervisor).unwrap();

    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..orders {
        let t = rng.random_range(0..TOWNS);
        let v = rng.random_range(0..VILLAGES_PER_TOWN);
        let created = now - Days::minutes(rng.random_range(60..60 * 24 * 365));
        let assigned = created + Days::hours(rng.random_range(1..48));
        let due = assigned + Days::days(rng.random_range(2..10));
        let roll = rng.random_range(0..100);
        // Most orders are long closed; a few percent are still open, some of them overdue.
        let (status, resolved) = match roll {
            0..=79 => (
                "closed",
                Some(assigned + Days::hours(rng.random_range(2..300))),
            ),
            80..=84 => (
                "resolved",
                Some(assigned + Days::hours(rng.random_range(2..300))),
            ),
            85..=92 => ("in_progress", None),
            93..=96 => ("assigned", None),
            _ => ("submitted", None),
        };
        let submitted = status == "submitted";
        let day = created.date_naive();
        batch.push(WorkOrderRow {
            id: uuid::Uuid::new_v4().to_string(),
            code: format!("MQ-{}-{n:07}", day.format("%Y%m%d")),
            tracking_token_hash: String::new(),
            category: "road".into(),
            title: "路灯不亮".into(),
            description: "请处理".into(),
            village_id: towns[t].villages[v].0.clone(),
            org_path: towns[t].villages[v].1.clone(),
            lat: Some(29.08),
            lon: Some(119.65),
            address: None,
            source: "villager".into(),
            reporter_id: None,
            reporter_name: Some("村民".into()),
            reporter_phone: Some("13900000000".into()),
            created_by: None,
            status: status.into(),
            resolved_on_spot: false,
            unit_id: (!submitted).then(|| towns[t].id.clone()),
            assignee_id: None,
            commitment: None,
            assigned_at: (!submitted).then(|| assigned.naive_utc()),
            accepted_at: (!submitted)
                .then(|| (assigned + Days::hours(rng.random_range(1..40))).naive_utc()),
            due_at: (!submitted).then(|| due.naive_utc()),
            original_due_at: (!submitted).then(|| due.naive_utc()),
            first_resolved_at: resolved.map(|r| r.naive_utc()),
            resolved_at: resolved.map(|r| r.naive_utc()),
            rating: (status == "closed").then(|| rng.random_range(50..101)),
            rated_at: (status == "closed")
                .then(|| resolved.map(|r| (r + Days::hours(20)).naive_utc()))
                .flatten(),
            reopen_count: 0,
            request_hash: None,
            created_at: created.naive_utc(),
        });
        if batch.len() == 10_000 {
            conn.write(|conn| work_orders::insert_many(conn, &batch, chrono_tz::Asia::Shanghai))
                .unwrap();
            batch.clear();
        }
    }
    conn.write(|conn| work_orders::insert_many(conn, &batch, chrono_tz::Asia::Shanghai))
        .unwrap();
    analyze(&mut conn);
    eprintln!(
        "{label}: seeded {orders} work orders in {:.1} s, then analyzed",
        started.elapsed().as_secs_f64()
    );

    let login = post(
        &client,
        &format!("{base}/auth/login"),
        None,
        json!({"phone": "13700000001", "password": PASSWORD}),
    )
    .await;
    let token = login["access_token"].as_str().unwrap().to_string();
    let overdue = read_load(
        &client,
        format!("{base}/work-orders?overdue=true&limit=50"),
        token.clone(),
        4,
        secs,
    )
    .await;
    println!(
        "| {label} | GET /work-orders?overdue=true (one town of {orders} orders), 4 clients | {} | {:.0}/s | {} | {} |",
        overdue.count, overdue.per_sec, ms(overdue.p50), ms(overdue.p99)
    );
    let today = now.date_naive();
    let quarter_start = NaiveDate::from_ymd_opt(today.year(), ((today.month() - 1) / 3) * 3 + 1, 1)
        .unwrap()
        - Days::days(92);
    let quarter_end = quarter_start + Days::days(91);
    let url = format!("{base}/compliance?group_by=unit&from={quarter_start}&to={quarter_end}");
    let compliance = read_load(&client, url.clone(), token, 4, secs).await;
    println!(
        "| {label} | GET /compliance?group_by=unit, a quarter (one town of {orders} orders), 4 clients | {} | {:.0}/s | {} | {} |",
        compliance.count, compliance.per_sec, ms(compliance.p50), ms(compliance.p99)
    );
    let county_wide = read_load(&client, url, admin, 4, secs).await;
    println!(
        "| {label} | GET /compliance?group_by=unit, a quarter (whole county, {orders} orders), 4 clients | {} | {:.0}/s | {} | {} |",
        county_wide.count, county_wide.per_sec, ms(county_wide.p50), ms(county_wide.p99)
    );

    let origin = base.trim_end_matches("/api/v1").to_string();
    let cookie = page_session(&origin, "13700000001").await;
    let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
    let last_month = (month_start - Days::days(1)).format("%Y-%m");
    for (what, path) in [
        ("GET /desk/overdue (超期工单)", "/desk/overdue".to_string()),
        (
            "GET /desk/compliance, a quarter by unit (履约统计)",
            format!("/desk/compliance?group=unit&from={quarter_start}&to={quarter_end}"),
        ),
        (
            "GET /desk/bulletin, last month (督查通报)",
            format!("/desk/bulletin?month={last_month}"),
        ),
    ] {
        let page = page_load(&client, format!("{origin}{path}"), cookie.clone(), 4, secs).await;
        println!(
            "| {label} | {what} (one town of {orders} orders), 4 clients | {} | {:.0}/s | {} | {} |",
            page.count, page.per_sec, ms(page.p50), ms(page.p99)
        );
    }
}

fn main() {
    let secs = env_num("MINQING_BENCH_SECS", 10);
    let orders = env_num("MINQING_BENCH_ORDERS", 1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("| backend | what | requests | rate | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    // MINQING_BENCH_SQLITE=0 measures PostgreSQL alone.
    if env_num("MINQING_BENCH_SQLITE", 1) != 0 {
        runtime.block_on(run("SQLite", TestDatabase::sqlite(), secs, orders));
    }
    let postgres = std::env::var("MINQING_BENCH_POSTGRES")
        .ok()
        .or_else(minqing_e2e::postgres_server);
    match postgres {
        Some(server) => runtime.block_on(run("PostgreSQL", TestDatabase::postgres(&server), secs, orders)),
        None => eprintln!("PostgreSQL skipped: set MINQING_BENCH_POSTGRES (or MINQING_TEST_POSTGRES) to a server URL"),
    }
}
