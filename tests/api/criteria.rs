//! Criteria actions over HTTP: the filter tree, add/remove/refine with their options, line
//! order, preview, exact undo around manual edits, refresh, and every invalid-filter class.

use std::collections::BTreeSet;

use chrono::Utc;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, contact_nos, insert_log_entry, TestApp};
use crm_segments::db::schema::{segment_lines, segments};

/// Six contacts covering the field kinds:
/// - `C1` Acme AS, company, Oslo, NO, mailing group NEWS, industry group IT
/// - `P1` Kari Nordmann of C1, Oslo, email, salesperson SP1, job responsibility BUY
/// - `P2` Ola Hansen of C1, Bergen, no email, excluded from segments
/// - `C2` Bølgen Bar, company, Ålesund, email, correspondence by email
/// - `P3` Åse Lie of C2, Ålesund, privacy blocked
/// - `P4` Per Solo, no company, no city, language nb-NO, mailing group NEWS
async fn seed(app: &TestApp) {
    for (table, code) in [
        ("mailing-groups", "NEWS"),
        ("industry-groups", "IT"),
        ("job-responsibilities", "BUY"),
        ("business-relations", "PARTNER"),
    ] {
        let body = json!({"code": code, "description": code});
        let response = app
            .request_as(Method::POST, &format!("/v1/{table}"), Some(&app.admin_key))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_json(response, 201).await;
    }
    let salesperson = json!({"code": "SP1", "name": "Sally"});
    let response = app
        .request_as(Method::POST, "/v1/salespeople", Some(&app.admin_key))
        .json(&salesperson)
        .send()
        .await
        .unwrap();
    assert_json(response, 201).await;
    let items = json!({"items": [
        {"no": "C1", "type": "company", "name": "Acme AS", "city": "Oslo", "country_code": "NO", "post_code": "0150",
         "mailing_group_codes": ["NEWS"], "industry_group_codes": ["IT"], "business_relation_codes": ["PARTNER"]},
        {"no": "P1", "type": "person", "name": "Kari Nordmann", "company_no": "C1", "city": "Oslo",
         "email": "kari@acme.no", "salesperson_code": "SP1", "job_responsibility_codes": ["BUY"]},
        {"no": "P2", "type": "person", "name": "Ola Hansen", "company_no": "C1", "city": "Bergen",
         "territory_code": "WEST", "exclude_from_segment": true},
        {"no": "C2", "type": "company", "name": "Bølgen Bar", "city": "Ålesund", "county": "Møre og Romsdal",
         "email": "post@bolgen.no",
         "correspondence_type": "email"},
        {"no": "P3", "type": "person", "name": "Åse Lie", "company_no": "C2", "city": "Ålesund", "privacy_blocked": true},
        {"no": "P4", "type": "person", "name": "Per Solo", "language_code": "nb-NO", "mailing_group_codes": ["NEWS"]},
    ]});
    let result = assert_json(app.post("/v1/contacts/bulk", &items).await, 200).await;
    assert!(result["results"].as_array().unwrap().iter().all(|r| r["status"] == "created"), "{result}");
}

async fn new_segment(app: &TestApp) -> i64 {
    let body = assert_json(app.post("/v1/segments", &json!({"description": "Criteria"})).await, 201).await;
    body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, segment: i64, body: Value) -> Value {
    assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions"), &body).await, 201).await
}

/// The contact nos of the segment's live lines, in line order.
async fn line_nos(app: &TestApp, segment: i64) -> Vec<String> {
    let page = assert_json(app.get(&format!("/v1/segments/{segment}/lines?limit=1000")).await, 200).await;
    page["items"].as_array().unwrap().iter().map(|l| l["contact_no"].as_str().unwrap().to_owned()).collect()
}

pub fn set(nos: &[&str]) -> BTreeSet<String> {
    nos.iter().map(|s| s.to_string()).collect()
}

/// Who an `add` of `filter` (ignoring exclusion) would take, as a set of nos, read from a preview.
pub async fn selected(app: &TestApp, segment: i64, filter: Value) -> BTreeSet<String> {
    let body = json!({"action": "add", "filter": filter, "ignore_exclusion": true});
    let preview =
        assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions/preview"), &body).await, 200)
            .await;
    let nos = contact_nos(&preview);
    assert_eq!(preview["lines_added"].as_u64().unwrap() as usize, nos.len(), "{preview}");
    nos
}

