//! TLS details side by side with the real HAProxy 2.6, on the same config
//! and the same PEM files (made with rcgen at test time), driven with
//! `openssl s_client` and `curl`: SNI by a certificate's subject CN, the
//! `show stat` ssl columns, and the `ssl_c_*` client-certificate fetches.

mod common;

use std::fmt::Debug;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rcgen::{CertificateParams, DnType, KeyPair};
use tk::{Proxy, ProxyKind};

const WAIT: Duration = Duration::from_secs(10);

/// The two proxies under the same config text.
fn kinds() -> [ProxyKind; 2] {
    [ProxyKind::Haproxy, ProxyKind::Switchyard(switchyard())]
}

/// A self-signed PEM (certificate then key) with these SAN DNS names and
/// subject CNs, written to `dir/name`.
fn cert_file(dir: &Path, name: &str, sans: &[&str], cns: &[&str]) {
    let key = KeyPair::generate().unwrap_or_else(|e| panic!("key: {e}"));
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap_or_else(|e| panic!("params: {e}"));
    p.distinguished_name = rcgen::DistinguishedName::new();
    for cn in cns {
        p.distinguished_name.push(DnType::CommonName, *cn);
    }
    let c = p
        .self_signed(&key)
        .unwrap_or_else(|e| panic!("self-sign: {e}"));
    write(dir, name, &format!("{}{}", c.pem(), key.serialize_pem()));
}

/// Start `kind` on `cfg` and wait for its plain `ready` port (never the
/// TLS one: a bare connect there would count as a failed handshake).
fn start(kind: &ProxyKind, cfg: &str, ready: u16) -> Proxy {
    let mut p = Proxy::spawn_kind(kind, cfg, &[]).unwrap_or_else(|e| panic!("spawn: {e}"));
    p.wait_ready(lo(ready), WAIT);
    p
}

/// Run `drive` against each proxy on `cfg(ports)`; ports[0] is the ready
/// port. Returns (haproxy's, switchyard's).
fn both<T: Debug>(
    n_ports: usize,
    cfg: impl Fn(&[u16]) -> String,
    drive: impl Fn(&[u16]) -> T,
) -> (T, T) {
    let mut out = kinds().into_iter().map(|k| {
        let ports = tk::free_ports(n_ports);
        let text = cfg(&ports);
        let _p = start(&k, &text, ports[0]);
        drive(&ports)
    });
    let ha = out.next().unwrap_or_else(|| panic!("haproxy run"));
    let sy = out.next().unwrap_or_else(|| panic!("switchyard run"));
    (ha, sy)
}

