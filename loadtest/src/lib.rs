//! switchyard-loadtest: the demo upstream (`switchyard-echo`) and the load generator.

pub mod echo;
pub mod gen;
