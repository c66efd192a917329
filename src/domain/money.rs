//! Money as exact cents: stored as BIGINT, shown as a decimal string with two decimals
//! (`"12.50"`), accepted as such a string or as a JSON number with at most two decimals.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// An amount in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// The largest amount accepted anywhere (999,999,999.99): sums over millions of lines
    /// still fit in 64 bits.
    pub const MAX: Money = Money(99_999_999_999);

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses `12`, `12.5`, `12.50`, `-3.1`; refuses more than two decimals or junk.
    pub fn parse(text: &str) -> Option<Money> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 2 {
            return None;
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) || (digits.contains('.') && fraction.is_empty()) {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
        let cents = whole.checked_mul(100)?.checked_add(fraction)?;
        (cents <= Money::MAX.0).then_some(Money(if negative { -cents } else { cents }))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct MoneyVisitor;
        impl Visitor<'_> for MoneyVisitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount up to 999999999.99 with at most two decimals, as a string (\"12.50\") or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                Money::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.checked_mul(100)
                    .map(Money)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(100))
                    .map(Money)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                // Through the shortest decimal text, so 0.1 stays 0.1 and 0.125 is refused.
                Money::parse(&v.to_string()).ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        deserializer.deserialize_any(MoneyVisitor)
    }
}

/// An amount a request gives, as [`Money`] reads it and [`Checker::amount`] bounds it: a
/// string of digits with at most two decimals (white space around it is dropped), or a number,
/// 0 to 999,999,999.99 (`#[schema(schema_with = amount)]`).
///
/// [`Checker::amount`]: crate::domain::validation::Checker::amount
pub fn amount() -> Schema {
    Schema::OneOf(amount_builder().description(Some(AMOUNT)).build())
}

const AMOUNT: &str = "At least 0, at most two decimals, as a string (`\"12.50\"`) or a number.";

/// As [`amount`], or null.
pub fn amount_or_null() -> Schema {
    amount_or_null_described(AMOUNT)
}

/// As [`amount_or_null`], with its own description.
pub fn amount_or_null_described(description: &str) -> Schema {
    let null = ObjectBuilder::new().schema_type(Type::Null);
    Schema::OneOf(amount_builder().item(null).description(Some(description)).build())
}

fn amount_builder() -> OneOfBuilder {
    // `[0-9]`, not `\d`: regex engines' `\d` takes other scripts' digits, `Money::parse` does not.
    let text = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^\s*0*[0-9]{1,9}(\.[0-9]{1,2})?\s*$"))
        .examples(["12.50"]);
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(999_999_999.99))
        .multiple_of(Some(0.01));
    OneOfBuilder::new().item(text).item(number)
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn amounts_round_trip_through_text_and_numbers() {
        assert_eq!(Money::parse("12.5"), Some(Money(1250)));
        assert_eq!(Money::parse("-0.05"), Some(Money(-5)));
        assert_eq!(Money(1250).to_string(), "12.50");
        assert_eq!(Money(-5).to_string(), "-0.05");
        // `+5` and `+1.50` parse as integers in Rust; an amount takes digits only.
        for bad in
            ["", "1.234", "abc", "1.", ".5", "1,5", "1000000000.00", "90000000000000000", "+5", "+1.50"]
        {
            assert_eq!(Money::parse(bad), None, "{bad}");
        }
        let m: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(m, Money(10));
        assert!(serde_json::from_str::<Money>("0.125").is_err());
        let m: Money = serde_json::from_str("7").unwrap();
        assert_eq!(m, Money(700));
        // A negative whole number comes through `visit_i64`, a positive one through `visit_u64`.
        let m: Money = serde_json::from_str("-7").unwrap();
        assert_eq!(m, Money(-700));
        assert!(serde_json::from_str::<Money>(&i64::MIN.to_string()).is_err());
    }

    #[test]
    fn a_refused_amount_says_what_an_amount_is() {
        for bad in ["true", "\"1.234\"", "[]"] {
            let error = serde_json::from_str::<Money>(bad).unwrap_err().to_string();
            assert!(
                error.contains("expected an amount up to 999999999.99 with at most two decimals"),
                "{error}"
            );
        }
    }
}
