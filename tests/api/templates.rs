//! Interaction templates over HTTP: CRUD with BC's defaults, money, validation, conditional
//! requests, scopes, and refusing to delete a template that segments or the log still use.

use chrono::Utc;
use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{
    contacts, interaction_groups, interaction_log_entries, interaction_templates, segment_lines, segments,
};

const COLLECTION: &str = "/v1/interaction-templates";

/// A request made with the admin key, which template writes need.
async fn as_admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = app.request_as(method, path, Some(&app.admin_key));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

async fn create(app: &TestApp, body: Value) -> Value {
    assert_json(as_admin(app, Method::POST, COLLECTION, Some(body)).await, 201).await
}

fn item(code: &str) -> String {
    format!("{COLLECTION}/{code}")
}

fn insert_group(app: &TestApp, code: &str) {
    let now = Utc::now().naive_utc();
    diesel::insert_into(interaction_groups::table)
        .values((
            interaction_groups::code.eq(code),
            interaction_groups::description.eq(code),
            interaction_groups::version.eq(1_i64),
            interaction_groups::created_at.eq(now),
            interaction_groups::updated_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

/// Inserts a segment header (naming `template`) straight into the database.
fn insert_segment(app: &TestApp, no: &str, status: &str, template: Option<&str>) -> i64 {
    let now = Utc::now().naive_utc();
    diesel::insert_into(segments::table)
        .values((
            segments::no.eq(no),
            segments::status.eq(status),
            segments::interaction_template_code.eq(template),
            segments::date.eq(now.date()),
            segments::send_as_attachment.eq(false),
            segments::no_of_lines.eq(0_i64),
            segments::no_of_criteria_actions.eq(0_i64),
            segments::version.eq(1_i64),
            segments::created_at.eq(now),
            segments::updated_at.eq(now),
        ))
        .returning(segments::id)
        .get_result(&mut *app.conn())
        .unwrap()
}

fn field_errors(problem: &Value) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    fields.sort();
    fields
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect()
}

fn stored_count(app: &TestApp) -> i64 {
    interaction_templates::table.count().get_result(&mut *app.conn()).unwrap()
}

db_test!(a_template_is_created_with_defaults_read_listed_changed_and_deleted, |app| {
    let response =
        as_admin(&app, Method::POST, COLLECTION, Some(json!({"code": "CALL", "description": "Phone call"})))
            .await;
    assert_eq!(response.headers()["location"], "/v1/interaction-templates/CALL");
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created = assert_json(response, 201).await;
    assert_eq!(created["code"], "CALL");
    assert_eq!(created["description"], "Phone call");
    assert_eq!(created["interaction_group_code"], Value::Null);
    assert_eq!(created["information_flow"], "outbound");
    assert_eq!(created["initiated_by"], "us");
    assert_eq!(created["unit_cost"], "0.00");
    assert_eq!(created["unit_duration_min"], 0);
    assert_eq!(created["correspondence_type"], "email");
    assert_eq!(created["language_code"], Value::Null);
    assert_eq!(created["ignore_contact_correspondence_type"], false);
    assert_eq!(created["version"], 1);
    assert_eq!(created["created_at"], created["updated_at"]);
    assert_eq!(created.as_object().unwrap().len(), 13, "{created}");

    let read = app.get(&item("CALL")).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(assert_json(read, 200).await, created);
    let again =
        app.request(Method::GET, &item("CALL")).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(again.status(), 304);
    let list = assert_json(app.get(COLLECTION).await, 200).await;
    assert_eq!(list, json!({"items": [created], "next_cursor": null}));

    insert_group(&app, "PHONE");
    let changed = as_admin(
        &app,
        Method::PATCH,
        &item("CALL"),
        Some(json!({
            "interaction_group_code": "PHONE",
            "description": "Outgoing call",
            "information_flow": "inbound",
            "initiated_by": "them",
            "unit_cost": "3.25",
            "unit_duration_min": 15,
            "correspondence_type": "hard_copy",
            "language_code": "nb-NO",
            "ignore_contact_correspondence_type": true,
        })),
    )
    .await;
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let changed = assert_json(changed, 200).await;
    assert_eq!(changed["interaction_group_code"], "PHONE");
    assert_eq!(changed["description"], "Outgoing call");
    assert_eq!(changed["information_flow"], "inbound");
    assert_eq!(changed["initiated_by"], "them");
    assert_eq!(changed["unit_cost"], "3.25");
    assert_eq!(changed["unit_duration_min"], 15);
    assert_eq!(changed["correspondence_type"], "hard_copy");
    assert_eq!(changed["language_code"], "nb-NO");
    assert_eq!(changed["ignore_contact_correspondence_type"], true);
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["created_at"], created["created_at"]);
    assert_eq!(assert_json(app.get(&item("CALL")).await, 200).await, changed);
    let cost: i64 = interaction_templates::table
        .find("CALL")
        .select(interaction_templates::unit_cost_cents)
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(cost, 325);

    // null clears the nullable fields.
    let cleared = as_admin(
        &app,
        Method::PATCH,
        &item("CALL"),
        Some(json!({"interaction_group_code": null, "correspondence_type": null, "language_code": null})),
    )
    .await;
    let cleared = assert_json(cleared, 200).await;
    assert_eq!(cleared["interaction_group_code"], Value::Null);
    assert_eq!(cleared["correspondence_type"], Value::Null);
    assert_eq!(cleared["language_code"], Value::Null);
    assert_eq!(cleared["description"], "Outgoing call");
    assert_eq!(cleared["version"], 3);

    let deleted = as_admin(&app, Method::DELETE, &item("CALL"), None).await;
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get(&item("CALL")).await, 404, "not-found").await;
    assert_eq!(stored_count(&app), 0);
});

