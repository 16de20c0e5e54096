//! `FakeUpstream`: an in-process HTTP/1.1 upstream whose behaviour a test changes at
//! run time (echo, fixed status, delay, broken responses, silence, RST, health toggling).

mod behavior;
mod conn;
mod record;
mod server;
mod shared;
mod tls;

pub use behavior::Behavior;
pub use conn::{JUNK, PARTIAL_STATUS_LINE};
pub use record::RequestHead;
pub use server::{FakeUpstream, FakeUpstreamBuilder};
pub use tls::{TestPki, TlsUpstream};
