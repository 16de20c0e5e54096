//! The Runtime API: command parsing (split + parse to a typed `Command`),
//! `show stat` for 2 and 1k servers (row collection + CSV rendering, through
//! the same `execute` the socket uses), `show servers conn`, and `set map`
//! executed end to end (parse → publish) on 10 and 100k-entry maps.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchyard_admin::cli::words::split;
use switchyard_admin::cli::ModeBits;
use switchyard_admin::exec::execute;
use switchyard_admin::{parse, AdminCtx, Env, SessionState};
use switchyard_benches::{short_criterion_times, Fixture};
use switchyard_config::CliLevel;
use switchyard_state::Store;

fn skip(what: &str, e: impl std::fmt::Display) {
    eprintln!("admin/{what}: skipped: {e}");
}

fn env_for(fx: &Fixture) -> Env {
    Env {
        store: Arc::new(Store::new(fx.snapshot.clone())),
        ctx: Arc::new(AdminCtx::from_config(&fx.snapshot.config)),
        sockets: Vec::new(),
    }
}

fn run(env: &Env, line: &str) -> String {
    let cmd = parse(&split(line.as_bytes(), None), ModeBits::default());
    let mut sess = SessionState::new(CliLevel::Admin);
    execute(cmd, &mut sess, env).text
}

fn parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("admin/parse");
    let lines = [
        ("show_stat", "show stat".to_string()),
        (
            "show_stat_filtered",
            "show stat backend_green 4 -1".to_string(),
        ),
        (
            "set_map",
            "set map /home/dong/code/learn-haproxy/hosts.map SIMPLE_SERVICE green".to_string(),
        ),
        ("show_servers_conn", "show servers conn blue".to_string()),
        (
            "set_server_state",
            "set server backend_blue/blue1 state drain".to_string(),
        ),
        ("unknown", "shwo stat".to_string()),
    ];
    for (name, line) in &lines {
        g.bench_with_input(BenchmarkId::from_parameter(name), line, |b, line| {
            b.iter(|| {
                black_box(parse(
                    &split(black_box(line.as_bytes()), None),
                    ModeBits::default(),
                ))
            })
        });
    }
    g.finish();
}

fn show_stat(c: &mut Criterion) {
    let mut g = c.benchmark_group("admin/show_stat");
    for per_backend in [1usize, 500] {
        let fx = match Fixture::seed000(10, per_backend) {
            Ok(f) => f,
            Err(e) => return skip("show_stat", e),
        };
        let env = env_for(&fx);
        let servers = fx.server_count();
        let out = run(&env, "show stat");
        if !out.starts_with("# pxname,svname,") {
            return skip("show_stat", format!("unexpected reply: {:.80}", out));
        }
        g.throughput(Throughput::Bytes(out.len() as u64));
        g.bench_function(
            BenchmarkId::from_parameter(format!("{servers}_servers")),
            |b| b.iter(|| black_box(run(&env, "show stat"))),
        );
    }
    g.finish();
    let fx = match Fixture::seed000(10, 500) {
        Ok(f) => f,
        Err(e) => return skip("show_servers_conn", e),
    };
    let env = env_for(&fx);
    c.bench_function("admin/show_servers_conn/500_servers", |b| {
        b.iter(|| black_box(run(&env, "show servers conn blue")))
    });
}

/// `set map` as the socket runs it: split, parse, execute (publish).
fn set_map(c: &mut Criterion) {
    let mut g = c.benchmark_group("admin/exec_set_map");
    for entries in [10usize, 100_000] {
        let fx = match Fixture::seed000(entries, 1) {
            Ok(f) => f,
            Err(e) => return skip("set_map", e),
        };
        let Some(map) = fx
            .map_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
        else {
            return skip("set_map", "no map");
        };
        let env = env_for(&fx);
        let lines = [
            format!("set map {map} SIMPLE_SERVICE green"),
            format!("set map {map} SIMPLE_SERVICE blue"),
        ];
        let reply = run(&env, &lines[0]);
        if !reply.trim().is_empty() {
            return skip("set_map", format!("set map replied {reply:?}"));
        }
        let mut i = 0usize;
        g.bench_function(
            BenchmarkId::from_parameter(format!("{entries}_entries")),
            |b| {
                b.iter(|| {
                    i += 1;
                    black_box(run(&env, &lines[i % 2]))
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
    targets = parsing, show_stat, set_map
}
criterion_main!(benches);
