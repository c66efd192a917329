//! Request bodies must be JSON objects: serde's derived structs would also take an array and
//! fill the fields by position (`["X"]` as a PATCH renaming `no`), which no client means.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `T` read from a JSON object only; anything else is a deserialisation error (422).
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(JsonObject)
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
}
