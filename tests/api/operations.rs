//! Running in production: request ids, metrics, CORS, the rate limit, the statement timeout
//! and a graceful stop on SIGTERM.

use std::time::Duration;

use diesel::RunQueryDsl;
use reqwest::Method;
use serde_json::json;

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, Db, TestApp};
use crate::logging::{log_state, seed, segment_with, SecondServer};

db_test!(a_request_id_is_echoed_and_quoted_in_problems, |app| {
    // A well-formed client id is kept, on a success and in an error's problem document.
    let ok =
        app.request(Method::GET, "/v1/contacts").header("X-Request-Id", "trace-42.a").send().await.unwrap();
    assert_eq!(ok.headers()["x-request-id"], "trace-42.a");
    let missing = app
        .request(Method::GET, "/v1/contacts/999999")
        .header("X-Request-Id", "trace-43")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.headers()["x-request-id"], "trace-43");
    assert_eq!(assert_problem(missing, 404, "not-found").await["request_id"], "trace-43");
    // One that is not (a space, too long) is replaced; so is none. Framework errors (an
    // unknown route, a malformed body) carry it too.
    for sent in [Some("two words"), Some(&*"x".repeat(129)), None] {
        let mut request =
            app.request(Method::POST, "/v1/contacts").header("Content-Type", "application/json");
        if let Some(id) = sent {
            request = request.header("X-Request-Id", id);
        }
        let response = request.body("{not json").send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(assert_problem(response, 400, "malformed-json").await["request_id"], id.as_str());
    }
    let unknown =
        app.request(Method::GET, "/no/such/route").header("X-Request-Id", "r-1").send().await.unwrap();
    assert_eq!(assert_problem(unknown, 404, "not-found").await["request_id"], "r-1");
    // Two requests without one get different ids.
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
});

/// The value of the first sample of `metric` whose labels include every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")) || line.starts_with(&format!("{metric} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

