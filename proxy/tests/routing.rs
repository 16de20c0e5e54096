//! Routing: maps (key found, map default, absent header), ACL kinds, and
//! per-request re-evaluation on keep-alive across a map change.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{header, read_one, Harness};
use switchyard_testkit::{http_get, FakeUpstream};

fn three_backends(extra_fe: &str, a: &FakeUpstream, b: &FakeUpstream, c: &FakeUpstream) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n{extra_fe}  default_backend be_a\n\
         backend be_a\n  server a {}\n\
         backend be_b\n  server b {}\n\
         backend be_c\n  server c {}\n",
        a.addr(),
        b.addr(),
        c.addr()
    )
}

fn served_by(h: &Harness, path: &str, headers: &[(&str, &str)]) -> String {
    let r = http_get(&h.url(path), headers).expect("get");
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("x-served-by").unwrap_or("").to_string()
}

#[test]
fn map_routing_found_default_and_absent_header() {
    let (a, b, c) = (
        FakeUpstream::start("a"),
        FakeUpstream::start("b"),
        FakeUpstream::start("c"),
    );
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("be.map");
    std::fs::File::create(&map)
        .and_then(|mut f| f.write_all(b"green be_c\n# comment\nblue be_a\n"))
        .expect("map");
    let cfg = three_backends(
        &format!(
            "  use_backend %[req.hdr(x-be),map({},be_b)]\n",
            map.display()
        ),
        &a,
        &b,
        &c,
    );
    let h = Harness::start(&cfg);
    assert_eq!(served_by(&h, "/", &[("x-be", "green")]), "c", "key found");
    assert_eq!(
        served_by(&h, "/", &[("x-be", "unknown")]),
        "b",
        "map default for a missing key"
    );
    assert_eq!(
        served_by(&h, "/", &[("x-be", "")]),
        "b",
        "empty value uses the map default"
    );
    assert_eq!(
        served_by(&h, "/", &[]),
        "a",
        "absent header: fetch fails, default_backend"
    );
}

#[test]
fn each_acl_kind_reaches_its_backend() {
    let (a, b, c) = (
        FakeUpstream::start("a"),
        FakeUpstream::start("b"),
        FakeUpstream::start("c"),
    );
    let fe = "  acl is_api path_beg /api\n  acl is_exact path /exact\n  acl is_img path_end .png\n\
              acl is_reg path_reg ^/r[0-9]+$\n  acl h_host hdr(host) -i other.example\n\
              acl is_post method POST\n  acl from_lo src 127.0.0.0/8\n  acl has_x req.hdr(x-flag) -m found\n\
              acl sub_c path_sub middle\n  acl dir_d path_dir docs\n\
              use_backend be_b if is_api\n  use_backend be_c if is_exact\n  use_backend be_b if is_img\n\
              use_backend be_c if is_reg\n  use_backend be_b if h_host\n  use_backend be_c if is_post\n\
              use_backend be_b if has_x\n  use_backend be_c if sub_c\n  use_backend be_b if dir_d\n\
              use_backend be_c if from_lo { path_beg /lo }\n  use_backend be_b if !from_lo\n";
    let h = Harness::start(&three_backends(fe, &a, &b, &c));
    assert_eq!(served_by(&h, "/api/x", &[]), "b", "path_beg");
    assert_eq!(served_by(&h, "/exact", &[]), "c", "path");
    assert_eq!(served_by(&h, "/exact/no", &[]), "a", "path is exact");
    assert_eq!(served_by(&h, "/i/cat.png", &[]), "b", "path_end");
    assert_eq!(served_by(&h, "/r42", &[]), "c", "path_reg");
    assert_eq!(
        served_by(&h, "/", &[("Host", "OTHER.example")]),
        "b",
        "hdr -i"
    );
    assert_eq!(served_by(&h, "/", &[("X-Flag", "")]), "b", "-m found");
    assert_eq!(served_by(&h, "/a/middle/b", &[]), "c", "path_sub");
    assert_eq!(served_by(&h, "/x/docs/y", &[]), "b", "path_dir");
    assert_eq!(served_by(&h, "/lo", &[]), "c", "src and inline ACL");
    assert_eq!(served_by(&h, "/other", &[]), "a", "nothing matched");
    let r = switchyard_testkit::http_request("POST", &h.url("/p"), &[], b"x").expect("post");
    assert_eq!(r.header("x-served-by"), Some("c"), "method");
}

#[test]
fn keep_alive_requests_follow_a_map_change() {
    let (a, b, c) = (
        FakeUpstream::start("a"),
        FakeUpstream::start("b"),
        FakeUpstream::start("c"),
    );
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("bg.map");
    std::fs::write(&map, "active be_b\n").expect("map");
    let mpath = map.display().to_string();
    let cfg = three_backends(
        &format!("  use_backend %[str(active),map({mpath})]\n"),
        &a,
        &b,
        &c,
    );
    let h = Harness::start(&cfg);
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(req).expect("w");
    let (head, _) = read_one(&mut s);
    assert_eq!(header(&head, "x-served-by"), Some("b"));
    // Flip the map: the next request on the same connection goes to be_c.
    h.store
        .update(|snap| {
            let m = snap.map_idx(&mpath).ok_or("no map")?;
            snap.edit_map(m, |map, resolve| map.set("active", "be_c", resolve))
                .ok_or("no map")?
                .map_err(|_| "set failed")
        })
        .expect("update");
    s.write_all(req).expect("w");
    let (head, _) = read_one(&mut s);
    assert_eq!(
        header(&head, "x-served-by"),
        Some("c"),
        "same connection, new backend"
    );
    s.write_all(req).expect("w");
    let (head, _) = read_one(&mut s);
    assert_eq!(header(&head, "x-served-by"), Some("c"));
}