db_test!(each_field_kind_and_operator_selects_exactly_the_fixture_s_contacts, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    // P3 is privacy blocked, so no filter ever selects it.
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"field": "no", "op": "eq", "value": "P1"}), &["P1"]),
        (json!({"field": "city", "op": "ne", "value": "Oslo"}), &["P2", "C2", "P4"]),
        (json!({"field": "city", "op": "in", "value": ["Oslo", "Bergen"]}), &["C1", "P1", "P2"]),
        (json!({"field": "city", "op": "not_in", "value": ["Oslo"]}), &["P2", "C2", "P4"]),
        (json!({"field": "city", "op": "is_null", "value": true}), &["P4"]),
        (json!({"field": "city", "op": "is_null", "value": false}), &["C1", "P1", "P2", "C2"]),
        // Case-insensitive and Unicode-aware on both backends.
        (json!({"field": "city", "op": "contains", "value": "LESU"}), &["C2"]),
        (json!({"field": "city", "op": "starts_with", "value": "åle"}), &["C2"]),
        (json!({"field": "name", "op": "contains", "value": "bØlgen"}), &["C2"]),
        (json!({"field": "name", "op": "starts_with", "value": "ola"}), &["P2"]),
        // LIKE wildcards are literal.
        (json!({"field": "name", "op": "contains", "value": "%"}), &[]),
        // eq compares exactly.
        (json!({"field": "city", "op": "eq", "value": "oslo"}), &[]),
        (json!({"field": "type", "op": "eq", "value": "company"}), &["C1", "C2"]),
        (json!({"field": "type", "op": "ne", "value": "company"}), &["P1", "P2", "P4"]),
        (json!({"field": "correspondence_type", "op": "in", "value": ["email"]}), &["C2"]),
        // A company's company no is its own.
        (json!({"field": "company_no", "op": "eq", "value": "C1"}), &["C1", "P1", "P2"]),
        (json!({"field": "company_no", "op": "is_null", "value": true}), &["P4"]),
        (json!({"field": "country_code", "op": "eq", "value": "NO"}), &["C1"]),
        // Each contact column is its own: a filter on one never reads another.
        (json!({"field": "post_code", "op": "eq", "value": "0150"}), &["C1"]),
        (json!({"field": "post_code", "op": "is_null", "value": false}), &["C1"]),
        (json!({"field": "county", "op": "contains", "value": "romsdal"}), &["C2"]),
        (json!({"field": "territory_code", "op": "in", "value": ["WEST"]}), &["P2"]),
        (json!({"field": "salesperson_code", "op": "eq", "value": "SP1"}), &["P1"]),
        (json!({"field": "language_code", "op": "starts_with", "value": "NB"}), &["P4"]),
        (json!({"field": "has_email", "op": "eq", "value": true}), &["P1", "C2"]),
        (json!({"field": "has_email", "op": "eq", "value": false}), &["C1", "P2", "P4"]),
        (json!({"field": "mailing_group", "op": "in", "value": ["NEWS"]}), &["C1", "P4"]),
        (json!({"field": "mailing_group", "op": "not_in", "value": ["NEWS"]}), &["P1", "P2", "C2"]),
        (json!({"field": "job_responsibility", "op": "in", "value": ["BUY"]}), &["P1"]),
        // Industry groups and business relations match persons through their company.
        (json!({"field": "industry_group", "op": "in", "value": ["IT"]}), &["C1", "P1", "P2"]),
        (json!({"field": "business_relation", "op": "not_in", "value": ["PARTNER"]}), &["C2", "P4"]),
        (
            json!({"field": "created_at", "op": "lte", "value": Utc::now().date_naive().to_string()}),
            &["C1", "P1", "P2", "C2", "P4"],
        ),
        (json!({"field": "created_at", "op": "gt", "value": Utc::now().date_naive().to_string()}), &[]),
        (
            json!({"field": "created_at", "op": "eq", "value": Utc::now().date_naive().to_string()}),
            &["C1", "P1", "P2", "C2", "P4"],
        ),
        (
            json!({"field": "updated_at", "op": "between", "value": ["2000-01-01", "2000-12-31T23:59:59Z"]}),
            &[],
        ),
        (
            json!({"all": [{"field": "city", "op": "eq", "value": "Oslo"}, {"field": "type", "op": "eq", "value": "person"}]}),
            &["P1"],
        ),
        (
            json!({"any": [{"field": "no", "op": "eq", "value": "P4"}, {"field": "no", "op": "eq", "value": "C2"}]}),
            &["C2", "P4"],
        ),
        // `not` is the exact complement, also where a value is missing.
        (json!({"not": {"field": "city", "op": "eq", "value": "Oslo"}}), &["P2", "C2", "P4"]),
        (json!({"all": []}), &["C1", "P1", "P2", "C2", "P4"]),
        (json!({"any": []}), &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(selected(&app, segment, filter.clone()).await, set(expected), "{filter}");
    }
});

