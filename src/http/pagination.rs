//! Keyset pagination: a bounded `limit` and an opaque cursor naming the last row seen.

use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 1000;

/// `limit` and `cursor`, shared by every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
}

/// A validated page request: the key to continue after, and how many rows to fetch.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// The list the cursor belongs to (`contacts`, `segments/7/lines`): a cursor of one list is
    /// refused by another instead of silently giving a wrong page.
    pub list: String,
    /// Rows come strictly after this key (ids ascend).
    pub after: Option<i64>,
    pub limit: i64,
}

impl PageParams {
    pub fn validate(&self, list: &str) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                "out_of_range",
                format!("limit must be 1 to {MAX_LIMIT}"),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) if cursor.is_empty() => None,
            Some(cursor) => Some(decode_cursor(list, cursor)?),
        };
        Ok(PageRequest { list: list.to_owned(), after, limit })
    }
}

/// A page request over a list ordered by a text key (code tables are keyed by `code`).
#[derive(Debug, Clone)]
pub struct CodePageRequest {
    /// The list the cursor belongs to, as for [`PageRequest::list`].
    pub list: String,
    /// Rows come strictly after this code.
    pub after: Option<String>,
    pub limit: i64,
}

impl PageParams {
    pub fn validate_code(&self, list: &str) -> Result<CodePageRequest, ApiError> {
        let PageRequest { limit, .. } = PageParams { limit: self.limit, cursor: None }.validate("")?;
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(decode_text(cursor, &format!("{list}:code:"))?),
        };
        Ok(CodePageRequest { list: list.to_owned(), after, limit })
    }
}

pub fn encode_code_cursor(list: &str, last_code: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{list}:code:{last_code}"))
}

/// Like [`into_page`] for code-keyed lists.
pub fn into_code_page<T>(
    rows: Vec<T>,
    page: &CodePageRequest,
    code: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    split_page(rows, page.limit, |r| encode_code_cursor(&page.list, code(r)))
}

fn decode_text(cursor: &str, prefix: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid_field("cursor", "invalid", "not a cursor this service issued");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(prefix).map(str::to_owned).ok_or_else(invalid)
}

fn decode_cursor(list: &str, cursor: &str) -> Result<i64, ApiError> {
    decode_text(cursor, &format!("{list}:id:"))?
        .parse()
        .map_err(|_| ApiError::invalid_field("cursor", "invalid", "not a cursor this service issued"))
}

pub fn encode_cursor(list: &str, last_id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{list}:id:{last_id}"))
}

/// Splits `limit + 1` fetched rows into the page and the cursor of the next one.
pub fn into_page<T>(rows: Vec<T>, page: PageRequest, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
    split_page(rows, page.limit, |r| encode_cursor(&page.list, id(r)))
}

/// The page of `limit` rows, and the cursor of its last row when the query's one extra row
/// says that a next page exists.
fn split_page<T>(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(cursor) } else { None };
    (rows, next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_empty_cursor_is_the_first_page_and_a_cursor_belongs_to_its_list() {
        // Found by cargo-mutants: `?cursor=` (a client that always sends the parameter) must
        // read the first page, not fail to decode.
        let params = |cursor: &str| PageParams { limit: None, cursor: Some(cursor.to_owned()) };
        let first = params("").validate("contacts").unwrap();
        assert_eq!((first.after, first.limit), (None, DEFAULT_LIMIT));
        let next = params(&encode_cursor("contacts", 42)).validate("contacts").unwrap();
        assert_eq!(next.after, Some(42));
        assert!(params(&encode_cursor("segments", 42)).validate("contacts").is_err());
        assert!(params("not a cursor").validate("contacts").is_err());
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_a_row_is_left_over() {
        // Found by cargo-mutants: the query reads one row past the limit, and only that row
        // says a next page exists; exactly `limit` rows are the last page.
        let page = || PageRequest { list: "contacts".into(), after: None, limit: 2 };
        assert_eq!(into_page(vec![7, 9], page(), |id| *id), (vec![7, 9], None));
        let (first, next) = into_page(vec![7, 9, 12], page(), |id| *id);
        assert_eq!(first, [7, 9]);
        let after = PageParams { limit: Some(2), cursor: next }.validate("contacts").unwrap().after;
        assert_eq!(after, Some(9));
    }

    #[test]
    fn a_code_page_has_a_next_cursor_only_when_a_row_is_left_over() {
        let page = CodePageRequest { list: "templates".into(), after: None, limit: 2 };
        let rows = |n: usize| (0..n).map(|i| format!("T{i}")).collect::<Vec<_>>();
        let (last, next) = into_code_page(rows(2), &page, |r| r);
        assert_eq!((last, next), (rows(2), None));
        let (first, next) = into_code_page(rows(3), &page, |r| r);
        assert_eq!(first, rows(2));
        let after = PageParams { limit: Some(2), cursor: next }.validate_code("templates").unwrap().after;
        assert_eq!(after.as_deref(), Some("T1"));
    }
}
