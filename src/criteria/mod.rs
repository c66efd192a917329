//! Filters of criteria actions: the tree and its validation (`filter`), and its compilation to
//! one SQL predicate over contacts (`compile`). Plain functions, callable without HTTP.

pub mod compile;
pub mod filter;
pub mod schema;
pub mod selection;
