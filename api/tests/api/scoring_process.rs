//! The process rules of scoring (issue #11): a closed period's check-ins are no longer
//! decided, ratings go only to periods a scheme scores, a period waits for its flagged
//! check-ins unless the admin forces the close with a reason, and live scores say how much
//! of their period is gone.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::browsing::{self, sign_in, text_of};
use crate::helpers::clock::at;
use crate::helpers::{checkin, spawn_app, TestApp, World, CENTRE};
use crate::scoring::{last_month, row, this_month};

/// Today in Shanghai.
fn local_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// The share of the days `first..=last` gone by on `today`, by hand: the whole days before
/// today over all the days, in percent rounded to a whole number; a period not over yet
/// never reads 100 %.
fn share(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> f64 {
    if today > last {
        return 1.0;
    }
    let days = ((last - first).num_days() + 1) as f64;
    let gone = (today - first).num_days().max(0) as f64;
    ((gone / days * 100.0).round()).min(99.0) / 100.0
}

/// A night visit by cadre 1 at 溪口村, `hh:00` local on `night` (+`days`); its receipt.
async fn visit(app: &TestApp, w: &World, (night, days, hh): (NaiveDate, i64, u32)) -> Value {
    let body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, days, hh, 0),
    );
    let reply = app.post("/checkins", &w.cadre1_token, body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

async fn close(app: &TestApp, period: &str, body: Option<Value>) -> crate::helpers::Reply {
    app.call(
        Method::POST,
        &format!("/scoring/periods/{period}/close"),
        Some(&app.admin),
        body,
    )
    .await
}

/// The message of the one problem with `field`.
fn message_of(reply: &crate::helpers::Reply, field: &str) -> String {
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(
        reply.error_fields(),
        vec![field.to_string()],
        "{:?}",
        reply.body
    );
    reply.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_checkin_of_a_closed_month_is_no_longer_reviewed() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let (period, first) = last_month();
    // Nothing waits in last month: it closes as an ordinary close.
    let closed = close(&app, &period, Some(json!({}))).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    assert_eq!(closed.body["flagged_left"], 0);
    assert!(
        closed.body.get("forced_reason").is_none(),
        "{:?}",
        closed.body
    );

    // Synced late, a visit of the closed month arrives flagged; deciding it would change
    // frozen scores.
    let late = visit(&app, &w, (first + Duration::days(9), 0, 20)).await;
    assert_eq!(late["status"], "flagged", "{late}");
    let id = late["id"].as_str().unwrap().to_string();
    for decision in ["approve", "reject"] {
        let refused = app
            .post(
                &format!("/checkins/{id}/review"),
                &w.sup1_token,
                json!({"decision": decision, "reason": "已电话核实"}),
            )
            .await;
        assert_eq!(refused.status, 409, "{:?}", refused.body);
        let night = first + Duration::days(9);
        assert_eq!(
            refused.body["detail"],
            format!(
                "this check-in counts toward the night of {night}, and period {period} is closed; its scores are frozen"
            )
        );
    }
    let stored = app.get(&format!("/checkins/{id}"), &w.sup1_token).await;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    assert_eq!(stored.body["status"], "flagged", "{:?}", stored.body);
    assert!(stored.body["review"].is_null(), "{:?}", stored.body);

    // A rating for the closed month answers the same way, from the same words.
    let rated = app
        .put(
            "/scoring/ratings",
            &w.sup1_token,
            json!({"period": period, "ratee_id": w.cadre1, "score": 90}),
        )
        .await;
    assert_eq!(rated.status, 409, "{:?}", rated.body);
    assert_eq!(
        rated.body["detail"],
        format!("period {period} is closed; its scores are frozen")
    );
}

#[tokio::test]
async fn a_rating_for_a_period_no_scheme_scores_is_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    let leader = app
        .user(json!({"name": "赵镇长", "phone": "13900000031", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "leadership"}))
        .await;
    let today = local_today();
    let (month, quarter, year) = (
        this_month(),
        format!("{}-Q{}", today.year(), today.month().div_ceil(3)),
        today.year().to_string(),
    );
    let rate = |period: String, ratee: String| {
        let app = &app;
        let token = w.sup1_token.clone();
        async move {
            app.put(
                "/scoring/ratings",
                &token,
                json!({"period": period, "ratee_id": ratee, "score": 85}),
            )
            .await
        }
    };
    // The seeded schemes: organ cadres by month, the leadership by quarter (its year the
    // mean of the quarters).
    assert_eq!(
        message_of(&rate(quarter.clone(), w.cadre1.clone()).await, "period"),
        "no scheme scores organ cadres by quarter"
    );
    assert_eq!(
        message_of(&rate(year.clone(), w.cadre1.clone()).await, "period"),
        "no scheme scores organ cadres by year"
    );
    assert_eq!(
        message_of(&rate(month.clone(), leader.clone()).await, "period"),
        "no scheme scores leadership cadres by month"
    );
    assert_eq!(
        message_of(&rate(year, leader.clone()).await, "period"),
        "no scheme scores leadership cadres by year; rate them for a quarter"
    );
    let accepted = rate(month.clone(), w.cadre1.clone()).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let accepted = rate(quarter.clone(), leader.clone()).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    // Nothing refused was kept: the organ cadre's month counts one rating, and only it.
    let explained = app
        .get(
            &format!("/scores/{}?period={month}", w.cadre1),
            &w.sup1_token,
        )
        .await;
    assert_eq!(explained.status, 200, "{:?}", explained.body);
    assert_eq!(explained.body["democratic_detail"]["raters"], 1);
    assert_eq!(explained.body["democratic_detail"]["score"], 85.0);
}