db_test!(add_options_decide_who_joins_and_privacy_blocked_contacts_never_do, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    let companies = json!({"field": "type", "op": "eq", "value": "company"});
    // Without options: the companies only.
    let action = act(&app, segment, json!({"action": "add", "filter": companies})).await;
    assert_eq!(action["lines_added"], 2);
    assert_eq!(action["seq"], 1);
    // Again: contacts already in the segment are skipped...
    let again = act(&app, segment, json!({"action": "add", "filter": companies})).await;
    assert_eq!(again["lines_added"], 0);
    // ...unless allow_existing.
    let twice =
        act(&app, segment, json!({"action": "add", "filter": companies, "allow_existing": true})).await;
    assert_eq!(twice["lines_added"], 2);
    // expand_companies adds the persons of C1 and C2 but never the excluded P2 or the blocked P3.
    let expand = json!({"action": "add", "filter": companies, "expand_companies": true});
    assert_eq!(act(&app, segment, expand).await["lines_added"], 1);
    let with_excluded =
        json!({"action": "add", "filter": companies, "expand_companies": true, "ignore_exclusion": true});
    assert_eq!(act(&app, segment, with_excluded).await["lines_added"], 1);
    let mut nos = line_nos(&app, segment).await;
    nos.sort();
    assert_eq!(nos, ["C1", "C1", "C2", "C2", "P1", "P2"]);
    // include_related_companies brings a matching person's company.
    let other = new_segment(&app).await;
    let kari = json!({"field": "no", "op": "eq", "value": "P1"});
    let related =
        act(&app, other, json!({"action": "add", "filter": kari, "include_related_companies": true})).await;
    assert_eq!(related["lines_added"], 2);
    assert_eq!(line_nos(&app, other).await, ["C1", "P1"]);
    let header = assert_json(app.get(&format!("/v1/segments/{other}")).await, 200).await;
    assert_eq!(header["no_of_lines"], 2);
    assert_eq!(header["no_of_criteria_actions"], 1);
});

db_test!(new_lines_are_ordered_by_company_name_company_no_type_and_name, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    let everyone = json!({"action": "add", "filter": {"all": []}, "ignore_exclusion": true});
    act(&app, segment, everyone).await;
    // Acme AS and its persons (company first, then by name), Bølgen Bar, then Per Solo.
    assert_eq!(line_nos(&app, segment).await, ["C1", "P1", "P2", "C2", "P4"]);
});

db_test!(remove_and_refine_take_lines_by_contact_or_by_entire_company, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    act(&app, segment, json!({"action": "add", "filter": {"all": []}, "ignore_exclusion": true})).await;
    let bergen = json!({"field": "city", "op": "eq", "value": "Bergen"});
    let removed = act(&app, segment, json!({"action": "remove", "filter": bergen})).await;
    assert_eq!(removed["lines_removed"], 1);
    assert_eq!(line_nos(&app, segment).await, ["C1", "P1", "C2", "P4"]);
    // entire_companies: P2 (Bergen) is of C1, so C1 and all its persons go.
    let undone = assert_json(
        app.post(&format!("/v1/segments/{segment}/criteria-actions/undo"), &json!({})).await,
        200,
    )
    .await;
    assert_eq!(undone["lines_restored"], 1);
    let whole =
        act(&app, segment, json!({"action": "remove", "filter": bergen, "entire_companies": true})).await;
    assert_eq!(whole["lines_removed"], 3);
    assert_eq!(line_nos(&app, segment).await, ["C2", "P4"]);
    // refine keeps only the matching lines.
    let refine = act(
        &app,
        segment,
        json!({"action": "refine", "filter": {"field": "type", "op": "eq", "value": "person"}}),
    )
    .await;
    assert_eq!(refine["lines_removed"], 1);
    assert_eq!(line_nos(&app, segment).await, ["P4"]);
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(header["no_of_lines"], 1);
});

