//! Header handling: forwardfor, hop-by-hop removal, Host, and the
//! http-request / http-response header actions.

mod common;

use std::time::Duration;

use common::{raw, Harness};
use switchyard_testkit::{http_get, FakeUpstream};

fn cfg(fe_extra: &str, be_extra: &str, up: &FakeUpstream) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n{fe_extra}  default_backend be\n\
         backend be\n{be_extra}  server s1 {}\n",
        up.addr()
    )
}

#[test]
fn forwardfor_appends_a_new_header_and_keeps_existing_ones() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg("  option forwardfor\n", "", &up));
    http_get(&h.url("/"), &[("X-Forwarded-For", "1.2.3.4")]).expect("get");
    let seen = up.last_request().expect("seen");
    assert_eq!(
        seen.header_all("x-forwarded-for"),
        vec!["1.2.3.4", "127.0.0.1"]
    );
    // The new header comes last.
    assert_eq!(
        seen.headers.last().map(|(n, _)| n.as_str()),
        Some("x-forwarded-for")
    );
}

#[test]
fn forwardfor_except_if_none_and_header_name() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg("  option forwardfor except 127.0.0.0/8\n", "", &up));
    http_get(&h.url("/"), &[]).expect("get");
    assert!(up
        .last_request()
        .expect("seen")
        .header("x-forwarded-for")
        .is_none());
    drop(h);

    let h = Harness::start(&cfg("  option forwardfor if-none\n", "", &up));
    http_get(&h.url("/"), &[("X-Forwarded-For", "9.9.9.9")]).expect("get");
    assert_eq!(
        up.last_request()
            .expect("seen")
            .header_all("x-forwarded-for"),
        vec!["9.9.9.9"]
    );
    drop(h);

    // The backend's header name wins over the frontend's.
    let h = Harness::start(&cfg(
        "  option forwardfor\n",
        "  option forwardfor header X-Client-IP\n",
        &up,
    ));
    http_get(&h.url("/"), &[]).expect("get");
    let seen = up.last_request().expect("seen");
    assert_eq!(seen.header("x-client-ip"), Some("127.0.0.1"));
    assert!(seen.header("x-forwarded-for").is_none());
}

/// As HAProxy 2.6 forwards them (request_oracle.rs compares with the real
/// one): `Connection` loses only its keep-alive/close tokens, and the other
/// hop-by-hop headers go on.
#[test]
fn connection_tokens_dropped_and_other_headers_kept() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg("", "", &up));
    let req = b"GET /a?x=1 HTTP/1.1\r\nHost: app.example:8080\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: 5\r\nTE: trailers, deflate\r\nTrailer: x\r\nProxy-Connection: y\r\nProxy-Authorization: z\r\nMixed-Case: Yes\r\n\r\n";
    let out = raw(h.addr(0), req, Duration::from_millis(300));
    assert!(
        out.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let seen = up.last_request().expect("seen");
    assert_eq!(seen.header("connection"), Some("X-Foo"));
    assert_eq!(seen.header("te"), Some("trailers"));
    for (name, value) in [
        ("x-foo", "1"),
        ("keep-alive", "5"),
        ("trailer", "x"),
        ("proxy-connection", "y"),
        ("proxy-authorization", "z"),
        ("host", "app.example:8080"),
        ("mixed-case", "Yes"),
    ] {
        assert_eq!(seen.header(name), Some(value), "{name}");
    }
    assert_eq!(seen.path, "/a?x=1");
}

#[test]
fn http_request_and_response_header_actions() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(
        "  http-request set-header X-Path %[path]\n  http-request add-header X-Multi one\n  http-request add-header X-Multi two\n  http-request del-header X-Secret\n  http-response set-header X-Fe yes\n",
        "  http-request set-header X-Be be\n  http-response add-header X-Resp one\n  http-response del-header X-Served-By\n",
        &up,
    ));
    let r = http_get(&h.url("/p/q"), &[("X-Secret", "s"), ("X-Path", "old")]).expect("get");
    let seen = up.last_request().expect("seen");
    assert_eq!(seen.header_all("x-path"), vec!["/p/q"]);
    assert_eq!(seen.header_all("x-multi"), vec!["one", "two"]);
    assert!(seen.header("x-secret").is_none());
    assert_eq!(seen.header("x-be"), Some("be"));
    assert_eq!(r.header("x-fe"), Some("yes"));
    assert_eq!(r.header("x-resp"), Some("one"));
    assert!(r.header("x-served-by").is_none());
}
