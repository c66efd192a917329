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

/// The storage faults (`tests/api/faults/sqlite_storage.rs`) are documented: 503 names the
/// read-only database and its longer `Retry-After`, and every operation that writes, and only
/// those, may answer 507 `database-full`.
#[test]
fn writes_document_507_and_503_names_the_read_only_database() {
    let document = document();
    let unavailable =
        document["components"]["responses"]["ServiceUnavailable"]["description"].as_str().unwrap();
    assert!(unavailable.contains("database-read-only") && unavailable.contains("30"), "{unavailable}");
    let full = &document["components"]["responses"]["InsufficientStorage"];
    assert!(full["description"].as_str().unwrap().contains("database-full"));
    for (label, operation) in operations(&document) {
        let documents_507 =
            operation["responses"]["507"]["$ref"] == "#/components/responses/InsufficientStorage";
        assert_eq!(documents_507, !label.starts_with("get "), "{label}");
    }
}

/// Each creation links to the operations on what it made, and every link is one a tool can
/// follow: `operationId` (camelCase: utoipa's own field would write `operation_id`) naming an
/// operation of the document, with a value for each of that operation's path parameters.
#[test]
fn creations_link_to_the_operations_on_what_they_made() {
    let document = document();
    let mut by_id = std::collections::BTreeMap::new();
    for (label, operation) in operations(&document) {
        by_id.insert(operation["operationId"].as_str().unwrap().to_owned(), label);
    }
    let mut links = 0;
    for (label, operation) in operations(&document) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target =
                    link["operationId"].as_str().unwrap_or_else(|| panic!("{label} {status} {name}: {link}"));
                let target_label =
                    by_id.get(target).unwrap_or_else(|| panic!("{label}: no operation {target}"));
                for parameter in
                    target_label.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                {
                    let value = link["parameters"][parameter]
                        .as_str()
                        .unwrap_or_else(|| panic!("{label} -> {target}: {parameter}"));
                    assert!(
                        value.starts_with("$response.body#/") || value.starts_with("$request.path."),
                        "{value}"
                    );
                }
                links += 1;
            }
        }
    }
    assert!(links > 80, "{links} links");
    let created = &document["paths"]["/v1/segments"]["post"]["responses"]["201"]["links"];
    assert_eq!(created["get_segment"]["parameters"]["id"], "$response.body#/id");
    let logged = &document["paths"]["/v1/segments/{id}/log"]["post"]["responses"]["201"]["links"];
    assert_eq!(logged["get_logged_segment"]["parameters"]["id"], "$response.body#/logged_segment/id");
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

fn document() -> serde_json::Value {
    serde_json::from_str(&crm_segments::openapi::document().to_json().unwrap()).unwrap()
}

/// Every operation under `/v1`, as `(label, operation)`.
fn operations(document: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if path.starts_with("/v1") {
                found.push((format!("{method} {path}"), operation));
            }
        }
    }
    found
}

/// A header is absent or a string: `If-Match` is documented as the entity-tag list the server
/// reads (never `string | null`), and every POST takes an `Idempotency-Key` of visible ASCII.
#[test]
fn every_if_match_and_idempotency_key_parameter_is_a_string_with_its_pattern() {
    let document = document();
    let (mut if_match, mut keys) = (0, 0);
    for (label, operation) in operations(&document) {
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let header =
            |name: &str| parameters.iter().find(|p| p["in"] == "header" && p["name"] == name).cloned();
        if let Some(parameter) = header("If-Match") {
            let schema = &parameter["schema"];
            assert_eq!(schema["type"], "string", "{label}: {schema}");
            let pattern = schema["pattern"].as_str().unwrap_or_default();
            assert!(pattern.starts_with(r"^(\*|(W/)?"), "{label}: {pattern}");
            if_match += 1;
        }
        if label.starts_with("post ") {
            let parameter =
                header("Idempotency-Key").unwrap_or_else(|| panic!("{label} has no Idempotency-Key"));
            let schema = &parameter["schema"];
            assert_eq!(schema["type"], "string", "{label}: {schema}");
            assert_eq!(schema["pattern"], r"^[\x21-\x7e]+$", "{label}");
            assert_eq!((schema["minLength"].as_i64(), schema["maxLength"].as_i64()), (Some(1), Some(255)));
            keys += 1;
        }
    }
    assert!(if_match >= 20 && keys >= 25, "{if_match} If-Match, {keys} Idempotency-Key");
}

/// Answers always carry every field (`null` when empty) except the few serde leaves out, so
/// every schema that only answers use lists all its properties as required.
#[test]
fn every_property_an_answer_always_sends_is_required() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let (responses, requests) = crm_segments::openapi::response_and_request_schemas(&document);
    let mut checked = 0;
    for name in responses.difference(&requests) {
        let schema = &schemas[name];
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str()).collect();
        for property in schema["properties"].as_object().into_iter().flat_map(|p| p.keys()) {
            let sometimes_absent =
                crm_segments::openapi::SOMETIMES_ABSENT.contains(&(name.as_str(), property.as_str()));
            assert_eq!(required.contains(&property.as_str()), !sometimes_absent, "{name}.{property}");
        }
        checked += 1;
    }
    assert!(checked > 40, "{checked} answer schemas");
    let log_result = schemas["LogResult"]["required"].as_array().unwrap();
    assert!(log_result.contains(&"follow_up_segment".into()), "{log_result:?}");
}

