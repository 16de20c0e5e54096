//! TLS termination on `bind ... ssl crt`: side by side with the real
//! HAProxy 2.6 on the same config and the same PEM files (generated at test
//! time), then what only switchyard's harness can check cheaply (SNI
//! choice, reload, client certificates).

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::tcp::{closed_within, LogSink};
use common::tls::{any_cert_client, connect, exchange, get, served_cert, Pki, Resp};
use common::Harness;
use switchyard_testkit::{eventually, free_ports, haproxy_available, FakeUpstream, Proxy};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

fn lo(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One TLS bind and one plain bind on the same frontend; `X-Forwarded-Proto`
/// only over TLS, plain requests redirected to https.
fn config(log_port: u16, ports: &[u16], pem: &str, up: SocketAddr) -> String {
    format!(
        "global\n  log 127.0.0.1:{log_port} local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n  timeout connect 1s\n  timeout client 1s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{p0} ssl crt {pem}\n  bind 127.0.0.1:{p1}\n\
           option forwardfor\n  http-request set-header X-Forwarded-Proto https if {{ ssl_fc }}\n\
           redirect scheme https if !{{ ssl_fc }}\n  default_backend be\n\
         frontend ready\n  bind 127.0.0.1:{p2}\n  no log\n  default_backend be\n\
         backend be\n  server s1 {up}\n",
        p0 = ports[0],
        p1 = ports[1],
        p2 = ports[2],
    )
}

/// What one proxy did in the scenario.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    first: (u16, Vec<u8>),
    upstream_proto: Option<String>,
    upstream_for: Option<String>,
    redirect: (u16, Option<String>),
    keep_alive: Vec<u16>,
    post: (u16, u64),
    plain_client_got: Vec<u8>,
    silent_closed: bool,
    after: u16,
    log: Vec<String>,
}

/// Mask what varies between runs: client port, date, durations.
fn mask(line: &str) -> String {
    let f: Vec<&str> = line.split(' ').collect();
    let mut out = vec!["C".to_string(), "[D]".to_string()];
    for (i, w) in f.iter().enumerate().skip(2) {
        if i == 4 && w.contains('/') && !w.ends_with(':') {
            out.push("T".into());
        } else {
            out.push(w.to_string());
        }
    }
    out.join(" ")
}

fn summary(r: &Resp) -> (u16, Vec<u8>) {
    (r.status, r.body.clone())
}

