//! PATCH semantics on the wire: an absent field leaves a value alone, `null` clears it.

use serde::{Deserialize, Deserializer};

use crate::domain::validation::Checker;

/// For `Option<Option<T>>` fields with `#[serde(default, deserialize_with = "patch::nullable")]`:
/// absent is `None`, `null` is `Some(None)`, a value is `Some(Some(v))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Applies a PATCH field to the current value.
pub fn apply<T>(current: &mut Option<T>, change: Option<Option<T>>) {
    if let Some(value) = change {
        *current = value;
    }
}

/// Applies a PATCH field that cannot be null: a value replaces, `null` is reported as a fault.
pub fn apply_required<T>(c: &mut Checker, field: &str, current: &mut T, change: Option<Option<T>>) {
    match change {
        Some(Some(value)) => *current = value,
        Some(None) => c.add(field, "required", format!("{field} cannot be null")),
        None => {}
    }
}
