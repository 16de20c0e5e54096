//! Snapshot load and publish: `Store::load` (every request does one), the
//! cost of a `set map` published through `Store::update` with maps of 10,
//! 1k and 100k entries, the same with 1k servers in the config, and a full
//! snapshot build (what a reload does) for those configs.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use switchyard_benches::gen::KEY;
use switchyard_benches::{short_criterion_times, Fixture};
use switchyard_state::{MapError, Store};

fn skip(what: &str, e: impl std::fmt::Display) {
    eprintln!("publish/{what}: skipped: {e}");
}

fn load(c: &mut Criterion) {
    let fx = match Fixture::seed000(10, 1) {
        Ok(f) => f,
        Err(e) => return skip("load", e),
    };
    let store = Store::new(fx.snapshot.clone());
    c.bench_function("store/load", |b| {
        b.iter(|| black_box(store.load().generation))
    });
    c.bench_function("store/load_full", |b| {
        b.iter(|| black_box(store.load_full()))
    });
}

/// `set map <file> SIMPLE_SERVICE blue|green`, alternating, as the Runtime
/// API applies it: copy the snapshot, edit the map, store it.
fn set_map(c: &mut Criterion) {
    let mut g = c.benchmark_group("store/set_map");
    // (map entries, servers per colour): 1k servers = 500 blue + 500 green.
    for (entries, per_backend) in [
        (10usize, 1usize),
        (1_000, 1),
        (100_000, 1),
        (10, 500),
        (100_000, 500),
    ] {
        let fx = match Fixture::seed000(entries, per_backend) {
            Ok(f) => f,
            Err(e) => return skip("set_map", e),
        };
        let map = match fx.map() {
            Ok(m) => m,
            Err(e) => return skip("set_map", e),
        };
        let servers = fx.server_count();
        let store = Store::new(fx.snapshot.clone());
        let id = format!("{entries}_entries/{servers}_servers");
        let mut flip = false;
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                flip = !flip;
                let value = if flip { "green" } else { "blue" };
                let r: Result<(), MapError> = store.update(|s| {
                    s.edit_map(map, |m, resolve| m.set(KEY, value, resolve))
                        .unwrap_or(Err(MapError::NotFound))
                });
                black_box(r)
            })
        });
    }
    g.finish();
}

/// A whole snapshot built from a parsed config (a reload's share of work
/// after parsing), carrying live state over from the previous snapshot.
fn rebuild(c: &mut Criterion) {
    let mut g = c.benchmark_group("store/rebuild");
    g.sample_size(20);
    for (entries, per_backend) in [(10usize, 500usize), (100_000, 1)] {
        let fx = match Fixture::seed000(entries, per_backend) {
            Ok(f) => f,
            Err(e) => return skip("rebuild", e),
        };
        let servers = fx.server_count();
        let config = fx.snapshot.config.clone();
        let prev = fx.snapshot.clone();
        g.bench_function(
            BenchmarkId::from_parameter(format!("{entries}_entries/{servers}_servers")),
            |b| {
                b.iter(|| {
                    black_box(switchyard_state::build(
                        Arc::clone(&config),
                        Some(&prev),
                        &|_| None,
                    ))
                })
            },
        );
    }
    g.finish();
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
    targets = load, set_map, rebuild
}
criterion_main!(benches);
