//! The OpenAPI document: every path and schema, the bearer scheme, the shared problem answers.

use std::collections::BTreeSet;

use utoipa::openapi::encoding::EncodingBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::domain::text::{BLANK_PATTERN, NON_BLANK_PATTERN, NO_NUL_PATTERN};
use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE};
use crate::http::upload::FILE_PART;
use crate::{
    api_keys, code_tables, contacts, health, interaction_log, logged_segments, saved_criteria, segments,
    templates,
};

/// The whole document: the service's own paths plus each resource module's, merged, then
/// the security scheme and the shared problem answers added to every `/v1` operation.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(api_keys::ApiKeysApi::openapi());
    doc.merge(code_tables::CodeTablesApi::openapi());
    doc.merge(contacts::ContactsApi::openapi());
    doc.merge(code_tables::MembersApi::openapi());
    doc.merge(templates::TemplatesApi::openapi());
    doc.merge(segments::SegmentsApi::openapi());
    doc.merge(saved_criteria::SavedCriteriaApi::openapi());
    doc.merge(logged_segments::LoggedSegmentsApi::openapi());
    doc.merge(interaction_log::InteractionLogApi::openapi());
    doc.merge(crate::merge::MergeApi::openapi());
    SecurityAndProblems.modify(&mut doc);
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "crm-segments",
        description = "Contact segmentation and interaction logging, modelled on Business Central's \
Segments and Interactions.\n\nEvery `/v1` route needs `Authorization: Bearer <API key>`; scopes are \
read < write < admin. Every error answers an RFC 9457 `application/problem+json` document.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        health::healthz,
        health::readyz,
        crate::metrics::scrape_metrics,
    ),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "api-keys", description = "API keys and the caller's identity"),
        (name = "contacts", description = "Contacts, their links to code tables, and bulk sync"),
        (name = "code-tables", description = "Mailing groups, industry groups, business relations, \
job responsibilities, salespeople, interaction groups"),
        (name = "interaction-templates", description = "Interaction templates, their defaults and their \
documents per language"),
        (name = "segments", description = "Segments: headers, lines with inherited values and overrides"),
        (name = "logged-segments", description = "Logged segments: cancel, restore, follow-up"),
        (name = "interaction-log", description = "Interaction log entries"),
    )
)]
struct ApiDoc;

/// Problem answers every `/v1` operation can give, added here once instead of on each handler.
const SHARED_PROBLEMS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "Malformed JSON or query parameters"),
    ("401", "Unauthorized", "Missing, unknown or revoked API key"),
    ("403", "Forbidden", "The API key's scope is too low for this operation"),
    ("422", "UnprocessableContent", "The input is well-formed but invalid; `errors` names the fields"),
    ("500", "InternalError", "The server failed; the cause is logged, not returned"),
];
/// Problems a client should retry after the `Retry-After` header's seconds.
const RETRY_PROBLEMS: &[(&str, &str, &str)] = &[
    ("429", "TooManyRequests", "The API key's rate limit (`RATE_LIMIT_PER_SEC`) is spent for now"),
    (
        "503",
        "ServiceUnavailable",
        "The database is unreachable, busy past its timeout, or cancelled a statement past \
`DB_STATEMENT_TIMEOUT_SECS` (`service-unavailable`, `Retry-After: 1`); or it is read-only \
(`database-read-only`, `Retry-After: 30`: an operator must make the storage writable)",
    ),
];
/// Problems of operations that write (every method but `GET`).
const WRITE_PROBLEMS: &[(&str, &str, &str)] = &[(
    "507",
    "InsufficientStorage",
    "The database's storage is full (`database-full`); nothing was written, and a retry succeeds once \
an operator has freed space",
)];
const BODY_PROBLEMS: &[(&str, &str, &str)] = &[
    ("413", "PayloadTooLarge", "The body is larger than the configured limit"),
    ("415", "UnsupportedMediaType", "The body is not `application/json`"),
];

struct SecurityAndProblems;

