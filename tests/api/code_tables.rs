//! The code tables: CRUD, pagination, validation, scopes, and refusing to delete codes in use.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{
    business_relations, contact_mailing_groups, contacts, interaction_templates, mailing_groups, salespeople,
};

/// The URL names of the five code-and-description tables.
const DESCRIBED_TABLES: [&str; 5] =
    ["mailing-groups", "industry-groups", "business-relations", "job-responsibilities", "interaction-groups"];

/// A request made with the admin key, which code table writes need.
async fn as_admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = app.request_as(method, path, Some(&app.admin_key));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert!(text.ends_with('Z'), "not UTC: {text}");
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// Inserts a company contact straight into the database; answers its id.
fn insert_contact(app: &TestApp, no: &str, salesperson_code: Option<&str>) -> i64 {
    let now = Utc::now().naive_utc();
    diesel::insert_into(contacts::table)
        .values((
            contacts::no.eq(no),
            contacts::contact_type.eq("company"),
            contacts::name.eq("Acme"),
            contacts::search_name.eq("acme"),
            contacts::salesperson_code.eq(salesperson_code),
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

/// An admin request carrying `If-Match: <tag>`.
async fn with_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    tag: &str,
    body: Option<Value>,
) -> Response {
    let request = app.request_as(method, path, Some(&app.admin_key)).header("if-match", tag);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

/// A GET carrying `If-None-Match: <tag>`.
async fn if_none_match(app: &TestApp, path: &str, tag: &str) -> Response {
    app.request(Method::GET, path).header("if-none-match", tag).send().await.unwrap()
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

db_test!(a_mailing_group_is_created_read_listed_changed_and_deleted, |app| {
    let response = as_admin(
        &app,
        Method::POST,
        "/v1/mailing-groups",
        Some(json!({"code": "XMAS", "description": "Cards"})),
    )
    .await;
    assert_eq!(response.headers()["location"], "/v1/mailing-groups/XMAS");
    let created = assert_json(response, 201).await;
    assert_eq!(created["code"], "XMAS");
    assert_eq!(created["description"], "Cards");
    let created_at = timestamp(&created["created_at"]);
    assert_eq!(created_at, timestamp(&created["updated_at"]));
    assert_eq!(created["version"], 1);
    assert_eq!(created.as_object().unwrap().len(), 5, "{created}");

    let read = assert_json(app.get("/v1/mailing-groups/XMAS").await, 200).await;
    assert_eq!(read, created);
    let list = assert_json(app.get("/v1/mailing-groups").await, 200).await;
    assert_eq!(list, json!({"items": [created], "next_cursor": null}));

    let changed = as_admin(
        &app,
        Method::PATCH,
        "/v1/mailing-groups/XMAS",
        Some(json!({"description": "Christmas cards"})),
    )
    .await;
    let changed = assert_json(changed, 200).await;
    assert_eq!(changed["code"], "XMAS");
    assert_eq!(changed["description"], "Christmas cards");
    assert_eq!(timestamp(&changed["created_at"]), created_at);
    assert!(timestamp(&changed["updated_at"]) >= created_at);
    assert_eq!(changed["version"], 2);
    let unchanged =
        assert_json(as_admin(&app, Method::PATCH, "/v1/mailing-groups/XMAS", Some(json!({}))).await, 200)
            .await;
    assert_eq!(unchanged, changed);
    let stored: String = mailing_groups::table
        .find("XMAS")
        .select(mailing_groups::description)
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, "Christmas cards");

    let deleted = as_admin(&app, Method::DELETE, "/v1/mailing-groups/XMAS", None).await;
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get("/v1/mailing-groups/XMAS").await, 404, "not-found").await;
    let left: i64 = mailing_groups::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(left, 0);
});

db_test!(every_description_table_serves_create_read_change_and_delete, |app| {
    for table in DESCRIBED_TABLES {
        let collection = format!("/v1/{table}");
        let item = format!("{collection}/C1");
        let body = json!({"code": "C1", "description": format!("first of {table}")});
        let created = as_admin(&app, Method::POST, &collection, Some(body)).await;
        assert_eq!(created.headers()["location"], item.as_str(), "{table}");
        assert_eq!(created.headers()["etag"], "\"1\"", "{table}");
        let created = assert_json(created, 201).await;
        assert_eq!(created["description"], format!("first of {table}"));
        let read = app.get(&item).await;
        assert_eq!(read.headers()["etag"], "\"1\"", "{table}");
        assert_eq!(assert_json(read, 200).await, created, "{table}");
        let list = assert_json(app.get(&collection).await, 200).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{table}");
        let changed = as_admin(&app, Method::PATCH, &item, Some(json!({"description": "renamed"}))).await;
        assert_eq!(changed.headers()["etag"], "\"2\"", "{table}");
        let changed = assert_json(changed, 200).await;
        assert_eq!((&changed["description"], &changed["version"]), (&json!("renamed"), &json!(2)), "{table}");
        let stale = with_if_match(&app, Method::DELETE, &item, "\"1\"", None).await;
        assert_problem(stale, 412, "precondition-failed").await;
        assert_eq!(with_if_match(&app, Method::DELETE, &item, "\"2\"", None).await.status(), 204, "{table}");
        assert_problem(app.get(&item).await, 404, "not-found").await;
    }
});

db_test!(a_salesperson_is_created_read_listed_changed_and_deleted, |app| {
    let body =
        json!({"code": "JD", "name": "Jane Doe", "email": "jane@example.com", "phone": "+47 22 00 00 00"});
    let response = as_admin(&app, Method::POST, "/v1/salespeople", Some(body)).await;
    assert_eq!(response.headers()["location"], "/v1/salespeople/JD");
    let created = assert_json(response, 201).await;
    assert_eq!(created["code"], "JD");
    assert_eq!(created["name"], "Jane Doe");
    assert_eq!(created["email"], "jane@example.com");
    assert_eq!(created["phone"], "+47 22 00 00 00");
    let created_at = timestamp(&created["created_at"]);
    assert_eq!(created["version"], 1);
    assert_eq!(created.as_object().unwrap().len(), 7, "{created}");

    assert_eq!(assert_json(app.get("/v1/salespeople/JD").await, 200).await, created);
    let list = assert_json(app.get("/v1/salespeople").await, 200).await;
    assert_eq!(list, json!({"items": [created], "next_cursor": null}));

    // null clears email; an absent phone stays.
    let changed = as_admin(
        &app,
        Method::PATCH,
        "/v1/salespeople/JD",
        Some(json!({"name": "Jane Dunn", "email": null})),
    )
    .await;
    let changed = assert_json(changed, 200).await;
    assert_eq!(changed["name"], "Jane Dunn");
    assert_eq!(changed["email"], Value::Null);
    assert_eq!(changed["phone"], "+47 22 00 00 00");
    assert_eq!(timestamp(&changed["created_at"]), created_at);
    let stored: (String, Option<String>, Option<String>) = salespeople::table
        .find("JD")
        .select((salespeople::name, salespeople::email, salespeople::phone))
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, ("Jane Dunn".to_owned(), None, Some("+47 22 00 00 00".to_owned())));

    let cleared = as_admin(&app, Method::PATCH, "/v1/salespeople/JD", Some(json!({"phone": null}))).await;
    let cleared = assert_json(cleared, 200).await;
    assert_eq!((&cleared["name"], &cleared["phone"]), (&json!("Jane Dunn"), &Value::Null));

    assert_eq!(as_admin(&app, Method::DELETE, "/v1/salespeople/JD", None).await.status(), 204);
    assert_problem(app.get("/v1/salespeople/JD").await, 404, "not-found").await;
    let left: i64 = salespeople::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(left, 0);
});

db_test!(a_list_pages_through_every_code_in_order_with_next_cursor, |app| {
    // Created out of order: the list is ordered by code, not by insertion.
    for code in ["D", "B", "E", "A", "C"] {
        let body = json!({"code": code, "description": format!("group {code}")});
        assert_json(as_admin(&app, Method::POST, "/v1/industry-groups", Some(body)).await, 201).await;
        let body = json!({"code": code, "name": format!("person {code}")});
        assert_json(as_admin(&app, Method::POST, "/v1/salespeople", Some(body)).await, 201).await;
    }
    for collection in ["/v1/industry-groups", "/v1/salespeople"] {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("{collection}?limit=2&cursor={c}"),
                None => format!("{collection}?limit=2"),
            };
            let page = assert_json(app.get(&path).await, 200).await;
            let codes: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap().to_owned())
                .collect();
            pages.push(codes);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages.len() < 10, "the pages never end");
        }
        assert_eq!(pages, vec![vec!["A", "B"], vec!["C", "D"], vec!["E"]], "{collection}");
    }
    let all = assert_json(app.get("/v1/industry-groups").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    assert_eq!(all["next_cursor"], Value::Null);

    let too_many =
        assert_problem(app.get("/v1/industry-groups?limit=1001").await, 422, "validation-failed").await;
    assert_eq!(field_errors(&too_many), vec![("limit".to_owned(), "out_of_range".to_owned())]);
    let forged =
        assert_problem(app.get("/v1/salespeople?cursor=bm9wZQ").await, 422, "validation-failed").await;
    assert_eq!(forged["errors"][0]["field"], "cursor");
});