db_test!(metrics_count_requests_by_route_and_report_the_pool_and_the_outbox, |app| {
    let contact = json!({"no": "M1", "type": "person", "name": "Metrics"});
    let id = assert_json(app.post("/v1/contacts", &contact).await, 201).await["id"].as_i64().unwrap();
    for _ in 0..3 {
        assert_json(app.get(&format!("/v1/contacts/{id}")).await, 200).await;
    }
    assert_problem(app.get("/v1/contacts/999999").await, 404, "not-found").await;

    // Admin only.
    let read = app.request_as(Method::GET, "/metrics", Some(&app.read_key)).send().await.unwrap();
    assert_problem(read, 403, "forbidden").await;
    assert_problem(app.request_as(Method::GET, "/metrics", None).send().await.unwrap(), 401, "unauthorized")
        .await;

    let response = app.request_as(Method::GET, "/metrics", Some(&app.admin_key)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    // By route pattern, not path: the ids do not make series of their own. The registry is the
    // process's, which other tests share, so counts are at least ours.
    let route = r#"route="/v1/contacts/{id}""#;
    let ok = sample(&text, "http_requests_total", &[r#"method="GET""#, route, r#"status="200""#]).unwrap();
    assert!(ok >= 3.0, "{ok}");
    assert!(sample(&text, "http_requests_total", &[route, r#"status="404""#]).unwrap() >= 1.0);
    assert!(!text.contains(&format!("/v1/contacts/{id}\"")));
    let timed = sample(&text, "http_request_duration_seconds_count", &[r#"method="GET""#, route]).unwrap();
    assert!(timed >= 4.0, "{timed}");
    assert!(sample(&text, "db_pool_wait_seconds_count", &[r#"outcome="ok""#]).unwrap() >= 4.0);
    assert!(sample(&text, "db_pool_connections", &[r#"state="idle""#]).is_some());
    assert!(sample(&text, "db_pool_connections", &[r#"state="in_use""#]).is_some());
    assert_eq!(sample(&text, "delivery_outbox_depth", &[r#"state="due""#]), Some(0.0));
    assert_eq!(sample(&text, "delivery_outbox_depth", &[r#"state="failed""#]), Some(0.0));
});

db_test!(
    cors_answers_preflights_for_configured_origins_only,
    settings = |s| s.cors_origins = vec!["https://app.example.com".into()],
    |app| {
        let preflight = |origin: &'static str| {
            app.client
                .request(Method::OPTIONS, app.url("/v1/contacts"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
                .send()
        };
        let allowed = preflight("https://app.example.com").await.unwrap();
        assert!(allowed.status().is_success(), "{}", allowed.status());
        assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
        let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
        assert!(methods.contains("POST") && methods.contains("PATCH"), "{methods}");
        let headers = allowed.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
        assert!(headers.contains("idempotency-key") && headers.contains("authorization"), "{headers}");

        // An actual request from the origin exposes what a client reads.
        let get = app
            .request(Method::GET, "/v1/contacts")
            .header("Origin", "https://app.example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 200);
        assert_eq!(get.headers()["access-control-allow-origin"], "https://app.example.com");
        let exposed = get.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
        for header in ["etag", "location", "x-request-id", "retry-after"] {
            assert!(exposed.contains(header), "{header} not in {exposed}");
        }

        // Another origin gets no CORS headers (the browser keeps the answer from its page),
        // but the server still serves non-browser clients that send one.
        let other = preflight("https://evil.example.net").await.unwrap();
        assert!(other.headers().get("access-control-allow-origin").is_none());
        let get =
            app.request(Method::GET, "/v1/contacts").header("Origin", "https://evil.example.net").send();
        let get = get.await.unwrap();
        assert_eq!(get.status(), 200);
        assert!(get.headers().get("access-control-allow-origin").is_none());
    }
);

db_test!(no_cors_headers_without_configured_origins, |app| {
    let get = app.request(Method::GET, "/v1/contacts").header("Origin", "https://app.example.com").send();
    let get = get.await.unwrap();
    assert_eq!(get.status(), 200);
    assert!(get.headers().get("access-control-allow-origin").is_none());
});

db_test!(
    a_key_past_its_rate_limit_gets_429_with_retry_after,
    settings = |s| {
        s.rate_limit = Some(crm_segments::http::rate_limit::RateLimit {
            per_second: std::num::NonZeroU32::new(1).unwrap(),
            burst: std::num::NonZeroU32::new(3).unwrap(),
        })
    },
    |app| {
        for _ in 0..3 {
            assert_json(app.get("/v1/contacts").await, 200).await;
        }
        let refused = app.get("/v1/contacts").await;
        assert_eq!(refused.headers()["retry-after"], "1");
        let problem = assert_problem(refused, 429, "rate-limited").await;
        assert!(problem["request_id"].is_string());
        // A refused create is not remembered under its Idempotency-Key: once the bucket has a
        // token again, the same key creates.
        let body = json!({"no": "RL1", "type": "person", "name": "Limited"});
        let create =
            || app.request(Method::POST, "/v1/contacts").header("Idempotency-Key", "rl-1").json(&body).send();
        assert_problem(create().await.unwrap(), 429, "rate-limited").await;
        // Another key has a bucket of its own; health probes are not limited.
        let other = app.request_as(Method::GET, "/v1/contacts", Some(&app.read_key)).send().await.unwrap();
        assert_eq!(other.status(), 200);
        for _ in 0..5 {
            assert_eq!(app.get("/healthz").await.status(), 200);
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_json(create().await.unwrap(), 201).await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn a_statement_past_the_timeout_is_cancelled_and_answered_503() {
    let app = TestApp::spawn(Db::Postgres).await;
    let backend = crm_segments::db::Backend::from_url(&app.database_url()).unwrap();
    let pool =
        crm_segments::db::build_pool(&backend, 1, Some(Duration::from_secs(1)), Duration::from_secs(10))
            .unwrap();
    let mut conn = pool.get().unwrap();
    let started = std::time::Instant::now();
    let error = diesel::sql_query("SELECT pg_sleep(5)").execute(&mut *conn).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let error = crm_segments::error::ApiError::from(error);
    let problem = error.problem();
    assert_eq!((problem.status, problem.code.as_str()), (503, "unavailable"), "{problem:?}");
    // The connection is usable afterwards, and the migrations' own connection has no timeout.
    diesel::sql_query("SELECT 1").execute(&mut *conn).unwrap();
    let mut migrations = crm_segments::db::connect(&backend).unwrap();
    diesel::sql_query("SELECT pg_sleep(1.2)").execute(&mut migrations).unwrap();
}

// The database dropping every connection (a restart, a failover): each pooled connection
// fails at most one request with 503 and `Retry-After`, is dropped as lost, and the service
// recovers by itself, without a test query on every checkout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn connections_the_database_dropped_are_replaced_after_one_failed_request_each() {
    let app = TestApp::spawn(Db::Postgres).await;
    // Every pooled connection (4 in tests) opened and used.
    let reads = (0..16).map(|_| app.get("/v1/contacts?limit=1"));
    for response in futures_util::future::join_all(reads).await {
        assert_eq!(response.status(), 200);
    }
    let url = app.database_url();
    let database = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin_url = crate::helpers::postgres_admin_url().unwrap();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&admin_url).unwrap();
    let terminated: Vec<TerminatedBackend> = diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity \
         WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    ))
    .load(&mut admin)
    .unwrap();
    assert!(!terminated.is_empty(), "the service had connections open");
    let mut failed = 0;
    for _ in 0..12 {
        let response = app.get("/v1/contacts?limit=1").await;
        if response.status() == 503 {
            assert!(response.headers().contains_key("retry-after"));
            let problem = assert_problem(response, 503, "unavailable").await;
            assert!(!problem.to_string().contains("127.0.0.1"), "no internals: {problem}");
            failed += 1;
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    assert!(failed <= terminated.len(), "{failed} failures for {} lost connections", terminated.len());
    for _ in 0..8 {
        assert_eq!(app.get("/v1/contacts?limit=1").await.status(), 200, "recovered");
    }
}

#[derive(diesel::QueryableByName)]
struct TerminatedBackend {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code)]
    terminated: bool,
}

db_test!(sigterm_lets_a_log_in_progress_finish_then_exits_cleanly, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P2"]).await;
    let mut server = SecondServer::start_watched(&app, &[("CRM_TEST_FAULT", "slow:after_log_entries")]).await;
    let call = app
        .client
        .post(format!("{}/v1/segments/{segment}/log", server.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({}))
        .send();
    let call = tokio::spawn(call);
    server.wait_for_stderr("CRM_TEST_FAULT: slowed at after_log_entries").await;
    let exit = server.terminate().await;
    let response = call.await.unwrap().expect("the request in flight is answered");
    assert_json(response, 201).await;
    assert!(exit.success(), "{exit:?}");
    assert_eq!(log_state(&app, segment), (3, 1, "logged".to_owned()));
    // Stopped: no longer accepting.
    assert!(app.client.get(format!("{}/healthz", server.address)).send().await.is_err());
});

#[test]
fn a_database_that_cannot_be_reached_is_503_without_naming_its_host() {
    let backend = crm_segments::db::Backend::from_url("postgres://crm@127.0.0.1:1/unreachable").unwrap();
    let manager = crm_segments::db::ConnectionManager::new(backend, None);
    let pool =
        diesel::r2d2::Pool::builder().connection_timeout(Duration::from_millis(300)).build_unchecked(manager);
    let Err(error) = pool.get() else { panic!("port 1 answered") };
    let error = crm_segments::error::ApiError::from(error);
    let problem = error.problem();
    assert_eq!((problem.status, problem.code.as_str()), (503, "unavailable"));
    for internal in ["127.0.0.1", "unreachable", "crm@", "connection refused"] {
        assert!(!problem.detail.to_lowercase().contains(internal), "{internal} in {:?}", problem.detail);
    }
}