impl Modify for SecurityAndProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `crm-segments api-keys create`"))
                    .build(),
            ),
        );
        let all_problems =
            SHARED_PROBLEMS.iter().chain(RETRY_PROBLEMS).chain(BODY_PROBLEMS).chain(WRITE_PROBLEMS);
        for (status, name, description) in all_problems {
            let mut response = ResponseBuilder::new().description(*description).content(
                PROBLEM_CONTENT_TYPE,
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            );
            if RETRY_PROBLEMS.iter().any(|(retry, _, _)| retry == status) {
                let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(seconds)
                        .description(Some("Seconds to wait before trying again"))
                        .build(),
                );
            }
            components.responses.insert((*name).to_owned(), RefOr::T(response.build()));
        }
        let mut forms = BTreeSet::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1") {
                continue;
            }
            if let Some(post) = item.post.as_mut() {
                add_idempotency_key(post);
            }
            // Whether each method writes: every one but `get`.
            let operations = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (operation, writes) in operations {
                let Some(operation) = operation else { continue };
                add_shared_problems(operation, writes);
                share_header_schemas(operation);
                // Path and query text is bound like body text (found by schemathesis: `?user=%00`
                // answered 422 `invalid-text` on PostgreSQL).
                for parameter in operation.parameters.iter_mut().flatten() {
                    parameter.schema.iter_mut().for_each(add_no_nul_pattern);
                }
                forms.extend(describe_file_parts(operation));
            }
        }
        close_forms(components, &forms);
        for (schema, alternatives) in EXACTLY_ONE_OF {
            require_exactly_one(components, schema, alternatives);
        }
        require_contact_name(components);
        let document = serde_json::to_value(&*openapi).unwrap_or_default();
        let components = openapi.components.get_or_insert_with(Default::default);
        mark_response_fields_required(components, &document);
        refuse_nul_in_request_text(components, &document);
        add_links(openapi, &document);
    }
}

/// Creations whose answer names a resource somewhere other than under their own path: the
/// operation, the JSON pointer of the new resource's key in its `201` body, and the path whose
/// operations take that key as their last parameter.
const OTHER_LINKS: &[(&str, &str, &str)] = &[
    ("log_segment", "/logged_segment/id", "/v1/logged-segments/{id}"),
    ("add_segment_lines", "/line_ids/0", "/v1/segments/{id}/lines/{line_id}"),
    ("follow_up", "/id", "/v1/segments/{id}"),
    ("reuse_logged_segment", "/action/id", "/v1/segments/{id}/criteria-actions/{action_id}"),
    ("apply_saved_criteria", "/items/0/id", "/v1/segments/{id}/criteria-actions/{action_id}"),
];

/// OpenAPI links from each creation (`POST` answering `201`) to the operations on what it
/// created (`POST /v1/segments` to every operation under `/v1/segments/{id}`), with the new key
/// from the answer's body and the parent keys from the request's path: clients and the
/// stateful phase of schemathesis follow them from one call to the next.
fn add_links(openapi: &mut utoipa::openapi::OpenApi, document: &serde_json::Value) {
    let operations: Vec<(&str, &str)> = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            let ids = item.as_object().into_iter().flat_map(|item| item.values());
            ids.filter_map(|op| op["operationId"].as_str()).map(move |id| (path.as_str(), id))
        })
        .collect();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let Some(post) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = post.responses.responses.get_mut("201") else { continue };
        let source = post.operation_id.as_deref().unwrap_or_default();
        let Some((target, pointer)) = created_resource(document, &operations, path, source) else { continue };
        for (operation_path, operation_id) in &operations {
            if let Some(link) = link(path, &target, &pointer, operation_path, operation_id) {
                created.links.insert((*operation_id).to_owned(), RefOr::T(link));
            }
        }
    }
}

/// What the creation `POST path` makes: the path of the new resource (its key the last
/// parameter) and the JSON pointer of that key in the `201` body. Named in [`OTHER_LINKS`],
/// else the body's `id` or `code`, for the resource directly under `path`.
fn created_resource(
    document: &serde_json::Value,
    operations: &[(&str, &str)],
    path: &str,
    operation_id: &str,
) -> Option<(String, String)> {
    if let Some((_, pointer, target)) = OTHER_LINKS.iter().find(|(id, _, _)| *id == operation_id) {
        return Some(((*target).to_owned(), (*pointer).to_owned()));
    }
    let body = &document["paths"][path]["post"]["responses"]["201"]["content"]["application/json"];
    let name = body["schema"]["$ref"].as_str()?.strip_prefix("#/components/schemas/")?;
    let properties = &document["components"]["schemas"][name]["properties"];
    let key = ["id", "code"].into_iter().find(|key| properties.get(*key).is_some())?;
    let parameter = operations.iter().find_map(|(child, _)| {
        let rest = child.strip_prefix(path)?.strip_prefix("/{")?;
        rest.split_once('}').map(|(parameter, _)| parameter)
    })?;
    Some((format!("{path}/{{{parameter}}}"), format!("/{key}")))
}

