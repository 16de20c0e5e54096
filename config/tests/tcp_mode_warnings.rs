//! HTTP-only settings in a TCP-mode proxy are accepted with HAProxy's
//! warnings (checked against `haproxy -c` when it is installed).

use std::process::Command;

const CFG: &str = "defaults
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:19999
    option httplog
    log 127.0.0.1:514 local0
    option forwardfor
    http-request set-header X-A b
    default_backend be1
backend be1
    cookie SRV insert
    http-response set-header X-B c
    server s1 127.0.0.1:19998 cookie a
backend be2
    balance uri
    server s2 127.0.0.1:19997
";

const EXPECTED: [&str; 7] = [
    "'option httplog' not usable with frontend 'fe' (needs 'mode http'). Falling back to 'option tcplog'.",
    "'http-request' rules ignored for frontend 'fe' as they require HTTP mode.",
    "'option forwardfor' ignored for frontend 'fe' as it requires HTTP mode.",
    "cookie will be ignored for backend 'be1' (needs 'mode http').",
    "'http-response' rules ignored for backend 'be1' as they require HTTP mode.",
    "backend 'be1' : ignoring cookie for server 's1' as HTTP mode is disabled.",
    "Layer 7 hash not possible for backend 'be2' (needs 'mode http'). Falling back to round robin.",
];

#[test]
fn tcp_mode_ignores_http_settings_with_haproxys_warnings() {
    let cfg = switchyard_config::parse_str("tcp.cfg", CFG).expect("config is valid");
    let got: Vec<String> = cfg.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(got, EXPECTED);
}

#[test]
fn the_same_warnings_as_haproxy() {
    if !std::path::Path::new("/usr/sbin/haproxy").exists() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tcp.cfg");
    std::fs::write(&path, CFG).expect("write");
    let out = Command::new("/usr/sbin/haproxy")
        .args(["-c", "-f"])
        .arg(&path)
        .output()
        .expect("run haproxy -c");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each warning's text after `config : ` and any `parsing [file:line] : `.
    let theirs: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .filter_map(|l| l.split_once("config : ").map(|(_, m)| m))
        .map(|m| m.rsplit_once("] : ").map(|(_, m)| m).unwrap_or(m))
        .collect();
    assert_eq!(theirs, EXPECTED, "{stderr}");
}
