//! Value types that parse once and the rules on their own values: text enums, money,
//! field checks and PATCH semantics. Depends on nothing but `error`.

mod enums;
pub mod money;
pub mod patch;
pub mod text;
pub mod validation;

pub use enums::*;
