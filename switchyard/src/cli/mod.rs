//! The command line: parsing, usage text and the version banner.

mod args;
mod usage;
mod version;

pub use args::{parse, ArgError, Args, Invocation, OldPidSignal};
pub use usage::usage_text;
pub use version::{banner, VERSION};
