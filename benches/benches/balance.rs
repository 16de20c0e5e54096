//! Balancing picks (proxy's balancer). Waiting for the proxy crate to export
//! its balancer API; see BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_benches::short_criterion_times;

fn pending(_c: &mut Criterion) {
    eprintln!("balance: skipped: switchyard_proxy does not export a balancer API yet");
}

fn config() -> Criterion {
    let (warm, measure) = short_criterion_times();
    Criterion::default()
        .warm_up_time(warm)
        .measurement_time(measure)
}

criterion_group! {
    name = benches;
    config = config();
    targets = pending
}
criterion_main!(benches);
