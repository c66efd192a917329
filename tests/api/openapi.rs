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

/// openapi-typescript 7 (default `defaultNonNullable`) types a component-schema property that
/// has a `default` as required, so a typed client could not leave out what the server fills in.
/// Request schemas therefore state their defaults in the description ("Default: `false`.").
#[test]
fn no_schema_a_request_body_uses_carries_a_default_so_clients_may_omit_defaulted_fields() {
    let document: serde_json::Value =
        serde_json::from_str(&crm_segments::openapi::document().to_json().unwrap()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut pending: Vec<(String, &serde_json::Value)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (media, content) in operation["requestBody"]["content"].as_object().into_iter().flatten() {
                pending.push((format!("{method} {path} {media}"), &content["schema"]));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    while let Some((at, schema)) = pending.pop() {
        let mut refs = Vec::new();
        schema_walk(schema, &at, &mut refs, &mut found);
        for name in refs {
            if seen.insert(name.clone()) {
                pending.push((format!("#/components/schemas/{name}"), &schemas[&name]));
            }
        }
    }
    assert!(seen.contains("CreateTemplate") && seen.len() > 30, "request schemas found: {seen:?}");
    assert!(found.is_empty(), "request schemas with `default` (say it in the description): {found:#?}");
    let unit_cost = &schemas["CreateTemplate"]["properties"]["unit_cost"]["description"];
    assert!(unit_cost.as_str().unwrap().contains("Default: `\"0.00\"`"), "{unit_cost}");
}

/// Collects the component names `schema` refers to and the places where it has a `default`
/// keyword (a property named `default` is not one; examples and constants are values).
fn schema_walk(schema: &serde_json::Value, at: &str, refs: &mut Vec<String>, found: &mut Vec<String>) {
    match schema {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                match key.as_str() {
                    "default" => found.push(format!("{at}/default")),
                    "$ref" => refs.extend(
                        value
                            .as_str()
                            .and_then(|r| r.strip_prefix("#/components/schemas/"))
                            .map(str::to_owned),
                    ),
                    "example" | "examples" | "const" | "enum" => {}
                    "properties" => {
                        for (name, property) in value.as_object().into_iter().flatten() {
                            schema_walk(property, &format!("{at}/properties/{name}"), refs, found);
                        }
                    }
                    _ => schema_walk(value, &format!("{at}/{key}"), refs, found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                schema_walk(item, &format!("{at}/{index}"), refs, found);
            }
        }
        _ => {}
    }
}
