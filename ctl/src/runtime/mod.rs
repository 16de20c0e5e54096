//! The HAProxy Runtime API as a client sees it: one command line per connection,
//! the reply read to EOF, and the few reply shapes that mean "error".

mod client;
mod reply;
mod words;

pub use client::{Client, DEFAULT_IO_TIMEOUT};
pub use reply::{expect_empty, is_unknown_object};
pub use words::{command, escape_word};
