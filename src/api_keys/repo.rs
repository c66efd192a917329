//! Storage of API keys: only hashes and a recognisable prefix are kept.

use chrono::Utc;
use diesel::prelude::*;

use super::key::{generate_key, hash_key};
use super::model::ApiKeyRecord;
use crate::db::schema::api_keys;
use crate::db::Conn;
use crate::domain::ApiScope;
use crate::error::ApiError;

/// Creates a key; answers the key in clear text, the only time it exists outside the caller.
pub fn create_api_key(conn: &mut Conn, name: &str, scope: ApiScope) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
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

/// The name and scope of the active key with this hash.
pub fn find_active_key(conn: &mut Conn, hash: &str) -> Result<Option<(String, ApiScope)>, ApiError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::name, api_keys::scope))
        .first(conn)
        .optional()?)
}