/// The link from the creation `POST creation` to the operation at `operation_path` when that
/// operation is on the created resource `target` or under it, with every path parameter from
/// the answer (`target`'s key, at `pointer`) or the request; None otherwise: an operation that
/// needs a key this call did not make or name is no next step.
fn link(
    creation: &str,
    target: &str,
    pointer: &str,
    operation_path: &str,
    operation_id: &str,
) -> Option<utoipa::openapi::link::Link> {
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::link::LinkBuilder;
    let rest = operation_path.strip_prefix(target)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let new_key = target.rsplit_once("/{").map(|(_, p)| p.trim_end_matches('}'));
    // utoipa 5.5 writes `Link::operation_id` as `operation_id`, which no tool reads (the field
    // lacks its camelCase rename); a flattened extension map writes the key as given, so
    // `operationId` goes there.
    let mut link =
        LinkBuilder::new().extensions(Some(Extensions::from_iter([("operationId", operation_id)])));
    for parameter in operation_path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
        let value = if Some(parameter) == new_key {
            format!("$response.body#{pointer}")
        } else if creation.contains(&format!("{{{parameter}}}")) {
            format!("$request.path.{parameter}")
        } else {
            return None;
        };
        link = link.parameter(parameter, value);
    }
    Some(link.build())
}

/// Characters of an entity tag between its quotes (RFC 9110 `etagc`), less the comma, which
/// separates the tags of a list (`conditional::if_match_version` splits on it).
const ETAGC: &str = r"[\x21\x23-\x2b\x2d-\x7e]*";

/// `If-Match`: `*` or a list of entity tags (`"3"`, `"3.7.1.0"`, weak `W/"3"`), as
/// `conditional::if_match_version` reads it; a header is absent or a string, never null.
fn entity_tags_schema() -> RefOr<Schema> {
    let tag = format!(r#"(W/)?"{ETAGC}""#);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(r"^(\*|{tag}( *, *{tag})*)$")))
        .description(Some(
            "`*` or a comma-separated list of entity tags (`\"3\"`, `\"3.7.1.0\"`); weak tags never match",
        ))
        .into()
}

/// `Idempotency-Key`: 1 to 255 visible ASCII characters (`idempotency::idempotency_key`).
fn idempotency_key_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(255))
        .pattern(Some(r"^[\x21-\x7e]+$"))
        .description(Some(
            "1 to 255 visible ASCII characters; a retry with the same key and body replays the first answer",
        ))
        .into()
}

/// Every `POST` under `/v1` honours `Idempotency-Key`; handlers need not each declare it.
fn add_idempotency_key(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if !parameters.iter().any(|p| p.name.eq_ignore_ascii_case("Idempotency-Key")) {
        parameters.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("Makes a retry return the first answer"))
                .build(),
        );
    }
}

/// Gives `If-Match` and `Idempotency-Key` their one schema, whatever the handler wrote (an
/// `Option<String>` renders as `string | null`, which no header can be). Inline, not a `$ref`:
/// some tools read a parameter's own schema only.
fn share_header_schemas(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let shared = match parameter {
            Parameter { parameter_in: ParameterIn::Header, name, .. }
                if name.eq_ignore_ascii_case("If-Match") =>
            {
                entity_tags_schema()
            }
            Parameter { parameter_in: ParameterIn::Header, name, .. }
                if name.eq_ignore_ascii_case("Idempotency-Key") =>
            {
                idempotency_key_schema()
            }
            _ => continue,
        };
        parameter.schema = Some(shared);
    }
}

