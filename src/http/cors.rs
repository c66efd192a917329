//! CORS for browser front ends on other origins: only the origins configured in `CORS_ORIGINS`
//! (none by default; `*` for any), preflights answered, and the headers a client reads exposed.
//! A request from any other origin is served without CORS headers, so the browser keeps its
//! answer from the page, as it would from a server that knows nothing of CORS.

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};

use super::idempotency::IDEMPOTENCY_KEY;
use super::requests::REQUEST_ID;

/// The CORS middleware for `origins` (each `scheme://host[:port]`, checked by the settings).
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static(IDEMPOTENCY_KEY),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            REQUEST_ID,
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

/// Whether `origin` is what a browser sends as `Origin`: `http` or `https`, a host name or
/// IPv4 address, an optional port, nothing after.
pub fn is_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let host = match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        Some(_) => return false,
        None => authority,
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_a_scheme_a_host_and_maybe_a_port() {
        for good in ["https://app.example.com", "http://localhost:5173", "http://127.0.0.1:8080"] {
            assert!(is_origin(good), "{good}");
        }
        for bad in ["app.example.com", "ftp://x", "https://", "https://x/path", "https://x:port", "*"] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