db_test!(unit_cost_is_accepted_as_a_string_or_a_number_and_shown_with_two_decimals, |app| {
    let text = create(&app, json!({"code": "A", "description": "a", "unit_cost": "12.5"})).await;
    assert_eq!(text["unit_cost"], "12.50");
    let number = create(&app, json!({"code": "B", "description": "b", "unit_cost": 12.5})).await;
    assert_eq!(number["unit_cost"], "12.50");
    let whole = create(&app, json!({"code": "C", "description": "c", "unit_cost": 7})).await;
    assert_eq!(whole["unit_cost"], "7.00");
    let patched =
        assert_json(as_admin(&app, Method::PATCH, &item("C"), Some(json!({"unit_cost": 0.1}))).await, 200)
            .await;
    assert_eq!(patched["unit_cost"], "0.10");
    let too_precise = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "D", "description": "d", "unit_cost": "1.234"})),
    )
    .await;
    assert_problem(too_precise, 422, "invalid-body").await;
});

db_test!(a_create_may_set_every_field_or_no_correspondence_type, |app| {
    insert_group(&app, "MAIL");
    let full = create(
        &app,
        json!({
            "code": "LETTER",
            "interaction_group_code": "MAIL",
            "description": "Letter",
            "information_flow": "inbound",
            "initiated_by": "them",
            "unit_cost": "1.00",
            "unit_duration_min": 5,
            "correspondence_type": "hard_copy",
            "language_code": "en",
            "ignore_contact_correspondence_type": true,
        }),
    )
    .await;
    assert_eq!(full["interaction_group_code"], "MAIL");
    assert_eq!(full["information_flow"], "inbound");
    assert_eq!(full["initiated_by"], "them");
    assert_eq!(full["unit_duration_min"], 5);
    assert_eq!(full["correspondence_type"], "hard_copy");
    assert_eq!(full["language_code"], "en");
    assert_eq!(full["ignore_contact_correspondence_type"], true);

    let none =
        create(&app, json!({"code": "MEET", "description": "Meeting", "correspondence_type": null})).await;
    assert_eq!(none["correspondence_type"], Value::Null);
    let stored: Option<String> = interaction_templates::table
        .find("MEET")
        .select(interaction_templates::correspondence_type)
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, None);
});

