//! Support for switchyard's benchmarks: generated configs and map files in a
//! temp dir, snapshots built from them, a request view for routing, and a
//! small hyper upstream. The criterion benches live in `benches/benches/`,
//! the side-by-side comparison with haproxy and nginx in `benches/compare.sh`.

#[cfg(feature = "crates")]
pub mod fixture;
pub mod gen;
pub mod http1;
#[cfg(feature = "crates")]
pub mod upstream;
#[cfg(feature = "crates")]
pub mod view;

#[cfg(feature = "crates")]
pub use fixture::{Fixture, FixtureError};
pub use gen::{AclCfg, MapCfg};
#[cfg(feature = "crates")]
pub use switchyard_state::NoServices;
#[cfg(feature = "crates")]
pub use view::BenchRequest;

/// Criterion's defaults for this 2-core machine shared with other builds:
/// short warm-up and measurement (the command line still overrides them).
pub fn short_criterion_times() -> (std::time::Duration, std::time::Duration) {
    (
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(3),
    )
}
