//! Authentication: the extractor that guards `/v1`, scopes as types, the bearer token.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use crate::api_keys::key::hash_key;
use crate::api_keys::repo::find_active_key;
use crate::db;
pub use crate::domain::ApiScope;
use crate::error::ApiError;
use crate::state::AppState;

/// The name recorded for requests made with `CRM_ADMIN_KEY`.
pub const ENV_ADMIN_NAME: &str = "admin (CRM_ADMIN_KEY)";

/// A scope a handler requires, as a type.
pub trait RequiredScope {
    const SCOPE: ApiScope;
}
pub struct Read;
pub struct Write;
pub struct Admin;
impl RequiredScope for Read {
    const SCOPE: ApiScope = ApiScope::Read;
}
impl RequiredScope for Write {
    const SCOPE: ApiScope = ApiScope::Write;
}
impl RequiredScope for Admin {
    const SCOPE: ApiScope = ApiScope::Admin;
}

/// The authenticated caller, holding at least scope `S`; its `name` is the recorded user.
#[derive(Debug)]
pub struct Caller<S> {
    pub name: String,
    pub scope: ApiScope,
    _scope: PhantomData<S>,
}

/// Whom a request's bearer key belongs to, once resolved.
#[derive(Debug, Clone)]
struct Identity {
    name: String,
    scope: ApiScope,
    /// The SHA-256 of the bearer key, which idempotency records are scoped by.
    key_hash: String,
}

impl<S: RequiredScope> FromRequest for Caller<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Under `/v1` the `authenticate` middleware has resolved the key already.
        let known = req.extensions().get::<Identity>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let Identity { name, scope, .. } = match known {
                Some(identity) => identity,
                None => identify(&req).await?,
            };
            if scope < S::SCOPE {
                return Err(ApiError::Forbidden(format!(
                    "this operation needs the {} scope; the key has {}",
                    S::SCOPE.as_str(),
                    scope.as_str()
                )));
            }
            Ok(Caller { name, scope, _scope: PhantomData })
        })
    }
}

/// The middleware on `/v1`: authenticates a request before anything reads its body. A handler's
/// extractors run side by side, so without it a malformed body (400 or 422) answered first while an
/// unknown key was still being looked up, and an unauthenticated client learnt about the body
/// instead of being told that its key is wrong.
pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match identify(req.request()).await {
        Ok(identity) => {
            req.extensions_mut().insert(identity);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => {
            let response = e.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// Resolves the request's bearer key: the environment's admin key, a key the cache holds, or
/// one looked up in the database (and then cached).
async fn identify(req: &HttpRequest) -> Result<Identity, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let hash = match (req.headers().contains_key(header::AUTHORIZATION), bearer_token(req.headers())) {
        (_, Some(token)) => hash_key(token),
        (false, None) => {
            return Err(ApiError::Unauthorized("missing Authorization: Bearer <API key>".into()))
        }
        (true, None) => {
            return Err(ApiError::Unauthorized("expected Authorization: Bearer <API key>".into()))
        }
    };
    if state.admin_key_hash.as_deref() == Some(hash.as_str()) {
        return Ok(Identity { name: ENV_ADMIN_NAME.to_owned(), scope: ApiScope::Admin, key_hash: hash });
    }
    if let Some((name, scope)) = state.api_keys.get(&hash) {
        return Ok(Identity { name, scope, key_hash: hash });
    }
    let (lookup, generation) = (hash.clone(), state.api_keys.generation());
    let found = db::run(&state.pool, move |conn| find_active_key(conn, &lookup)).await?;
    let (name, scope) = found.ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".into()))?;
    state.api_keys.put(generation, hash.clone(), name.clone(), scope);
    Ok(Identity { name, scope, key_hash: hash })
}

/// The hash of the request's bearer key: the one `authenticate` computed, else computed here.
pub fn bearer_key_hash(req: &HttpRequest) -> Option<String> {
    if let Some(identity) = req.extensions().get::<Identity>() {
        return Some(identity.key_hash.clone());
    }
    bearer_token(req.headers()).map(hash_key)
}

/// The token of `Authorization: Bearer <token>`, if the header has that form. The one reader of
/// the header, so that the key the extractor checks is the key idempotency records belong to.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
