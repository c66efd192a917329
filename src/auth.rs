//! API keys: generation, hashing, storage, and the extractor that guards `/v1`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::api_keys;
use crate::db::{self, Conn};
pub use crate::domain::ApiScope;
use crate::error::ApiError;
use crate::state::AppState;

/// The name recorded for requests made with `CRM_ADMIN_KEY`.
pub const ENV_ADMIN_NAME: &str = "admin (CRM_ADMIN_KEY)";

/// Keys are 256 random bits, so a fast unsalted SHA-256 is enough to make the stored hash
/// useless to a reader of the database while keeping the lookup an index probe.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(format!("crm_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// A stored key as listed (never the key itself).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub name: String,
    pub scope: ApiScope,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Creates a key; answers the key in clear text, the only time it exists outside the caller.
pub fn create_api_key(conn: &mut Conn, name: &str, scope: ApiScope) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid_field("name", "invalid", "a key needs a name of 1 to 100 characters"));
    }
    let key = generate_key()?;
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::scope.eq(scope),
            api_keys::key_hash.eq(hash_key(&key)),
            api_keys::key_prefix.eq(&key[..12]),
            api_keys::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(key)
}

pub fn list_api_keys(conn: &mut Conn) -> Result<Vec<ApiKeyRecord>, ApiError> {
    Ok(api_keys::table.select(ApiKeyRecord::as_select()).order(api_keys::id).load(conn)?)
}

/// Revokes the keys with this id or name; answers how many were revoked.
pub fn revoke_api_key(conn: &mut Conn, id_or_name: &str) -> Result<usize, ApiError> {
    let now = Utc::now().naive_utc();
    let target = api_keys::table.filter(api_keys::revoked_at.is_null());
    let revoked = match id_or_name.parse::<i64>() {
        Ok(id) => diesel::update(target.filter(api_keys::id.eq(id)))
            .set(api_keys::revoked_at.eq(now))
            .execute(conn)?,
        Err(_) => diesel::update(target.filter(api_keys::name.eq(id_or_name)))
            .set(api_keys::revoked_at.eq(now))
            .execute(conn)?,
    };
    Ok(revoked)
}

/// On a first start with no key anywhere, creates one admin key so the service is usable.
pub fn ensure_initial_admin_key(conn: &mut Conn, env_admin_key: bool) -> Result<Option<String>, ApiError> {
    if env_admin_key {
        return Ok(None);
    }
    let existing: i64 = api_keys::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(None);
    }
    create_api_key(conn, "initial-admin", ApiScope::Admin).map(Some)
}

fn find_active_key(conn: &mut Conn, hash: &str) -> Result<Option<(String, ApiScope)>, ApiError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::name, api_keys::scope))
        .first(conn)
        .optional()?)
}

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
            } else {
                let found = db::run(&state.pool, move |conn| find_active_key(conn, &hash)).await?;
                found.ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".into()))?
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
