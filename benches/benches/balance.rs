//! Balancing picks: the proxy's `pick` over one backend of 10, 100 and 1000
//! servers, for each algorithm (what every request pays after routing).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use switchyard_benches::{short_criterion_times, BenchRequest, Fixture};
use switchyard_proxy::bench_api::{pick, LbInput};

const ALGOS: [&str; 6] = [
    "roundrobin",
    "leastconn",
    "first",
    "source",
    "uri",
    "random",
];

fn config(algo: &str, servers: usize) -> String {
    let mut cfg = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
         frontend fe\n    bind 127.0.0.1:18500\n    default_backend be\n\
         backend be\n    balance {algo}\n"
    );
    for i in 0..servers {
        cfg.push_str(&format!(
            "    server s{i} 127.0.{}.{}:8080 weight {}\n",
            i / 250,
            i % 250 + 1,
            1 + i % 4
        ));
    }
    cfg
}

fn picks(c: &mut Criterion) {
    for algo in ALGOS {
        let mut g = c.benchmark_group(format!("balance/{algo}"));
        for servers in [10usize, 100, 1000] {
            let dir = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => return eprintln!("balance: skipped: {e}"),
            };
            let fx = match Fixture::from_text(dir, config(algo, servers), None) {
                Ok(f) => f,
                Err(e) => return eprintln!("balance/{algo}: skipped: {e}"),
            };
            let Ok(be_idx) = fx.backend("be") else {
                return eprintln!("balance/{algo}: no backend");
            };
            let Some(px) = fx.snapshot.proxy(be_idx) else {
                return eprintln!("balance/{algo}: no proxy");
            };
            let (Some(be), Some(side)) = (px.backend.as_ref(), px.cfg.backend.as_ref()) else {
                return eprintln!("balance/{algo}: no backend side");
            };
            let req = BenchRequest::get("example.com", "/some/path?x=1");
            let input = LbInput {
                req: &req,
                avoid: None,
                now_ms: 0,
            };
            if pick(px, be, &side.balance, &input).is_err() {
                return eprintln!("balance/{algo}: pick failed");
            }
            g.bench_with_input(BenchmarkId::from_parameter(servers), &servers, |b, _| {
                b.iter(|| black_box(pick(px, be, &side.balance, black_box(&input))))
            });
        }
        g.finish();
    }
}

fn criterion_config() -> Criterion {
    let (warm, measure) = short_criterion_times();
    Criterion::default()
        .warm_up_time(warm)
        .measurement_time(measure)
}

criterion_group! {
    name = benches;
    config = criterion_config();
    targets = picks
}
criterion_main!(benches);
