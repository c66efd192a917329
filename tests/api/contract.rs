//! Requests the OpenAPI document allows are accepted: what schemathesis found the server
//! refusing although the document said it was valid.

use reqwest::Method;
use serde_json::json;

use crate::db_test;
use crate::helpers::{assert_json, assert_problem};

db_test!(a_number_with_a_zero_fraction_is_taken_where_an_integer_is_expected, |app| {
    // JSON Schema counts 30.0 as an integer, and JavaScript clients send whole floats so.
    let created = assert_json(
        app.post("/v1/segments", &json!({"description": "Spring", "unit_duration_min": 30.0})).await,
        201,
    )
    .await;
    assert_eq!(created["unit_duration_min"], 30, "{created}");
    let id = created["id"].as_i64().unwrap();
    let changed =
        assert_json(app.patch(&format!("/v1/segments/{id}"), &json!({"unit_duration_min": 1e2})).await, 200)
            .await;
    assert_eq!(changed["unit_duration_min"], 100, "{changed}");
    let fraction = app.patch(&format!("/v1/segments/{id}"), &json!({"unit_duration_min": 30.5})).await;
    assert_problem(fraction, 422, "invalid-body").await;
});

db_test!(an_api_key_name_is_counted_in_characters, |app| {
    let create = |name: String| {
        app.request_as(Method::POST, "/v1/api-keys", Some(&app.admin_key))
            .json(&json!({"name": name, "scope": "read"}))
            .send()
    };
    // 100 characters of two bytes each: within the documented maxLength of 100.
    let created = assert_json(create("ø".repeat(100)).await.unwrap(), 201).await;
    assert_eq!(created["name"], "ø".repeat(100));
    assert_problem(create("ø".repeat(101)).await.unwrap(), 422, "validation-failed").await;
});
