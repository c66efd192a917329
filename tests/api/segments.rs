//! Segments over HTTP: headers, lines inheriting header values, overrides and their clearing.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{contacts, interaction_templates, salespeople, segments};

/// A template and a salesperson, inserted directly (their APIs are tested elsewhere).
fn seed_template(app: &TestApp, code: &str, cost_cents: i64, correspondence_type: Option<&str>) {
    let now = Utc::now().naive_utc();
    diesel::insert_into(interaction_templates::table)
        .values((
            interaction_templates::code.eq(code),
            interaction_templates::description.eq(format!("{code} template")),
            interaction_templates::information_flow.eq("outbound"),
            interaction_templates::initiated_by.eq("us"),
            interaction_templates::unit_cost_cents.eq(cost_cents),
            interaction_templates::unit_duration_min.eq(15_i64),
            interaction_templates::correspondence_type.eq(correspondence_type),
            interaction_templates::language_code.eq("en"),
            interaction_templates::ignore_contact_correspondence_type.eq(false),
            interaction_templates::version.eq(1_i64),
            interaction_templates::created_at.eq(now),
            interaction_templates::updated_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

fn seed_salesperson(app: &TestApp, code: &str) {
    let now = Utc::now().naive_utc();
    diesel::insert_into(salespeople::table)
        .values((
            salespeople::code.eq(code),
            salespeople::name.eq(code),
            salespeople::version.eq(1_i64),
            salespeople::created_at.eq(now),
            salespeople::updated_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

async fn contact(app: &TestApp, body: Value) -> i64 {
    assert_json(app.post("/v1/contacts", &body).await, 201).await["id"].as_i64().unwrap()
}

async fn segment(app: &TestApp, body: Value) -> Value {
    assert_json(app.post("/v1/segments", &body).await, 201).await
}

async fn add(app: &TestApp, segment_id: &Value, body: Value) -> Value {
    assert_json(app.post(&format!("/v1/segments/{segment_id}/lines"), &body).await, 201).await
}

async fn lines(app: &TestApp, segment_id: &Value) -> Vec<Value> {
    let page = assert_json(app.get(&format!("/v1/segments/{segment_id}/lines?limit=1000")).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

db_test!(a_segment_takes_its_number_date_and_the_template_defaults, |app| {
    seed_template(&app, "MAIL", 250, Some("email"));
    let s =
        segment(&app, json!({"description": "Spring mailing", "interaction_template_code": "MAIL"})).await;
    assert_eq!(s["no"], "SEG00001");
    assert_eq!(s["status"], "open");
    assert_eq!(s["date"], Utc::now().date_naive().to_string());
    assert_eq!(s["unit_cost"], "2.50");
    assert_eq!(s["unit_duration_min"], 15);
    assert_eq!(s["correspondence_type"], "email");
    assert_eq!(s["language_code"], "en");
    assert_eq!(s["information_flow"], "outbound");
    assert!(s["from_template"].as_array().unwrap().contains(&json!("unit_cost")));
    let explicit = segment(&app, json!({"interaction_template_code": "MAIL", "unit_cost": "9.99"})).await;
    assert_eq!(explicit["no"], "SEG00002");
    assert_eq!(explicit["unit_cost"], "9.99", "a header value set explicitly wins over the template");
});

db_test!(a_header_change_reaches_ten_thousand_inherited_lines_but_never_an_override, |app| {
    let ids: Vec<i64> = {
        let now = Utc::now().naive_utc();
        let rows: Vec<_> = (0..10_000)
            .map(|i| {
                (
                    contacts::no.eq(format!("K{i:05}")),
                    contacts::contact_type.eq("company"),
                    contacts::name.eq(format!("Company {i}")),
                    contacts::search_name.eq(format!("company {i}")),
                    contacts::exclude_from_segment.eq(false),
                    contacts::privacy_blocked.eq(false),
                    contacts::version.eq(1_i64),
                    contacts::created_at.eq(now),
                    contacts::updated_at.eq(now),
                )
            })
            .collect();
        let mut conn = app.conn();
        for chunk in rows.chunks(1000) {
            crm_segments::with_backend!(&mut *conn, |c| diesel::insert_into(contacts::table)
                .values(chunk)
                .execute(c))
            .unwrap();
        }
        contacts::table.select(contacts::id).order(contacts::id).load(&mut *conn).unwrap()
    };
    let s = segment(&app, json!({"description": "Big", "subject": "Old subject"})).await;
    let added = add(&app, &s["id"], json!({"contact_ids": ids})).await;
    assert_eq!(added["added"], 10_000);
    let first_line = added["line_ids"][0].as_i64().unwrap();
    let line_path = format!("/v1/segments/{}/lines/{first_line}", s["id"]);
    let overridden = assert_json(app.patch(&line_path, &json!({"subject": "Mine"})).await, 200).await;
    assert_eq!(overridden["overridden"], json!(["subject"]));

    let patched = assert_json(
        app.patch(&format!("/v1/segments/{}", s["id"]), &json!({"subject": "New subject"})).await,
        200,
    )
    .await;
    assert_eq!(patched["no_of_lines"], 10_000);

    let mut cursor: Option<String> = None;
    let (mut new, mut mine) = (0, 0);
    loop {
        let url = match &cursor {
            Some(c) => format!("/v1/segments/{}/lines?limit=1000&cursor={c}", s["id"]),
            None => format!("/v1/segments/{}/lines?limit=1000", s["id"]),
        };
        let page = assert_json(app.get(&url).await, 200).await;
        for line in page["items"].as_array().unwrap() {
            match line["subject"].as_str().unwrap() {
                "New subject" => new += 1,
                "Mine" => mine += 1,
                other => panic!("unexpected subject {other}"),
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!((new, mine), (9_999, 1));
});

db_test!(clearing_an_override_brings_the_header_value_back, |app| {
    seed_template(&app, "CALL", 1000, Some("hard_copy"));
    seed_salesperson(&app, "JO");
    let c = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({"interaction_template_code": "CALL", "subject": "Hello"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": c})).await["line_ids"][0].clone();
    let path = format!("/v1/segments/{}/lines/{line_id}", s["id"]);
    let line = assert_json(app.get(&path).await, 200).await;
    assert_eq!(line["cost"], "10.00", "cost comes from the template");
    assert_eq!(line["overridden"], json!([]));

    let changed = assert_json(
        app.patch(
            &path,
            &json!({"subject": "Hi Ann", "cost": 3.5, "salesperson_code": "JO", "evaluation": "positive"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["subject"], "Hi Ann");
    assert_eq!(changed["cost"], "3.50");
    assert_eq!(changed["evaluation"], "positive");
    assert_eq!(changed["overridden"], json!(["subject", "salesperson_code", "cost"]));

    let cleared = assert_json(app.patch(&path, &json!({"subject": null, "cost": null})).await, 200).await;
    assert_eq!(cleared["subject"], "Hello");
    assert_eq!(cleared["cost"], "10.00");
    assert_eq!(cleared["overridden"], json!(["salesperson_code"]));
    let totals = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(totals["total_cost"], "10.00");
});

db_test!(the_correspondence_type_follows_line_then_contact_then_header, |app| {
    seed_template(&app, "LTR", 0, Some("hard_copy"));
    let prefers_email =
        contact(&app, json!({"type": "company", "name": "E", "correspondence_type": "email"})).await;
    let no_preference = contact(&app, json!({"type": "company", "name": "N"})).await;
    let s = segment(&app, json!({"interaction_template_code": "LTR"})).await;
    add(&app, &s["id"], json!({"contact_ids": [prefers_email, no_preference]})).await;
    let types: Vec<Value> =
        lines(&app, &s["id"]).await.iter().map(|l| l["correspondence_type"].clone()).collect();
    assert_eq!(types, [json!("email"), json!("hard_copy")]);
    let warned = &lines(&app, &s["id"]).await[0];
    assert_eq!(warned["warnings"][0]["code"], "no_email", "email for a contact without address is reported");

    app.patch(&format!("/v1/segments/{}", s["id"]), &json!({"ignore_contact_correspondence_type": true}))
        .await;
    let types: Vec<Value> =
        lines(&app, &s["id"]).await.iter().map(|l| l["correspondence_type"].clone()).collect();
    assert_eq!(types, [json!("hard_copy"), json!("hard_copy")]);

    let email_lines =
        assert_json(app.get(&format!("/v1/segments/{}/lines?correspondence_type=email", s["id"])).await, 200)
            .await;
    assert_eq!(email_lines["items"].as_array().unwrap().len(), 0);
});

db_test!(adding_the_same_contact_twice_by_hand_makes_two_lines, |app| {
    let c = contact(&app, json!({"type": "company", "name": "A", "no": "C1"})).await;
    let s = segment(&app, json!({})).await;
    add(&app, &s["id"], json!({"contact_id": c})).await;
    add(&app, &s["id"], json!({"contact_nos": ["C1"]})).await;
    assert_eq!(lines(&app, &s["id"]).await.len(), 2);
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(header["no_of_lines"], 2);
});

db_test!(unknown_template_or_salesperson_codes_are_422_naming_the_field, |app| {
    let body = assert_problem(
        app.post("/v1/segments", &json!({"interaction_template_code": "NOPE"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "interaction_template_code");
    let s = segment(&app, json!({})).await;
    let body = assert_problem(
        app.patch(&format!("/v1/segments/{}", s["id"]), &json!({"salesperson_code": "NOBODY"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "salesperson_code");
    let c = contact(&app, json!({"type": "company", "name": "A"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": c})).await["line_ids"][0].clone();
    let body = assert_problem(
        app.patch(
            &format!("/v1/segments/{}/lines/{line_id}", s["id"]),
            &json!({"interaction_template_code": "NOPE"}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "interaction_template_code");
});

db_test!(unknown_and_privacy_blocked_contacts_are_refused_and_nothing_is_added, |app| {
    let ok = contact(&app, json!({"type": "company", "name": "A"})).await;
    let blocked = contact(&app, json!({"type": "company", "name": "B", "privacy_blocked": true})).await;
    let s = segment(&app, json!({})).await;
    let path = format!("/v1/segments/{}/lines", s["id"]);
    let body = assert_problem(
        app.post(&path, &json!({"contact_ids": [ok, blocked]})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "privacy_blocked");
    let body =
        assert_problem(app.post(&path, &json!({"contact_ids": [ok, 99999]})).await, 422, "validation-failed")
            .await;
    assert_eq!(body["errors"][0]["code"], "unknown_contact");
    let body =
        assert_problem(app.post(&path, &json!({"contact_nos": ["GHOST"]})).await, 422, "validation-failed")
            .await;
    assert_eq!(body["errors"][0]["field"], "contact_nos");
    assert_problem(
        app.post(&path, &json!({"contact_id": ok, "contact_ids": [ok]})).await,
        422,
        "validation-failed",
    )
    .await;
    assert!(lines(&app, &s["id"]).await.is_empty());
});

db_test!(lines_of_another_segment_are_404, |app| {
    let c = contact(&app, json!({"type": "company", "name": "A"})).await;
    let first = segment(&app, json!({})).await;
    let second = segment(&app, json!({})).await;
    let line_id = add(&app, &first["id"], json!({"contact_id": c})).await["line_ids"][0].clone();
    let foreign = format!("/v1/segments/{}/lines/{line_id}", second["id"]);
    assert_problem(app.get(&foreign).await, 404, "not-found").await;
    assert_problem(app.patch(&foreign, &json!({"subject": "x"})).await, 404, "not-found").await;
    assert_problem(app.delete(&foreign).await, 404, "not-found").await;
    let many = app
        .request(reqwest::Method::DELETE, &format!("/v1/segments/{}/lines", second["id"]))
        .json(&json!({"line_ids": [line_id]}))
        .send()
        .await
        .unwrap();
    assert_problem(many, 404, "not-found").await;
    assert_eq!(lines(&app, &first["id"]).await.len(), 1);
    assert_problem(app.get("/v1/segments/99999/lines").await, 404, "not-found").await;
});

db_test!(invalid_enums_and_dates_are_422, |app| {
    assert_problem(app.post("/v1/segments", &json!({"date": "2026-13-01"})).await, 422, "invalid-body").await;
    assert_problem(
        app.post("/v1/segments", &json!({"correspondence_type": "pigeon"})).await,
        422,
        "invalid-body",
    )
    .await;
    assert_problem(app.post("/v1/segments", &json!({"unit_cost": "1.234"})).await, 422, "invalid-body").await;
    let s = segment(&app, json!({})).await;
    let c = contact(&app, json!({"type": "company", "name": "A"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": c})).await["line_ids"][0].clone();
    let path = format!("/v1/segments/{}/lines/{line_id}", s["id"]);
    assert_problem(app.patch(&path, &json!({"evaluation": "great"})).await, 422, "invalid-body").await;
    assert_problem(app.patch(&path, &json!({"date": "yesterday"})).await, 422, "invalid-body").await;
});

db_test!(every_write_to_a_logged_segment_is_409, |app| {
    let c = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({"description": "Done"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": c})).await["line_ids"][0].clone();
    diesel::update(segments::table.find(s["id"].as_i64().unwrap()))
        .set(segments::status.eq("logged"))
        .execute(&mut *app.conn())
        .unwrap();
    let base = format!("/v1/segments/{}", s["id"]);
    assert_problem(app.patch(&base, &json!({"subject": "x"})).await, 409, "segment-logged").await;
    assert_problem(app.delete(&base).await, 409, "segment-logged").await;
    assert_problem(
        app.post(&format!("{base}/lines"), &json!({"contact_id": c})).await,
        409,
        "segment-logged",
    )
    .await;
    assert_problem(
        app.patch(&format!("{base}/lines/{line_id}"), &json!({"subject": "x"})).await,
        409,
        "segment-logged",
    )
    .await;
    assert_problem(app.delete(&format!("{base}/lines/{line_id}")).await, 409, "segment-logged").await;
    let read = assert_json(app.get(&base).await, 200).await;
    assert_eq!(read["status"], "logged");
    assert_eq!(lines(&app, &s["id"]).await.len(), 1, "still readable");
});

db_test!(segments_list_with_filters_and_delete_many_lines, |app| {
    seed_salesperson(&app, "JO");
    segment(&app, json!({"description": "Autumn Campaign", "salesperson_code": "JO", "date": "2026-09-01"}))
        .await;
    let s = segment(&app, json!({"description": "Winter", "date": "2026-12-01"})).await;
    let found = assert_json(app.get("/v1/segments?q=campaign").await, 200).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let found = assert_json(app.get("/v1/segments?salesperson_code=JO&status=open").await, 200).await;
    assert_eq!(found["items"][0]["description"], "Autumn Campaign");
    let found = assert_json(app.get("/v1/segments?date_from=2026-10-01").await, 200).await;
    assert_eq!(found["items"][0]["description"], "Winter");

    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let b = contact(&app, json!({"type": "company", "name": "B", "email": "b@b.no"})).await;
    let ids = add(&app, &s["id"], json!({"contact_ids": [a, b, a]})).await["line_ids"].clone();
    let with_email =
        assert_json(app.get(&format!("/v1/segments/{}/lines?has_email=true", s["id"])).await, 200).await;
    assert_eq!(with_email["items"].as_array().unwrap().len(), 1);
    let deleted = app
        .request(reqwest::Method::DELETE, &format!("/v1/segments/{}/lines", s["id"]))
        .json(&json!({"line_ids": [ids[0], ids[2]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(header["no_of_lines"], 1);
    assert_eq!(app.delete(&format!("/v1/segments/{}", s["id"])).await.status(), 204);
});

db_test!(deleting_a_contact_removes_its_lines_and_keeps_the_line_count_true, |app| {
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let b = contact(&app, json!({"type": "company", "name": "B"})).await;
    let s = segment(&app, json!({})).await;
    add(&app, &s["id"], json!({"contact_ids": [a, b, a]})).await;
    assert_eq!(app.delete(&format!("/v1/contacts/{a}")).await.status(), 204);
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(header["no_of_lines"], 1);
    assert_eq!(lines(&app, &s["id"]).await.len(), 1);
});

db_test!(amounts_beyond_the_largest_are_422_and_totals_stay_exact, |app| {
    let body = assert_problem(
        app.post("/v1/segments", &json!({"unit_cost": "90000000000000000.00"})).await,
        422,
        "invalid-body",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("999999999.99"), "{body}");
    assert_problem(
        app.post("/v1/segments", &json!({"unit_duration_min": 100_001})).await,
        422,
        "validation-failed",
    )
    .await;
    let s = segment(&app, json!({"unit_cost": "999999999.99"})).await;
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    add(&app, &s["id"], json!({"contact_ids": [a, a, a]})).await;
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(header["total_cost"], "2999999999.97");
    assert_eq!(
        assert_json(app.get("/v1/segments").await, 200).await["items"][0]["total_cost"],
        "2999999999.97"
    );
});

db_test!(concurrent_patches_with_one_if_match_let_exactly_one_through, |app| {
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": a})).await["line_ids"][0].clone();
    let path = format!("/v1/segments/{}/lines/{line_id}", s["id"]);
    let tag = app.get(&path).await.headers()["etag"].to_str().unwrap().to_owned();
    let requests = (0..12).map(|i| {
        app.request(reqwest::Method::PATCH, &path)
            .header("if-match", &tag)
            .json(&json!({"subject": format!("S{i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 11, "{statuses:?}");
});

db_test!(etags_move_when_inherited_values_change, |app| {
    seed_template(&app, "MAIL", 100, Some("email"));
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({"interaction_template_code": "MAIL", "subject": "Old"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": a})).await["line_ids"][0].clone();
    let line_path = format!("/v1/segments/{}/lines/{line_id}", s["id"]);
    let header_path = format!("/v1/segments/{}", s["id"]);
    let line_tag = app.get(&line_path).await.headers()["etag"].to_str().unwrap().to_owned();
    let header_tag = app.get(&header_path).await.headers()["etag"].to_str().unwrap().to_owned();

    app.patch(&header_path, &json!({"subject": "New"})).await;
    let line = app
        .request(reqwest::Method::GET, &line_path)
        .header("if-none-match", &line_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(line.status(), 200, "a header change is a new line body");
    assert_eq!(assert_json(line, 200).await["subject"], "New");

    // If-Match guards the line's own fields: a tag read before a header change still writes.
    let own = app
        .request(reqwest::Method::PATCH, &line_path)
        .header("if-match", &line_tag)
        .json(&json!({"personal_note": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);

    let header_tag_2 = app.get(&header_path).await.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(header_tag, header_tag_2);
    app.patch(&line_path, &json!({"cost": "7.00"})).await;
    let header = app
        .request(reqwest::Method::GET, &header_path)
        .header("if-none-match", &header_tag_2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_json(header, 200).await["total_cost"],
        "7.00",
        "a line override moves the header's totals and tag"
    );

    // After the line's own changes, that tag is stale.
    let patched = app
        .request(reqwest::Method::PATCH, &line_path)
        .header("if-match", &line_tag)
        .json(&json!({"subject": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(patched, 412, "precondition-failed").await;
    let fresh = app.get(&line_path).await.headers()["etag"].to_str().unwrap().to_owned();
    let weak = app
        .request(reqwest::Method::PATCH, &line_path)
        .header("if-match", format!("W/{fresh}"))
        .json(&json!({"subject": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(weak, 412, "precondition-failed").await;
    let listed = app
        .request(reqwest::Method::PATCH, &line_path)
        .header("if-match", format!("\"999\", {fresh}"))
        .json(&json!({"subject": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let stale_delete =
        app.request(reqwest::Method::DELETE, &line_path).header("if-match", &fresh).send().await.unwrap();
    assert_problem(stale_delete, 412, "precondition-failed").await;
});

db_test!(choosing_another_template_brings_its_defaults_unless_set_with_it, |app| {
    seed_template(&app, "LTR", 500, Some("hard_copy"));
    seed_template(&app, "MAIL", 800, Some("email"));
    let s = segment(
        &app,
        json!({"interaction_template_code": "LTR", "unit_cost": "5.00", "unit_duration_min": 3}),
    )
    .await;
    let path = format!("/v1/segments/{}", s["id"]);
    let switched =
        assert_json(app.patch(&path, &json!({"interaction_template_code": "MAIL"})).await, 200).await;
    assert_eq!(switched["unit_cost"], "8.00");
    assert_eq!(switched["correspondence_type"], "email");
    assert_eq!(switched["unit_duration_min"], 15);
    let with_cost = assert_json(
        app.patch(&path, &json!({"interaction_template_code": "LTR", "unit_cost": "1.00"})).await,
        200,
    )
    .await;
    assert_eq!(with_cost["unit_cost"], "1.00", "a value set in the same request wins");
    assert_eq!(with_cost["correspondence_type"], "hard_copy");
    let same = assert_json(app.patch(&path, &json!({"interaction_template_code": "LTR"})).await, 200).await;
    assert_eq!(same["unit_cost"], "1.00", "re-sending the same template changes nothing");
    assert_eq!(same["version"], with_cost["version"]);
});

db_test!(null_for_fields_that_cannot_be_null_is_422, |app| {
    let s = segment(&app, json!({})).await;
    let body = assert_problem(
        app.patch(&format!("/v1/segments/{}", s["id"]), &json!({"date": null, "send_as_attachment": null}))
            .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let line_id = add(&app, &s["id"], json!({"contact_id": a})).await["line_ids"][0].clone();
    let body = assert_problem(
        app.patch(&format!("/v1/segments/{}/lines/{line_id}", s["id"]), &json!({"attempt_failed": null}))
            .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "attempt_failed");
    let body = assert_problem(
        app.patch(
            &format!("/v1/contacts/{a}"),
            &json!({"type": null, "no": null, "privacy_blocked": null, "mailing_group_codes": null}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 4, "{body}");
});

db_test!(segment_search_ignores_case_beyond_ascii, |app| {
    segment(&app, json!({"description": "ØSTLAND kampanje"})).await;
    for q in ["øst", "ØST", "KAMPANJE"] {
        let found = assert_json(app.get(&format!("/v1/segments?q={}", urlencode(q))).await, 200).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{q}");
    }
});

db_test!(a_contact_on_a_logged_segment_cannot_be_deleted, |app| {
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({"description": "Done"})).await;
    add(&app, &s["id"], json!({"contact_id": a})).await;
    diesel::update(segments::table.find(s["id"].as_i64().unwrap()))
        .set(segments::status.eq("logged"))
        .execute(&mut *app.conn())
        .unwrap();
    assert_problem(app.delete(&format!("/v1/contacts/{a}")).await, 409, "contact-in-logged-segment").await;
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(header["no_of_lines"], 1);
});

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

db_test!(dates_outside_years_1_to_9999_are_422, |app| {
    let body = assert_problem(
        app.post("/v1/segments", &json!({"date": "+12345-01-01"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "date");
});

db_test!(deleting_many_lines_of_a_logged_segment_is_409, |app| {
    let a = contact(&app, json!({"type": "company", "name": "A"})).await;
    let s = segment(&app, json!({})).await;
    let ids = add(&app, &s["id"], json!({"contact_ids": [a]})).await["line_ids"].clone();
    diesel::update(segments::table.find(s["id"].as_i64().unwrap()))
        .set(segments::status.eq("logged"))
        .execute(&mut *app.conn())
        .unwrap();
    let response = app
        .request(reqwest::Method::DELETE, &format!("/v1/segments/{}/lines", s["id"]))
        .json(&json!({"line_ids": ids}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 409, "segment-logged").await;
});

db_test!(a_contact_delete_racing_an_add_of_lines_never_fails_the_server, |app| {
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(contact(&app, json!({"type": "company", "name": format!("C{i}")})).await);
    }
    let s = segment(&app, json!({})).await;
    add(&app, &s["id"], json!({"contact_id": ids[0]})).await;
    let lines_path = format!("/v1/segments/{}/lines", s["id"]);
    let body = json!({"contact_ids": ids.clone()});
    let contact_path = format!("/v1/contacts/{}", ids[0]);
    let (added, deleted) = tokio::join!(app.post(&lines_path, &body), app.delete(&contact_path));
    let (added, deleted) = (added.status().as_u16(), deleted.status().as_u16());
    assert!(matches!(added, 201 | 409 | 422), "add answered {added}");
    assert!(matches!(deleted, 204 | 409), "delete answered {deleted}");
    let header = assert_json(app.get(&format!("/v1/segments/{}", s["id"])).await, 200).await;
    assert_eq!(
        header["no_of_lines"].as_u64().unwrap() as usize,
        lines(&app, &s["id"]).await.len(),
        "the counter stays true"
    );
});

/// One step of the totals property: every way a line's effective cost or duration changes.
#[derive(Debug, Clone)]
enum Step {
    AddByHand(Vec<usize>),
    Criteria {
        action: &'static str,
        city: &'static str,
    },
    Undo,
    /// Line (index into the live lines), cost, duration, template; `None` clears the override.
    PatchLine(usize, Option<i64>, Option<i64>, Option<&'static str>),
    PatchHeader(Option<i64>, Option<i64>, Option<&'static str>),
    TemplateCost(&'static str, i64, i64),
    DeleteLine(usize),
    DeleteContact(usize),
}

const TOTALS_TEMPLATES: [&str; 2] = ["T1", "T2"];
const TOTALS_CITIES: [&str; 3] = ["Oslo", "Bergen", "Molde"];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let cents = || proptest::option::of(0_i64..100_000);
    let minutes = || proptest::option::of(0_i64..600);
    let template = || proptest::option::of(prop::sample::select(TOTALS_TEMPLATES.to_vec()));
    let city = prop::sample::select(TOTALS_CITIES.to_vec());
    prop_oneof![
        2 => prop::collection::vec(0_usize..12, 1..4).prop_map(Step::AddByHand),
        2 => (prop::sample::select(vec!["add", "remove", "refine"]), city)
            .prop_map(|(action, city)| Step::Criteria { action, city }),
        1 => Just(Step::Undo),
        4 => (0_usize..50, cents(), minutes(), template()).prop_map(|(i, c, d, t)| Step::PatchLine(i, c, d, t)),
        2 => (cents(), minutes(), template()).prop_map(|(c, d, t)| Step::PatchHeader(c, d, t)),
        1 => (prop::sample::select(TOTALS_TEMPLATES.to_vec()), 0_i64..100_000, 0_i64..600)
            .prop_map(|(t, c, d)| Step::TemplateCost(t, c, d)),
        1 => (0_usize..50).prop_map(Step::DeleteLine),
        1 => (0_usize..12).prop_map(Step::DeleteContact),
    ]
}

fn money_cents(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("money is a string: {value}"));
    let (whole, fraction) = text.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// The header's totals, and the same segment's in the list, against the sum of its lines'
/// effective values as the line view computes them one by one.
async fn assert_totals_are_the_sum_of_lines(app: &TestApp, segment_id: &Value, after: &Step) {
    let header = assert_json(app.get(&format!("/v1/segments/{segment_id}")).await, 200).await;
    let lines = lines(app, segment_id).await;
    let cost: i64 = lines.iter().map(|l| money_cents(&l["cost"])).sum();
    let duration: i64 = lines.iter().map(|l| l["duration_min"].as_i64().unwrap()).sum();
    assert_eq!(
        (money_cents(&header["total_cost"]), header["total_duration_min"].as_i64().unwrap()),
        (cost, duration),
        "totals after {after:?} over {} lines",
        lines.len()
    );
    let listed = assert_json(app.get("/v1/segments?limit=200").await, 200).await;
    let listed = listed["items"].as_array().unwrap().iter().find(|s| s["id"] == *segment_id).unwrap().clone();
    assert_eq!(
        (&listed["total_cost"], &listed["total_duration_min"]),
        (&header["total_cost"], &header["total_duration_min"])
    );
}

db_test!(segment_totals_equal_the_sum_of_the_lines_after_any_sequence_of_changes, |app| {
    use proptest::strategy::{Strategy, ValueTree};
    seed_template(&app, "T1", 1_000, None);
    seed_template(&app, "T2", 250, Some("email"));
    let mut contacts = Vec::new();
    for i in 0..12 {
        let city = TOTALS_CITIES[i % TOTALS_CITIES.len()];
        contacts
            .push(contact(&app, json!({"type": "company", "name": format!("Co {i}"), "city": city})).await);
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let sequences = proptest::collection::vec(step(), 1..20);
    for _ in 0..10 {
        let steps = sequences.new_tree(&mut runner).unwrap().current();
        let s = segment(&app, json!({"interaction_template_code": "T1"})).await;
        let base = format!("/v1/segments/{}", s["id"]);
        for step in &steps {
            let live = lines(&app, &s["id"]).await;
            let line = |i: usize| (!live.is_empty()).then(|| live[i % live.len()]["id"].clone());
            let response = match step {
                Step::AddByHand(picks) => {
                    let ids: Vec<i64> = picks.iter().map(|i| contacts[*i]).collect();
                    Some(app.post(&format!("{base}/lines"), &json!({"contact_ids": ids})).await)
                }
                Step::Criteria { action, city } => {
                    let filter = json!({"field": "city", "op": "eq", "value": city});
                    let mut body = json!({"action": action, "filter": filter});
                    if *action == "add" {
                        body["allow_existing"] = json!(true);
                    }
                    Some(app.post(&format!("{base}/criteria-actions"), &body).await)
                }
                Step::Undo => Some(app.post(&format!("{base}/criteria-actions/undo"), &json!({})).await),
                Step::PatchLine(i, cost, duration, template) => match line(*i) {
                    Some(id) => {
                        let body = json!({
                            "cost": cost.map(|c| c as f64 / 100.0), "duration_min": duration,
                            "interaction_template_code": template,
                        });
                        Some(app.patch(&format!("{base}/lines/{id}"), &body).await)
                    }
                    None => None,
                },
                Step::PatchHeader(cost, duration, template) => {
                    // The template first: choosing one resets the header's own cost and duration.
                    let body = json!({"interaction_template_code": template});
                    assert_json(app.patch(&base, &body).await, 200).await;
                    let body =
                        json!({"unit_cost": cost.map(|c| c as f64 / 100.0), "unit_duration_min": duration});
                    Some(app.patch(&base, &body).await)
                }
                Step::TemplateCost(code, cost, duration) => {
                    diesel::update(interaction_templates::table.find(*code))
                        .set((
                            interaction_templates::unit_cost_cents.eq(*cost),
                            interaction_templates::unit_duration_min.eq(*duration),
                        ))
                        .execute(&mut *app.conn())
                        .unwrap();
                    None
                }
                Step::DeleteLine(i) => match line(*i) {
                    Some(id) => Some(app.delete(&format!("{base}/lines/{id}")).await),
                    None => None,
                },
                Step::DeleteContact(i) => {
                    let id = contacts[*i];
                    let response = app.delete(&format!("/v1/contacts/{id}")).await;
                    if response.status() == 204 {
                        // Back under a new id, so later steps still have twelve contacts.
                        let city = TOTALS_CITIES[i % TOTALS_CITIES.len()];
                        let body = json!({"type": "company", "name": format!("Co {i}"), "city": city});
                        contacts[*i] = contact(&app, body).await;
                    }
                    Some(response)
                }
            };
            if let Some(response) = response {
                // Refusals (an undo with nothing to undo) are fine; a server error is not.
                assert!(response.status().as_u16() < 500, "{step:?}: {}", response.text().await.unwrap());
            }
            assert_totals_are_the_sum_of_lines(&app, &s["id"], step).await;
        }
    }
});