/// Bodies that must give exactly one of some properties (with a value other than null), and
/// each one's type: `AddLines` (`segments::lines::repo::add_lines`).
const EXACTLY_ONE_OF: &[(&str, &[(&str, Type)])] = &[(
    "AddLines",
    &[("contact_id", Type::Integer), ("contact_ids", Type::Array), ("contact_nos", Type::Array)],
)];

/// Wraps `schema` as `allOf: [itself, oneOf: [one branch per alternative]]`, each branch
/// requiring its property with a non-null value.
fn require_exactly_one(
    components: &mut utoipa::openapi::Components,
    schema: &str,
    alternatives: &[(&str, Type)],
) {
    let Some(original) = components.schemas.remove(schema) else { return };
    let mut one_of = OneOfBuilder::new();
    for (property, kind) in alternatives {
        one_of = one_of.item(
            ObjectBuilder::new()
                .required(*property)
                .property(*property, ObjectBuilder::new().schema_type(kind.clone())),
        );
    }
    let description = match &original {
        RefOr::T(Schema::Object(object)) => object.description.clone(),
        _ => None,
    };
    let combined = AllOfBuilder::new().item(original).item(one_of).description(description);
    components.schemas.insert(schema.to_owned(), combined.into());
}

/// A new contact has a name: a non-blank `name`, or for a person a non-blank first, middle or
/// surname it is made of (`contacts::state`; blank text counts as absent there); and only the
/// links its type may have.
fn require_contact_name(components: &mut utoipa::openapi::Components) {
    let Some(original) = components.schemas.remove("CreateContact") else { return };
    let non_blank = |property: &str| {
        ObjectBuilder::new().required(property).property(
            property,
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(NON_BLANK_PATTERN)),
        )
    };
    let mut parts = AnyOfBuilder::new();
    for part in ["first_name", "middle_name", "surname"] {
        parts = parts.item(non_blank(part));
    }
    let person = ObjectBuilder::new()
        .required("type")
        .property("type", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["person"])));
    let named =
        AnyOfBuilder::new().item(non_blank("name")).item(AllOfBuilder::new().item(person).item(parts));
    // What belongs to one type only (`contacts::state`): a company belongs to no company and has
    // no job responsibilities; a person has no industry groups or business relations.
    let none = || {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(ArrayBuilder::new().max_items(Some(0)))
    };
    let kind = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name]));
    let no_company = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(BLANK_PATTERN)));
    let by_type = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("type", kind("company"))
                .property("company_no", no_company)
                .property("job_responsibility_codes", none()),
        )
        .item(
            ObjectBuilder::new()
                .property("type", kind("person"))
                .property("industry_group_codes", none())
                .property("business_relation_codes", none()),
        );
    let description = match &original {
        RefOr::T(Schema::Object(object)) => object.description.clone(),
        _ => None,
    };
    let combined = AllOfBuilder::new().item(original).item(named).item(by_type).description(description);
    components.schemas.insert("CreateContact".to_owned(), combined.into());
}

/// The media types a document's `file` part may have (`documents::DocumentKind`).
const DOCUMENT_TYPES: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document, text/html, text/plain";

