//! Authentication: the extractor that guards `/v1`, scopes as types, the bearer token.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

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

impl<S: RequiredScope> FromRequest for Caller<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = match (req.headers().contains_key(header::AUTHORIZATION), bearer_token(req.headers())) {
            (_, Some(token)) => Ok(token.to_owned()),
            (false, None) => Err(ApiError::Unauthorized("missing Authorization: Bearer <API key>".into())),
            (true, None) => Err(ApiError::Unauthorized("expected Authorization: Bearer <API key>".into())),
        };
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token?.to_owned();
            let hash = hash_key(&token);
            let (name, scope) = if state.admin_key_hash.as_deref() == Some(hash.as_str()) {
                (ENV_ADMIN_NAME.to_owned(), ApiScope::Admin)
            } else if let Some(known) = state.api_keys.get(&hash) {
                known
            } else {
                let (lookup, generation) = (hash.clone(), state.api_keys.generation());
                let found = db::run(&state.pool, move |conn| find_active_key(conn, &lookup)).await?;
                let (name, scope) =
                    found.ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".into()))?;
                state.api_keys.put(generation, hash, name.clone(), scope);
                (name, scope)
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

/// The token of `Authorization: Bearer <token>`, if the header has that form. The one reader of
/// the header, so that the key the extractor checks is the key idempotency records belong to.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