db_test!(invalid_templates_are_422_and_nothing_is_written, |app| {
    let unknown_group = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "X", "description": "x", "interaction_group_code": "NOPE"})),
    )
    .await;
    let body = assert_problem(unknown_group, 422, "validation-failed").await;
    assert_eq!(field_errors(&body), pairs(&[("interaction_group_code", "unknown_code")]));

    let bad_enum = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "X", "description": "x", "information_flow": "sideways"})),
    )
    .await;
    assert_problem(bad_enum, 422, "invalid-body").await;
    let bad_type = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "X", "description": "x", "correspondence_type": "fax"})),
    )
    .await;
    assert_problem(bad_type, 422, "invalid-body").await;
    let unknown_field = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "X", "description": "x", "wizard_action": 1})),
    )
    .await;
    assert_problem(unknown_field, 422, "invalid-body").await;

    let negative = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({"code": "X", "description": "x", "unit_cost": "-0.01", "unit_duration_min": -1})),
    )
    .await;
    let body = assert_problem(negative, 422, "validation-failed").await;
    assert_eq!(
        field_errors(&body),
        pairs(&[("unit_cost", "out_of_range"), ("unit_duration_min", "out_of_range")])
    );

    // Every fault at once, including the one found in the database.
    let many = as_admin(
        &app,
        Method::POST,
        COLLECTION,
        Some(json!({
            "code": "has space",
            "description": "d".repeat(101),
            "language_code": "l".repeat(11),
            "interaction_group_code": "NOPE",
        })),
    )
    .await;
    let body = assert_problem(many, 422, "validation-failed").await;
    assert_eq!(
        field_errors(&body),
        pairs(&[
            ("code", "invalid"),
            ("description", "too_long"),
            ("interaction_group_code", "unknown_code"),
            ("language_code", "too_long"),
        ])
    );
    let blank =
        as_admin(&app, Method::POST, COLLECTION, Some(json!({"code": "X", "description": " "}))).await;
    let body = assert_problem(blank, 422, "validation-failed").await;
    assert_eq!(field_errors(&body), pairs(&[("description", "required")]));
    assert_eq!(stored_count(&app), 0);

    // The same rules on PATCH; `null` for a field that cannot be null is a fault.
    let template = create(&app, json!({"code": "T", "description": "t"})).await;
    for (patch, field, code) in [
        (json!({"interaction_group_code": "NOPE"}), "interaction_group_code", "unknown_code"),
        (json!({"description": "d".repeat(101)}), "description", "too_long"),
        (json!({"description": null}), "description", "required"),
        (json!({"unit_cost": "-5"}), "unit_cost", "out_of_range"),
        (json!({"unit_cost": null}), "unit_cost", "required"),
        (json!({"information_flow": null}), "information_flow", "required"),
        (
            json!({"ignore_contact_correspondence_type": null}),
            "ignore_contact_correspondence_type",
            "required",
        ),
    ] {
        let response = as_admin(&app, Method::PATCH, &item("T"), Some(patch.clone())).await;
        let body = assert_problem(response, 422, "validation-failed").await;
        assert_eq!(field_errors(&body), pairs(&[(field, code)]), "{patch}");
    }
    let bad_enum = as_admin(&app, Method::PATCH, &item("T"), Some(json!({"initiated_by": "nobody"}))).await;
    assert_problem(bad_enum, 422, "invalid-body").await;
    assert_eq!(assert_json(app.get(&item("T")).await, 200).await, template);
});

db_test!(a_taken_code_is_409_and_an_unknown_one_404, |app| {
    create(&app, json!({"code": "CALL", "description": "Call"})).await;
    let again =
        as_admin(&app, Method::POST, COLLECTION, Some(json!({"code": "CALL", "description": "Other"}))).await;
    let body = assert_problem(again, 409, "already-exists").await;
    assert_eq!(field_errors(&body), pairs(&[("code", "already_exists")]));
    assert_eq!(assert_json(app.get(&item("CALL")).await, 200).await["description"], "Call");

    assert_problem(app.get(&item("NOPE")).await, 404, "not-found").await;
    let patch = as_admin(&app, Method::PATCH, &item("NOPE"), Some(json!({"description": "x"}))).await;
    assert_problem(patch, 404, "not-found").await;
    assert_problem(as_admin(&app, Method::DELETE, &item("NOPE"), None).await, 404, "not-found").await;
});