fn drive(pki: &Pki, ports: &[u16], up: &FakeUpstream, logs: &LogSink) -> Seen {
    let wait_lines = |n: usize| {
        eventually(WAIT, POLL, || logs.lines().len() >= n);
    };
    let client = pki.client();
    let mut s = connect(lo(ports[0]), "a.test", client.clone()).expect("tls connect");
    let first = exchange(&mut s, &get("/first", "a.test")).expect("first");
    let seen_up = up.last_request().expect("upstream saw it");
    wait_lines(1);

    let mut plain = TcpStream::connect(lo(ports[1])).expect("plain");
    let redirect = exchange(&mut plain, &get("/r?x=1", "a.test")).expect("redirect");
    drop(plain);
    wait_lines(2);

    let mut keep_alive = Vec::new();
    for i in 0..3 {
        let r = exchange(&mut s, &get(&format!("/ka{i}"), "a.test")).expect("keep-alive");
        keep_alive.push(r.status);
    }
    let body = vec![b'x'; 100_000];
    let mut req = format!(
        "POST /post HTTP/1.1\r\nHost: a.test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let posted = exchange(&mut s, &req).expect("post");
    let post_len = up.last_request().map(|r| r.body_len).unwrap_or(0);
    drop(s);
    wait_lines(6);

    // Plain HTTP on the TLS port: no answer, just a close.
    let mut p = TcpStream::connect(lo(ports[0])).expect("connect");
    p.write_all(&get("/plain", "a.test")).expect("write");
    let got = read_until_close(&mut p, WAIT);
    wait_lines(7);

    // A client that never starts its handshake is closed by `timeout client`.
    let mut silent = TcpStream::connect(lo(ports[0])).expect("connect");
    let silent_closed = closed_within(&mut silent, WAIT);
    wait_lines(8);

    // And the next TLS client is served.
    let mut s = connect(lo(ports[0]), "a.test", client).expect("tls after");
    let after = exchange(&mut s, &get("/after", "a.test")).expect("after");
    wait_lines(9);

    Seen {
        first: summary(&first),
        upstream_proto: seen_up.header("x-forwarded-proto").map(str::to_string),
        upstream_for: seen_up.header("x-forwarded-for").map(str::to_string),
        redirect: (
            redirect.status,
            redirect.header("location").map(str::to_string),
        ),
        keep_alive,
        post: (posted.status, post_len),
        plain_client_got: got,
        silent_closed,
        after: after.status,
        log: logs.lines().iter().map(|l| mask(l)).collect(),
    }
}

#[test]
fn a_tls_frontend_matches_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let pki = Pki::new();
    let (pem, _) = pki.write_leaf("site.pem", &["a.test"]);
    let pem = pem.display().to_string();
    let up = FakeUpstream::start("s1");

    let logs = LogSink::new();
    let ports = free_ports(3);
    let cfg = config(logs.port(), &ports, &pem, up.addr());
    let mut ha = Proxy::haproxy(&cfg, &[]).expect("haproxy");
    ha.wait_ready(lo(ports[2]), WAIT);
    let expected = drive(&pki, &ports, &up, &logs);
    drop(ha);

    let logs = LogSink::new();
    let ports = free_ports(3);
    let cfg = config(logs.port(), &ports, &pem, up.addr());
    let _h = Harness::start(&cfg);
    let got = drive(&pki, &ports, &up, &logs);

    assert_eq!(got.first.0, 200);
    assert_eq!(got.upstream_proto.as_deref(), Some("https"));
    assert_eq!(got.keep_alive, [200, 200, 200]);
    assert_eq!(got.post, (200, 100_000));
    assert!(got.plain_client_got.is_empty());
    assert!(got.silent_closed);
    assert!(got.log[0].contains(" fe~ be/s1 "), "{:?}", got.log);
    assert_eq!(
        got.redirect,
        (302, Some("https://a.test/r?x=1".to_string()))
    );
    assert!(got
        .log
        .contains(&"C [D] fe/1: SSL handshake failure".to_string()));
    assert!(got
        .log
        .contains(&"C [D] fe/1: Timeout during SSL handshake".to_string()));
    assert_eq!(got, expected);
}

/// `crt <dir>`: every certificate file in name order (companion `.key`
/// files skipped), the first as the default.
#[test]
fn sni_chooses_the_certificate() {
    let pki = Pki::new();
    let (_, default) = pki.write_leaf("certs/1-default.pem", &["default.test"]);
    let (_, a) = pki.write_leaf("certs/2-a.pem", &["a.test"]);
    // A certificate whose key sits beside it, as `<file>.key`.
    let (cert, key, wild) = pki.leaf(&["*.b.test"]);
    std::fs::write(pki.path("certs/3-wild.pem"), cert).expect("write");
    std::fs::write(pki.path("certs/3-wild.pem.key"), key).expect("write");
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind @BIND@ ssl crt {}\n  http-request return status 200\n",
        pki.path("certs").display()
    );
    let h = Harness::start(&cfg);
    let served = |name: &str, sni: bool| {
        let s = connect(h.addr(0), name, any_cert_client(sni)).expect("connect");
        served_cert(&s)
    };
    assert_eq!(served("a.test", true), a);
    assert_eq!(served("x.b.test", true), wild);
    assert_eq!(served("deeper.x.b.test", true), default);
    assert_eq!(served("unknown.test", true), default);
    assert_eq!(served("a.test", false), default);
}

