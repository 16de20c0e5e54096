//! Sticky cookies and persistence across server states (reference §7).

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::Harness;
use switchyard_state::{AdminState, OpState};
use switchyard_testkit::{http_get, FakeUpstream, HttpResponse};

fn start(a: &FakeUpstream, b: &FakeUpstream, mode: &str) -> Harness {
    Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  balance roundrobin\n  option redispatch\n  cookie SRV {mode}\n\
         server a {} cookie a\n  server b {} cookie b\n",
        a.addr(),
        b.addr()
    ))
}

fn get(h: &Harness, cookie: Option<&str>) -> HttpResponse {
    let hs: Vec<(&str, &str)> = cookie.map(|c| vec![("Cookie", c)]).unwrap_or_default();
    http_get(&h.url("/"), &hs).expect("get")
}

fn set_admin(h: &Harness, server: &str, bit: u8, on: bool) {
    h.store
        .update(|snap| {
            let (p, s) = snap.find_server("be", server).ok_or("no server")?;
            let srv = snap.server_mut(p, s).ok_or("no server")?;
            if on {
                srv.admin.set(bit);
            } else {
                srv.admin.clear(bit);
            }
            Ok::<_, &str>(())
        })
        .expect("update");
}

#[test]
fn insert_indirect_sets_once_and_strips_the_cookie() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let h = start(&a, &b, "insert indirect nocache httponly");
    let r = get(&h, None);
    let who = r.header("x-served-by").expect("served").to_string();
    assert_eq!(
        r.header("set-cookie"),
        Some(format!("SRV={who}; path=/; HttpOnly").as_str())
    );
    // Valid cookie: same server, no new cookie, cookie removed upstream.
    for _ in 0..4 {
        let r = get(&h, Some(&format!("SRV={who}; other=1")));
        assert_eq!(r.header("x-served-by"), Some(who.as_str()));
        assert!(r.header("set-cookie").is_none());
    }
    let up = if who == "a" { &a } else { &b };
    assert_eq!(
        up.last_request().expect("seen").header("cookie"),
        Some("other=1")
    );
    let r = get(&h, Some(&format!("SRV={who}")));
    assert_eq!(r.status, 200);
    assert!(
        up.last_request().expect("seen").header("cookie").is_none(),
        "a header holding only the cookie is dropped"
    );
    // An unknown cookie value is rebalanced and gets a new cookie.
    let r = get(&h, Some("SRV=zzz"));
    assert!(r.header("set-cookie").is_some());
}

#[test]
fn persistence_follows_server_state() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let h = start(&a, &b, "insert indirect nocache");

    // DRAIN: new clients avoid a, cookie users still reach it.
    set_admin(&h, "a", AdminState::FDRAIN, true);
    for _ in 0..4 {
        assert_eq!(get(&h, None).header("x-served-by"), Some("b"));
    }
    let r = get(&h, Some("SRV=a"));
    assert_eq!(r.header("x-served-by"), Some("a"));
    assert!(r.header("set-cookie").is_none());
    set_admin(&h, "a", AdminState::FDRAIN, false);

    // NOLB (soft-stopping) keeps cookie users too.
    let live = {
        let snap = h.store.load();
        let (p, s) = snap.find_server("be", "a").expect("a");
        snap.server(p, s).expect("a").live.clone()
    };
    live.op_state.store(OpState::Stopping as u8, Relaxed);
    assert_eq!(get(&h, Some("SRV=a")).header("x-served-by"), Some("a"));
    for _ in 0..4 {
        assert_eq!(get(&h, None).header("x-served-by"), Some("b"));
    }

    // DOWN: cookie users move to b with a new cookie.
    live.op_state.store(OpState::Stopped as u8, Relaxed);
    let r = get(&h, Some("SRV=a"));
    assert_eq!(r.header("x-served-by"), Some("b"));
    assert_eq!(r.header("set-cookie"), Some("SRV=b; path=/"));
    live.op_state.store(OpState::Running as u8, Relaxed);

    // MAINT: same.
    set_admin(&h, "a", AdminState::FMAINT, true);
    let r = get(&h, Some("SRV=a"));
    assert_eq!(r.header("x-served-by"), Some("b"));
    assert_eq!(r.header("set-cookie"), Some("SRV=b; path=/"));
}

#[test]
fn prefix_and_rewrite_modes() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let h = start(&a, &b, "prefix");
    let r = get(&h, Some("SRV=b~sess1"));
    assert_eq!(r.header("x-served-by"), Some("b"));
    assert_eq!(
        b.last_request().expect("seen").header("cookie"),
        Some("SRV=sess1")
    );
}