db_test!(undo_reverts_each_action_exactly_around_manual_edits_back_to_the_first, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    // A line added by hand, with an override.
    let manual = assert_json(
        app.post(&format!("/v1/segments/{segment}/lines"), &json!({"contact_nos": ["C2"]})).await,
        201,
    )
    .await;
    let manual_line = manual["line_ids"][0].as_i64().unwrap();
    assert_json(
        app.patch(&format!("/v1/segments/{segment}/lines/{manual_line}"), &json!({"subject": "Kept"})).await,
        200,
    )
    .await;
    let before = line_nos(&app, segment).await;
    // 1: add Oslo; 2: remove companies (takes the manual C2 line and C1).
    act(&app, segment, json!({"action": "add", "filter": {"field": "city", "op": "eq", "value": "Oslo"}}))
        .await;
    act(
        &app,
        segment,
        json!({"action": "remove", "filter": {"field": "type", "op": "eq", "value": "company"}}),
    )
    .await;
    assert_eq!(line_nos(&app, segment).await, ["P1"]);
    // Manual edits between actions: the person line added by action 1 is edited by hand.
    let lines = assert_json(app.get(&format!("/v1/segments/{segment}/lines")).await, 200).await;
    let p1_line = lines["items"][0]["id"].as_i64().unwrap();
    assert_json(
        app.patch(&format!("/v1/segments/{segment}/lines/{p1_line}"), &json!({"subject": "Edited"})).await,
        200,
    )
    .await;
    // Undo 2: C1 and the manual C2 line come back with their values and overrides.
    let undo = format!("/v1/segments/{segment}/criteria-actions/undo");
    let undone = assert_json(app.post(&undo, &json!({})).await, 200).await;
    assert_eq!((undone["lines_deleted"].as_i64(), undone["lines_restored"].as_i64()), (Some(0), Some(2)));
    let restored =
        assert_json(app.get(&format!("/v1/segments/{segment}/lines/{manual_line}")).await, 200).await;
    assert_eq!(restored["subject"], "Kept");
    assert_eq!(restored["overridden"], json!(["subject"]));
    // A line of action 1 deleted by hand stays deleted; the edited one goes with the undo.
    let c1_line = assert_json(app.get(&format!("/v1/segments/{segment}/lines?limit=10")).await, 200).await
        ["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["contact_no"] == "C1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.delete(&format!("/v1/segments/{segment}/lines/{c1_line}")).await.status(), 204);
    let undone = assert_json(app.post(&undo, &json!({})).await, 200).await;
    assert_eq!((undone["lines_deleted"].as_i64(), undone["lines_restored"].as_i64()), (Some(1), Some(0)));
    assert_eq!(line_nos(&app, segment).await, before);
    // Nothing left to undo.
    assert_problem(app.post(&undo, &json!({})).await, 409, "no-criteria-action").await;
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(
        (header["no_of_lines"].as_i64(), header["no_of_criteria_actions"].as_i64()),
        (Some(1), Some(0))
    );
    let hidden: i64 = segment_lines::table
        .filter(segment_lines::removed_by_action_id.is_not_null())
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(hidden, 0);
});