/// A reload reads the certificate files again; the socket stays.
#[test]
fn a_reload_serves_the_new_certificate() {
    let pki = Pki::new();
    let (pem, old) = pki.write_leaf("site.pem", &["a.test"]);
    let port = free_ports(1)[0];
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind 127.0.0.1:{port} ssl crt {}\n  http-request return status 200\n",
        pem.display()
    );
    let mut h = Harness::start(&cfg);
    let s = connect(lo(port), "a.test", pki.client()).expect("connect");
    assert_eq!(served_cert(&s), old);
    let (_, new) = pki.write_leaf("site.pem", &["a.test"]);
    h.reload(&cfg);
    let s2 = connect(lo(port), "a.test", pki.client()).expect("connect");
    assert_eq!(served_cert(&s2), new);
    drop(s);
}

/// `verify required|optional ca-file`: client certificates.
#[test]
fn client_certificates_are_verified() {
    let pki = Pki::new();
    let (pem, _) = pki.write_leaf("site.pem", &["a.test"]);
    let (ccert, ckey, _) = pki.leaf(&["client.test"]);
    let ca = pki.ca_path();
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind @BIND@ ssl crt {pem} verify required ca-file {ca}\n\
           bind @BIND@ ssl crt {pem} verify optional ca-file {ca}\n\
           http-request return status 200\n",
        pem = pem.display(),
        ca = ca.display()
    );
    let h = Harness::start(&cfg);
    let ok = |addr: SocketAddr, cfg| -> bool {
        // With TLS 1.3 a refused client certificate shows on the first read.
        connect(addr, "a.test", cfg)
            .and_then(|mut s| exchange(&mut s, &get("/", "a.test")))
            .map(|r| r.status == 200)
            .unwrap_or(false)
    };
    let with_cert = pki.client_with_cert(&ccert, &ckey);
    assert!(ok(h.addr(0), with_cert.clone()));
    assert!(!ok(h.addr(0), pki.client()));
    assert!(ok(h.addr(1), with_cert));
    assert!(ok(h.addr(1), pki.client()));
    // A certificate from another CA is refused even when optional.
    let other = Pki::new();
    let (oc, ok_, _) = other.leaf(&["client.test"]);
    assert!(!ok(h.addr(1), pki.client_with_cert(&oc, &ok_)));
}

/// ALPN: the bind's `alpn` protocols we speak, in its order; a client
/// offering none of them goes on without ALPN and speaks HTTP/1.1, as
/// through HAProxy (OpenSSL's callback; rustls alone would fail the
/// handshake).
#[test]
fn alpn_picks_from_the_binds_list() {
    let pki = Pki::new();
    let (pem, _) = pki.write_leaf("site.pem", &["a.test"]);
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind @BIND@ ssl crt {pem} alpn h2,http/1.1\n\
           bind @BIND@ ssl crt {pem} alpn h2\n  bind @BIND@ ssl crt {pem}\n\
           bind @BIND@ ssl crt {pem} alpn http/1.1,h2\n\
           http-request return status 200\n",
        pem = pem.display()
    );
    let h = Harness::start(&cfg);
    let offering = |protos: &[&[u8]]| {
        let mut client = (*pki.client()).clone();
        client.alpn_protocols = protos.iter().map(|p| p.to_vec()).collect();
        std::sync::Arc::new(client)
    };
    let both = offering(&[b"h2", b"http/1.1"]);
    let h1 = offering(&[b"http/1.1"]);
    let h2: Option<&[u8]> = Some(b"h2");
    let http11: Option<&[u8]> = Some(b"http/1.1");
    for (i, want) in [(0, h2), (1, h2), (2, None), (3, http11)] {
        let s = connect(h.addr(i), "a.test", both.clone()).expect("connect");
        assert_eq!(s.conn.alpn_protocol(), want, "bind {i}, h2 offered");
    }
    for (i, want) in [(0, http11), (1, None), (2, None), (3, http11)] {
        let mut s = connect(h.addr(i), "a.test", h1.clone()).expect("connect");
        assert_eq!(s.conn.alpn_protocol(), want, "bind {i}, http/1.1 offered");
        assert_eq!(
            exchange(&mut s, &get("/", "a.test")).expect("get").status,
            200
        );
    }
}