/// `openssl s_client` with `args`, stdin closed; its stdout.
fn s_client(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .arg("s_client")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl s_client` sending an HTTP/1.0 request and reading until the
/// proxy closes (so TLS 1.3 session tickets are read before it exits).
fn s_client_get(args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .arg("s_client")
        .arg("-ign_eof")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(b"GET / HTTP/1.0\r\nHost: a.test\r\n\r\n");
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subject line of the certificate served for SNI `name`.
fn served_subject(port: u16, name: &str) -> String {
    let out = s_client(&[
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-servername",
        name,
    ]);
    out.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or("none")
        .to_string()
}

/// HAProxy 2.6 indexes a certificate by its SAN DNS names and by every
/// subject CN (with a SAN too); among equal names the first loaded wins.
#[test]
fn sni_by_subject_cn_matches_haproxy() {
    if !have_haproxy("sni_by_subject_cn_matches_haproxy") {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    cert_file(d, "def.pem", &["default.test"], &["default.test"]);
    cert_file(d, "cnonly.pem", &[], &["cn.test"]);
    cert_file(d, "both.pem", &["san.test"], &["cnofboth.test"]);
    cert_file(d, "x.pem", &["dup.test"], &["x.test"]);
    cert_file(d, "y.pem", &[], &["dup.test"]);
    cert_file(d, "w.pem", &[], &["*.w.test"]);
    cert_file(d, "m.pem", &[], &["first.test", "Second.Test"]);
    let crts = ["def", "cnonly", "both", "x", "y", "w", "m"]
        .iter()
        .map(|n| format!("crt {}", d.join(format!("{n}.pem")).display()))
        .collect::<Vec<_>>()
        .join(" ");
    let cfg = |p: &[u16]| {
        format!(
            "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
             frontend ready\n  bind 127.0.0.1:{}\n  http-request return status 200\n\
             frontend fe\n  bind 127.0.0.1:{} ssl {crts}\n  http-request return status 200\n",
            p[0], p[1]
        )
    };
    let names = [
        "default.test",
        "cn.test",
        "CN.test",
        "san.test",
        "cnofboth.test",
        "dup.test",
        "x.test",
        "a.w.test",
        "first.test",
        "second.test",
        "other.test",
    ];
    let drive = |p: &[u16]| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), served_subject(p[1], n)))
            .collect()
    };
    let (ha, sy) = both(2, cfg, drive);
    assert!(
        ha.contains(&("cn.test".to_string(), "subject=CN = cn.test".to_string())),
        "{ha:?}"
    );
    assert_eq!(sy, ha);
}

/// `curl` with `args`; its exit code.
fn curl(args: &[&str]) -> Option<i32> {
    Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "5"])
        .args(args)
        .stdin(Stdio::null())
        .status()
        .ok()
        .and_then(|s| s.code())
}

/// Send `bytes` (maybe none) on a plain connection to the TLS port, then
/// close our side and read until the proxy closes.
fn not_tls(port: u16, bytes: &[u8]) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(lo(port)).unwrap_or_else(|e| panic!("connect: {e}"));
    let _ = s.set_read_timeout(Some(WAIT));
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}

/// `pxname,svname` -> `ssl_sess,ssl_reused_sess,ssl_failed_handshake`.
fn ssl_columns(stat: &str) -> Vec<String> {
    let mut lines = stat.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let at = header
        .iter()
        .position(|h| *h == "ssl_sess")
        .unwrap_or_else(|| panic!("no ssl_sess in {stat}"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{}: {},{},{}", f[0], f[1], f[at], f[at + 1], f[at + 2])
        })
        .collect()
}

/// `show stat`'s ssl columns: full handshakes, resumed ones (a TLS 1.2
/// session id and a TLS 1.3 ticket through `openssl s_client -sess_in`),
/// failed ones (plain HTTP on the TLS port, a connection closed before its
/// ClientHello, a TLS 1.1 client); a handshake cut by `timeout client` is
/// not counted. A server reached over `ssl` counts on its row and its
/// backend's (and here on the frontend it loops back to).
#[test]
fn show_stat_ssl_columns_match_haproxy() {
    if !have_haproxy("show_stat_ssl_columns_match_haproxy") {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    cert_file(d, "site.pem", &["a.test"], &["a.test"]);
    let pem = d.join("site.pem").display().to_string();
    let cfg = |p: &[u16]| {
        format!(
            "global\n  stats socket ipv4@127.0.0.1:{p1} level admin\n\
             defaults\n  mode http\n  timeout client 1s\n  timeout server 5s\n  timeout connect 1s\n\
             frontend ready\n  bind 127.0.0.1:{p0}\n  http-request return status 200\n\
             frontend fe\n  bind 127.0.0.1:{p2} ssl crt {pem}\n  http-request return status 200\n\
             frontend fe2\n  bind 127.0.0.1:{p3}\n  default_backend be\n\
             backend be\n  server s1 127.0.0.1:{p2} ssl verify none\n",
            p0 = p[0],
            p1 = p[1],
            p2 = p[2],
            p3 = p[3],
        )
    };
    let drive = |p: &[u16]| -> Vec<String> {
        let url = format!("https://127.0.0.1:{}/", p[2]);
        for _ in 0..3 {
            assert_eq!(curl(&["-k", &url]), Some(0));
        }
        let connect = format!("127.0.0.1:{}", p[2]);
        for (version, file) in [("-tls1_2", "s12.sess"), ("-tls1_3", "s13.sess")] {
            let sess = d.join(format!("{}-{file}", p[2])).display().to_string();
            s_client_get(&["-connect", &connect, version, "-sess_out", &sess]);
            for _ in 0..2 {
                let out = s_client_get(&["-connect", &connect, version, "-sess_in", &sess]);
                assert!(out.contains("Reused,"), "{out}");
            }
        }
        not_tls(p[2], b"GET / HTTP/1.0\r\n\r\n");
        not_tls(p[2], b"");
        s_client(&["-connect", &connect, "-tls1_1"]);
        // A silent client, cut by `timeout client` (1s).
        not_tls_silent(p[2]);
        // Two requests on one client connection: one server handshake
        // (HAProxy's `http-reuse safe` sends a new client's first request
        // on a new server connection; ours reuse idle ones sooner).
        let local = format!("http://127.0.0.1:{}/", p[3]);
        assert_eq!(curl(&[&local, "-o", "/dev/null", &local]), Some(0));
        let sock = format!("127.0.0.1:{}", p[1]);
        tk::eventually(WAIT, Duration::from_millis(20), || {
            let cols = ssl_columns(&tk::cli(&sock, "show stat"));
            cols.iter()
                .any(|c| c.starts_with("fe,FRONTEND: ") && c.ends_with(",3"))
                .then_some(cols)
        })
    };
    let (ha, sy) = both(4, cfg, drive);
    assert!(ha.contains(&"fe,FRONTEND: 6,4,3".to_string()), "{ha:?}");
    assert!(ha.contains(&"be,s1: 1,0,0".to_string()), "{ha:?}");
    assert_eq!(sy, ha);
}

/// A client that connects and says nothing until the proxy closes.
fn not_tls_silent(port: u16) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(lo(port)).unwrap_or_else(|e| panic!("connect: {e}"));
    let _ = s.set_read_timeout(Some(WAIT));
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}
