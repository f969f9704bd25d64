//! The demo county (`minqing serve --demo`) as its users see it over the API (issue #11): big
//! enough to show every scoring rule — each town ranks eight organ and four village cadres
//! with a top and a bottom — and obeying the rules it shows: every two-signature item signed
//! by two supervisors of the cadre's own town, one problem record cleared the real way.

use std::collections::HashMap;

use minqing_api::db::Db;
use serde_json::Value;

use crate::helpers::{spawn_app, test_config, TestApp};
use crate::scoring::{last_month, this_month};

/// Loads the demo into the app's database, as `minqing serve --demo` does.
async fn with_demo() -> TestApp {
    let app = spawn_app().await;
    let url = app.db.url.clone();
    let timezone = test_config(&app.db).timezone;
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url, 1).expect("the database opens");
        minqing_api::demo::load(&db, timezone).expect("the demo loads");
    })
    .await
    .expect("the demo loader ran");
    app
}

/// Every item of an admin's list, `limit=500`.
async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let reply = app.get(&format!("{path}{sep}limit=500"), &app.admin).await;
    assert_eq!(reply.status, 200, "GET {path}: {:?}", reply.body);
    assert!(reply.body["next_cursor"].is_null(), "one page of {path}");
    reply.body["items"].as_array().expect("items").clone()
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_string()
}

/// The county's people as the admin sees them: each user's town (name), role and name.
struct People {
    users: HashMap<String, Value>,
    town: HashMap<String, String>,
}

impl People {
    async fn of(app: &TestApp) -> People {
        let units: HashMap<String, Value> = items(app, "/org-units")
            .await
            .into_iter()
            .map(|u| (text(&u, "id"), u))
            .collect();
        let town_of_unit = |id: &str| -> Option<String> {
            let unit = units.get(id)?;
            match unit["kind"].as_str()? {
                "town" => Some(text(unit, "name")),
                "village" => units
                    .get(unit["parent_id"].as_str()?)
                    .map(|t| text(t, "name")),
                _ => None,
            }
        };
        let users: HashMap<String, Value> = items(app, "/users")
            .await
            .into_iter()
            .map(|u| (text(&u, "id"), u))
            .collect();
        let town = users
            .iter()
            .filter_map(|(id, u)| town_of_unit(u["org_unit_id"].as_str()?).map(|t| (id.clone(), t)))
            .collect();
        People { users, town }
    }

    fn by_name(&self, name: &str) -> &Value {
        self.users
            .values()
            .find(|u| u["name"] == name)
            .unwrap_or_else(|| panic!("{name} is a demo user"))
    }

    fn town(&self, id: &str) -> &str {
        self.town
            .get(id)
            .unwrap_or_else(|| panic!("user {id} belongs to a town"))
    }

    /// Two different supervisors of the cadre's own town signed: `first` and `second`.
    fn signed_in_town(&self, cadre: &str, first: &str, second: &str, what: &Value) {
        assert_ne!(first, second, "two different signatures: {what}");
        for signer in [first, second] {
            let user = &self.users[signer];
            assert_eq!(user["role"], "supervisor", "{user} signed {what}");
            assert_eq!(
                self.town(signer),
                self.town(cadre),
                "{user} of another town signed {what}"
            );
        }
    }
}

