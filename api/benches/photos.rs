//! Photo-reuse benchmark: with 1,000,000 check-in photos stored, how long one new photo's
//! `photo_reused` lookup takes (`evidence::earlier_use`: candidates by content hash and by
//! the eight indexed 16-bit bands within one bit of any of the photo's 16 window hashes,
//! then the full distance in Rust), on SQLite and on PostgreSQL (MINQING_BENCH_POSTGRES or
//! MINQING_TEST_POSTGRES).
//!
//! The stored hashes are uniformly random (generated in SQL, foreign keys off while loading),
//! which is the best case for band lookups; real photos share more band values. 200 of the
//! looked-up photos have a stored near copy (6 bits from one of their windows), stored by
//! the same code a check-in uses, and must be found; the other 300 have none.
//!
//! Run: `cargo bench --bench photos` (MINQING_BENCH_PHOTOS changes the size).

use std::time::Instant;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use minqing_api::db::checkins::{self, CheckinRow};
use minqing_api::db::media::{self, MediaRow};
use minqing_api::db::models::{OrgUnitRow, UserRow};
use minqing_api::db::{org, users, Db, DbConn};
use minqing_api::domain::photo_hash::{to_text, PhotoHash};
use minqing_api::evidence::earlier_use;
use minqing_e2e::TestDatabase;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "support.rs"]
mod support;
use support::{analyze, env_num, ms};

const MATCHED: usize = 200;
const UNMATCHED: usize = 300;

/// A new photo's 16 window hashes: one base, the others a few bits from it, as the crop
/// guesses of a real photo are.
fn windows(rng: &mut StdRng) -> Vec<PhotoHash> {
    let base: PhotoHash = rng.random();
    let mut out = vec![base];
    for _ in 1..16 {
        let flips = rng.random_range(2..9);
        out.push((0..flips).fold(base, |h, _| h ^ (1 << rng.random_range(0..128))));
    }
    out
}

fn media_row(id: String, hashes: &[PhotoHash]) -> MediaRow {
    MediaRow {
        sha256: format!("{id:0>64}"),
        id,
        uploader_id: None,
        width: 640,
        height: 480,
        bytes: 50_000,
        exif_taken_at: None,
        exif_lat: None,
        exif_lon: None,
        created_at: Utc::now().naive_utc(),
        photo_hashes: Some(to_text(hashes)),
    }
}

/// Loads `count` check-in photos with random hashes, in SQL.
fn load_random(conn: &mut DbConn, count: u64) {
    let sql = match conn {
        DbConn::Sqlite(..) => format!(
            "PRAGMA foreign_keys = OFF;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
             INSERT INTO checkin_photos (checkin_id, media_id, sha256, hash_high, hash_low,
                 band0, band1, band2, band3, band4, band5, band6, band7)
             SELECT printf('c%09d', i), printf('m%09d', i), printf('%064d', i), random(), random(),
                 random() & 65535, random() & 65535, random() & 65535, random() & 65535,
                 random() & 65535, random() & 65535, random() & 65535, random() & 65535
             FROM n;
             PRAGMA foreign_keys = ON;",
            last = count - 1
        ),
        DbConn::Pg(..) => format!(
            "SET session_replication_role = replica;
             INSERT INTO checkin_photos (checkin_id, media_id, sha256, hash_high, hash_low,
                 band0, band1, band2, band3, band4, band5, band6, band7)
             SELECT 'c' || lpad(i::text, 9, '0'), 'm' || lpad(i::text, 9, '0'), lpad(i::text, 64, '0'),
                 ((random() * 2 - 1) * 9.2e18)::bigint, ((random() * 2 - 1) * 9.2e18)::bigint,
                 floor(random() * 65536)::int, floor(random() * 65536)::int,
                 floor(random() * 65536)::int, floor(random() * 65536)::int,
                 floor(random() * 65536)::int, floor(random() * 65536)::int,
                 floor(random() * 65536)::int, floor(random() * 65536)::int
             FROM generate_series(0, {last}) AS i;
             SET session_replication_role = origin;",
            last = count - 1
        ),
    };
    let done = match conn {
        DbConn::Sqlite(c, _) => c.batch_execute(&sql),
        DbConn::Pg(c) => c.batch_execute(&sql),
    };
    done.expect("the random photos load");
}

