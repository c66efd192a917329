//! The secret itself: generation and the hash that is stored instead of it.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Keys are 256 random bits, so a fast unsalted SHA-256 is enough to make the stored hash
/// useless to a reader of the database while keeping the lookup an index probe.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new key: `crm_` and 256 random bits, URL-safe.
pub fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(format!("crm_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}
