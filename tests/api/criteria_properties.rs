//! Properties of criteria actions, over random filter trees and action sequences (proptest):
//! a tree selects the same contacts on SQLite and PostgreSQL, and any sequence of actions
//! followed by as many undos leaves the lines exactly as they were.

use std::collections::BTreeSet;

use chrono::Utc;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Method;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, contact_nos, insert_log_entry, Db, TestApp};

const CITIES: &[Option<&str>] = &[Some("Oslo"), Some("Bergen"), Some("Ålesund"), Some("ÆRØ"), None];
const NAMES: &[&str] =
    &["Acme AS", "Bølgen Bar", "Ærlig Ost", "Fjord & Co", "Åse Lie", "Øystein 100%", "kari_n"];

/// About forty contacts with every field kind varied (Unicode names, missing values,
/// memberships, exclusion, privacy), and a few interaction log entries.
async fn seed(app: &TestApp) {
    for (table, code) in [("mailing-groups", "NEWS"), ("mailing-groups", "VIP"), ("industry-groups", "IT")] {
        let body = json!({"code": code, "description": code});
        let response = app
            .request_as(Method::POST, &format!("/v1/{table}"), Some(&app.admin_key))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_json(response, 201).await;
    }
    let mut items = Vec::new();
    for i in 0..12 {
        let city = CITIES[i % CITIES.len()];
        let groups: Vec<&str> = match i % 3 {
            0 => vec!["NEWS"],
            1 => vec!["NEWS", "VIP"],
            _ => vec![],
        };
        items.push(json!({
            "no": format!("C{i:02}"), "type": "company", "name": format!("{} {i}", NAMES[i % NAMES.len()]),
            "city": city, "mailing_group_codes": groups, "industry_group_codes": if i % 2 == 0 { vec!["IT"] } else { vec![] },
            "email": if i % 4 == 0 { Some(format!("c{i}@x.no")) } else { None },
            "correspondence_type": if i % 2 == 0 { "email" } else { "hard_copy" }, "exclude_from_segment": i == 5,
        }));
    }
    for i in 0..28 {
        let company = (i % 3 != 0).then(|| format!("C{:02}", i % 12));
        items.push(json!({
            "no": format!("P{i:02}"), "type": "person", "name": format!("{} {i}", NAMES[(i + 3) % NAMES.len()]),
            "company_no": company, "city": CITIES[(i + 1) % CITIES.len()],
            "mailing_group_codes": if i % 4 == 0 { vec!["VIP"] } else { vec![] },
            "email": if i % 2 == 0 { Some(format!("p{i}@x.no")) } else { None },
            "exclude_from_segment": i % 7 == 3, "privacy_blocked": i == 11,
        }));
    }
    let result = assert_json(app.post("/v1/contacts/bulk", &json!({"items": items})).await, 200).await;
    assert!(result["results"].as_array().unwrap().iter().all(|r| r["status"] == "created"), "{result}");
    for (entry_no, contact_no, template, date) in [
        (1_i64, "C00", "MAIL", "2026-02-01"),
        (2, "P01", "CALL", "2026-04-01"),
        (3, "P02", "MAIL", "2025-12-24"),
    ] {
        insert_log_entry(app, entry_no, contact_no, template, date, entry_no == 3);
    }
}

fn text_values() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "Oslo", "oslo", "Bergen", "Ålesund", "ålesund", "ÅLE", "sund", "ærø", "Ø", "a", "%", "_", "Acme",
    ])
    .prop_map(Value::from)
}

