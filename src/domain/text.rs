//! Bounded text: a text field of at most `MAX` characters, its bound stated once, in the type,
//! which both checks it and shows it in the OpenAPI document as `maxLength`.

use serde::Deserialize;
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::validation::{is_email, Checker};

/// Text of at most `MAX` characters and without NUL (which PostgreSQL cannot store).
///
/// Deserialising takes any string and keeps it; [`BoundedText::check`] reports a text beyond
/// the bound where the body's other faults are collected. A failing `Deserialize` would stop
/// serde at the first fault, and the rules checked after it (a person's name made of its
/// parts, references, uniqueness) see the text as sent, as they always have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct BoundedText<const MAX: usize>(String);

impl<const MAX: usize> BoundedText<MAX> {
    /// The most characters the text may have.
    pub const MAX_CHARS: usize = MAX;

    pub fn new(text: impl Into<String>) -> Self {
        BoundedText(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reports a text longer than `MAX` characters, or holding NUL, as a fault of `field`.
    pub fn check(&self, field: &str, c: &mut Checker) {
        c.max_len(field, Some(&self.0), MAX);
    }

    /// As [`BoundedText::check`], for an email address: its form first, then the bound.
    pub fn check_email(&self, field: &str, c: &mut Checker) {
        if is_email(&self.0) {
            self.check(field, c);
        } else {
            // Reports the form fault.
            c.email(field, Some(&self.0));
        }
    }
}

impl<const MAX: usize> std::ops::Deref for BoundedText<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> AsRef<str> for BoundedText<MAX> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> std::fmt::Display for BoundedText<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> From<BoundedText<MAX>> for String {
    fn from(text: BoundedText<MAX>) -> String {
        text.0
    }
}

/// A string with `maxLength` and without NUL; fields of this type are declared `#[schema(inline)]`.
impl<const MAX: usize> PartialSchema for BoundedText<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX))
            .pattern(Some(NO_NUL_PATTERN))
            .into()
    }
}

/// Text without NUL, which PostgreSQL cannot store ([`Checker::max_len`] refuses it).
pub const NO_NUL_PATTERN: &str = r"^[^\x00]*$";

impl<const MAX: usize> ToSchema for BoundedText<MAX> {}

/// An email address of at most 80 characters, or null (`Checker::email`; a JSON Schema
/// `email` is stricter than the service's check, never looser).
pub fn email_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(80))
        .description(Some("An email address of at most 80 characters, or null."))
        .build()
}

/// A contact's email: an address of at most 80 characters, or blank or null for none (a
/// contact's blank text counts as absent).
pub fn email_blank_or_null() -> Schema {
    let address = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(80));
    let blank = ObjectBuilder::new().schema_type(Type::String).pattern(Some(BLANK_PATTERN));
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(address)
            .item(blank)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("An email address of at most 80 characters; blank or null for none."))
            .build(),
    )
}

/// Text made of white space only, as `str::trim` sees it (see [`NON_BLANK_PATTERN`]).
pub const BLANK_PATTERN: &str = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// Text [`Checker::required`] takes: without NUL, and with a character that is not white space
/// (Rust's `char::is_whitespace`, spelled out because regex engines' `\s` differ from it). The
/// fields that carry it spell it out (utoipa takes a literal only); a test in
/// tests/api/openapi.rs compares each with this one.
pub const NON_BLANK_PATTERN: &str =
    r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$";

#[cfg(test)]
mod tests {
    use super::BoundedText;
    use crate::domain::validation::Checker;

    #[test]
    fn text_beyond_its_bound_is_a_fault_reported_under_the_field_name() {
        let mut c = Checker::new();
        BoundedText::<3>::new("abc").check("code", &mut c);
        BoundedText::<3>::new("åøæ").check("code", &mut c);
        assert!(c.is_empty(), "characters are counted, not bytes");
        BoundedText::<3>::new("abcd").check("city", &mut c);
        BoundedText::<3>::new("a\0").check("phone", &mut c);
        let faults: Vec<(&str, &str)> =
            c.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(faults, [("city", "too_long"), ("phone", "invalid")]);
    }

    #[test]
    fn any_string_deserialises_so_that_the_fault_is_collected_later() {
        let text: BoundedText<2> = serde_json::from_str(r#""longer""#).unwrap();
        assert_eq!(text.as_str(), "longer");
        assert!(serde_json::from_str::<BoundedText<2>>("5").is_err());
    }
}
