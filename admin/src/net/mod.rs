//! Sockets: binding and the async accept/session loop.

pub mod bind;
pub mod serve;
