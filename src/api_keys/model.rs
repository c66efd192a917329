use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::api_keys;
use crate::domain::ApiScope;

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

/// The caller's own identity.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The key's name; recorded as the `user` of what the caller logs.
    pub name: String,
    pub scope: ApiScope,
}

/// A stored API key (the key itself is never shown again after creation).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: i64,
    pub name: String,
    pub scope: ApiScope,
    /// The first characters of the key, to recognise it.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyResponse {
    pub fn from_record(r: ApiKeyRecord) -> Self {
        ApiKeyResponse {
            id: r.id,
            name: r.name,
            scope: r.scope,
            key_prefix: r.key_prefix,
            created_at: r.created_at.and_utc(),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
        }
    }
}

/// The API keys, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyResponse>,
}

/// A key to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// Who or what uses the key; recorded as the `user` of what it logs. Not blank, at most
    /// 100 characters (white space around it is dropped).
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: String,
    pub scope: ApiScope,
}

/// A new key: `key` is shown this once only.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    pub name: String,
    pub scope: ApiScope,
    /// The secret to send as `Authorization: Bearer <key>`.
    pub key: String,
}
