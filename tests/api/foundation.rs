//! Health, auth scopes, and the problem documents of every bad-input class.

use reqwest::Method;
use serde_json::json;

use crate::db_test;
use crate::helpers::{assert_json, assert_problem};

db_test!(health_and_readiness_answer_without_a_key, |app| {
    let health = assert_json(app.request_as(Method::GET, "/healthz", None).send().await.unwrap(), 200).await;
    assert_eq!(health["status"], "ok");
    let ready = assert_json(app.request_as(Method::GET, "/readyz", None).send().await.unwrap(), 200).await;
    let expected = match app.db {
        crate::helpers::Db::Sqlite => "sqlite",
        crate::helpers::Db::Postgres => "postgresql",
    };
    assert_eq!(ready["database"], expected);
});

db_test!(migrations_create_every_table_and_a_second_run_does_nothing, |app| {
    use diesel::prelude::*;
    let mut conn = app.conn();
    assert_eq!(crm_segments::db::run_migrations(&mut conn).unwrap(), 0);
    let series: i64 = crm_segments::db::schema::number_series::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(series, 4);
});

db_test!(a_v1_route_without_a_key_is_401, |app| {
    let response = app.request_as(Method::GET, "/v1/me", None).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, 401, "unauthorized").await;
});

db_test!(an_unknown_or_malformed_key_is_401, |app| {
    let unknown = app.request_as(Method::GET, "/v1/me", Some("crm_not-a-key")).send().await.unwrap();
    assert_problem(unknown, 401, "unauthorized").await;
    let basic =
        app.client.get(app.url("/v1/me")).header("authorization", "Basic dXNlcjpwYXNz").send().await.unwrap();
    assert_problem(basic, 401, "unauthorized").await;
});

db_test!(a_wrong_key_is_401_whatever_else_is_wrong_with_the_request, |app| {
    // The key is checked before the body is read or an idempotency key looked at: a client with
    // a wrong key learns that first, not what else its request got wrong.
    let malformed = app
        .request_as(Method::POST, "/v1/contacts", Some("crm_not-a-key"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 401, "unauthorized").await;
    let invalid = app
        .request_as(Method::POST, "/v1/contacts/bulk", Some("crm_not-a-key"))
        .json(&json!({"items": [{"type": "planet"}]}))
        .send()
        .await
        .unwrap();
    assert_problem(invalid, 401, "unauthorized").await;
    let bad_idempotency_key = app
        .request_as(Method::POST, "/v1/contacts", Some("crm_not-a-key"))
        .header("idempotency-key", "has spaces in it")
        .json(&json!({"type": "company", "name": "A"}))
        .send()
        .await
        .unwrap();
    assert_problem(bad_idempotency_key, 401, "unauthorized").await;
    // A known key without the scope is 403 before its malformed body is looked at.
    let read_only = app
        .request_as(Method::POST, "/v1/contacts", Some(&app.read_key))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(read_only, 403, "forbidden").await;
});

db_test!(each_scope_reaches_what_it_may_and_no_further, |app| {
    let me =
        assert_json(app.request_as(Method::GET, "/v1/me", Some(&app.read_key)).send().await.unwrap(), 200)
            .await;
    assert_eq!(me, json!({"name": "reader", "scope": "read"}));
    for key in [&app.read_key, &app.write_key] {
        let response = app.request_as(Method::GET, "/v1/api-keys", Some(key)).send().await.unwrap();
        assert_problem(response, 403, "forbidden").await;
    }
    let keys = assert_json(
        app.request_as(Method::GET, "/v1/api-keys", Some(&app.admin_key)).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(keys["items"].as_array().unwrap().len(), 2);
});

db_test!(a_key_created_over_http_works_until_revoked, |app| {
    let created = app
        .request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
        .json(&json!({"name": "erp", "scope": "write"}))
        .send()
        .await
        .unwrap();
    let created = assert_json(created, 201).await;
    let key = created["key"].as_str().unwrap().to_owned();
    let me = assert_json(app.request_as(Method::GET, "/v1/me", Some(&key)).send().await.unwrap(), 200).await;
    assert_eq!(me["name"], "erp");

    let keys = assert_json(
        app.request_as(Method::GET, "/v1/api-keys", Some(&app.admin_key)).send().await.unwrap(),
        200,
    )
    .await;
    let id = keys["items"].as_array().unwrap().iter().find(|k| k["name"] == "erp").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(keys.to_string().find(&key).is_none(), "a listed key must not show its secret");
    let revoked = app
        .request_as(Method::DELETE, &format!("/v1/api-keys/{id}"), Some(&app.admin_key))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = app.request_as(Method::GET, "/v1/me", Some(&key)).send().await.unwrap();
    assert_problem(after, 401, "unauthorized").await;
});

// A key revoked where this process cannot see it (another replica, the command line) is
// refused once this process's memory of it has expired.
db_test!(
    a_key_revoked_elsewhere_is_refused_within_the_key_cache_ttl,
    settings = |s| s.api_key_cache_ttl = std::time::Duration::from_millis(500),
    |app| {
        let mut conn = app.pool.get().unwrap();
        let key = crm_segments::api_keys::repo::create_api_key(
            &mut conn,
            "replica-test",
            crm_segments::domain::ApiScope::Read,
        )
        .unwrap();
        let me = app.request_as(Method::GET, "/v1/me", Some(&key)).send().await.unwrap();
        assert_json(me, 200).await;
        assert_eq!(crm_segments::api_keys::repo::revoke_api_key(&mut conn, "replica-test").unwrap(), 1);
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let after = app.request_as(Method::GET, "/v1/me", Some(&key)).send().await.unwrap();
        assert_problem(after, 401, "unauthorized").await;
    }
);

db_test!(malformed_json_is_400, |app| {
    let response = app
        .request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed-json").await;
});

db_test!(wrong_types_and_unknown_fields_are_422, |app| {
    for body in [
        json!({"name": 5, "scope": "read"}),
        json!({"name": "x", "scope": "read", "colour": "red"}),
        json!({"name": "x", "scope": "superuser"}),
    ] {
        let response = app
            .request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 422, "invalid-body").await;
    }
});

db_test!(a_field_given_twice_is_422_and_writes_nothing, |app| {
    // serde_json keeps either value silently when it builds a map; the service reads bodies
    // straight into their types, which refuse the repeat, and says where it is.
    for (path, body) in [
        ("/v1/contacts", r#"{"type": "company", "name": "A", "no": "C1", "no": "C2"}"#),
        ("/v1/contacts/bulk", r#"{"items": [{"type": "company", "name": "A", "name": "B", "no": "C1"}]}"#),
    ] {
        let response = app
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422, "invalid-body").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("duplicate field") && detail.contains("column"), "{detail}");
    }
    let contacts = assert_json(app.get("/v1/contacts").await, 200).await;
    assert_eq!(contacts["items"].as_array().unwrap().len(), 0);
});

db_test!(a_body_that_is_not_json_is_415, |app| {
    let response = app
        .request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415, "unsupported-media-type").await;
});

