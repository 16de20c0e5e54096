//! One request end to end, in process: hyper client → switchyard `Proxy` on
//! 127.0.0.1 (seed 000's map routing) → small hyper upstream, on keep-alive
//! connections. `direct` is the same client straight to the upstream, so
//! the difference is what the proxy adds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_benches::gen::{map_text, MapCfg};
use switchyard_benches::upstream::{spawn_upstream, KeepAlive, Upstream};
use switchyard_benches::{short_criterion_times, Fixture, NoServices};
use switchyard_config::ListenAddr;
use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::Store;
use tokio::runtime::Runtime;

const PARALLEL: usize = 32;

fn skip(e: impl std::fmt::Display) {
    eprintln!("e2e: skipped: {e}");
}

struct Running {
    proxy: Proxy,
    addr: std::net::SocketAddr,
    _upstream: Upstream,
    _fixture: Fixture,
}

async fn start() -> Result<Running, String> {
    let upstream = spawn_upstream(b"blue\n").await.map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let map_path = dir.path().join("hosts.map");
    std::fs::write(&map_path, map_text(10)).map_err(|e| e.to_string())?;
    // haproxy.cfg cannot say "port 0": take a free port below 32768.
    let bind = switchyard_benches::fixture::addr(switchyard_testkit::free_port());
    let text = MapCfg::new(bind, upstream.addr, upstream.addr).render(&map_path);
    let fixture = Fixture::from_text(dir, text, Some(map_path)).map_err(|e| e.to_string())?;
    let store = Arc::new(Store::new(fixture.snapshot.clone()));
    let listeners = Listeners::bind(&store.load()).map_err(|e| e.to_string())?;
    let addr = listeners
        .iter()
        .find_map(|l| match l.local_addr() {
            ListenAddr::Tcp(a) => Some(*a),
            ListenAddr::Unix(_) => None,
        })
        .ok_or("no TCP listener")?;
    let proxy = Proxy::new(store, Arc::new(NoServices));
    let p = proxy.clone();
    tokio::spawn(async move { p.serve(listeners).await });
    // One request proves the path works before anything is measured.
    let probe = async {
        let mut c = KeepAlive::connect(addr).await.map_err(|e| e.to_string())?;
        c.get().await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(Duration::from_secs(3), probe).await {
        Ok(Ok(_)) => Ok(Running {
            proxy,
            addr,
            _upstream: upstream,
            _fixture: fixture,
        }),
        Ok(Err(e)) => Err(format!("proxy did not answer: {e}")),
        Err(_) => Err("proxy did not answer within 3s".into()),
    }
}

/// `iters` requests over one keep-alive connection.
async fn sequential(addr: std::net::SocketAddr, iters: u64) -> Duration {
    let mut c = match KeepAlive::connect(addr).await {
        Ok(c) => c,
        Err(e) => panic!("e2e: connect to {addr} failed: {e}"),
    };
    let t = Instant::now();
    for _ in 0..iters {
        if let Err(e) = c.get().await {
            panic!("e2e: request to {addr} failed: {e}");
        }
    }
    t.elapsed()
}

/// `iters` requests spread over [`PARALLEL`] keep-alive connections: the
/// time per request under concurrency (throughput⁻¹).
async fn parallel(addr: std::net::SocketAddr, iters: u64) -> Duration {
    let mut conns = Vec::with_capacity(PARALLEL);
    for _ in 0..PARALLEL {
        match KeepAlive::connect(addr).await {
            Ok(c) => conns.push(c),
            Err(e) => panic!("e2e: connect to {addr} failed: {e}"),
        }
    }
    let per = iters.div_ceil(PARALLEL as u64);
    let t = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                for _ in 0..per {
                    c.get().await?;
                }
                Ok::<(), switchyard_benches::upstream::ClientError>(())
            })
        })
        .collect();
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("e2e: request to {addr} failed: {e}"),
            Err(e) => panic!("e2e: client task failed: {e}"),
        }
    }
    t.elapsed()
}

fn e2e(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return skip(e),
    };
    let running = match rt.block_on(start()) {
        Ok(r) => r,
        Err(e) => return skip(e),
    };
    let upstream = running._upstream.addr;
    let proxy = running.addr;
    let mut g = c.benchmark_group("e2e");
    g.bench_function("direct_upstream/1conn", |b| {
        b.iter_custom(|n| rt.block_on(sequential(upstream, n)))
    });
    g.bench_function("proxy/1conn", |b| {
        b.iter_custom(|n| rt.block_on(sequential(proxy, n)))
    });
    g.bench_function(format!("direct_upstream/{PARALLEL}conns"), |b| {
        b.iter_custom(|n| rt.block_on(parallel(upstream, n)))
    });
    g.bench_function(format!("proxy/{PARALLEL}conns"), |b| {
        b.iter_custom(|n| rt.block_on(parallel(proxy, n)))
    });
    g.finish();
    stop(&rt, running);
}

fn stop(rt: &Runtime, running: Running) {
    running.proxy.shutdown_handle().hard_stop();
    drop(running);
    let _ = rt;
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
    targets = e2e
}
criterion_main!(benches);