fn run(label: &str, db: TestDatabase, count: u64) {
    let handle = Db::connect(&db.url, 2).unwrap();
    handle.migrate().unwrap();
    let mut conn = handle.conn().unwrap();
    let started = Instant::now();
    load_random(&mut conn, count);
    let loaded = started.elapsed();

    // A cadre and a village for the check-ins holding the near copies.
    let now = Utc::now().naive_utc();
    let village = OrgUnitRow {
        id: "v".into(),
        name: "村".into(),
        kind: "village".into(),
        parent_id: None,
        code: None,
        path: "/v/".into(),
        boundary: None,
        min_lon: None,
        min_lat: None,
        max_lon: None,
        max_lat: None,
        created_at: now,
        updated_at: now,
        photo_required_kinds: None,
    };
    org::insert(&mut conn, &village).unwrap();
    let cadre = UserRow {
        id: "u".into(),
        phone: "13700000001".into(),
        name: "干部".into(),
        password_hash: String::new(),
        role: "cadre".into(),
        org_unit_id: None,
        cadre_category: None,
        staff_type: None,
        rater_group: None,
        active: true,
        created_at: now,
        updated_at: now,
    };
    users::insert(&mut conn, &cadre).unwrap();
    let mut rng = StdRng::seed_from_u64(15);
    let mut queries = Vec::new();
    for q in 0..MATCHED + UNMATCHED {
        let new = windows(&mut rng);
        if q < MATCHED {
            // Stored earlier: 6 bits from one of the new photo's windows.
            let window = new[rng.random_range(0..new.len())];
            let stored = (0..6).fold(window, |h, i| h ^ (1 << (i * 19 % 128)));
            let held = media_row(format!("held{q}"), &[stored]);
            media::insert(&mut conn, &held).unwrap();
            let row = CheckinRow {
                id: format!("held-checkin-{q}"),
                user_id: "u".into(),
                kind: "night_visit".into(),
                village_id: "v".into(),
                org_path: "/v/".into(),
                lat: 29.08,
                lon: 119.65,
                crs: "wgs84".into(),
                reported_lat: 29.08,
                reported_lon: 119.65,
                accuracy_m: 10.0,
                recorded_at: now,
                received_at: now,
                night_date: now.date(),
                device_id: None,
                mock_location: false,
                note: None,
                household: None,
                status: "accepted".into(),
                flags: "[]".into(),
                request_hash: String::new(),
                stay_id: None,
                reviewed_by: None,
                reviewed_at: None,
                review_reason: None,
                session_id: None,
            };
            checkins::insert(&mut conn, &row, &[(held.id.clone(), held.sha256.clone())]).unwrap();
        }
        queries.push(media_row(format!("new{q}"), &new));
    }
    analyze(&mut conn);

    let mut times = Vec::with_capacity(queries.len());
    let mut found = 0;
    for (q, photo) in queries.iter().enumerate() {
        let t = Instant::now();
        let reuse = earlier_use(&mut conn, photo).unwrap();
        times.push(t.elapsed());
        match (q < MATCHED, reuse) {
            (true, Some(r)) => {
                assert_eq!(r.checkin_id, format!("held-checkin-{q}"));
                found += 1;
            }
            (false, Some(r)) => panic!("photo {q} matched {r:?} by chance"),
            _ => {}
        }
    }
    times.sort();
    let pick = |p: f64| ms(times[((times.len() - 1) as f64 * p) as usize]);
    println!(
        "{label}: {count} stored photos (loaded in {:.0} s); {} lookups: p50 {}, p99 {}, max {}; near copies found {found}/{MATCHED}",
        loaded.as_secs_f64(),
        times.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0),
    );
    assert_eq!(found, MATCHED, "every near copy is found");
}

fn main() {
    let count = env_num("MINQING_BENCH_PHOTOS", 1_000_000);
    run("SQLite", TestDatabase::sqlite(), count);
    let server = std::env::var("MINQING_BENCH_POSTGRES")
        .ok()
        .or_else(minqing_e2e::postgres_server);
    match server {
        Some(server) => run("PostgreSQL", TestDatabase::postgres(&server), count),
        None => {
            println!("PostgreSQL: skipped (set MINQING_BENCH_POSTGRES or MINQING_TEST_POSTGRES)")
        }
    }
}
