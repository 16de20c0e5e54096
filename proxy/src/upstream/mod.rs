//! Upstream pool.
#[derive(Debug, Default)]
pub(crate) struct Pools {}
