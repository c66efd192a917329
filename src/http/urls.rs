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
