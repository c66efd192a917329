//! Contacts over HTTP: CRUD, validation, conditional requests, lists, links and bulk sync.

use chrono::Utc;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{interaction_log_entries, mailing_groups, salespeople};

/// Code table rows the contacts link to (their own API is tested elsewhere).
fn seed_codes(app: &TestApp) {
    let now = Utc::now().naive_utc();
    let mut conn = app.conn();
    for code in ["NEWS", "VIP"] {
        diesel::insert_into(mailing_groups::table)
            .values((
                mailing_groups::code.eq(code),
                mailing_groups::description.eq(code),
                mailing_groups::version.eq(1_i64),
                mailing_groups::created_at.eq(now),
                mailing_groups::updated_at.eq(now),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    diesel::insert_into(salespeople::table)
        .values((
            salespeople::code.eq("JO"),
            salespeople::name.eq("Jo"),
            salespeople::version.eq(1_i64),
            salespeople::created_at.eq(now),
            salespeople::updated_at.eq(now),
        ))
        .execute(&mut *conn)
        .unwrap();
}

async fn create(app: &TestApp, body: Value) -> Value {
    assert_json(app.post("/v1/contacts", &body).await, 201).await
}

db_test!(a_company_gets_a_number_from_the_series_and_reads_back_with_an_etag, |app| {
    let response =
        app.post("/v1/contacts", &json!({"type": "company", "name": "Fjord AS", "city": "Oslo"})).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created = assert_json(response, 201).await;
    assert_eq!(created["no"], "CT000001");
    assert_eq!(created["version"], 1);
    assert_eq!(location, format!("/v1/contacts/{}", created["id"]));

    let read = app.get(&location).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    let read = assert_json(read, 200).await;
    assert_eq!(read["name"], "Fjord AS");
    assert_eq!(read["exclude_from_segment"], false);

    let again = app.request(Method::GET, &location).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(again.status(), 304);
});

db_test!(a_person_takes_its_name_from_its_parts_and_shows_its_company, |app| {
    let company = create(&app, json!({"type": "company", "name": "Fjord AS", "no": "C1"})).await;
    let person = create(
        &app,
        json!({"type": "person", "first_name": "Kari", "surname": "Nordmann", "company_no": "C1", "email": "kari@fjord.no"}),
    )
    .await;
    assert_eq!(person["name"], "Kari Nordmann");
    assert_eq!(person["company_no"], "C1");
    assert_eq!(person["company_name"], "Fjord AS");
    let persons = assert_json(app.get("/v1/contacts?company_no=C1").await, 200).await;
    assert_eq!(persons["items"].as_array().unwrap().len(), 1);
    assert_eq!(persons["items"][0]["id"], person["id"]);
    let _ = company;
});

db_test!(a_person_whose_company_is_missing_or_a_person_is_422, |app| {
    create(&app, json!({"type": "person", "name": "Ola", "no": "P1"})).await;
    let missing =
        app.post("/v1/contacts", &json!({"type": "person", "name": "A", "company_no": "NOPE"})).await;
    let body = assert_problem(missing, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "company_no");
    assert_eq!(body["errors"][0]["code"], "unknown_reference");
    let person = app.post("/v1/contacts", &json!({"type": "person", "name": "A", "company_no": "P1"})).await;
    let body = assert_problem(person, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["code"], "not_a_company");
    let count: i64 = crm_segments::db::schema::contacts::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(count, 1, "nothing was written");
});

db_test!(a_company_with_a_company_no_is_422, |app| {
    create(&app, json!({"type": "company", "name": "Parent", "no": "C1"})).await;
    let response =
        app.post("/v1/contacts", &json!({"type": "company", "name": "Child", "company_no": "C1"})).await;
    let body = assert_problem(response, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "company_no");
});

db_test!(malformed_email_and_overlong_fields_are_422_all_at_once, |app| {
    let response = app
        .post("/v1/contacts", &json!({"type": "company", "name": "X".repeat(101), "email": "not-an-address"}))
        .await;
    let body = assert_problem(response, 422, "validation-failed").await;
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email"]);
});

db_test!(an_enum_out_of_range_is_422, |app| {
    let bad_type = app.post("/v1/contacts", &json!({"type": "robot", "name": "X"})).await;
    assert_problem(bad_type, 422, "invalid-body").await;
    let bad_channel = app
        .post("/v1/contacts", &json!({"type": "company", "name": "X", "correspondence_type": "fax"}))
        .await;
    assert_problem(bad_channel, 422, "invalid-body").await;
});

db_test!(an_unknown_code_in_a_link_list_or_salesperson_is_422, |app| {
    seed_codes(&app);
    let response = app
        .post(
            "/v1/contacts",
            &json!({"type": "company", "name": "X", "mailing_group_codes": ["NEWS", "GHOST"], "salesperson_code": "NOBODY"}),
        )
        .await;
    let body = assert_problem(response, 422, "validation-failed").await;
    let errors = body["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["field"] == "salesperson_code" && e["code"] == "unknown_code"), "{body}");
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == "mailing_group_codes" && e["message"].as_str().unwrap().contains("GHOST")),
        "{body}"
    );
});

db_test!(a_duplicate_no_or_external_id_is_409, |app| {
    create(&app, json!({"type": "company", "name": "A", "no": "C1", "external_id": "erp-1"})).await;
    let same_no = app.post("/v1/contacts", &json!({"type": "company", "name": "B", "no": "C1"})).await;
    let body = assert_problem(same_no, 409, "already-exists").await;
    assert_eq!(body["errors"][0]["field"], "no");
    let same_external =
        app.post("/v1/contacts", &json!({"type": "company", "name": "B", "external_id": "erp-1"})).await;
    let body = assert_problem(same_external, 409, "already-exists").await;
    assert_eq!(body["errors"][0]["field"], "external_id");
});

db_test!(an_unknown_contact_is_404, |app| {
    assert_problem(app.get("/v1/contacts/999999").await, 404, "not-found").await;
    assert_problem(app.patch("/v1/contacts/999999", &json!({"city": "Oslo"})).await, 404, "not-found").await;
    assert_problem(app.delete("/v1/contacts/999999").await, 404, "not-found").await;
});

db_test!(patch_changes_what_it_names_clears_nulls_and_moves_the_version_only_on_change, |app| {
    let c = create(&app, json!({"type": "company", "name": "A", "city": "Oslo", "phone": "123"})).await;
    let path = format!("/v1/contacts/{}", c["id"]);
    let patched = assert_json(app.patch(&path, &json!({"city": "Bergen", "phone": null})).await, 200).await;
    assert_eq!(patched["city"], "Bergen");
    assert_eq!(patched["phone"], Value::Null);
    assert_eq!(patched["name"], "A");
    assert_eq!(patched["version"], 2);
    let same = assert_json(app.patch(&path, &json!({"city": "Bergen"})).await, 200).await;
    assert_eq!(same["version"], 2, "an identical change leaves the version");
});

db_test!(a_stale_if_match_is_412_and_changes_nothing, |app| {
    let c = create(&app, json!({"type": "company", "name": "A"})).await;
    let path = format!("/v1/contacts/{}", c["id"]);
    app.patch(&path, &json!({"name": "B"})).await;
    let stale = app
        .request(Method::PATCH, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "C"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition-failed").await;
    let stale_delete = app.request(Method::DELETE, &path).header("if-match", "\"1\"").send().await.unwrap();
    assert_problem(stale_delete, 412, "precondition-failed").await;
    let read = assert_json(app.get(&path).await, 200).await;
    assert_eq!(read["name"], "B");
    let fresh = app
        .request(Method::PATCH, &path)
        .header("if-match", "\"2\"")
        .json(&json!({"name": "C"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_json(fresh, 200).await["version"], 3);
});

db_test!(deleting_a_company_with_persons_or_a_contact_with_interactions_is_409, |app| {
    let company = create(&app, json!({"type": "company", "name": "A", "no": "C1"})).await;
    let person = create(&app, json!({"type": "person", "name": "P", "company_no": "C1"})).await;
    let body = assert_problem(
        app.delete(&format!("/v1/contacts/{}", company["id"])).await,
        409,
        "company-has-persons",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("1 person"));

    let now = Utc::now().naive_utc();
    diesel::insert_into(interaction_log_entries::table)
        .values((
            interaction_log_entries::entry_no.eq(1_i64),
            interaction_log_entries::contact_id.eq(person["id"].as_i64().unwrap()),
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
    let person_path = format!("/v1/contacts/{}", person["id"]);
    assert_problem(app.delete(&person_path).await, 409, "contact-has-interactions").await;
    assert_eq!(app.get(&person_path).await.status(), 200);

    let other = create(&app, json!({"type": "company", "name": "Gone"})).await;
    let other_path = format!("/v1/contacts/{}", other["id"]);
    assert_eq!(app.delete(&other_path).await.status(), 204);
    assert_problem(app.get(&other_path).await, 404, "not-found").await;
});

db_test!(lists_filter_and_page_with_an_opaque_cursor, |app| {
    seed_codes(&app);
    for (name, city) in
        [("Ærlig Øl", "Oslo"), ("Bergen Bryggeri", "Bergen"), ("Oslo Bakeri", "Oslo"), ("Lys AS", "Oslo")]
    {
        create(&app, json!({"type": "company", "name": name, "city": city, "mailing_group_codes": if city == "Oslo" { vec!["NEWS"] } else { vec![] }})).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    let q = assert_json(app.get("/v1/contacts?q=%C3%B8L").await, 200).await;
    assert_eq!(names(&q), ["Ærlig Øl"], "q is case-insensitive beyond ASCII");
    let q = assert_json(app.get("/v1/contacts?q=OSLO").await, 200).await;
    assert_eq!(names(&q), ["Oslo Bakeri"]);
    let city = assert_json(app.get("/v1/contacts?city=Oslo&limit=2").await, 200).await;
    assert_eq!(names(&city), ["Ærlig Øl", "Oslo Bakeri"]);
    let cursor = city["next_cursor"].as_str().unwrap();
    let next =
        assert_json(app.get(&format!("/v1/contacts?city=Oslo&limit=2&cursor={cursor}")).await, 200).await;
    assert_eq!(names(&next), ["Lys AS"]);
    assert_eq!(next["next_cursor"], Value::Null);
    let members = assert_json(app.get("/v1/contacts?mailing_group=NEWS").await, 200).await;
    assert_eq!(names(&members).len(), 3);
    let from_group = assert_json(app.get("/v1/mailing-groups/NEWS/contacts").await, 200).await;
    assert_eq!(names(&from_group), names(&members));
    assert_eq!(from_group["items"][0]["mailing_group_codes"], json!(["NEWS"]));
    assert_problem(app.get("/v1/mailing-groups/GHOST/contacts").await, 404, "not-found").await;
    // Several codes in one link list come back sorted, on the contact and in the list (one
    // aggregate per link table in the read).
    let both =
        create(&app, json!({"type": "company", "name": "Zeta AS", "mailing_group_codes": ["VIP", "NEWS"]}))
            .await;
    assert_eq!(both["mailing_group_codes"], json!(["NEWS", "VIP"]));
    let read = assert_json(app.get(&format!("/v1/contacts/{}", both["id"])).await, 200).await;
    assert_eq!(read["mailing_group_codes"], json!(["NEWS", "VIP"]));
    let listed = assert_json(app.get("/v1/contacts?mailing_group=VIP").await, 200).await;
    assert_eq!(listed["items"][0]["mailing_group_codes"], json!(["NEWS", "VIP"]));
    assert_eq!(listed["items"][0]["industry_group_codes"], json!([]));
    let typed = assert_json(app.get("/v1/contacts?type=person").await, 200).await;
    assert_eq!(names(&typed).len(), 0);
});

db_test!(bad_list_parameters_are_refused, |app| {
    assert_problem(app.get("/v1/contacts?limit=0").await, 422, "validation-failed").await;
    assert_problem(app.get("/v1/contacts?limit=1001").await, 422, "validation-failed").await;
    assert_problem(app.get("/v1/contacts?cursor=garbage").await, 422, "validation-failed").await;
    assert_problem(app.get("/v1/contacts?limit=ten").await, 400, "invalid-query").await;
    assert_problem(app.get("/v1/contacts?type=robot").await, 400, "invalid-query").await;
    assert_problem(app.get("/v1/contacts?updated_since=yesterday").await, 400, "invalid-query").await;
});

db_test!(a_read_key_cannot_write_contacts, |app| {
    let response = app
        .request_as(Method::POST, "/v1/contacts", Some(&app.read_key))
        .json(&json!({"type": "company", "name": "A"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "forbidden").await;
    let list = app.request_as(Method::GET, "/v1/contacts", Some(&app.read_key)).send().await.unwrap();
    assert_eq!(list.status(), 200);
});

db_test!(concurrent_creates_never_share_a_number, |app| {
    let bodies: Vec<Value> = (0..16).map(|i| json!({"type": "company", "name": format!("C{i}")})).collect();
    let responses = futures_util::future::join_all(bodies.iter().map(|b| app.post("/v1/contacts", b))).await;
    let mut nos = Vec::new();
    for response in responses {
        nos.push(assert_json(response, 201).await["no"].as_str().unwrap().to_owned());
    }
    nos.sort();
    let expected: Vec<String> = (1..=16).map(|n| format!("CT{n:06}")).collect();
    assert_eq!(nos, expected, "gap-free and never duplicated");
});

db_test!(bulk_creates_updates_and_leaves_identical_items_alone, |app| {
    seed_codes(&app);
    let batch = json!({"items": [
        {"type": "company", "external_id": "erp-c", "name": "Fjord AS", "mailing_group_codes": ["NEWS"]},
        {"type": "person", "external_id": "erp-p", "name": "Kari", "company_no": "FJ", "email": "k@fjord.no"},
        {"type": "company", "no": "FJ", "name": "Fjord Holding"},
    ]});
    let first = assert_json(app.post("/v1/contacts/bulk", &batch).await, 200).await;
    let statuses: Vec<&str> =
        first["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "created", "created"]);
    assert_eq!(first["results"][1]["index"], 1);

    let again = assert_json(app.post("/v1/contacts/bulk", &batch).await, 200).await;
    let statuses: Vec<&str> =
        again["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(again["results"][0]["id"], first["results"][0]["id"]);

    let change = json!({"items": [
        {"external_id": "erp-c", "name": "Fjord ASA"},
        {"external_id": "erp-p", "email": "kari@fjord.no", "mailing_group_codes": ["VIP"]},
    ]});
    let changed = assert_json(app.post("/v1/contacts/bulk", &change).await, 200).await;
    assert_eq!(changed["results"][0]["status"], "updated");
    let company =
        assert_json(app.get(&format!("/v1/contacts/{}", first["results"][0]["id"])).await, 200).await;
    assert_eq!(company["name"], "Fjord ASA");
    assert_eq!(company["version"], 2);
    assert_eq!(company["mailing_group_codes"], json!(["NEWS"]), "absent link lists stay");
    let person =
        assert_json(app.get(&format!("/v1/contacts/{}", first["results"][1]["id"])).await, 200).await;
    assert_eq!(person["company_name"], "Fjord Holding");
    assert_eq!(person["mailing_group_codes"], json!(["VIP"]));
    let holding =
        assert_json(app.get(&format!("/v1/contacts/{}", first["results"][2]["id"])).await, 200).await;
    assert_eq!(holding["version"], 1, "an item not sent is not touched");
});

db_test!(a_bulk_batch_with_one_invalid_item_writes_nothing_and_names_every_fault, |app| {
    let batch = json!({"items": [
        {"type": "company", "name": "Good"},
        {"type": "company", "name": "Bad", "email": "nope"},
        {"name": "No type"},
        {"type": "company", "name": "Dup", "external_id": "x"},
        {"type": "company", "name": "Dup again", "external_id": "x"},
    ]});
    let body = assert_problem(app.post("/v1/contacts/bulk", &batch).await, 422, "validation-failed").await;
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"items[1].email"), "{body}");
    assert!(fields.contains(&"items[2].type"), "{body}");
    assert!(fields.contains(&"items[4].external_id"), "{body}");
    let count: i64 = crm_segments::db::schema::contacts::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(count, 0);
});

db_test!(a_bulk_item_clashing_with_another_contact_is_409_and_writes_nothing, |app| {
    create(&app, json!({"type": "company", "name": "Owner", "no": "C1"})).await;
    let batch = json!({"items": [
        {"type": "company", "name": "New"},
        {"type": "company", "external_id": "e2", "no": "C1", "name": "Thief"},
    ]});
    let body = assert_problem(app.post("/v1/contacts/bulk", &batch).await, 409, "already-exists").await;
    assert_eq!(body["errors"][0]["field"], "items[1].no");
    let count: i64 = crm_segments::db::schema::contacts::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(count, 1);
});

db_test!(bulk_over_the_limit_is_422, settings = |s| s.bulk_max_items = 2, |app| {
    let batch = json!({"items": [{"type": "company", "name": "1"}, {"type": "company", "name": "2"}, {"type": "company", "name": "3"}]});
    let body = assert_problem(app.post("/v1/contacts/bulk", &batch).await, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "items");
    assert_eq!(body["errors"][0]["code"], "too_many");
});

db_test!(a_person_naming_a_number_the_batch_renames_away_is_refused, |app| {
    create(&app, json!({"type": "company", "name": "Old", "no": "OLD1", "external_id": "ext-old"})).await;
    let batch = json!({"items": [
        {"external_id": "ext-old", "no": "NEW1"},
        {"type": "person", "name": "P", "company_no": "OLD1"},
    ]});
    let body = assert_problem(app.post("/v1/contacts/bulk", &batch).await, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "items[1].company_no");
    let moved = json!({"items": [
        {"external_id": "ext-old", "no": "NEW1"},
        {"type": "person", "name": "P", "company_no": "NEW1"},
    ]});
    let done = assert_json(app.post("/v1/contacts/bulk", &moved).await, 200).await;
    let person = assert_json(app.get(&format!("/v1/contacts/{}", done["results"][1]["id"])).await, 200).await;
    assert_eq!(person["company_no"], "NEW1");
});

db_test!(a_cursor_of_one_list_is_refused_by_another, |app| {
    for name in ["A", "B"] {
        create(&app, json!({"type": "company", "name": name})).await;
    }
    let page = assert_json(app.get("/v1/contacts?limit=1").await, 200).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        assert_json(app.get(&format!("/v1/contacts?limit=1&cursor={cursor}")).await, 200).await["items"][0]
            ["name"],
        "B"
    );
    let body =
        assert_problem(app.get(&format!("/v1/segments?cursor={cursor}")).await, 422, "validation-failed")
            .await;
    assert_eq!(body["errors"][0]["field"], "cursor");
});

db_test!(two_identical_bulk_syncs_at_once_both_succeed, |app| {
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"type": "company", "external_id": format!("e{i}"), "name": format!("C{i}")}))
        .collect();
    let batch = json!({"items": items});
    let (a, b) = tokio::join!(app.post("/v1/contacts/bulk", &batch), app.post("/v1/contacts/bulk", &batch));
    let (a, b) = (assert_json(a, 200).await, assert_json(b, 200).await);
    let statuses: Vec<&str> =
        [&a, &b].iter().map(|r| r["results"][0]["status"].as_str().unwrap()).collect::<Vec<_>>();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, ["created", "unchanged"]);
    let count: i64 = crm_segments::db::schema::contacts::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(count, 200);
});