db_test!(a_stale_if_match_is_412_and_changes_nothing, |app| {
    create(&app, json!({"code": "CALL", "description": "Call"})).await;
    let changed = as_admin(&app, Method::PATCH, &item("CALL"), Some(json!({"description": "Call 2"}))).await;
    assert_eq!(assert_json(changed, 200).await["version"], 2);

    let stale = app
        .request_as(Method::PATCH, &item("CALL"), Some(&app.admin_key))
        .header("if-match", "\"1\"")
        .json(&json!({"description": "Lost"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition-failed").await;
    let stale_delete = app
        .request_as(Method::DELETE, &item("CALL"), Some(&app.admin_key))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_problem(stale_delete, 412, "precondition-failed").await;
    let read = assert_json(app.get(&item("CALL")).await, 200).await;
    assert_eq!(read["description"], "Call 2");
    assert_eq!(read["version"], 2);

    let fresh = app
        .request_as(Method::PATCH, &item("CALL"), Some(&app.admin_key))
        .header("if-match", "\"2\"")
        .json(&json!({"description": "Call 3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_json(fresh, 200).await["version"], 3);
    let fresh_delete = app
        .request_as(Method::DELETE, &item("CALL"), Some(&app.admin_key))
        .header("if-match", "\"3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(fresh_delete.status(), 204);
});

db_test!(an_identical_patch_leaves_the_version_and_timestamp, |app| {
    let created = create(&app, json!({"code": "CALL", "description": "Call", "unit_cost": "2.00"})).await;
    for patch in [
        json!({}),
        json!({"description": "Call", "unit_cost": 2, "correspondence_type": "email", "information_flow": "outbound"}),
    ] {
        let response = as_admin(&app, Method::PATCH, &item("CALL"), Some(patch)).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert_eq!(assert_json(response, 200).await, created);
    }
});

db_test!(only_admin_keys_write_templates_and_read_keys_read_them, |app| {
    create(&app, json!({"code": "CALL", "description": "Call"})).await;
    for key in [&app.read_key, &app.write_key] {
        let post = app
            .request_as(Method::POST, COLLECTION, Some(key))
            .json(&json!({"code": "X", "description": "x"}))
            .send()
            .await
            .unwrap();
        assert_problem(post, 403, "forbidden").await;
        let patch = app
            .request_as(Method::PATCH, &item("CALL"), Some(key))
            .json(&json!({"description": "x"}))
            .send()
            .await
            .unwrap();
        assert_problem(patch, 403, "forbidden").await;
        let delete = app.request_as(Method::DELETE, &item("CALL"), Some(key)).send().await.unwrap();
        assert_problem(delete, 403, "forbidden").await;
    }
    let read = app.request_as(Method::GET, &item("CALL"), Some(&app.read_key)).send().await.unwrap();
    assert_eq!(assert_json(read, 200).await["description"], "Call");
    let anonymous = app.request_as(Method::GET, COLLECTION, None).send().await.unwrap();
    assert_problem(anonymous, 401, "unauthorized").await;
    assert_eq!(stored_count(&app), 1);
});

db_test!(the_list_pages_by_code_and_filters_by_group_and_flow, |app| {
    insert_group(&app, "G1");
    for (code, group, flow) in [
        ("E", Some("G1"), "inbound"),
        ("A", Some("G1"), "outbound"),
        ("C", None, "inbound"),
        ("B", None, "outbound"),
    ] {
        create(
            &app,
            json!({"code": code, "description": code, "interaction_group_code": group, "information_flow": flow}),
        )
        .await;
    }
    let codes = |list: &Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap().to_owned()).collect()
    };
    let first = assert_json(app.get(&format!("{COLLECTION}?limit=3")).await, 200).await;
    assert_eq!(codes(&first), ["A", "B", "C"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = assert_json(app.get(&format!("{COLLECTION}?limit=3&cursor={cursor}")).await, 200).await;
    assert_eq!(codes(&second), ["E"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let grouped = assert_json(app.get(&format!("{COLLECTION}?interaction_group_code=G1")).await, 200).await;
    assert_eq!(codes(&grouped), ["A", "E"]);
    let inbound = assert_json(app.get(&format!("{COLLECTION}?information_flow=inbound")).await, 200).await;
    assert_eq!(codes(&inbound), ["C", "E"]);
    let both = assert_json(
        app.get(&format!("{COLLECTION}?interaction_group_code=G1&information_flow=outbound")).await,
        200,
    )
    .await;
    assert_eq!(codes(&both), ["A"]);

    assert_problem(app.get(&format!("{COLLECTION}?information_flow=sideways")).await, 400, "invalid-query")
        .await;
    assert_problem(app.get(&format!("{COLLECTION}?limit=0")).await, 422, "validation-failed").await;
    assert_problem(app.get(&format!("{COLLECTION}?cursor=junk")).await, 422, "validation-failed").await;
});

db_test!(a_template_used_by_an_open_segment_or_the_log_cannot_be_deleted, |app| {
    create(&app, json!({"code": "CALL", "description": "Call"})).await;
    let segment = insert_segment(&app, "SEG00001", "open", Some("CALL"));
    let body =
        assert_problem(as_admin(&app, Method::DELETE, &item("CALL"), None).await, 409, "template-in-use")
            .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("open segments") && detail.contains("SEG00001"), "{detail}");
    assert_eq!(app.get(&item("CALL")).await.status(), 200);

    // A line of an open segment that overrides the header's template holds it as well.
    create(&app, json!({"code": "NOTE", "description": "Note"})).await;
    let contact = insert_contact(&app);
    let other = insert_segment(&app, "SEG00003", "open", None);
    insert_line(&app, other, contact, "NOTE");
    let body =
        assert_problem(as_admin(&app, Method::DELETE, &item("NOTE"), None).await, 409, "template-in-use")
            .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("lines of open segments: SEG00003"), "{detail}");

    // Once no segment names it, the log still does: logged history keeps its template.
    diesel::delete(segments::table.find(segment)).execute(&mut *app.conn()).unwrap();
    let now = Utc::now().naive_utc();
    diesel::insert_into(interaction_log_entries::table)
        .values((
            interaction_log_entries::entry_no.eq(1_i64),
            interaction_log_entries::contact_id.eq(contact),
            interaction_log_entries::contact_no.eq("CT1"),
            interaction_log_entries::contact_name.eq("P"),
            interaction_log_entries::date.eq(now.date()),
            interaction_log_entries::time_of_interaction.eq(now),
            interaction_log_entries::description.eq("call"),
            interaction_log_entries::interaction_template_code.eq("CALL"),
            interaction_log_entries::information_flow.eq("outbound"),
            interaction_log_entries::initiated_by.eq("us"),
            interaction_log_entries::cost_cents.eq(0_i64),
            interaction_log_entries::duration_min.eq(0_i64),
            interaction_log_entries::attempt_failed.eq(false),
            interaction_log_entries::user_name.eq("t"),
            interaction_log_entries::delivery_status.eq("not_applicable"),
            interaction_log_entries::canceled.eq(false),
            interaction_log_entries::created_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();
    let body =
        assert_problem(as_admin(&app, Method::DELETE, &item("CALL"), None).await, 409, "template-in-use")
            .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("1 interaction log entry"), "{detail}");

    // A logged segment keeps its template too.
    create(&app, json!({"code": "MAIL", "description": "Mail"})).await;
    insert_segment(&app, "SEG00002", "logged", Some("MAIL"));
    let body =
        assert_problem(as_admin(&app, Method::DELETE, &item("MAIL"), None).await, 409, "template-in-use")
            .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("logged segments") && detail.contains("SEG00002"), "{detail}");
    assert_eq!(stored_count(&app), 3);

    create(&app, json!({"code": "FREE", "description": "Unused"})).await;
    assert_eq!(as_admin(&app, Method::DELETE, &item("FREE"), None).await.status(), 204);
});

fn insert_line(app: &TestApp, segment_id: i64, contact_id: i64, template: &str) {
    let now = Utc::now().naive_utc();
    diesel::insert_into(segment_lines::table)
        .values((
            segment_lines::segment_id.eq(segment_id),
            segment_lines::contact_id.eq(contact_id),
            segment_lines::interaction_template_code.eq(template),
            segment_lines::attempt_failed.eq(false),
            segment_lines::version.eq(1_i64),
            segment_lines::created_at.eq(now),
            segment_lines::updated_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

/// Inserts a company contact straight into the database; answers its id.
fn insert_contact(app: &TestApp) -> i64 {
    let now = Utc::now().naive_utc();
    diesel::insert_into(contacts::table)
        .values((
            contacts::no.eq("CT1"),
            contacts::contact_type.eq("company"),
            contacts::name.eq("Acme"),
            contacts::search_name.eq("acme"),
            contacts::exclude_from_segment.eq(false),
            contacts::privacy_blocked.eq(false),
            contacts::version.eq(1_i64),
            contacts::created_at.eq(now),
            contacts::updated_at.eq(now),
        ))
        .returning(contacts::id)
        .get_result(&mut *app.conn())
        .unwrap()
}
