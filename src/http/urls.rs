//! URLs of resources, as `Location` headers name them.

/// The URL of one entry: the code is percent-encoded, as codes may hold `?`, `#` or `%`.
pub fn location(collection: &str, code: &str) -> String {
    let mut url = format!("{collection}/");
    for byte in code.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// A path or query string that holds NUL (`%00`, the only way a URL can) answers 422
/// `invalid-text` on both backends, as text with NUL in a body does: PostgreSQL cannot bind such
/// text, and SQLite would quietly match nothing (found by schemathesis once the document said
/// that no parameter holds NUL).
pub async fn refuse_nul<B: actix_web::body::MessageBody + 'static>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    if holds_nul(req.uri().path()) || holds_nul(req.query_string()) {
        return Err(crate::error::ApiError::Unprocessable {
            code: "invalid-text",
            detail: "text must not contain NUL characters (%00 in the path or query)".into(),
        }
        .into());
    }
    next.call(req).await
}

/// Whether percent-encoded URL text decodes to a NUL somewhere.
fn holds_nul(encoded: &str) -> bool {
    encoded.contains("%00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_encoded_nul_counts() {
        assert!(holds_nul("user=%00"));
        assert!(holds_nul("/v1/salespeople/a%00b"));
        assert!(!holds_nul("user=%2500"));
        assert!(!holds_nul("user=a%20b&q=100"));
    }
}
