mod common;

use std::time::Duration;

use common::{raw, Harness};
use switchyard_testkit::{http_get, FakeUpstream};

#[test]
fn forwards_to_the_default_backend() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  server s1 {}\n",
        up.addr()
    ));
    let r = http_get(&h.url("/hello"), &[]).expect("get");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-served-by"), Some("s1"));
    assert_eq!(up.last_request().expect("seen").path, "/hello");
}

#[test]
fn no_backend_gives_haproxy_503() {
    let h = Harness::start(
        "defaults\n  mode http\n  timeout client 5s\n\
         frontend fe\n  bind @BIND@\n",
    );
    let out = raw(
        h.addr(0),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(2),
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
    );
}