/// Text the server requires to be non-blank says so: `minLength` 1 and a pattern asking for a
/// character other than white space.
#[test]
fn required_non_blank_text_has_min_length_one_and_the_non_blank_pattern() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let fields = [
        ("CreateDescribedCode", "description", 100),
        ("UpdateDescribedCode", "description", 100),
        ("CreateTemplate", "description", 100),
        ("TemplatePatch", "description", 100),
        ("CreateSalesperson", "name", 50),
        ("UpdateSalesperson", "name", 50),
        ("CreateSavedCriteria", "description", 100),
        ("CreateApiKey", "name", 100),
    ];
    for (schema, property, max) in fields {
        let field = &schemas[schema]["properties"][property];
        assert_eq!(field["minLength"], 1, "{schema}.{property}: {field}");
        assert_eq!(field["maxLength"], max, "{schema}.{property}: {field}");
        assert_eq!(field["pattern"], crm_segments::domain::text::NON_BLANK_PATTERN, "{schema}.{property}");
    }
}

/// A generated form must be one the server takes: the `file` part names the media types a
/// document may have, a form has no parts but those its schema names, and none is nullable.
#[test]
fn every_form_upload_names_its_file_types_and_allows_no_other_parts() {
    let document = document();
    let mut forms = 0;
    for (label, operation) in operations(&document) {
        let Some(form) = operation["requestBody"]["content"].get("multipart/form-data") else { continue };
        let types = form["encoding"]["file"]["contentType"].as_str().unwrap_or_default();
        for kind in [
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/html",
            "text/plain",
        ] {
            assert!(types.split(", ").any(|t| t == kind), "{label}: {types}");
        }
        let name = form["schema"]["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        let schema = &document["components"]["schemas"][name];
        assert_eq!(schema["additionalProperties"], false, "{label}");
        // A form has no null: a part sent as `null` is the text "null" (found by schemathesis,
        // which sent `default: null` when the document allowed it).
        for (part, property) in schema["properties"].as_object().unwrap() {
            assert!(property["type"].is_string(), "{label}: part {part} is typed {}", property["type"]);
        }
        forms += 1;
    }
    assert_eq!(forms, 2);
}

/// Lists the server refuses empty say `minItems`; `AddLines` takes exactly one of its three
/// ways of naming contacts.
#[test]
fn non_empty_lists_say_min_items_and_lines_are_added_one_way() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["DeleteLines"]["properties"]["line_ids"]["minItems"], 1);
    let add_lines = &schemas["AddLines"]["allOf"];
    for property in ["contact_ids", "contact_nos"] {
        assert_eq!(add_lines[0]["properties"][property]["minItems"], 1, "{property}");
    }
    let branches: Vec<&str> = add_lines[1]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["required"][0].as_str().unwrap())
        .collect();
    assert_eq!(branches, ["contact_id", "contact_ids", "contact_nos"]);
}

/// PostgreSQL refuses text with NUL, so every request string, in a body or a path or query
/// parameter, says it has none (or has a pattern or format of its own that excludes it).
#[test]
fn every_request_string_excludes_nul() {
    fn walk(schema: &serde_json::Value, at: &str, loose: &mut Vec<String>) {
        match schema {
            serde_json::Value::Object(object) => {
                let kinds = &object.get("type").cloned().unwrap_or_default();
                let is_string =
                    kinds == "string" || kinds.as_array().is_some_and(|k| k.contains(&"string".into()));
                let constrained =
                    ["pattern", "format", "enum", "const"].iter().any(|k| object.contains_key(*k));
                if is_string && !constrained {
                    loose.push(at.to_owned());
                }
                for (key, value) in object {
                    walk(value, &format!("{at}/{key}"), loose);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{index}"), loose);
                }
            }
            _ => {}
        }
    }
    let document = document();
    let (_, requests) = crm_segments::openapi::response_and_request_schemas(&document);
    let mut loose = Vec::new();
    for name in &requests {
        walk(&document["components"]["schemas"][name], name, &mut loose);
    }
    // Path and query parameters are bound as text too.
    for (label, operation) in operations(&document) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let at = format!("{label} {}", parameter["name"]);
            walk(&parameter["schema"], &at, &mut loose);
        }
    }
    assert!(requests.contains("CreateContact") && requests.len() > 30, "{requests:?}");
    assert!(loose.is_empty(), "request strings that do not exclude NUL: {loose:#?}");
    let segment = &document["components"]["schemas"]["CreateSegment"]["properties"]["description"];
    assert!(segment.to_string().contains(r#"^[^\\x00]*$"#), "{segment}");
}
