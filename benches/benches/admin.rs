//! Runtime API: `show stat` rendering for 1k servers and command parsing.
//! Waiting for the admin crate to export its parser and renderer.

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_benches::short_criterion_times;

fn pending(_c: &mut Criterion) {
    eprintln!("admin: skipped: switchyard_admin does not export its parser/renderer yet");
}

fn config() -> Criterion {
    let (warm, measure) = short_criterion_times();
    Criterion::default().warm_up_time(warm).measurement_time(measure)
}

criterion_group! {
    name = benches;
    config = config();
    targets = pending
}
criterion_main!(benches);