db_test!(a_duplicate_code_is_409_naming_code, |app| {
    let group = json!({"code": "VIP", "description": "Very important"});
    assert_json(as_admin(&app, Method::POST, "/v1/mailing-groups", Some(group.clone())).await, 201).await;
    let again = as_admin(&app, Method::POST, "/v1/mailing-groups", Some(group)).await;
    let problem = assert_problem(again, 409, "already-exists").await;
    assert!(problem["detail"].as_str().unwrap().contains("code"), "{problem}");

    let person = json!({"code": "JD", "name": "Jane Doe"});
    assert_json(as_admin(&app, Method::POST, "/v1/salespeople", Some(person.clone())).await, 201).await;
    let again = as_admin(&app, Method::POST, "/v1/salespeople", Some(person)).await;
    let problem = assert_problem(again, 409, "already-exists").await;
    assert!(problem["detail"].as_str().unwrap().contains("code"), "{problem}");
    let stored: i64 = salespeople::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(stored, 1);
});

db_test!(invalid_fields_are_422_naming_every_field_at_once, |app| {
    let body = json!({"code": "NEW YEAR", "description": "x".repeat(101)});
    let problem = assert_problem(
        as_admin(&app, Method::POST, "/v1/mailing-groups", Some(body)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        vec![("code".to_owned(), "invalid".to_owned()), ("description".to_owned(), "too_long".to_owned())]
    );
    let slash = json!({"code": "A/B", "description": ""});
    let problem = assert_problem(
        as_admin(&app, Method::POST, "/v1/business-relations", Some(slash)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        vec![("code".to_owned(), "invalid".to_owned()), ("description".to_owned(), "required".to_owned())]
    );

    let person = json!({"code": "JD", "name": "", "email": "jane.example.com", "phone": "1".repeat(31)});
    let problem = assert_problem(
        as_admin(&app, Method::POST, "/v1/salespeople", Some(person)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        vec![
            ("email".to_owned(), "invalid".to_owned()),
            ("name".to_owned(), "required".to_owned()),
            ("phone".to_owned(), "too_long".to_owned()),
        ]
    );
    let long_name = json!({"code": "JD", "name": "n".repeat(51)});
    let problem = assert_problem(
        as_admin(&app, Method::POST, "/v1/salespeople", Some(long_name)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(field_errors(&problem), vec![("name".to_owned(), "too_long".to_owned())]);
    let nothing_stored: i64 = salespeople::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(nothing_stored, 0);

    assert_json(
        as_admin(&app, Method::POST, "/v1/salespeople", Some(json!({"code": "JD", "name": "Jane"}))).await,
        201,
    )
    .await;
    let bad_change = json!({"email": "jane@", "name": null});
    let problem = assert_problem(
        as_admin(&app, Method::PATCH, "/v1/salespeople/JD", Some(bad_change)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        vec![("email".to_owned(), "invalid".to_owned()), ("name".to_owned(), "required".to_owned())]
    );
});

db_test!(a_patch_can_neither_change_the_code_nor_clear_the_description, |app| {
    let group = json!({"code": "TRADE", "description": "Trade fairs"});
    assert_json(as_admin(&app, Method::POST, "/v1/interaction-groups", Some(group)).await, 201).await;
    let rename =
        as_admin(&app, Method::PATCH, "/v1/interaction-groups/TRADE", Some(json!({"code": "FAIR"}))).await;
    assert_problem(rename, 422, "invalid-body").await;
    let clear =
        as_admin(&app, Method::PATCH, "/v1/interaction-groups/TRADE", Some(json!({"description": null})))
            .await;
    let problem = assert_problem(clear, 422, "validation-failed").await;
    assert_eq!(field_errors(&problem), vec![("description".to_owned(), "required".to_owned())]);
    let read = assert_json(app.get("/v1/interaction-groups/TRADE").await, 200).await;
    assert_eq!(read["description"], "Trade fairs");
    assert_problem(app.get("/v1/interaction-groups/FAIR").await, 404, "not-found").await;
});

db_test!(an_unknown_code_is_404_naming_the_table_and_the_code, |app| {
    for (collection, noun) in
        [("/v1/job-responsibilities", "job responsibility"), ("/v1/salespeople", "salesperson")]
    {
        let path = format!("{collection}/NOPE");
        let change = if noun == "salesperson" { json!({"name": "x"}) } else { json!({"description": "x"}) };
        for response in [
            app.get(&path).await,
            as_admin(&app, Method::PATCH, &path, Some(change)).await,
            as_admin(&app, Method::DELETE, &path, None).await,
        ] {
            let problem = assert_problem(response, 404, "not-found").await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains(noun) && detail.contains("NOPE"), "{detail}");
        }
    }
});

db_test!(a_read_key_can_list_and_read_but_only_an_admin_key_can_write, |app| {
    let group = json!({"code": "NEWS", "description": "Newsletter"});
    for key in [&app.read_key, &app.write_key] {
        let response =
            app.request_as(Method::POST, "/v1/mailing-groups", Some(key)).json(&group).send().await.unwrap();
        assert_problem(response, 403, "forbidden").await;
    }
    assert_json(as_admin(&app, Method::POST, "/v1/mailing-groups", Some(group)).await, 201).await;

    let list = app.request_as(Method::GET, "/v1/mailing-groups", Some(&app.read_key)).send().await.unwrap();
    assert_eq!(assert_json(list, 200).await["items"].as_array().unwrap().len(), 1);
    let one =
        app.request_as(Method::GET, "/v1/mailing-groups/NEWS", Some(&app.read_key)).send().await.unwrap();
    assert_eq!(assert_json(one, 200).await["code"], "NEWS");

    let change = app
        .request_as(Method::PATCH, "/v1/mailing-groups/NEWS", Some(&app.read_key))
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(change, 403, "forbidden").await;
    let delete =
        app.request_as(Method::DELETE, "/v1/mailing-groups/NEWS", Some(&app.write_key)).send().await.unwrap();
    assert_problem(delete, 403, "forbidden").await;
    let kept = assert_json(app.get("/v1/mailing-groups/NEWS").await, 200).await;
    assert_eq!(kept["description"], "Newsletter");
    let anonymous = app.request_as(Method::GET, "/v1/salespeople", None).send().await.unwrap();
    assert_problem(anonymous, 401, "unauthorized").await;
});

db_test!(deleting_a_mailing_group_linked_to_a_contact_is_409_in_use_and_keeps_it, |app| {
    let group = json!({"code": "VIP", "description": "Very important"});
    assert_json(as_admin(&app, Method::POST, "/v1/mailing-groups", Some(group)).await, 201).await;
    let contact_id = insert_contact(&app, "CT000001", None);
    diesel::insert_into(contact_mailing_groups::table)
        .values((
            contact_mailing_groups::contact_id.eq(contact_id),
            contact_mailing_groups::mailing_group_code.eq("VIP"),
        ))
        .execute(&mut *app.conn())
        .unwrap();

    let problem =
        assert_problem(as_admin(&app, Method::DELETE, "/v1/mailing-groups/VIP", None).await, 409, "in-use")
            .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("VIP") && detail.contains("contact_mailing_groups"), "{detail}");
    assert_eq!(assert_json(app.get("/v1/mailing-groups/VIP").await, 200).await["code"], "VIP");
    let kept: i64 = mailing_groups::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(kept, 1);

    // Once the link is gone, the delete goes ahead.
    diesel::delete(contact_mailing_groups::table).execute(&mut *app.conn()).unwrap();
    assert_eq!(as_admin(&app, Method::DELETE, "/v1/mailing-groups/VIP", None).await.status(), 204);
});

db_test!(deleting_a_salesperson_a_contact_uses_is_409_in_use, |app| {
    let person = json!({"code": "JD", "name": "Jane Doe"});
    assert_json(as_admin(&app, Method::POST, "/v1/salespeople", Some(person)).await, 201).await;
    insert_contact(&app, "CT000001", Some("JD"));

    let problem =
        assert_problem(as_admin(&app, Method::DELETE, "/v1/salespeople/JD", None).await, 409, "in-use").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("JD") && detail.contains("contacts.salesperson_code"), "{detail}");
    assert!(!detail.contains("segments"), "only the places that use it: {detail}");
    assert_eq!(assert_json(app.get("/v1/salespeople/JD").await, 200).await["name"], "Jane Doe");
});

db_test!(a_code_with_url_characters_is_found_at_its_location, |app| {
    let body = json!({"code": "R&D?#1%", "description": "Research"});
    let response = as_admin(&app, Method::POST, "/v1/business-relations", Some(body)).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/v1/business-relations/R%26D%3F%231%25");
    assert_json(response, 201).await;
    let read = assert_json(app.get(&location).await, 200).await;
    assert_eq!(read["code"], "R&D?#1%");
    assert_eq!(as_admin(&app, Method::DELETE, &location, None).await.status(), 204);
});

db_test!(a_method_a_code_table_url_does_not_serve_is_405, |app| {
    let put = app.request(Method::PUT, "/v1/salespeople/JD").send().await.unwrap();
    assert_problem(put, 405, "method-not-allowed").await;
    let delete_all = app.request(Method::DELETE, "/v1/mailing-groups").send().await.unwrap();
    assert_problem(delete_all, 405, "method-not-allowed").await;
});

db_test!(deleting_an_interaction_group_a_template_uses_is_409_in_use, |app| {
    let group = json!({"code": "LETTERS", "description": "Letters"});
    assert_json(as_admin(&app, Method::POST, "/v1/interaction-groups", Some(group)).await, 201).await;
    let now = Utc::now().naive_utc();
    diesel::insert_into(interaction_templates::table)
        .values((
            interaction_templates::code.eq("THANKS"),
            interaction_templates::interaction_group_code.eq("LETTERS"),
            interaction_templates::description.eq("Thank-you letter"),
            interaction_templates::information_flow.eq("outbound"),
            interaction_templates::initiated_by.eq("us"),
            interaction_templates::unit_cost_cents.eq(0_i64),
            interaction_templates::unit_duration_min.eq(0_i64),
            interaction_templates::ignore_contact_correspondence_type.eq(false),
            interaction_templates::version.eq(1_i64),
            interaction_templates::created_at.eq(now),
            interaction_templates::updated_at.eq(now),
        ))
        .execute(&mut *app.conn())
        .unwrap();

    let response = as_admin(&app, Method::DELETE, "/v1/interaction-groups/LETTERS", None).await;
    let problem = assert_problem(response, 409, "in-use").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("interaction_templates.interaction_group_code"), "{detail}");
    assert_eq!(assert_json(app.get("/v1/interaction-groups/LETTERS").await, 200).await["code"], "LETTERS");
});

db_test!(a_description_entry_has_an_etag_from_its_version_and_honours_if_match_and_if_none_match, |app| {
    const ITEM: &str = "/v1/business-relations/LAW";
    let response = as_admin(
        &app,
        Method::POST,
        "/v1/business-relations",
        Some(json!({"code": "LAW", "description": "Lawyer"})),
    )
    .await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created = assert_json(response, 201).await;
    assert_eq!(created["version"], 1);

    let read = app.get(ITEM).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(assert_json(read, 200).await, created);
    let not_modified = if_none_match(&app, ITEM, "\"1\"").await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], "\"1\"");
    assert_eq!(not_modified.text().await.unwrap(), "");

    // A PATCH that alters nothing keeps the version and updated_at, with or without If-Match.
    for patch in [json!({}), json!({"description": "Lawyer"})] {
        let response = as_admin(&app, Method::PATCH, ITEM, Some(patch)).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert_eq!(assert_json(response, 200).await, created);
    }
    let same =
        with_if_match(&app, Method::PATCH, ITEM, "\"1\"", Some(json!({"description": "Lawyer"}))).await;
    assert_eq!(assert_json(same, 200).await, created);

    let changed =
        with_if_match(&app, Method::PATCH, ITEM, "\"1\"", Some(json!({"description": "Law firm"}))).await;
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let changed = assert_json(changed, 200).await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["created_at"], created["created_at"]);
    assert!(timestamp(&changed["updated_at"]) >= timestamp(&created["updated_at"]));
    let read = if_none_match(&app, ITEM, "\"1\"").await;
    assert_eq!(read.headers()["etag"], "\"2\"");
    assert_eq!(assert_json(read, 200).await, changed);

    // A stale If-Match is 412 before anything else: the body's faults, the no-op, the delete.
    for (method, body) in [
        (Method::PATCH, Some(json!({"description": "Lost"}))),
        (Method::PATCH, Some(json!({"description": null}))),
        (Method::PATCH, Some(json!({}))),
        (Method::DELETE, None),
    ] {
        let stale = with_if_match(&app, method, ITEM, "\"1\"", body).await;
        assert_problem(stale, 412, "precondition-failed").await;
    }
    assert_eq!(assert_json(app.get(ITEM).await, 200).await, changed);
    let stored: (String, i64) = business_relations::table
        .find("LAW")
        .select((business_relations::description, business_relations::version))
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, ("Law firm".to_owned(), 2));

    // Any listed tag that matches lets the write through; `*` asks for nothing.
    let listed =
        with_if_match(&app, Method::PATCH, ITEM, "\"1\", \"2\"", Some(json!({"description": "Lawyers"})))
            .await;
    assert_eq!(assert_json(listed, 200).await["version"], 3);
    let any = with_if_match(&app, Method::PATCH, ITEM, "*", Some(json!({"description": "Solicitors"}))).await;
    assert_eq!(any.headers()["etag"], "\"4\"");
    let missing =
        with_if_match(&app, Method::PATCH, "/v1/business-relations/NOPE", "\"1\"", Some(json!({}))).await;
    assert_problem(missing, 404, "not-found").await;
    assert_eq!(with_if_match(&app, Method::DELETE, ITEM, "\"4\"", None).await.status(), 204);
    assert_problem(app.get(ITEM).await, 404, "not-found").await;
});

