//! The OpenAPI document: every path and schema, the bearer scheme, the shared problem answers.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE};
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
        "The database is unreachable, busy past its timeout, or cancelled a statement past `DB_STATEMENT_TIMEOUT_SECS`",
    ),
];
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
        for (status, name, description) in SHARED_PROBLEMS.iter().chain(RETRY_PROBLEMS).chain(BODY_PROBLEMS) {
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
        mark_response_fields_required(components);
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1") {
                continue;
            }
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                add_shared_problems(operation);
            }
        }
    }
}

fn add_shared_problems(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let problems =
        SHARED_PROBLEMS.iter().chain(RETRY_PROBLEMS).chain(BODY_PROBLEMS.iter().filter(|_| has_body));
    for (status, name, _) in problems {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

/// Answers always carry every field (`null` when empty), so response schemas list them all as
/// required: generated clients then type them `T | null` instead of `T | null | undefined`.
fn mark_response_fields_required(components: &mut utoipa::openapi::Components) {
    const ALWAYS_COMPLETE: &[&str] =
        &["AddedLines", "BulkResult", "CreatedApiKey", "FieldError", "LineWarning"];
    for (name, schema) in components.schemas.iter_mut() {
        let is_response =
            name.ends_with("Response") || name.ends_with("List") || ALWAYS_COMPLETE.contains(&name.as_str());
        if let (true, RefOr::T(Schema::Object(object))) = (is_response, schema) {
            object.required = object.properties.keys().cloned().collect();
        }
    }
}