db_test!(a_body_over_the_limit_is_413, |app| {
    let name = "x".repeat(5 * 1024 * 1024);
    let response = app
        .request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
        .json(&json!({"name": name, "scope": "read"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "payload-too-large").await;
});

db_test!(unknown_routes_are_404_and_wrong_methods_405, |app| {
    assert_problem(app.get("/v1/no-such-thing").await, 404, "not-found").await;
    assert_problem(app.get("/elsewhere").await, 404, "not-found").await;
    let put = app.request(Method::PUT, "/v1/me").send().await.unwrap();
    assert_eq!(put.headers()["allow"], "GET, HEAD");
    assert_problem(put, 405, "method-not-allowed").await;
    let delete = app.request(Method::DELETE, "/v1/contacts").send().await.unwrap();
    assert_eq!(delete.headers()["allow"], "GET, HEAD, POST");
    assert_problem(delete, 405, "method-not-allowed").await;
});

db_test!(a_non_numeric_id_in_the_path_is_404, |app| {
    let response =
        app.request_as(Method::DELETE, "/v1/api-keys/abc", Some(&app.admin_key)).send().await.unwrap();
    assert_problem(response, 404, "not-found").await;
});

db_test!(the_docs_page_and_the_openapi_document_are_served, |app| {
    let docs = app.request_as(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let spec =
        assert_json(app.request_as(Method::GET, "/openapi.json", None).send().await.unwrap(), 200).await;
    assert_eq!(spec["openapi"], "3.1.0");
});

db_test!(head_answers_like_get_without_a_body, |app| {
    let head = app.request(Method::HEAD, "/v1/me").send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap().is_empty());
    let anonymous = app.request_as(Method::HEAD, "/v1/me", None).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
});

db_test!(a_missing_key_is_401_even_with_a_malformed_idempotency_key, |app| {
    let response = app
        .request_as(Method::POST, "/v1/contacts", None)
        .header("idempotency-key", "has spaces in it")
        .json(&json!({"type": "company", "name": "A"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
});

db_test!(a_json_array_where_an_object_belongs_is_422, |app| {
    let created = assert_json(
        app.post("/v1/contacts", &json!({"type": "company", "name": "A", "no": "C1"})).await,
        201,
    )
    .await;
    let path = format!("/v1/contacts/{}", created["id"]);
    assert_problem(app.patch(&path, &json!(["RENAMED"])).await, 422, "invalid-body").await;
    assert_problem(app.patch(&path, &json!([])).await, 422, "invalid-body").await;
    let bulk = app.post("/v1/contacts/bulk", &json!({"items": [["company", "X"]]})).await;
    assert_problem(bulk, 422, "invalid-body").await;
    assert_eq!(assert_json(app.get(&path).await, 200).await["no"], "C1");
});

db_test!(nul_in_a_path_or_query_is_422_invalid_text_on_both_backends, |app| {
    // PostgreSQL cannot bind text with NUL; SQLite used to answer 200 and match nothing.
    for path in [
        "/v1/contacts?city=a%00b",
        "/v1/logged-segments?user=%00",
        "/v1/segments?salesperson_code=x%00",
        "/v1/salespeople/a%00b",
    ] {
        assert_problem(app.get(path).await, 422, "invalid-text").await;
    }
    assert_problem(app.delete("/v1/mailing-groups/%00").await, 422, "invalid-text").await;
    // A percent sign followed by 00 is not a NUL.
    assert_json(app.get("/v1/contacts?city=%2500").await, 200).await;
});

db_test!(bad_text_and_out_of_range_filters_are_4xx_not_500, |app| {
    let nul = app.post("/v1/contacts", &json!({"type": "company", "name": "a\u{0}b"})).await;
    let body = assert_problem(nul, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "name");
    let long_q = "x".repeat(60_000);
    assert_problem(app.get(&format!("/v1/contacts?q={long_q}")).await, 422, "validation-failed").await;
    assert_problem(
        app.get("/v1/contacts?updated_since=-4715-01-01T00:00:00Z").await,
        422,
        "validation-failed",
    )
    .await;
    assert_problem(app.get("/v1/segments?date_from=-4714-01-01").await, 422, "validation-failed").await;
});