db_test!(a_salesperson_has_an_etag_from_its_version_and_honours_if_match_and_if_none_match, |app| {
    const ITEM: &str = "/v1/salespeople/JD";
    let body = json!({"code": "JD", "name": "Jane Doe", "email": "jane@example.com"});
    let response = as_admin(&app, Method::POST, "/v1/salespeople", Some(body)).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    assert_eq!(response.headers()["location"], ITEM);
    let created = assert_json(response, 201).await;
    assert_eq!(created["version"], 1);

    let read = app.get(ITEM).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(assert_json(read, 200).await, created);
    let not_modified = if_none_match(&app, ITEM, "\"1\"").await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], "\"1\"");

    // The values it already has: nothing moves.
    for patch in [json!({}), json!({"name": "Jane Doe", "email": "jane@example.com", "phone": null})] {
        let response = as_admin(&app, Method::PATCH, ITEM, Some(patch)).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert_eq!(assert_json(response, 200).await, created);
    }

    let changed = with_if_match(&app, Method::PATCH, ITEM, "\"1\"", Some(json!({"email": null}))).await;
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let changed = assert_json(changed, 200).await;
    assert_eq!((&changed["email"], &changed["version"]), (&Value::Null, &json!(2)));
    assert_eq!(changed["created_at"], created["created_at"]);
    assert_eq!(if_none_match(&app, ITEM, "\"2\"").await.status(), 304);
    assert_eq!(assert_json(if_none_match(&app, ITEM, "\"1\"").await, 200).await, changed);

    for (method, body) in [
        (Method::PATCH, Some(json!({"name": "Lost"}))),
        (Method::PATCH, Some(json!({"email": "not an address"}))),
        (Method::DELETE, None),
    ] {
        let stale = with_if_match(&app, method, ITEM, "\"1\"", body).await;
        assert_problem(stale, 412, "precondition-failed").await;
    }
    // A weak tag never matches (If-Match compares strongly).
    let weak = with_if_match(&app, Method::DELETE, ITEM, "W/\"2\"", None).await;
    assert_problem(weak, 412, "precondition-failed").await;
    assert_eq!(assert_json(app.get(ITEM).await, 200).await, changed);
    let stored: (String, Option<String>, i64) = salespeople::table
        .find("JD")
        .select((salespeople::name, salespeople::email, salespeople::version))
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, ("Jane Doe".to_owned(), None, 2));

    // Without If-Match the write goes ahead.
    let renamed = as_admin(&app, Method::PATCH, ITEM, Some(json!({"name": "Jane Dunn"}))).await;
    assert_eq!(renamed.headers()["etag"], "\"3\"");
    assert_eq!(with_if_match(&app, Method::DELETE, ITEM, "\"3\"", None).await.status(), 204);
    assert_problem(app.get(ITEM).await, 404, "not-found").await;
});

db_test!(a_cursor_of_one_code_table_is_refused_by_another, |app| {
    for code in ["A", "B"] {
        let created = app
            .request_as(reqwest::Method::POST, "/v1/mailing-groups", Some(&app.admin_key))
            .json(&serde_json::json!({"code": code, "description": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let page = crate::helpers::assert_json(app.get("/v1/mailing-groups?limit=1").await, 200).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let next = crate::helpers::assert_json(
        app.get(&format!("/v1/mailing-groups?limit=1&cursor={cursor}")).await,
        200,
    )
    .await;
    assert_eq!(next["items"][0]["code"], "B");
    let other = app.get(&format!("/v1/industry-groups?cursor={cursor}")).await;
    crate::helpers::assert_problem(other, 422, "validation-failed").await;
});
