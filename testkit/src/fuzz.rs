//! How many cases a randomized test runs, and from which seed.

/// `default_iters` from `default_seed` (reproducible) unless
/// `SWITCHYARD_FUZZ_ITERS` asks for another count (`scripts/long.sh`):
/// then that many, from a time seed. Print the pair so a failure can be
/// replayed.
pub fn fuzz_iters_and_seed(default_iters: usize, default_seed: u64) -> (usize, u64) {
    match std::env::var("SWITCHYARD_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) if n != default_iters => (
            n,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(default_seed, |d| d.as_secs()),
        ),
        _ => (default_iters, default_seed),
    }
}
