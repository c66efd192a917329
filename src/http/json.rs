//! Request bodies must be JSON objects: serde's derived structs would also take an array and
//! fill the fields by position (`["X"]` as a PATCH renaming `no`), which no client means.

use serde::de::{DeserializeOwned, Error, Unexpected};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// `T` read from a JSON object only; anything else is a deserialisation error (422).
///
/// A number with a zero fraction (`30.0`, `1e3`) is taken where an integer is expected: JSON
/// Schema, and so the OpenAPI document, counts it as an integer, and JavaScript clients
/// cannot tell the two apart.
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        let unexpected = match &value {
            Value::Object(_) => None,
            Value::Null => Some(Unexpected::Unit),
            Value::Bool(b) => Some(Unexpected::Bool(*b)),
            Value::Number(_) => Some(Unexpected::Other("a number")),
            Value::String(s) => Some(Unexpected::Str(s)),
            Value::Array(_) => Some(Unexpected::Seq),
        };
        if let Some(unexpected) = unexpected {
            return Err(D::Error::invalid_type(unexpected, &"a JSON object"));
        }
        integral_numbers_as_integers(&mut value);
        T::deserialize(value).map(JsonObject).map_err(D::Error::custom)
    }
}

/// Rewrites every float with a zero fraction that an `i64` holds exactly as that integer.
fn integral_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                // 2^63 is exact as a float; anything from it up does not fit an i64.
                if float.fract() == 0.0 && float >= -(2f64.powi(63)) && float < 2f64.powi(63) {
                    *number = Number::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::JsonObject;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        no: Option<String>,
    }

    #[test]
    fn only_objects_are_taken() {
        let ok: JsonObject<Patch> = serde_json::from_str(r#"{"no": "X"}"#).unwrap();
        assert_eq!(ok.0, Patch { no: Some("X".into()) });
        assert!(serde_json::from_str::<JsonObject<Patch>>(r#"["X"]"#).is_err());
        assert!(serde_json::from_str::<JsonObject<Patch>>("[]").is_err());
        assert!(serde_json::from_str::<JsonObject<Patch>>(r#"{"other": 1}"#).is_err());
    }

    #[test]
    fn a_number_with_a_zero_fraction_is_an_integer() {
        #[derive(Debug, serde::Deserialize)]
        struct Minutes {
            minutes: i64,
            fraction: f64,
        }
        let ok: JsonObject<Minutes> = serde_json::from_str(r#"{"minutes": 30.0, "fraction": 2.0}"#).unwrap();
        assert_eq!((ok.0.minutes, ok.0.fraction), (30, 2.0));
        let big: JsonObject<Minutes> = serde_json::from_str(r#"{"minutes": -1e3, "fraction": 0.5}"#).unwrap();
        assert_eq!(big.0.minutes, -1000);
        assert!(serde_json::from_str::<JsonObject<Minutes>>(r#"{"minutes": 30.5, "fraction": 0}"#).is_err());
        assert!(serde_json::from_str::<JsonObject<Minutes>>(r#"{"minutes": 1e19, "fraction": 0}"#).is_err());
    }
}