#[tokio::test]
async fn the_demo_county_shows_every_scoring_rule_and_keeps_to_them() {
    let app = with_demo().await;
    let (period, _) = last_month();
    let people = People::of(&app).await;
    let towns = ["青山镇", "云岭镇"];

    // Each town has at least eight organ and four village cadres, with Chinese names.
    for town in towns {
        for (category, least) in [("organ", 8), ("village", 4)] {
            let cadres: Vec<&Value> = people
                .users
                .iter()
                .filter(|(id, u)| {
                    u["role"] == "cadre"
                        && u["cadre_category"] == category
                        && people.town.get(*id).is_some_and(|t| t == town)
                })
                .map(|(_, u)| u)
                .collect();
            assert!(
                cadres.len() >= least,
                "{town} has {} {category} cadres",
                cadres.len()
            );
            for cadre in cadres {
                let name = text(cadre, "name");
                assert!(
                    name.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{name}"
                );
            }
        }
    }

    // Last month is closed: in each town and category the frozen scores differ, its top is
    // graded at least 良好 and holds an achievement record, its bottom a problem record.
    let records = items(&app, "/records").await;
    let of_month: Vec<&Value> = records.iter().filter(|r| r["period"] == period).collect();
    for category in ["organ", "village"] {
        let scores = items(
            &app,
            &format!("/scores?period={period}&category={category}"),
        )
        .await;
        for town in towns {
            let mut ranked: Vec<&Value> = scores
                .iter()
                .filter(|s| people.town(s["user_id"].as_str().unwrap()) == town)
                .collect();
            assert!(ranked.iter().all(|s| s["frozen"] == true), "{ranked:?}");
            ranked.sort_by_key(|s| s["town_rank"].as_u64());
            let (top, bottom) = (ranked[0], ranked[ranked.len() - 1]);
            assert!(
                top["total"].as_f64() > bottom["total"].as_f64(),
                "{town} {category}: {top} over {bottom}"
            );
            assert!(
                matches!(top["grade"].as_str(), Some("good" | "excellent")),
                "{top}"
            );
            let record_of = |user: &Value, kind: &str| {
                of_month
                    .iter()
                    .any(|r| r["user_id"] == user["user_id"] && r["kind"] == kind)
            };
            assert!(record_of(top, "achievement"), "{town} {category}: {top}");
            assert!(record_of(bottom, "problem"), "{town} {category}: {bottom}");
        }
    }

    // One problem record was rectified by its cadre and cleared (销号) by a supervisor of the
    // cadre's town: both steps are in its history.
    let cleared: Vec<&&Value> = of_month
        .iter()
        .filter(|r| r["status"] == "cleared")
        .collect();
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    let record = cleared[0];
    let owner = text(record, "user_id");
    let steps = record["history"].as_array().expect("a history");
    let actions: Vec<&str> = steps.iter().filter_map(|s| s["action"].as_str()).collect();
    assert_eq!(actions, ["rectified", "approved"], "{record}");
    assert_eq!(steps[0]["actor_id"], owner, "the cadre rectified: {record}");
    assert!(steps[0]["evidence"].is_string(), "{record}");
    let verifier = text(&steps[1], "actor_id");
    assert_eq!(people.users[&verifier]["role"], "supervisor", "{record}");
    assert_eq!(people.town(&verifier), people.town(&owner), "{record}");
    assert!(record["cleared_at"].is_string(), "{record}");

    // An approved veto, proposed and approved by two supervisors of the cadre's town.
    let vetoes = items(&app, "/scoring/vetoes?status=approved").await;
    assert!(!vetoes.is_empty(), "an approved veto");
    for veto in &vetoes {
        people.signed_in_town(
            &text(veto, "user_id"),
            &text(veto, "created_by"),
            &text(veto, "approved_by"),
            veto,
        );
    }

    // Approved 重点工作 values of last month, entered by one supervisor and signed off by
    // another of the town; and one of this month still waiting.
    let values = items(
        &app,
        &format!("/scoring/manual-values?period={period}&status=approved"),
    )
    .await;
    assert!(!values.is_empty(), "an approved manual value");
    for value in &values {
        people.signed_in_town(
            &text(value, "user_id"),
            &text(value, "entered_by"),
            &text(value, "approved_by"),
            value,
        );
    }
    let waiting = items(
        &app,
        &format!(
            "/scoring/manual-values?period={}&status=pending",
            this_month()
        ),
    )
    .await;
    assert!(!waiting.is_empty(), "a manual value waiting for sign-off");

    // 李明's bonus is approved by 孙丽 of his own town; every adjustment has two signatures
    // of the cadre's town.
    let adjustments = items(&app, &format!("/scoring/adjustments?period={period}")).await;
    let li = text(people.by_name("李明"), "id");
    let sun = text(people.by_name("青山镇督查办 孙丽"), "id");
    let bonus = adjustments
        .iter()
        .find(|a| a["user_id"] == li.as_str())
        .expect("李明's bonus");
    assert_eq!(bonus["points"], 2.0, "{bonus}");
    assert_eq!(bonus["approved_by"], sun.as_str(), "{bonus}");
    for adjustment in &adjustments {
        people.signed_in_town(
            &text(adjustment, "user_id"),
            &text(adjustment, "created_by"),
            &text(adjustment, "approved_by"),
            adjustment,
        );
    }
}
