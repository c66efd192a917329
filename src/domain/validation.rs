//! Field checks that collect every fault of an input before answering.

use crate::domain::money::Money;
use crate::error::{ApiError, FieldError};

/// The longest duration accepted (about 70 days), so sums over many lines stay exact.
pub const MAX_MINUTES: i64 = 100_000;

/// Collects field errors; `finish` answers 422 with all of them, or Ok.
#[derive(Debug, Default)]
pub struct Checker {
    prefix: String,
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Checker::default()
    }

    /// Field names are reported as `<prefix>.<field>` (e.g. `items[3].email`).
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Checker { prefix: prefix.into(), errors: Vec::new() }
    }

    pub fn field_name(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        let name = self.field_name(field);
        self.errors.push(FieldError::new(name, code, message));
    }

    /// Required, non-blank text of at most `max` characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "required", format!("{field} must not be empty"));
        } else {
            self.max_len(field, Some(value), max);
        }
    }

    /// Text of at most `max` characters and without NUL (which PostgreSQL cannot store).
    pub fn max_len(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.add(field, "too_long", format!("{field} must be at most {max} characters"));
            } else if v.contains('\0') {
                self.add(field, "invalid", format!("{field} must not contain NUL characters"));
            }
        }
    }

    /// A code: 1 to 20 characters, no spaces or slashes (it becomes part of URLs).
    pub fn code(&mut self, field: &str, value: &str) {
        if value.is_empty() || value.chars().count() > 20 {
            self.add(field, "invalid", format!("{field} must be 1 to 20 characters"));
        } else if value.chars().any(|c| c.is_whitespace() || c == '/' || c.is_control()) {
            self.add(field, "invalid", format!("{field} must not contain spaces or slashes"));
        }
    }

    pub fn email(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_email(v) {
                self.add(field, "invalid", format!("{field} is not an email address"));
            } else {
                self.max_len(field, Some(v), 80);
            }
        }
    }

    /// An amount in cents: not negative (the bound of [`Money::MAX`] is kept by parsing).
    pub fn amount(&mut self, field: &str, cents: Option<i64>) {
        if cents.is_some_and(|v| !(0..=Money::MAX.cents()).contains(&v)) {
            self.add(field, "out_of_range", format!("{field} must be between 0 and {}", Money::MAX));
        }
    }

    /// A duration in whole minutes, 0 to [`MAX_MINUTES`].
    pub fn minutes(&mut self, field: &str, minutes: Option<i64>) {
        if minutes.is_some_and(|v| !(0..=MAX_MINUTES).contains(&v)) {
            self.add(field, "out_of_range", format!("{field} must be between 0 and {MAX_MINUTES} minutes"));
        }
    }

    /// A calendar date in years 1 to 9999 (ISO 8601 without expanded years): both backends
    /// store and compare such dates alike.
    pub fn date(&mut self, field: &str, date: Option<chrono::NaiveDate>) {
        use chrono::Datelike;
        if date.is_some_and(|d| !(1..=9999).contains(&d.year())) {
            self.add(field, "out_of_range", format!("{field} must be a date in the years 1 to 9999"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn email_addresses_are_told_from_non_addresses() {
        for good in ["a@b.no", "first.last+tag@mail.example.com", "ø@bø.no"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "a", "a@", "@b.no", "a@b", "a b@c.no", "a@@b.no", "a@b..no", "a@-b.no"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