db_test!(the_action_history_lists_every_action_with_its_filter_and_options, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    let filter = json!({"all": [{"field": "city", "op": "in", "value": ["Oslo"]}]});
    let created =
        act(&app, segment, json!({"action": "add", "filter": filter, "expand_companies": true})).await;
    act(&app, segment, json!({"action": "refine", "filter": filter, "entire_companies": true})).await;
    let list =
        assert_json(app.get(&format!("/v1/segments/{segment}/criteria-actions?limit=1")).await, 200).await;
    assert_eq!(list["items"][0]["filter"], filter);
    assert_eq!(list["items"][0]["options"]["expand_companies"], true);
    assert_eq!(list["items"][0]["source"], "filter");
    let next = list["next_cursor"].as_str().unwrap();
    let rest =
        assert_json(app.get(&format!("/v1/segments/{segment}/criteria-actions?cursor={next}")).await, 200)
            .await;
    assert_eq!(rest["items"][0]["action"], "refine");
    assert_eq!(rest["next_cursor"], Value::Null);
    let one = assert_json(
        app.get(&format!("/v1/segments/{segment}/criteria-actions/{}", created["id"])).await,
        200,
    )
    .await;
    assert_eq!(one, created);
});

db_test!(a_remove_preview_counts_and_shows_without_writing, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    act(&app, segment, json!({"action": "add", "filter": {"all": []}})).await;
    let body = json!({"action": "refine", "filter": {"field": "city", "op": "eq", "value": "Oslo"}});
    let preview =
        assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions/preview"), &body).await, 200)
            .await;
    assert_eq!(preview["lines_removed"], 2);
    let nos: Vec<&str> =
        preview["contacts"].as_array().unwrap().iter().map(|c| c["contact_no"].as_str().unwrap()).collect();
    assert_eq!(nos, ["C2", "P4"]);
    assert_eq!(line_nos(&app, segment).await.len(), 4);
});

