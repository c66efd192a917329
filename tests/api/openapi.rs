//! The committed OpenAPI document must equal the one generated from the code.

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = crm_segments::openapi::document().to_pretty_json().unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; regenerate it with\n    \
         cargo run -- openapi > openapi/openapi.json\n(or UPDATE_OPENAPI=1 cargo test openapi)"
    );
}

/// What every API operation can answer whatever its input: a spent rate limit and an
/// unavailable database, each with the `Retry-After` a client waits for.
#[test]
fn every_api_operation_documents_429_and_503_with_retry_after() {
    let document: serde_json::Value =
        serde_json::from_str(&crm_segments::openapi::document().to_json().unwrap()).unwrap();
    for name in ["TooManyRequests", "ServiceUnavailable"] {
        let response = &document["components"]["responses"][name];
        assert_eq!(response["headers"]["Retry-After"]["schema"]["type"], "integer", "{name}");
    }
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/v1") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            assert_eq!(responses["429"]["$ref"], "#/components/responses/TooManyRequests", "{method} {path}");
            assert_eq!(
                responses["503"]["$ref"], "#/components/responses/ServiceUnavailable",
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} operations");
}
