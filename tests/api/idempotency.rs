//! `Idempotency-Key` on POST: replay of the first answer, refusals, scoping and expiry.

use chrono::{Duration, Utc};
use crm_segments::db::schema::idempotency_records as records;
use crm_segments::http::idempotency::request_fingerprint;
use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};

/// `POST /v1/api-keys` as `api_key`, with `body` sent exactly as its text (JSON, or a string
/// as it is).
async fn create_key(
    app: &TestApp,
    api_key: Option<&str>,
    idempotency_key: Option<&str>,
    body: &impl std::fmt::Display,
) -> Response {
    let mut request = app
        .request_as(Method::POST, "/v1/api-keys", api_key)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

async fn key_count(app: &TestApp) -> usize {
    let keys = assert_json(
        app.request_as(Method::GET, "/v1/api-keys", Some(&app.admin_key)).send().await.unwrap(),
        200,
    )
    .await;
    keys["items"].as_array().unwrap().len()
}

/// `POST /v1/api-keys` as the admin with `body` sent chunked (no Content-Length), as a client
/// streaming its body does, written by hand on a socket; answers the status of the answer.
async fn create_key_chunked(app: &TestApp, idempotency_key: &str, body: &str) -> u16 {
    let address = app.address.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/api-keys HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nIdempotency-Key: {idempotency_key}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.admin_key
    );
    let mut request = head.into_bytes();
    for chunk in body.as_bytes().chunks(100) {
        request.extend(format!("{:x}\r\n", chunk.len()).bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    socket.write_all(&request).await.unwrap();
    // The server may close without reading a refused body to its end: keep what arrived.
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.split(' ').nth(1).and_then(|status| status.parse().ok()).unwrap_or_else(|| panic!("{answer}"))
}

fn record_count(app: &TestApp) -> i64 {
    records::table.count().get_result(&mut *app.conn()).unwrap()
}

fn replayed(response: &Response) -> Option<String> {
    response.headers().get("idempotency-replayed").map(|v| v.to_str().unwrap().to_owned())
}

/// Stores a record for the admin key as the middleware would, with the given answer and expiry.
fn insert_record(app: &TestApp, key: &str, body: &Value, status: Option<i32>, expires_in: Duration) {
    let now = Utc::now().naive_utc();
    let fingerprint = request_fingerprint("POST", "/v1/api-keys", "", body.to_string().as_bytes());
    diesel::insert_into(records::table)
        .values((
            records::owner.eq(crm_segments::api_keys::key::hash_key(&app.admin_key)),
            records::idempotency_key.eq(key),
            records::request_hash.eq(fingerprint),
            records::response_status.eq(status),
            records::response_headers.eq(status.map(|_| r#"[["content-type","application/json"]]"#)),
            records::response_body.eq(status.map(|_| b"{\"stale\":true}".to_vec())),
            records::created_at.eq(now - Duration::days(2)),
            records::expires_at.eq(now + expires_in),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

db_test!(a_retry_with_the_same_key_and_body_replays_the_first_answer, |app| {
    let body = json!({"name": "erp", "scope": "read"});
    let before = key_count(&app).await;
    let first = create_key(&app, Some(&app.admin_key), Some("order-42"), &body).await;
    assert_eq!(first.status(), 201);
    assert_eq!(replayed(&first), None);
    let first_type = first.headers()["content-type"].clone();
    let first_body = first.bytes().await.unwrap();

    let retry = create_key(&app, Some(&app.admin_key), Some("order-42"), &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(replayed(&retry).as_deref(), Some("true"));
    assert_eq!(retry.headers()["content-type"], first_type);
    assert_eq!(retry.bytes().await.unwrap(), first_body, "the replay repeats the same secret");
    assert_eq!(key_count(&app).await, before + 1);

    let (status, created_at, expires_at): (Option<i32>, chrono::NaiveDateTime, chrono::NaiveDateTime) =
        records::table
            .select((records::response_status, records::created_at, records::expires_at))
            .first(&mut *app.conn())
            .unwrap();
    assert_eq!(status, Some(201));
    assert_eq!(expires_at - created_at, Duration::hours(24), "the default TTL applies");
});

db_test!(the_same_key_with_another_body_is_422, |app| {
    let before = key_count(&app).await;
    let first =
        create_key(&app, Some(&app.admin_key), Some("k1"), &json!({"name": "a", "scope": "read"})).await;
    assert_eq!(first.status(), 201);
    let other =
        create_key(&app, Some(&app.admin_key), Some("k1"), &json!({"name": "b", "scope": "read"})).await;
    assert_problem(other, 422, "idempotency-key-reused").await;
    assert_eq!(key_count(&app).await, before + 1);
});

db_test!(the_same_idempotency_key_from_another_api_key_is_independent, |app| {
    let second_admin =
        create_key(&app, Some(&app.admin_key), None, &json!({"name": "admin2", "scope": "admin"})).await;
    let second_admin = assert_json(second_admin, 201).await["key"].as_str().unwrap().to_owned();
    let body = json!({"name": "shared", "scope": "read"});
    let mut secrets = Vec::new();
    for api_key in [&app.admin_key, &second_admin] {
        let response = create_key(&app, Some(api_key), Some("same-key"), &body).await;
        assert_eq!(replayed(&response), None);
        secrets.push(assert_json(response, 201).await["key"].as_str().unwrap().to_owned());
    }
    assert_ne!(secrets[0], secrets[1]);
    assert_eq!(record_count(&app), 2);
});

db_test!(a_request_without_the_header_creates_every_time, |app| {
    let before = key_count(&app).await;
    let body = json!({"name": "again", "scope": "read"});
    let first = assert_json(create_key(&app, Some(&app.admin_key), None, &body).await, 201).await;
    let second = assert_json(create_key(&app, Some(&app.admin_key), None, &body).await, 201).await;
    assert_ne!(first["key"], second["key"]);
    assert_eq!(key_count(&app).await, before + 2);
    assert_eq!(record_count(&app), 0);
});

db_test!(a_retry_while_the_first_request_runs_is_409, |app| {
    let body = json!({"name": "slow", "scope": "read"});
    insert_record(&app, "running", &body, None, Duration::hours(1));
    let before = key_count(&app).await;
    let retry = create_key(&app, Some(&app.admin_key), Some("running"), &body).await;
    assert_problem(retry, 409, "idempotency-request-in-progress").await;
    let other =
        create_key(&app, Some(&app.admin_key), Some("running"), &json!({"name": "x", "scope": "read"})).await;
    assert_problem(other, 422, "idempotency-key-reused").await;
    assert_eq!(key_count(&app).await, before);
});

db_test!(an_expired_key_runs_the_request_anew, |app| {
    let body = json!({"name": "fresh", "scope": "read"});
    insert_record(&app, "old", &body, Some(201), Duration::seconds(-1));
    let before = key_count(&app).await;
    let response = create_key(&app, Some(&app.admin_key), Some("old"), &body).await;
    assert_eq!(replayed(&response), None);
    let created = assert_json(response, 201).await;
    assert_eq!(created["name"], "fresh");
    assert_eq!(key_count(&app).await, before + 1);

    let retry = create_key(&app, Some(&app.admin_key), Some("old"), &body).await;
    assert_eq!(replayed(&retry).as_deref(), Some("true"));
    assert_eq!(assert_json(retry, 201).await, created);
    assert_eq!(record_count(&app), 1);
});

db_test!(expired_records_of_other_keys_are_purged_when_a_key_is_claimed, |app| {
    let body = json!({"name": "n", "scope": "read"});
    for key in ["gone-1", "gone-2", "gone-3"] {
        insert_record(&app, key, &body, Some(201), Duration::seconds(-1));
    }
    insert_record(&app, "kept", &body, Some(201), Duration::hours(1));
    let response = create_key(&app, Some(&app.admin_key), Some("new"), &body).await;
    assert_eq!(response.status(), 201);
    let mut keys: Vec<String> =
        records::table.select(records::idempotency_key).load(&mut *app.conn()).unwrap();
    keys.sort();
    assert_eq!(keys, ["kept", "new"]);
});

db_test!(a_4xx_answer_is_replayed, |app| {
    let body = json!({"name": "", "scope": "read"});
    let first = create_key(&app, Some(&app.admin_key), Some("bad-name"), &body).await;
    assert_eq!(first.status(), 422);
    assert_eq!(replayed(&first), None);
    let first_body = first.bytes().await.unwrap();
    let retry = create_key(&app, Some(&app.admin_key), Some("bad-name"), &body).await;
    assert_eq!(replayed(&retry).as_deref(), Some("true"));
    assert_eq!(retry.headers()["content-type"], "application/problem+json");
    assert_eq!(retry.status(), 422);
    assert_eq!(retry.bytes().await.unwrap(), first_body);
});

db_test!(an_invalid_idempotency_key_is_400, |app| {
    let before = key_count(&app).await;
    let body = json!({"name": "k", "scope": "read"});
    for key in ["x".repeat(256), "has space".into(), String::new()] {
        let response = create_key(&app, Some(&app.admin_key), Some(&key), &body).await;
        assert_problem(response, 400, "invalid-idempotency-key").await;
    }
    let longest = create_key(&app, Some(&app.admin_key), Some(&"x".repeat(255)), &body).await;
    assert_eq!(longest.status(), 201);
    assert_eq!(key_count(&app).await, before + 1);
});

db_test!(methods_other_than_post_ignore_the_header, |app| {
    let response = app
        .request_as(Method::GET, "/v1/api-keys", Some(&app.admin_key))
        .header("idempotency-key", "x".repeat(300))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(record_count(&app), 0);
});

db_test!(answers_401_and_403_are_not_remembered, |app| {
    let body = json!({"name": "k", "scope": "read"});
    let forbidden = create_key(&app, Some(&app.write_key), Some("k"), &body).await;
    assert_problem(forbidden, 403, "forbidden").await;
    let unknown = create_key(&app, Some("crm_not-a-key"), Some("k"), &body).await;
    assert_problem(unknown, 401, "unauthorized").await;
    let anonymous = create_key(&app, None, Some("k"), &body).await;
    assert_problem(anonymous, 401, "unauthorized").await;
    assert_eq!(record_count(&app), 0);
});

db_test!(concurrent_retries_create_one_key, |app| {
    let before = key_count(&app).await;
    let body = json!({"name": "racer", "scope": "read"});
    let attempts = (0..8).map(|_| create_key(&app, Some(&app.admin_key), Some("race"), &body));
    let responses = futures_util::future::join_all(attempts).await;
    let mut fresh = 0;
    let mut secrets = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            201 => {
                fresh += usize::from(replayed(&response).is_none());
                secrets.push(assert_json(response, 201).await["key"].clone());
            }
            _ => {
                assert_problem(response, 409, "idempotency-request-in-progress").await;
            }
        }
    }
    assert_eq!(fresh, 1, "exactly one attempt ran the request");
    assert!(secrets.iter().all(|s| *s == secrets[0]), "every 201 carries the same secret");
    assert_eq!(key_count(&app).await, before + 1);
});

db_test!(
    a_body_over_the_limit_is_413_before_anything_is_recorded,
    settings = |s| s.body_limit = 1024,
    |app| {
        let body = json!({"name": "x".repeat(2000), "scope": "read"});
        let response = create_key(&app, Some(&app.admin_key), Some("big"), &body).await;
        assert_problem(response, 413, "payload-too-large").await;
        assert_eq!(record_count(&app), 0);
        // The limit itself is allowed: the same request padded with white space to 1024 bytes
        // runs and is remembered, and one byte more is refused.
        let padded =
            |size: usize| format!("{:<size$}", json!({"name": "exact", "scope": "read"}).to_string());
        let admin = Some(app.admin_key.as_str());
        assert_problem(create_key(&app, admin, Some("over"), &padded(1025)).await, 413, "payload-too-large")
            .await;
        assert_json(create_key(&app, admin, Some("exact"), &padded(1024)).await, 201).await;
        assert_eq!(record_count(&app), 1);
        // The same without Content-Length, counted as the chunks arrive.
        assert_eq!(create_key_chunked(&app, "chunked-over", &padded(1025)).await, 413);
        assert_eq!(record_count(&app), 1, "a refused body is not remembered");
        assert_eq!(create_key_chunked(&app, "chunked-exact", &padded(1024)).await, 201);
        assert_eq!(record_count(&app), 2);
    }
);

/// The idempotency TTL of the app in `a_key_is_forgotten_after_its_ttl`.
const SHORT_TTL: std::time::Duration = std::time::Duration::from_secs(1);

db_test!(a_key_is_forgotten_after_its_ttl, settings = |s| s.idempotency_ttl = SHORT_TTL, |app| {
    let body = json!({"name": "short-lived", "scope": "read"});
    let first = assert_json(create_key(&app, Some(&app.admin_key), Some("ttl"), &body).await, 201).await;
    let retry = create_key(&app, Some(&app.admin_key), Some("ttl"), &body).await;
    assert_eq!(replayed(&retry).as_deref(), Some("true"), "remembered within its TTL");
    tokio::time::sleep(SHORT_TTL + std::time::Duration::from_millis(200)).await;
    let again = create_key(&app, Some(&app.admin_key), Some("ttl"), &body).await;
    assert_eq!(replayed(&again), None);
    let again = assert_json(again, 201).await;
    assert_ne!(again["key"], first["key"]);
});