db_test!(refresh_replays_the_segment_s_actions_on_today_s_contacts, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    act(&app, segment, json!({"action": "add", "filter": {"field": "city", "op": "eq", "value": "Oslo"}}))
        .await;
    // A line added by hand never leaves; its override stays.
    assert_json(
        app.post(&format!("/v1/segments/{segment}/lines"), &json!({"contact_nos": ["P4"]})).await,
        201,
    )
    .await;
    // Today: Kari moves to Bergen, Ola moves to Oslo (and is no longer excluded).
    let kari = assert_json(app.get("/v1/contacts?q=kari").await, 200).await["items"][0]["id"].clone();
    let ola = assert_json(app.get("/v1/contacts?q=ola").await, 200).await["items"][0]["id"].clone();
    assert_json(app.patch(&format!("/v1/contacts/{kari}"), &json!({"city": "Bergen"})).await, 200).await;
    assert_json(
        app.patch(&format!("/v1/contacts/{ola}"), &json!({"city": "Oslo", "exclude_from_segment": false}))
            .await,
        200,
    )
    .await;
    let refresh = format!("/v1/segments/{segment}/refresh");
    let dry = assert_json(app.post(&refresh, &json!({"dry_run": true})).await, 200).await;
    assert_eq!((dry["joining"].as_i64(), dry["leaving"].as_i64()), (Some(1), Some(1)), "{dry}");
    assert_eq!(dry["joining_contacts"][0]["contact_no"], "P2");
    assert_eq!(dry["leaving_contacts"][0]["contact_no"], "P1");
    assert_eq!(dry["action"], Value::Null);
    assert_eq!(line_nos(&app, segment).await, ["C1", "P1", "P4"]);
    let applied = assert_json(app.post(&refresh, &json!({})).await, 200).await;
    assert_eq!(applied["action"]["action"], "refresh");
    assert_eq!(
        (applied["action"]["lines_added"].as_i64(), applied["action"]["lines_removed"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(line_nos(&app, segment).await, ["C1", "P4", "P2"]);
    // Refresh is undoable like any action.
    assert_json(app.post(&format!("/v1/segments/{segment}/criteria-actions/undo"), &json!({})).await, 200)
        .await;
    assert_eq!(line_nos(&app, segment).await, ["C1", "P1", "P4"]);
});

db_test!(every_invalid_filter_class_is_422_with_its_pointer_and_nothing_is_written, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    let deep = (0..9).fold(json!({"field": "no", "op": "eq", "value": "x"}), |node, _| json!({"not": node}));
    let wide: Vec<Value> = (0..201).map(|_| json!({"field": "no", "op": "eq", "value": "x"})).collect();
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({"all": [
                {"field": "nope", "op": "eq", "value": "x"},
                {"any": [{"field": "city", "op": "gt", "value": "x"}]},
                {"field": "has_email", "op": "eq", "value": "yes"},
                {"field": "city", "op": "in", "value": []},
                {"field": "created_at", "op": "between", "value": ["2026-01-01"]},
                {"interactions": {"exists": true, "where": {"field": "city", "op": "eq", "value": "x"}}},
                {"field": "type", "op": "eq", "value": "robot"},
                {"all": [], "any": []},
            ]}),
            vec![
                ("/filter/all/0/field", "unknown_field"),
                ("/filter/all/1/any/0/op", "invalid_operator"),
                ("/filter/all/2/value", "invalid_value"),
                ("/filter/all/3/value", "empty_list"),
                ("/filter/all/4/value", "invalid_value"),
                ("/filter/all/5/interactions/where/field", "unknown_field"),
                ("/filter/all/6/value", "invalid_value"),
                ("/filter/all/7", "invalid_node"),
            ],
        ),
        (deep, vec![("/filter/not/not/not/not/not/not/not/not", "too_deep")]),
        (json!({"all": wide}), vec![("/filter", "too_many_nodes")]),
        (json!([1]), vec![("/filter", "invalid_node")]),
        (
            json!({"field": "date", "op": "eq", "value": "2026-01-01"}),
            vec![("/filter/field", "unknown_field")],
        ),
        (
            json!({"field": "no", "op": "like", "value": "x", "extra": 1}),
            vec![("/filter/extra", "unknown_key"), ("/filter/op", "invalid_operator")],
        ),
    ];
    for (filter, expected) in cases {
        let body = json!({"action": "add", "filter": filter});
        for path in ["criteria-actions", "criteria-actions/preview"] {
            let response = app.post(&format!("/v1/segments/{segment}/{path}"), &body).await;
            let problem = assert_problem(response, 422, "validation-failed").await;
            let faults: Vec<(String, String)> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
                .collect();
            let expected: Vec<(String, String)> =
                expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
            assert_eq!(faults, expected, "{body}");
        }
    }
    // An operator the field does not allow names the field and the operators it does.
    let body = json!({"action": "add", "filter": {"field": "city", "op": "gt", "value": "x"}});
    let problem = assert_problem(
        app.post(&format!("/v1/segments/{segment}/criteria-actions"), &body).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        problem["errors"][0]["message"],
        "city allows eq, ne, in, not_in, contains, starts_with, is_null, not gt"
    );
    // Options that do not belong to the action.
    let body = json!({"action": "remove", "filter": {"all": []}, "expand_companies": true});
    let problem = assert_problem(
        app.post(&format!("/v1/segments/{segment}/criteria-actions"), &body).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "expand_companies");
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(
        (header["no_of_lines"].as_i64(), header["no_of_criteria_actions"].as_i64()),
        (Some(0), Some(0))
    );
});

db_test!(a_logged_segment_answers_409_to_every_criteria_operation, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    act(&app, segment, json!({"action": "add", "filter": {"all": []}})).await;
    diesel::update(segments::table.find(segment))
        .set(segments::status.eq("logged"))
        .execute(&mut *app.conn())
        .unwrap();
    let add = json!({"action": "add", "filter": {"all": []}});
    for (path, body) in [
        ("criteria-actions", add.clone()),
        ("criteria-actions/preview", add),
        ("criteria-actions/undo", json!({})),
        ("refresh", json!({"dry_run": true})),
    ] {
        assert_problem(
            app.post(&format!("/v1/segments/{segment}/{path}"), &body).await,
            409,
            "segment-logged",
        )
        .await;
    }
    assert_problem(
        app.post("/v1/segments/999999/criteria-actions", &json!({"action": "add", "filter": {"all": []}}))
            .await,
        404,
        "not-found",
    )
    .await;
});