/// TLS offload in front of a TCP-mode backend.
#[test]
fn tcp_mode_offloads_tls() {
    let pki = Pki::new();
    let (pem, _) = pki.write_leaf("site.pem", &["a.test"]);
    let echo = common::tcp::TcpServer::echo();
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind @BIND@ ssl crt {pem}\n  default_backend be\n\
         backend be\n  server e1 {}\n",
        echo.addr(),
        pem = pem.display()
    );
    let h = Harness::start(&cfg);
    let mut s = connect(h.addr(0), "a.test", pki.client()).expect("connect");
    s.write_all(b"ping\n").expect("write");
    let mut got = [0u8; 5];
    std::io::Read::read_exact(&mut s, &mut got).expect("read");
    assert_eq!(&got, b"ping\n");
}

/// Keys as OpenSSL writes them in the traditional formats: RSA (PKCS#1)
/// and EC (SEC1), after the certificate. Skipped without `openssl`.
#[test]
fn pkcs1_and_sec1_keys_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pems = Vec::new();
    for (name, newkey) in [("rsa", "rsa:2048"), ("ec", "ec")] {
        let key = dir.path().join(format!("{name}.key"));
        let crt = dir.path().join(format!("{name}.crt"));
        let mut cmd = std::process::Command::new("openssl");
        cmd.args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=a.test",
        ]);
        cmd.args(["-newkey", newkey]);
        if name == "ec" {
            cmd.args(["-pkeyopt", "ec_paramgen_curve:prime256v1"]);
        }
        cmd.arg("-keyout").arg(&key).arg("-out").arg(&crt);
        let Ok(out) = cmd.output() else {
            eprintln!("openssl not installed: skipped");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Convert to the traditional encodings (BEGIN RSA/EC PRIVATE KEY).
        // `openssl ec` writes SEC1; `openssl rsa` needs `-traditional` for PKCS#1.
        let args: &[&str] = if name == "rsa" {
            &["rsa", "-traditional", "-in"]
        } else {
            &["ec", "-in"]
        };
        let conv = std::process::Command::new("openssl")
            .args(args)
            .arg(&key)
            .output()
            .expect("openssl");
        let key_pem = String::from_utf8_lossy(&conv.stdout).into_owned();
        assert!(
            key_pem.contains(if name == "rsa" {
                "BEGIN RSA PRIVATE KEY"
            } else {
                "BEGIN EC PRIVATE KEY"
            }),
            "{key_pem}"
        );
        let pem = dir.path().join(format!("{name}.pem"));
        let crt_pem = std::fs::read_to_string(&crt).expect("crt");
        std::fs::write(&pem, format!("{crt_pem}{key_pem}")).expect("write");
        pems.push(pem);
    }
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
         frontend fe\n  bind @BIND@ ssl crt {}\n  bind @BIND@ ssl crt {}\n  http-request return status 200\n",
        pems[0].display(),
        pems[1].display()
    );
    let h = Harness::start(&cfg);
    for i in 0..2 {
        let mut s = connect(h.addr(i), "a.test", any_cert_client(true)).expect("connect");
        assert_eq!(
            exchange(&mut s, &get("/", "a.test")).expect("get").status,
            200
        );
    }
}

/// Read until the peer closes (or `wait` passes).
fn read_until_close(s: &mut TcpStream, wait: Duration) -> Vec<u8> {
    let deadline = std::time::Instant::now() + wait;
    let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < deadline {
        match std::io::Read::read(s, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    out
}
