//! Routing-rule evaluation: `Snapshot::route` for seed 000's dynamic
//! `use_backend %[str(KEY),map(file)]` (map sizes 10 → 100k), seed 004's
//! map-with-default, and ACL-guarded `use_backend` chains (1 → 100 rules,
//! request matching only the last rule). Also the per-request `Store::load`
//! plus route, which is what the proxy does.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use switchyard_benches::{short_criterion_times, BenchRequest, Fixture};
use switchyard_state::Store;

fn skip(what: &str, e: impl std::fmt::Display) {
    eprintln!("route/{what}: skipped: {e}");
}

fn map_dynamic(c: &mut Criterion) {
    let mut g = c.benchmark_group("route/map_dynamic");
    for entries in [10usize, 1_000, 100_000] {
        let fx = match Fixture::seed000(entries, 1) {
            Ok(f) => f,
            Err(e) => return skip("map_dynamic", e),
        };
        let (fe, blue) = match (fx.frontend(), fx.backend("blue")) {
            (Ok(f), Ok(b)) => (f, b),
            (Err(e), _) | (_, Err(e)) => return skip("map_dynamic", e),
        };
        let req = BenchRequest::get("localhost:8785", "/");
        if fx.snapshot.route(fe, &req) != Some(blue) {
            return skip("map_dynamic", "route did not pick blue");
        }
        g.bench_with_input(BenchmarkId::from_parameter(entries), &entries, |b, _| {
            b.iter(|| black_box(fx.snapshot.route(black_box(fe), black_box(&req))))
        });
    }
    g.finish();
}

fn map_default(c: &mut Criterion) {
    let fx = match Fixture::seed004() {
        Ok(f) => f,
        Err(e) => return skip("seed004", e),
    };
    let Ok(fe) = fx.frontend() else {
        return skip("seed004", "no frontend");
    };
    let req = BenchRequest::get("www.example.com", "/release");
    c.bench_function("route/seed004_map_default", |b| {
        b.iter(|| black_box(fx.snapshot.route(black_box(fe), black_box(&req))))
    });
}

fn acl_rules(c: &mut Criterion) {
    let mut g = c.benchmark_group("route/acl_last_of");
    for rules in [1usize, 10, 100] {
        let fx = match Fixture::acl(rules) {
            Ok(f) => f,
            Err(e) => return skip("acl", e),
        };
        let Ok(fe) = fx.frontend() else {
            return skip("acl", "no frontend");
        };
        let cfg = switchyard_benches::AclCfg {
            bind: fixture_addr(),
            upstream: fixture_addr(),
            rules,
        };
        let (host, path) = cfg.last_rule_request();
        let req = BenchRequest::get(&host, &path);
        let want = fx.backend(&format!("be{}", (rules - 1) % 2)).ok();
        if fx.snapshot.route(fe, &req) != want {
            return skip("acl", "route did not pick the last rule's backend");
        }
        g.bench_with_input(BenchmarkId::from_parameter(rules), &rules, |b, _| {
            b.iter(|| black_box(fx.snapshot.route(black_box(fe), black_box(&req))))
        });
    }
    g.finish();
}

fn fixture_addr() -> std::net::SocketAddr {
    switchyard_benches::fixture::addr(13000)
}

/// What a request does: one `load()` of the store, then route.
fn load_and_route(c: &mut Criterion) {
    let fx = match Fixture::seed000(1_000, 1) {
        Ok(f) => f,
        Err(e) => return skip("load_and_route", e),
    };
    let Ok(fe) = fx.frontend() else {
        return skip("load_and_route", "no frontend");
    };
    let store = Store::new(fx.snapshot.clone());
    let req = BenchRequest::get("localhost:8785", "/");
    c.bench_function("route/store_load_then_route", |b| {
        b.iter(|| {
            let snap = store.load();
            black_box(snap.route(fe, black_box(&req)))
        })
    });
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
    targets = map_dynamic, map_default, acl_rules, load_and_route
}
criterion_main!(benches);