/// One condition on a contact field, with an operator its kind allows.
fn condition() -> impl Strategy<Value = Value> {
    let text_field = prop::sample::select(vec!["city", "name", "no", "company_no"]);
    let text_op = prop::sample::select(vec!["eq", "ne", "contains", "starts_with"]);
    let list_op = prop::sample::select(vec!["in", "not_in"]);
    let today = Utc::now().date_naive();
    // Text conditions weigh most: case folding and NULL handling are where backends differ.
    prop_oneof![
        6 => (text_field.clone(), text_op, text_values()).prop_map(|(f, o, v)| json!({"field": f, "op": o, "value": v})),
        2 => (text_field.clone(), list_op.clone(), prop::collection::vec(text_values(), 1..3))
            .prop_map(|(f, o, v)| json!({"field": f, "op": o, "value": v})),
        1 => (text_field, any::<bool>()).prop_map(|(f, b)| json!({"field": f, "op": "is_null", "value": b})),
        1 => (prop::sample::select(vec!["eq", "ne"]), prop::sample::select(vec!["company", "person"]))
            .prop_map(|(o, v)| json!({"field": "type", "op": o, "value": v})),
        1 => (list_op.clone(), prop::sample::subsequence(vec!["email", "hard_copy"], 1..=2))
            .prop_map(|(o, v)| json!({"field": "correspondence_type", "op": o, "value": v})),
        1 => any::<bool>().prop_map(|b| json!({"field": "has_email", "op": "eq", "value": b})),
        1 => (prop::sample::select(vec!["mailing_group", "industry_group"]), list_op, prop::sample::subsequence(vec!["NEWS", "VIP", "IT"], 1..=2))
            .prop_map(|(f, o, v)| json!({"field": f, "op": o, "value": v})),
        1 => (prop::sample::select(vec!["gte", "lte", "gt", "lt", "eq"]), -1_i64..=1).prop_map(move |(o, days)| {
            json!({"field": "created_at", "op": o, "value": (today + chrono::Duration::days(days)).to_string()})
        }),
        1 => (any::<bool>(), prop::sample::select(vec!["MAIL", "CALL"]), any::<bool>()).prop_map(|(exists, t, dated)| {
            let mut all = vec![json!({"field": "interaction_template_code", "op": "eq", "value": t})];
            if dated {
                all.push(json!({"field": "date", "op": "between", "value": ["2026-01-01", "2026-12-31"]}));
            }
            json!({"interactions": {"exists": exists, "where": {"all": all}}})
        }),
    ]
}

/// A random tree of conditions under all / any / not, up to four levels deep.
fn filter_tree() -> impl Strategy<Value = Value> {
    condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|all| json!({"all": all})),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|any| json!({"any": any})),
            inner.prop_map(|not| json!({"not": not})),
        ]
    })
}

/// `count` values of `strategy`, the same ones every run.
fn samples<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, count: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..count).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect()
}

/// The nos an `add` of the tree would take (the fixture is smaller than a preview page).
async fn selected(app: &TestApp, segment: i64, filter: &Value) -> BTreeSet<String> {
    let body = json!({"action": "add", "filter": filter, "ignore_exclusion": true, "allow_existing": true});
    let preview =
        assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions/preview"), &body).await, 200)
            .await;
    let nos = contact_nos(&preview);
    assert_eq!(preview["lines_added"].as_u64().unwrap() as usize, nos.len(), "{filter}");
    nos
}

async fn new_segment(app: &TestApp) -> i64 {
    assert_json(app.post("/v1/segments", &json!({"description": "Property"})).await, 201).await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn random_filter_trees_select_the_same_contacts_on_sqlite_and_postgres() {
    let sqlite = TestApp::spawn(Db::Sqlite).await;
    let postgres = TestApp::spawn(Db::Postgres).await;
    seed(&sqlite).await;
    seed(&postgres).await;
    let (on_sqlite, on_postgres) = (new_segment(&sqlite).await, new_segment(&postgres).await);
    let mut sizes = BTreeSet::new();
    for tree in samples(filter_tree(), 300) {
        let (a, b) =
            (selected(&sqlite, on_sqlite, &tree).await, selected(&postgres, on_postgres, &tree).await);
        assert_eq!(a, b, "the backends disagree on {tree}");
        sizes.insert(a.len());
    }
    // The trees are not all trivially empty or full.
    assert!(sizes.len() > 5, "selection sizes {sizes:?}");
}

/// A random action: kind, filter and the options that kind allows.
fn action() -> impl Strategy<Value = Value> {
    (0..3_usize, filter_tree(), any::<[bool; 4]>()).prop_map(|(kind, filter, flags)| match kind {
        0 => json!({"action": "add", "filter": filter, "allow_existing": flags[0], "expand_companies": flags[1],
                    "include_related_companies": flags[2], "ignore_exclusion": flags[3]}),
        1 => json!({"action": "remove", "filter": filter, "entire_companies": flags[0]}),
        _ => json!({"action": "refine", "filter": filter, "entire_companies": flags[0]}),
    })
}

async fn lines(app: &TestApp, segment: i64) -> Value {
    assert_json(app.get(&format!("/v1/segments/{segment}/lines?limit=1000")).await, 200).await["items"]
        .clone()
}

db_test!(any_sequence_of_actions_followed_by_as_many_undos_restores_the_lines, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    // Start from lines added by hand (one with an override) and by an action.
    let manual = json!({"contact_nos": ["P00", "C03", "P04", "P04"]});
    let added = assert_json(app.post(&format!("/v1/segments/{segment}/lines"), &manual).await, 201).await;
    let first = added["line_ids"][0].as_i64().unwrap();
    assert_json(
        app.patch(&format!("/v1/segments/{segment}/lines/{first}"), &json!({"subject": "Mine"})).await,
        200,
    )
    .await;
    let base = json!({"action": "add", "filter": {"field": "type", "op": "eq", "value": "company"}});
    assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions"), &base).await, 201).await;
    let before = lines(&app, segment).await;
    for sequence in samples(prop::collection::vec(action(), 1..5), 12) {
        for step in &sequence {
            assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions"), step).await, 201).await;
        }
        for _ in &sequence {
            assert_json(
                app.post(&format!("/v1/segments/{segment}/criteria-actions/undo"), &json!({})).await,
                200,
            )
            .await;
        }
        assert_eq!(lines(&app, segment).await, before, "after {}", Value::from(sequence));
    }
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(
        (header["no_of_lines"].as_u64(), header["no_of_criteria_actions"].as_u64()),
        (Some(before.as_array().unwrap().len() as u64), Some(1))
    );
});

