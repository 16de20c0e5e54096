//! Server maxconn with the backend queue, timeout queue, maxqueue.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::Duration;

use common::Harness;
use switchyard_testkit::{http_get, Behavior, FakeUpstream};

fn cfg(up: &FakeUpstream, server_extra: &str, be_extra: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout queue 400ms\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n{be_extra}  server s1 {} maxconn 1{server_extra}\n",
        up.addr()
    )
}

fn concurrent(h: &Harness, n: usize) -> Vec<u16> {
    let url = h.url("/q");
    let hs: Vec<_> = (0..n)
        .map(|i| {
            let u = url.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20 * i as u64));
                http_get(&u, &[]).map(|r| r.status).unwrap_or(0)
            })
        })
        .collect();
    let mut v: Vec<u16> = hs.into_iter().map(|h| h.join().unwrap_or(0)).collect();
    v.sort();
    v
}

#[test]
fn queue_timeout_gives_503() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(1000)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up, "", ""));
    assert_eq!(concurrent(&h, 3), vec![200, 503, 503]);
    let snap = h.store.load();
    let be = snap.proxy(snap.proxy_idx("be").expect("be")).expect("be");
    assert_eq!(be.live.be.qmax.load(Relaxed), 2, "queued on the backend");
    assert_eq!(be.live.be.qcur.load(Relaxed), 0);
    let (p, s) = snap.find_server("be", "s1").expect("s1");
    let live = snap.server(p, s).expect("s1").live.clone();
    // The slot is released right after the response went out.
    switchyard_testkit::eventually(Duration::from_secs(2), Duration::from_millis(10), || {
        live.cur_conns.load(Relaxed) == 0
    });
    assert_eq!(
        snap.server(p, s).expect("s1").live.cur_conns.load(Relaxed),
        0,
        "slots released"
    );
}

#[test]
fn queued_requests_are_served_in_turn() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(100)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up, "", "  timeout queue 3s\n"));
    assert_eq!(concurrent(&h, 4), vec![200, 200, 200, 200]);
    assert_eq!(up.served(), 4);
    assert!(up.in_flight() <= 1);
}

#[test]
fn full_server_queue_for_a_persistent_request_is_503() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(800)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg(
        &up,
        " maxqueue 1 cookie a",
        "  cookie SRV insert indirect\n",
    ));
    let url = h.url("/");
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let u = url.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(30 * i as u64));
                http_get(&u, &[("Cookie", "SRV=a")])
                    .map(|r| r.status)
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut v: Vec<u16> = hs.into_iter().map(|h| h.join().unwrap_or(0)).collect();
    v.sort();
    // One served, one queued then timed out (400ms < 800ms), one refused at once.
    assert_eq!(v, vec![200, 503, 503]);
}
