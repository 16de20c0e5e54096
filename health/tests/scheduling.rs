//! Check timing under a paused tokio clock: the first-check spread, and
//! `inter`/`fastinter`/`downinter` selection, measured by when a loopback
//! listener (on the same paused runtime) sees each check arrive.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// Accepts checks, records their (virtual) arrival, answers the next
/// scripted reply: `true` = `HTTP/1.0 200 OK`, `false` = close at once;
/// the last reply repeats.
async fn listener(script: Vec<bool>) -> (u16, Arc<Mutex<Vec<Instant>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        let mut script: VecDeque<bool> = script.into();
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            seen2
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Instant::now());
            let ok = if script.len() > 1 {
                script.pop_front().unwrap_or(true)
            } else {
                script.front().copied().unwrap_or(true)
            };
            if ok {
                let _ = c.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            }
            drop(c);
        }
    });
    (port, seen)
}

fn offsets(seen: &Mutex<Vec<Instant>>, t0: Instant) -> Vec<f64> {
    seen.lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|t| (*t - t0).as_secs_f64())
        .collect()
}

fn assert_times(got: &[f64], want: &[f64]) {
    assert!(got.len() >= want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 0.25, "got {got:?}, want {want:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn first_checks_are_spread_over_inter() {
    let (a, sa) = listener(vec![true]).await;
    let (b, sb) = listener(vec![true]).await;
    let (c, sc) = listener(vec![true]).await;
    let store = common::store_from(&format!(
        "backend sc_spread\n    server a 127.0.0.1:{a} check inter 60s\n    server b 127.0.0.1:{b} check inter 60s\n    server c 127.0.0.1:{c} check inter 60s\n"
    ));
    let t0 = Instant::now();
    let h = switchyard_health::start(store.clone());
    tokio::time::sleep(Duration::from_secs(61)).await;
    // pos/n of the smallest inter: 0 s, 20 s, 40 s; then every 60 s
    assert_times(&offsets(&sa, t0), &[0.0, 60.0]);
    assert_times(&offsets(&sb, t0), &[20.0]);
    assert_times(&offsets(&sc, t0), &[40.0]);
    // the third server is UP (taking traffic) before its first check
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn interval_follows_the_health_counter() {
    // rise 2 fall 3: OK, then 3 failures (UP → UP 2/3 → UP 1/3 → DOWN),
    // then 2 successes (DOWN → DOWN 1/2 → UP).
    let (port, seen) = listener(vec![true, false, false, false, true, true]).await;
    let store = common::store_from(&format!(
        "backend sc_int\n    option httpchk GET /\n    server s 127.0.0.1:{port} check inter 2s fastinter 500 downinter 5s rise 2 fall 3\n"
    ));
    let t0 = Instant::now();
    let h = switchyard_health::start(store.clone());
    tokio::time::sleep(Duration::from_secs(11)).await;
    // 0: OK → UP (max) → inter; 2: fail → fastinter; 2.5: fail; 3: fail →
    // DOWN → downinter; 8: OK → DOWN 1/2 → fastinter; 8.5: OK → UP → inter.
    assert_times(&offsets(&seen, t0), &[0.0, 2.0, 2.5, 3.0, 8.0, 8.5, 10.5]);
    assert_eq!(common::status(&store, "sc_int", "s"), "UP");
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn not_yet_checked_uses_fastinter_and_down_uses_downinter() {
    // fall 1 would start fully up; with fall 3 the first interval after a
    // failure at boot is downinter.
    let (port, seen) = listener(vec![false]).await;
    let store = common::store_from(&format!(
        "backend sc_down\n    option httpchk GET /\n    server s 127.0.0.1:{port} check inter 1s fastinter 300 downinter 4s\n"
    ));
    let t0 = Instant::now();
    let h = switchyard_health::start(store.clone());
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_times(&offsets(&seen, t0), &[0.0, 4.0, 8.0]);
    assert_eq!(common::status(&store, "sc_down", "s"), "DOWN");
    h.shutdown().await;
}