/// States the media types of every form's `file` part, and returns the forms' schema names.
fn describe_file_parts(operation: &mut Operation) -> Vec<String> {
    let Some(body) = operation.request_body.as_mut() else { return Vec::new() };
    let Some(form) = body.content.get_mut("multipart/form-data") else { return Vec::new() };
    form.encoding
        .insert(FILE_PART.to_owned(), EncodingBuilder::new().content_type(Some(DOCUMENT_TYPES)).build());
    match &form.schema {
        Some(RefOr::Ref(reference)) => {
            reference.ref_location.rsplit('/').next().map(str::to_owned).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// A form has the parts its schema names and no others (the server keeps at most a few short
/// text parts, and names none but these).
fn close_forms(components: &mut utoipa::openapi::Components, forms: &BTreeSet<String>) {
    for name in forms {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

fn add_shared_problems(operation: &mut Operation, writes: bool) {
    let has_body = operation.request_body.is_some();
    let problems = SHARED_PROBLEMS
        .iter()
        .chain(RETRY_PROBLEMS)
        .chain(BODY_PROBLEMS.iter().filter(|_| has_body))
        .chain(WRITE_PROBLEMS.iter().filter(|_| writes));
    for (status, name, _) in problems {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

/// Answer fields that serde leaves out when empty (`skip_serializing_if`); every other field of
/// an answer is always sent.
pub const SOMETIMES_ABSENT: &[(&str, &str)] =
    &[("HealthStatus", "database"), ("Problem", "errors"), ("Problem", "request_id")];

/// Answers always carry every field (`null` when empty), so the schemas only answers use list
/// them all as required: generated clients then type them `T | null` instead of
/// `T | null | undefined`. A schema a request body also uses keeps its own `required`.
fn mark_response_fields_required(components: &mut utoipa::openapi::Components, document: &serde_json::Value) {
    let (responses, requests) = response_and_request_schemas(document);
    for name in responses.difference(&requests) {
        if let Some(schema) = components.schemas.get_mut(name) {
            mark_required(name, schema);
        }
    }
}

/// No text a request holds may contain NUL: PostgreSQL cannot store it (422 `invalid-text`),
/// and the checks refuse it on both backends where text is kept; so every string of a request
/// schema that has no pattern or format of its own says so.
fn refuse_nul_in_request_text(components: &mut utoipa::openapi::Components, document: &serde_json::Value) {
    let (_, requests) = response_and_request_schemas(document);
    for name in &requests {
        if let Some(schema) = components.schemas.get_mut(name) {
            add_no_nul_pattern(schema);
        }
    }
}

fn add_no_nul_pattern(schema: &mut RefOr<Schema>) {
    use utoipa::openapi::schema::{ArrayItems, SchemaType};
    let is_string = |kind: &SchemaType| match kind {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        _ => false,
    };
    match schema {
        RefOr::T(Schema::Object(object)) => {
            if is_string(&object.schema_type)
                && object.pattern.is_none()
                && object.format.is_none()
                && object.enum_values.is_none()
            {
                object.pattern = Some(NO_NUL_PATTERN.to_owned());
            }
            object.properties.values_mut().for_each(add_no_nul_pattern);
            if let Some(AdditionalProperties::RefOr(inner)) = object.additional_properties.as_deref_mut() {
                add_no_nul_pattern(inner);
            }
        }
        RefOr::T(Schema::Array(array)) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                add_no_nul_pattern(items);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(add_no_nul_pattern),
        RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter_mut().for_each(add_no_nul_pattern),
        RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter_mut().for_each(add_no_nul_pattern),
        _ => {}
    }
}

fn mark_required(name: &str, schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            object.properties.values_mut().for_each(|inner| mark_required(name, inner));
            object.required = object
                .properties
                .keys()
                .filter(|property| !SOMETIMES_ABSENT.contains(&(name, property.as_str())))
                .cloned()
                .collect();
        }
        RefOr::T(Schema::Array(array)) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                mark_required(name, items);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(|s| mark_required(name, s)),
        RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter_mut().for_each(|s| mark_required(name, s)),
        RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter_mut().for_each(|s| mark_required(name, s)),
        _ => {}
    }
}

/// The component schemas answers reach, and those request bodies and parameters reach, each
/// followed through `$ref`s.
pub fn response_and_request_schemas(document: &serde_json::Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut response_roots, mut request_roots) = (Vec::new(), Vec::new());
    for item in document["paths"].as_object().into_iter().flat_map(|paths| paths.values()) {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            response_roots.push(&operation["responses"]);
            request_roots.push(&operation["requestBody"]);
            request_roots.push(&operation["parameters"]);
        }
    }
    response_roots.push(&document["components"]["responses"]);
    let schemas = &document["components"]["schemas"];
    (reachable(&response_roots, schemas), reachable(&request_roots, schemas))
}

fn reachable(roots: &[&serde_json::Value], schemas: &serde_json::Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending: Vec<&serde_json::Value> = roots.to_vec();
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::Object(object) => {
                for (key, inner) in object {
                    let name = inner.as_str().and_then(|r| r.strip_prefix("#/components/schemas/"));
                    match (key.as_str(), name) {
                        ("$ref", Some(name)) => {
                            if found.insert(name.to_owned()) {
                                pending.push(&schemas[name]);
                            }
                        }
                        _ => pending.push(inner),
                    }
                }
            }
            serde_json::Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    found
}
