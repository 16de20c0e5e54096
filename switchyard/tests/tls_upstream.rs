//! TLS from the proxy to servers (`server ... ssl`), against the real
//! HAProxy 2.6 where behaviour must match: the same config and the same
//! TLS upstream (testkit's `TlsUpstream`, which answers with the SNI it
//! received), the same responses, log termination states and check
//! statuses.

mod common;

use std::time::Duration;

use common::*;
use tk::{http_request, Proxy, ProxyKind, TestPki, TlsUpstream, DIR_PLACEHOLDER as DIR};

const LOG: &str =
    "global\n    log stdout format raw local0\n    stats socket DIR/admin.sock level admin\n";

fn config(port: u16, server_opts: &str, up: &TlsUpstream, extra_defaults: &str) -> String {
    let log = LOG.replace("DIR", DIR);
    format!(
        "{log}{DEFAULTS}    log global\n    option httplog\n{extra_defaults}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server s1 {} {server_opts}\n",
        up.addr()
    )
}

fn spawn(kind: &ProxyKind, cfg: &str, port: u16) -> Proxy {
    let mut p = Proxy::builder(kind)
        .config(cfg)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", kind.label()));
    p.wait_ready(lo(port), STARTUP);
    p
}

fn both(server_opts: &str, up: &TlsUpstream, extra: &str) -> [(Proxy, u16); 2] {
    let kinds = [ProxyKind::Haproxy, ProxyKind::Switchyard(switchyard())];
    kinds.map(|k| {
        let port = tk::free_port();
        (spawn(&k, &config(port, server_opts, up, extra), port), port)
    })
}

/// (method, path, headers, body)
type Req<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8]);

/// `(status, body)` of each request.
fn outcomes(port: u16, reqs: &[Req<'_>]) -> Vec<(u16, String)> {
    reqs.iter()
        .map(|(m, path, h, body)| {
            let url = format!("http://127.0.0.1:{port}{path}");
            match http_request(m, &url, h, body) {
                Ok(r) => (r.status, r.text()),
                Err(e) => (0, format!("error {e}")),
            }
        })
        .collect()
}

/// The termination state of the log line for `path` (`----`, `SC--`).
fn term_state(p: &Proxy, path: &str) -> Option<String> {
    let needle = format!(" {path} HTTP/1.1\"");
    tk::eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        p.child()
            .output()
            .lines()
            .into_iter()
            .find(|l| l.contains(&needle))
    })
    .split_whitespace()
    .nth(9)
    .map(str::to_owned)
}

fn pki() -> TestPki {
    TestPki::generate(&["app.example"]).expect("pki")
}

#[test]
fn verify_none_get_and_post_match_haproxy() {
    if !have_haproxy("verify_none_get_and_post_match_haproxy") {
        return;
    }
    let pki = pki();
    let up = TlsUpstream::start("tls1", &pki).expect("upstream");
    let [(h, hp), (s, sp)] = both("ssl verify none", &up, "");
    let reqs: &[Req<'_>] = &[
        ("GET", "/a", &[], b""),
        (
            "POST",
            "/b",
            &[("content-type", "text/plain")],
            b"hello tls",
        ),
        ("GET", "/c?q=1", &[("host", "app.example")], b""),
    ];
    let want = outcomes(hp, reqs);
    assert_eq!(want[0].0, 200, "haproxy: {want:?}");
    assert!(want[1].1.contains("body=hello tls"), "haproxy: {want:?}");
    assert!(
        want[0].1.contains("sni=-"),
        "haproxy sends no SNI: {want:?}"
    );
    assert_eq!(outcomes(sp, reqs), want);
    assert_eq!(term_state(&s, "/a"), term_state(&h, "/a"));
}