#[tokio::test]
async fn a_period_waits_for_its_flagged_checkins_unless_the_close_is_forced() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let (period, first) = last_month();
    // Three visits of last month's nights, synced late and so flagged; one is approved.
    let mut ids = Vec::new();
    for (n, hh) in [(3, 20), (8, 21), (14, 19)] {
        let receipt = visit(&app, &w, (first + Duration::days(n), 0, hh)).await;
        assert_eq!(receipt["status"], "flagged", "{receipt}");
        ids.push(receipt["id"].as_str().unwrap().to_string());
    }
    let approved = app
        .post(
            &format!("/checkins/{}/review", ids[0]),
            &w.sup1_token,
            json!({"decision": "approve", "reason": "已电话核实"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    // Flagged too, but of nights outside the month: ten days before it, and the night
    // before its first day (recorded at 01:00 on that first day, it belongs to that night).
    let mut outside_ids = Vec::new();
    for (night, days, hh) in [
        (first - Duration::days(10), 0, 20),
        (first - Duration::days(1), 1, 1),
    ] {
        let outside = visit(&app, &w, (night, days, hh)).await;
        assert_eq!(outside["status"], "flagged", "{outside}");
        outside_ids.push(outside["id"].as_str().unwrap().to_string());
    }

    // 2 of last month's wait: no close without `force` (no body, `null`, `{}`, or false).
    let expected =
        format!("2 flagged check-ins of {period} await review; review them, or force the close with a reason");
    for body in [
        None,
        Some(Value::Null),
        Some(json!({})),
        Some(json!({"force": false, "reason": "不强制"})),
    ] {
        let refused = close(&app, &period, body).await;
        assert_eq!(refused.status, 409, "{:?}", refused.body);
        assert_eq!(refused.body["detail"], expected);
    }
    // Forcing needs a reason of 1 to 500 characters.
    for body in [
        json!({"force": true}),
        json!({"force": true, "reason": "   "}),
        json!({"force": true, "reason": "因".repeat(501)}),
    ] {
        let refused = close(&app, &period, Some(body)).await;
        assert_eq!(
            message_of(&refused, "reason"),
            "forcing a close needs a reason of 1 to 500 characters"
        );
    }
    let unknown = close(&app, &period, Some(json!({"force": true, "why": "x"}))).await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
    // Nothing was closed meanwhile: the month is still scored live.
    let live = app
        .get(
            &format!("/scores?period={period}&category=organ"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(row(&live.body, &w.cadre1)["frozen"], false);

    let forced = close(
        &app,
        &period,
        Some(json!({"force": true, "reason": "  县考核办要求月初出结果  "})),
    )
    .await;
    assert_eq!(forced.status, 200, "{:?}", forced.body);
    assert_eq!(forced.body["forced_reason"], "县考核办要求月初出结果");
    assert_eq!(forced.body["flagged_left"], 2);
    assert_eq!(forced.body["period"], period.as_str());
    let frozen = app
        .get(
            &format!("/scores?period={period}&category=organ"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(row(&frozen.body, &w.cadre1)["frozen"], true);

    // The audit log keeps that it was forced, why, and what was left.
    let audit = app.get("/audit?action=period.close", &app.admin).await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let entries = audit.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["target_id"], period.as_str());
    let detail = &entries[0]["detail"];
    assert_eq!(detail["forced"], true, "{detail}");
    assert_eq!(detail["reason"], "县考核办要求月初出结果", "{detail}");
    assert_eq!(detail["flagged_left"], 2, "{detail}");

    // The two left flagged can no longer be decided, so the desk's review queue no longer
    // offers them; the month before, still open, keeps its own.
    let session = crate::browsing::sign_in(&app, "13900000001", crate::helpers::PASSWORD).await;
    let queue = crate::browsing::get(&app, Some(&session), "/desk/review").await;
    assert_eq!(queue.status, 200);
    let html = queue.html();
    for left in &ids[1..] {
        assert!(!html.contains(left.as_str()), "{left} is still offered");
    }
    for open in &outside_ids {
        assert!(html.contains(open.as_str()), "{open} is missing");
    }

    // Closed now: once more, forced or not, is 409.
    let again = close(
        &app,
        &period,
        Some(json!({"force": true, "reason": "再来"})),
    )
    .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(
        again.body["detail"],
        format!("period {period} is closed already")
    );
}

#[tokio::test]
async fn live_scores_say_how_much_of_their_period_is_gone() {
    let app = spawn_app().await;
    let w = app.world().await;
    let leader = app
        .user(json!({"name": "赵镇长", "phone": "13900000031", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "leadership"}))
        .await;
    let (last, first_of_last) = last_month();
    let before_last = (first_of_last - Duration::days(1))
        .format("%Y-%m")
        .to_string();
    let closed = close(&app, &last, None).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);

    let today = local_today();
    let this = this_month();
    let first = today.with_day(1).unwrap();
    let month_end = (first + Duration::days(32)).with_day(1).unwrap() - Duration::days(1);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap();
    let year_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap();
    let list = app
        .get(
            &format!("/scores?period={this}&category=organ"),
            &w.sup1_token,
        )
        .await;
    let explained = app
        .get(
            &format!("/scores/{}?period={this}", w.cadre1),
            &w.cadre1_token,
        )
        .await;
    let yearly = app
        .get(
            &format!("/scores?period={}&category=leadership", today.year()),
            &w.sup1_token,
        )
        .await;
    let sup1 = sign_in(&app, "13900000001", crate::helpers::PASSWORD).await;
    let desk = browsing::get(
        &app,
        Some(&sup1),
        &format!("/desk/scores?period={this}&category=organ"),
    )
    .await
    .html();
    // Worked out for the day the answers were given (a test that spans midnight says nothing).
    if local_today() == today {
        let month_share = share(first, month_end, today);
        let live = row(&list.body, &w.cadre1);
        assert_eq!(live["frozen"], false, "{live}");
        assert_eq!(live["elapsed"].as_f64(), Some(month_share), "{live}");
        assert!(month_share < 1.0, "a running month is never whole");
        assert_eq!(explained.status, 200, "{:?}", explained.body);
        assert_eq!(explained.body["frozen"], false);
        assert_eq!(explained.body["elapsed"].as_f64(), Some(month_share));
        let year = row(&yearly.body, &leader);
        assert_eq!(year["frozen"], false, "{year}");
        assert_eq!(
            year["elapsed"].as_f64(),
            Some(share(year_start, year_end, today)),
            "{year}"
        );
        assert_eq!(
            text_of(&desk, "standing").as_deref(),
            Some(
                format!(
                    "本月进行中：已过 {}%，分数随记录变化",
                    (month_share * 100.0).round()
                )
                .as_str()
            ),
            "the desk says the month is still running"
        );
    }

    // Over but not closed: still live, and all of it gone.
    let over = app
        .get(
            &format!("/scores?period={before_last}&category=organ"),
            &w.sup1_token,
        )
        .await;
    let over = row(&over.body, &w.cadre1);
    assert_eq!(
        (over["frozen"].clone(), over["elapsed"].clone()),
        (json!(false), json!(1.0))
    );
    // Closed: frozen, and whole.
    let closed = app
        .get(
            &format!("/scores?period={last}&category=organ"),
            &w.sup1_token,
        )
        .await;
    let closed = row(&closed.body, &w.cadre1);
    assert_eq!(
        (closed["frozen"].clone(), closed["elapsed"].clone()),
        (json!(true), json!(1.0))
    );
    let desk = browsing::get(
        &app,
        Some(&sup1),
        &format!("/desk/scores?period={last}&category=organ"),
    )
    .await
    .html();
    let standing = text_of(&desk, "standing").unwrap_or_default();
    assert!(standing.starts_with("已结算"), "{standing}");
}

/// Rows frozen before `elapsed` existed read as whole.
#[test]
fn a_row_frozen_without_elapsed_reads_as_whole() {
    let stored = json!({"user_id": "u", "name": "李明", "category": "organ", "period": "2026-10",
        "total": 80.5, "rank": 1, "of": 1, "democratic": 0.0,
        "democratic_detail": {"score": 0.0, "points": 0.0, "raters": 0}, "adjustments": 0.0,
        "veto": false, "veto_areas": [], "grade": "good", "flags": [], "breakdown": [],
        "scheme_id": "s", "scheme_version": 1, "frozen": true});
    let row: minqing_protocol::ScoreRow = serde_json::from_value(stored).unwrap();
    assert_eq!(row.elapsed, 1.0);
}