/// The distinct contact nos of a segment's lines.
async fn line_contact_nos(app: &TestApp, segment: i64) -> BTreeSet<String> {
    lines(app, segment)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["contact_no"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(after_contacts_change_a_refresh_gives_the_contacts_a_fresh_replay_gives, |app| {
    seed(&app).await;
    let changes = [
        ("P01", json!({"city": "Oslo"})),
        ("P02", json!({"city": null})),
        ("C03", json!({"city": "Bergen", "exclude_from_segment": true})),
        ("P05", json!({"exclude_from_segment": false, "mailing_group_codes": ["NEWS"]})),
        ("C05", json!({"exclude_from_segment": false})),
        ("P07", json!({"name": "Ærlig Ost 7", "city": "ÆRØ"})),
    ];
    let contacts = assert_json(app.get("/v1/contacts?limit=1000").await, 200).await["items"].clone();
    let id_of = |no: &str| {
        contacts.as_array().unwrap().iter().find(|c| c["no"] == no).map(|c| c["id"].clone()).unwrap()
    };
    for (i, sequence) in samples(prop::collection::vec(action(), 1..5), 12).into_iter().enumerate() {
        let segment = new_segment(&app).await;
        for step in &sequence {
            assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions"), step).await, 201).await;
        }
        let code = format!("PROP{i}");
        let save = json!({"code": code, "description": "Property", "segment_id": segment});
        assert_json(app.post("/v1/saved-criteria", &save).await, 201).await;
        // Today's contacts differ from those the actions saw.
        let (no, change) = &changes[i % changes.len()];
        assert_json(app.patch(&format!("/v1/contacts/{}", id_of(no)), change).await, 200).await;
        let refresh = format!("/v1/segments/{segment}/refresh");
        let dry = assert_json(app.post(&refresh, &json!({"dry_run": true})).await, 200).await;
        let applied = assert_json(app.post(&refresh, &json!({})).await, 200).await;
        assert_eq!(
            (dry["joining"].clone(), dry["leaving"].clone()),
            (applied["joining"].clone(), applied["leaving"].clone())
        );
        let fresh = new_segment(&app).await;
        let apply = json!({"code": code});
        assert_json(app.post(&format!("/v1/segments/{fresh}/apply-saved-criteria"), &apply).await, 201).await;
        let context = format!("after {} and {no} changed by {change}", Value::from(sequence.clone()));
        assert_eq!(line_contact_nos(&app, segment).await, line_contact_nos(&app, fresh).await, "{context}");
        // Nothing is left to refresh.
        let again = assert_json(app.post(&refresh, &json!({"dry_run": true})).await, 200).await;
        assert_eq!((again["joining"].as_i64(), again["leaving"].as_i64()), (Some(0), Some(0)), "{context}");
    }
});