#[test]
fn verify_required_and_sni_match_haproxy() {
    if !have_haproxy("verify_required_and_sni_match_haproxy") {
        return;
    }
    let pki = pki();
    let up = TlsUpstream::start("tls2", &pki).expect("upstream");
    let ca = pki.ca_file().display().to_string();
    let reqs: &[Req<'_>] = &[("GET", "/x", &[("host", "app.example")], b"")];
    for opts in [
        format!("ssl verify required ca-file {ca}"),
        format!("ssl verify required ca-file {ca} sni str(app.example)"),
        format!("ssl verify required ca-file {ca} sni req.hdr(host)"),
        format!("ssl verify required ca-file {ca} verifyhost app.example"),
        "ssl verify none sni str(other.example) alpn http/1.1".to_string(),
    ] {
        let [(_h, hp), (_s, sp)] = both(&opts, &up, "");
        let want = outcomes(hp, reqs);
        assert_eq!(want[0].0, 200, "{opts}: haproxy {want:?}");
        assert_eq!(outcomes(sp, reqs), want, "{opts}");
    }
    let snis = up.snis();
    assert!(snis.contains(&Some("app.example".into())), "{snis:?}");
    assert!(snis.contains(&Some("other.example".into())), "{snis:?}");
    assert!(snis.contains(&None), "{snis:?}");
}

#[test]
fn refused_certificate_is_503_sc_like_haproxy() {
    if !have_haproxy("refused_certificate_is_503_sc_like_haproxy") {
        return;
    }
    let pki = pki();
    let other = TestPki::generate(&["app.example"]).expect("other pki");
    let up = TlsUpstream::start("tls3", &pki).expect("upstream");
    let wrong_ca = other.ca_file().display().to_string();
    let good_ca = pki.ca_file().display().to_string();
    let reqs: &[Req<'_>] = &[("GET", "/refused", &[], b"")];
    for opts in [
        format!("ssl verify required ca-file {wrong_ca}"),
        format!("ssl verify required ca-file {good_ca} sni str(wrong.example)"),
        format!("ssl verify required ca-file {good_ca} verifyhost wrong.example"),
    ] {
        let [(h, hp), (s, sp)] = both(&opts, &up, "    retries 1\n");
        let want = outcomes(hp, reqs);
        assert_eq!(want[0].0, 503, "{opts}: haproxy {want:?}");
        assert_eq!(outcomes(sp, reqs), want, "{opts}");
        let hs = term_state(&h, "/refused");
        assert_eq!(hs.as_deref(), Some("SC--"), "{opts}");
        assert_eq!(term_state(&s, "/refused"), hs, "{opts}");
    }
    assert!(up.failed_handshakes() >= 6, "{}", up.failed_handshakes());
}

#[test]
fn missing_ca_file_is_the_same_config_error() {
    if !have_haproxy("missing_ca_file_is_the_same_config_error") {
        return;
    }
    let dir = tempdir();
    let base = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nbackend be\n";
    let cases = [
        ("noca.cfg", "    server s1 127.0.0.1:8443 ssl\n"),
        (
            "noca2.cfg",
            "    server s1 127.0.0.1:8443 ssl verify required check\n",
        ),
        (
            "badca.cfg",
            "    server s1 127.0.0.1:8443 ssl verify required ca-file /nonexistent/ca.pem\n",
        ),
        (
            "nocrt.cfg",
            "    server s1 127.0.0.1:8443 ssl verify none crt /nonexistent/c.pem\n",
        ),
        (
            "badsni.cfg",
            "    server s1 127.0.0.1:8443 ssl verify none sni bogus(x)\n",
        ),
        (
            "verify.cfg",
            "    server s1 127.0.0.1:8443 ssl verify sometimes\n",
        ),
        ("global.cfg", "    server s1 127.0.0.1:8443 ssl\n"),
    ];
    for (name, line) in cases {
        let text = if name == "global.cfg" {
            format!("global\n    ssl-server-verify none\n{base}{line}")
        } else {
            format!("{base}{line}")
        };
        write(dir.path(), name, &text);
        let h = check(
            std::path::Path::new(tk::HAPROXY_PATH),
            dir.path(),
            &[name],
            &[],
        );
        let s = check(&switchyard(), dir.path(), &[name], &[]);
        s.assert_no_panic(name);
        assert_eq!(
            s.code, h.code,
            "{name}: haproxy {}\nswitchyard {}",
            h.stderr, s.stderr
        );
        let alerts = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| l.starts_with("[ALERT]"))
                .filter_map(|l| l.split_once(" : ").map(|(_, m)| m.to_owned()))
                // switchyard prints every server-line error as "parsing
                // [f:l]", HAProxy only some (a difference older than TLS).
                .map(|m| m.replace("config : parsing [", "config : ["))
                .collect()
        };
        assert_eq!(alerts(&s.stderr), alerts(&h.stderr), "{name}");
    }
}

fn show_stat_check(sock: &std::path::Path, sv: &str) -> Option<(String, String)> {
    let out = tk::try_cli(&sock.display().to_string(), "show stat").ok()?;
    out.lines().find_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f.get(1) == Some(&sv)).then(|| (f[17].to_owned(), f.get(36).unwrap_or(&"").to_string()))
    })
}

fn check_config(port: u16, opts: &str, up: &TlsUpstream, httpchk: bool) -> String {
    let chk = if httpchk {
        "    option httpchk GET /health\n"
    } else {
        ""
    };
    let log = LOG.replace("DIR", DIR);
    format!(
        "{log}{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{chk}    server s1 {} {opts} check inter 200 rise 2 fall 2\n",
        up.addr()
    )
}

/// `show stat` status and check_status of s1 once it settles on `status`.
fn settled(p: &Proxy, status: &str) -> (String, String) {
    let sock = p.dir().join("admin.sock");
    let (st, chk) = tk::eventually_named(
        status,
        Duration::from_secs(15),
        Duration::from_millis(50),
        || show_stat_check(&sock, "s1").filter(|(s, _)| s == status),
    );
    // "* " marks a check running at that instant: timing, not outcome.
    (st, chk.trim_start_matches("* ").to_string())
}

