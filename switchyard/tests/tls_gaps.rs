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