db_test!(the_interaction_history_filter_selects_on_log_entries, |app| {
    seed(&app).await;
    let segment = new_segment(&app).await;
    for (entry_no, contact, template, date, canceled) in [
        (1_i64, "C1", "MAIL", "2026-03-01", false),
        (2, "P1", "CALL", "2026-05-01", false),
        (3, "P4", "MAIL", "2025-01-01", true),
    ] {
        insert_log_entry(&app, entry_no, contact, template, date, canceled);
    }
    let mail_in_2026 = json!({"all": [
        {"field": "interaction_template_code", "op": "eq", "value": "MAIL"},
        {"field": "date", "op": "between", "value": ["2026-01-01", "2026-06-30"]}]});
    let has =
        |exists: bool, condition: &Value| json!({"interactions": {"exists": exists, "where": condition}});
    assert_eq!(selected(&app, segment, has(true, &mail_in_2026)).await, set(&["C1"]));
    assert_eq!(selected(&app, segment, has(false, &mail_in_2026)).await, set(&["P1", "P2", "C2", "P4"]));
    assert_eq!(
        selected(&app, segment, json!({"interactions": {"exists": true}})).await,
        set(&["C1", "P1", "P4"])
    );
    let canceled = json!({"field": "canceled", "op": "eq", "value": true});
    assert_eq!(selected(&app, segment, has(true, &canceled)).await, set(&["P4"]));
    let after = json!({"field": "date", "op": "gt", "value": "2026-03-01"});
    assert_eq!(selected(&app, segment, has(true, &after)).await, set(&["P1"]));
    // The bounds include the day itself: an entry date is compared as a date, not as the
    // midnight timestamp (which SQLite, comparing text, would put after it).
    for (op, value, expected) in [
        ("eq", "2026-03-01", &["C1"][..]),
        ("gte", "2026-05-01", &["P1"]),
        ("lte", "2026-03-01", &["C1", "P4"]),
    ] {
        let on_the_day = json!({"field": "date", "op": op, "value": value});
        assert_eq!(selected(&app, segment, has(true, &on_the_day)).await, set(expected), "{on_the_day}");
    }
});

db_test!(saved_criteria_replay_a_segment_s_filters_on_a_fresh_segment, |app| {
    seed(&app).await;
    let source = new_segment(&app).await;
    let oslo = json!({"field": "city", "op": "eq", "value": "Oslo"});
    act(&app, source, json!({"action": "add", "filter": {"all": []}})).await;
    act(&app, source, json!({"action": "refine", "filter": oslo, "entire_companies": true})).await;
    let body = json!({"code": "OSLO-CO", "description": "Oslo companies", "segment_id": source});
    let saved = assert_json(app.post("/v1/saved-criteria", &body).await, 201).await;
    assert_eq!(saved["actions"].as_array().unwrap().len(), 2);
    assert_eq!(saved["actions"][1]["filter"], oslo);
    assert_eq!(saved["actions"][1]["options"]["entire_companies"], true);
    assert_problem(app.post("/v1/saved-criteria", &body).await, 409, "already-exists").await;
    let target = new_segment(&app).await;
    let applied = assert_json(
        app.post(&format!("/v1/segments/{target}/apply-saved-criteria"), &json!({"code": "OSLO-CO"})).await,
        201,
    )
    .await;
    let items = applied["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|a| a["source"] == "saved_criteria" && a["source_ref"] == "OSLO-CO"));
    assert_eq!(line_nos(&app, target).await, line_nos(&app, source).await);
    // Each replayed action is undoable on its own.
    assert_json(app.post(&format!("/v1/segments/{target}/criteria-actions/undo"), &json!({})).await, 200)
        .await;
    assert_eq!(line_nos(&app, target).await, ["C1", "P1", "C2", "P4"]);
    let list = assert_json(app.get("/v1/saved-criteria").await, 200).await;
    assert_eq!(list["items"][0]["code"], "OSLO-CO");
    let missing =
        app.post(&format!("/v1/segments/{target}/apply-saved-criteria"), &json!({"code": "NOPE"})).await;
    assert_problem(missing, 422, "validation-failed").await;
    let empty = new_segment(&app).await;
    let nothing = json!({"code": "EMPTY", "description": "x", "segment_id": empty});
    assert_problem(app.post("/v1/saved-criteria", &nothing).await, 422, "validation-failed").await;
    assert_eq!(app.get("/v1/saved-criteria/EMPTY").await.status(), 404);
    assert_eq!(app.delete("/v1/saved-criteria/OSLO-CO").await.status(), 204);
    assert_eq!(app.get("/v1/saved-criteria/OSLO-CO").await.status(), 404);
});