#[test]
fn tls_health_checks_match_haproxy() {
    if !have_haproxy("tls_health_checks_match_haproxy") {
        return;
    }
    let pki = pki();
    let other = TestPki::generate(&["app.example"]).expect("other pki");
    let up = TlsUpstream::start("tls4", &pki).expect("upstream");
    let wrong_ca = other.ca_file().display().to_string();
    // (server options, option httpchk, the status it settles on)
    let cases = [
        ("ssl verify none".to_string(), false, "UP"),
        ("ssl verify none".to_string(), true, "UP"),
        (
            "verify none check-ssl check-sni chk.example".to_string(),
            true,
            "UP",
        ),
        ("ssl verify none no-check-ssl".to_string(), false, "UP"),
        (
            format!("ssl verify required ca-file {wrong_ca}"),
            false,
            "DOWN",
        ),
        (
            format!("ssl verify required ca-file {wrong_ca}"),
            true,
            "DOWN",
        ),
    ];
    for (opts, httpchk, status) in &cases {
        let mut got = Vec::new();
        for k in [ProxyKind::Haproxy, ProxyKind::Switchyard(switchyard())] {
            let port = tk::free_port();
            let p = spawn(&k, &check_config(port, opts, &up, *httpchk), port);
            got.push(settled(&p, status));
        }
        assert_eq!(got[1], got[0], "{opts} httpchk={httpchk}");
    }
    assert!(up.snis().contains(&Some("chk.example".into())));
}

#[test]
fn tls_server_goes_down_and_up_with_its_upstream() {
    let pki = pki();
    let mut up = TlsUpstream::start("tls5", &pki).expect("upstream");
    let port = tk::free_port();
    let kind = ProxyKind::Switchyard(switchyard());
    let p = spawn(
        &kind,
        &check_config(port, "ssl verify none", &up, true),
        port,
    );
    assert_eq!(settled(&p, "UP").1, "L7OK");
    up.stop();
    assert_eq!(settled(&p, "DOWN").1, "L4CON");
    up.restart().expect("restart");
    assert_eq!(settled(&p, "UP").1, "L7OK");
    up.set_healthy(false);
    assert_eq!(settled(&p, "DOWN").1, "L7STS");
}

fn hey(port: u16, extra: &[&str]) -> tk::HeySummary {
    let url = format!("http://127.0.0.1:{port}/load");
    let mut args = vec!["-z", "3s"];
    args.extend_from_slice(extra);
    args.push(&url);
    tk::run_hey(&args)
}

#[test]
fn keepalive_reuses_tls_connections() {
    let pki = pki();
    let up = TlsUpstream::start("tls6", &pki).expect("upstream");
    let port = tk::free_port();
    let kind = ProxyKind::Switchyard(switchyard());
    let _p = spawn(&kind, &config(port, "ssl verify none", &up, ""), port);
    let mut c = tk::KeepAliveClient::connect(&format!("127.0.0.1:{port}")).expect("connect");
    for _ in 0..20 {
        let r = c.get("/ka").expect("get");
        assert_eq!(r.status, 200);
    }
    assert_eq!(up.requests(), 20);
    assert_eq!(up.handshakes(), 1, "one TLS connection for 20 requests");
}

#[test]
fn server_closed_idle_tls_connections_are_not_reused() {
    let pki = pki();
    let up = TlsUpstream::start("tls7", &pki).expect("upstream");
    up.close_idle_after(Some(Duration::from_millis(30)));
    let port = tk::free_port();
    let kind = ProxyKind::Switchyard(switchyard());
    let _p = spawn(
        &kind,
        &config(port, "ssl verify none", &up, "    retries 0\n"),
        port,
    );
    // 4 workers at 20 req/s each: a pooled connection sits idle ~50 ms,
    // longer than the server keeps it.
    let s = hey(port, &["-c", "4", "-q", "20"]);
    common::life::assert_no_failures(&s, 100);
    assert!(
        up.handshakes() > 20,
        "connections were closed and reopened: {}",
        up.handshakes()
    );
}

#[test]
fn cutover_between_tls_upstreams_loses_nothing() {
    let pki = pki();
    let blue = TlsUpstream::start("blue", &pki).expect("blue");
    let green = TlsUpstream::start("green", &pki).expect("green");
    let port = tk::free_port();
    let log = LOG.replace("DIR", DIR);
    let cfg = format!(
        "{log}{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server blue {} ssl verify none\n    server green {} ssl verify none\n",
        blue.addr(),
        green.addr()
    );
    let p = spawn(&ProxyKind::Switchyard(switchyard()), &cfg, port);
    let sock = p.dir().join("admin.sock").display().to_string();
    tk::cli(&sock, "set server be/green state maint");
    let url = format!("http://127.0.0.1:{port}/cut");
    let bg = tk::BackgroundHey::start(&["-z", "30s", "-c", "8", &url]).expect("hey");
    tk::eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        blue.requests() > 200
    });
    tk::cli(&sock, "set server be/green state ready");
    tk::cli(&sock, "set server be/blue state maint");
    let before = green.requests();
    tk::eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        green.requests() > before + 200
    });
    let s = bg.finish(Duration::from_secs(10));
    common::life::assert_no_failures(&s, 400);
    let out = tk::cli(&sock, "show servers state be");
    let use_ssl: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('#') && l.split(' ').count() > 20)
        .map(|l| l.split(' ').nth(20).unwrap_or(""))
        .collect();
    assert_eq!(use_ssl, ["1", "1"], "srv_use_ssl:\n{out}");
}
