//! The CLI's pure layers: framing, word splitting, keywords and usage.

pub mod framing;
pub(crate) mod keywords;
mod kw_table;
pub mod words;

pub use keywords::ModeBits;
