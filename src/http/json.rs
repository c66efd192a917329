//! Request bodies must be JSON objects: serde's derived structs would also take an array and
//! fill the fields by position (`["X"]` as a PATCH renaming `no`), which no client means.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Error, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    /// Reads `T` straight from the input through [`Integral`]: no `Value` tree in between, which
    /// for a bulk body of 1000 contacts was a fifth of the request's time.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(Integral { de: deserializer, object_only: true }).map(JsonObject)
    }
}

/// A deserializer that hands its visitors a float with a zero fraction that an `i64` holds
/// exactly as that integer, at every depth; with `object_only` (the top level) it takes a JSON
/// object only. Each `JsonObject` wraps the deserializer it is given once more, so a type cannot
/// hold a `JsonObject` of itself (the compiler refuses the endless type); no body type needs to.
struct Integral<D> {
    de: D,
    object_only: bool,
}

/// Forwards each `deserialize_*` to the wrapped deserializer with the visitor wrapped.
macro_rules! forward_wrapped {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* Visit { inner: visitor, object_only: self.object_only })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Integral<D> {
    type Error = D::Error;

    forward_wrapped! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32();
        deserialize_i64(); deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32();
        deserialize_u64(); deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_char();
        deserialize_str(); deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_unit(); deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str); deserialize_seq(); deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize); deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier(); deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// The visitor side of [`Integral`].
struct Visit<V> {
    inner: V,
    object_only: bool,
}

/// Forwards each `visit_*` to the wrapped visitor, or refuses it where only an object is taken.
macro_rules! forward_visits {
    ($($method:ident($v:ident: $ty:ty) => $unexpected:expr;)*) => {$(
        fn $method<E: de::Error>(self, $v: $ty) -> Result<V::Value, E> {
            if self.object_only {
                return Err(E::invalid_type($unexpected, &self));
            }
            self.inner.$method($v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.object_only {
            f.write_str("a JSON object")
        } else {
            self.inner.expecting(f)
        }
    }

    forward_visits! {
        visit_bool(v: bool) => Unexpected::Bool(v);
        visit_i8(v: i8) => Unexpected::Signed(i64::from(v));
        visit_i16(v: i16) => Unexpected::Signed(i64::from(v));
        visit_i32(v: i32) => Unexpected::Signed(i64::from(v));
        visit_i64(v: i64) => Unexpected::Signed(v);
        visit_i128(v: i128) => Unexpected::Other("a number");
        visit_u8(v: u8) => Unexpected::Unsigned(u64::from(v));
        visit_u16(v: u16) => Unexpected::Unsigned(u64::from(v));
        visit_u32(v: u32) => Unexpected::Unsigned(u64::from(v));
        visit_u64(v: u64) => Unexpected::Unsigned(v);
        visit_u128(v: u128) => Unexpected::Other("a number");
        visit_f32(v: f32) => Unexpected::Float(f64::from(v));
        visit_char(v: char) => Unexpected::Char(v);
        visit_str(v: &str) => Unexpected::Str(v);
        visit_borrowed_str(v: &'de str) => Unexpected::Str(v);
        visit_string(v: String) => Unexpected::Str(&v);
        visit_bytes(v: &[u8]) => Unexpected::Bytes(v);
        visit_borrowed_bytes(v: &'de [u8]) => Unexpected::Bytes(v);
        visit_byte_buf(v: Vec<u8>) => Unexpected::Bytes(&v);
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        if self.object_only {
            return Err(E::invalid_type(Unexpected::Float(v), &self));
        }
        // 2^63 is exact as a float; anything from it up does not fit an i64.
        if v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63) {
            return self.inner.visit_i64(v as i64);
        }
        self.inner.visit_f64(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        if self.object_only {
            return Err(E::invalid_type(Unexpected::Unit, &self));
        }
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        if self.object_only {
            return Err(E::invalid_type(Unexpected::Unit, &self));
        }
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        if self.object_only {
            return Err(D::Error::invalid_type(Unexpected::Option, &self));
        }
        self.inner.visit_some(Integral { de, object_only: false })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        if self.object_only {
            return Err(D::Error::invalid_type(Unexpected::NewtypeStruct, &self));
        }
        self.inner.visit_newtype_struct(Integral { de, object_only: false })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.object_only {
            return Err(A::Error::invalid_type(Unexpected::Seq, &self));
        }
        self.inner.visit_seq(Nested(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Nested(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        if self.object_only {
            return Err(A::Error::invalid_type(Unexpected::Enum, &self));
        }
        self.inner.visit_enum(Nested(data))
    }
}

/// What lies inside a value read through [`Integral`]: its elements, entries and variants are
/// read through it too.
struct Nested<T>(T);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nested<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Integral { de, object_only: false })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Nested(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(Nested(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Nested<A> {
    type Error = A::Error;
    type Variant = Nested<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant), A::Error> {
        self.0.variant_seed(seed).map(|(value, variant)| (value, Nested(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Nested(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Visit { inner: visitor, object_only: false })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Visit { inner: visitor, object_only: false })
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

    #[test]
    fn anything_but_an_object_is_refused_as_such() {
        for body in [r#"["X"]"#, "null", "true", "7", "7.5", r#""X""#] {
            let error = serde_json::from_str::<JsonObject<Patch>>(body).unwrap_err().to_string();
            assert!(error.contains("expected a JSON object"), "{body}: {error}");
        }
    }

    #[test]
    fn zero_fractions_are_integers_at_every_depth() {
        #[derive(Debug, serde::Deserialize, PartialEq)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Step {
            Wait { minutes: i64 },
        }
        #[derive(Debug, serde::Deserialize)]
        struct Line {
            limit: Option<u32>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Plan {
            items: Vec<JsonObject<Line>>,
            limit: Option<u32>,
            steps: Vec<Step>,
            pairs: Vec<(i64, f64)>,
        }
        let body = r#"{"items": [{"limit": 2.0}], "limit": 1e2,
            "steps": [{"kind": "wait", "minutes": 15.0}], "pairs": [[3.0, 0.5]]}"#;
        let plan = serde_json::from_str::<JsonObject<Plan>>(body).unwrap().0;
        assert_eq!(plan.limit, Some(100));
        assert_eq!(plan.items[0].0.limit, Some(2));
        assert_eq!(plan.steps, vec![Step::Wait { minutes: 15 }]);
        assert_eq!(plan.pairs, vec![(3, 0.5)]);
        // An item of the list must be an object as well.
        let error = serde_json::from_str::<JsonObject<Plan>>(
            r#"{"items": [[]], "limit": null, "steps": [], "pairs": []}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("expected a JSON object"), "{error}");
    }
}
