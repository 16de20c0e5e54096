//! `bind ... ssl crt` through the binary: certificate errors are config
//! errors worded and exited as `haproxy -c` does, and HTTPS carries load
//! and a Runtime API cutover (`set map`) with no failed request.

mod common;

use std::path::Path;
use std::time::Duration;

use common::life::{self, assert_no_failures};
use common::*;
use tk::{eventually, BackgroundHey, FakeUpstream};

/// A self-signed certificate for `a.test`: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["a.test".to_string()])
        .unwrap_or_else(|e| panic!("rcgen: {e}"));
    (ck.cert.pem(), ck.key_pair.serialize_pem())
}

fn bind_cfg(bind: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         frontend fe\n    bind {bind}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:1\n"
    )
}

/// The alert lines that name the bind (pid and prefix removed).
fn bind_alerts(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("'bind "))
        .filter_map(|l| l.split_once(") : ").map(|(_, m)| m.to_string()))
        .collect()
}

#[test]
fn certificate_errors_match_haproxy() {
    if !have_haproxy("certificate_errors_match_haproxy") {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    let (cert, key) = self_signed();
    let (_, other_key) = self_signed();
    write(d, "good.pem", &format!("{cert}{key}"));
    write(d, "keyfirst.pem", &format!("{key}{cert}"));
    write(d, "nokey.pem", &cert);
    write(d, "beside.pem", &cert);
    write(d, "beside.pem.key", &key);
    write(d, "garbage.pem", "not a certificate\n");
    write(d, "keyonly.pem", &key);
    write(d, "mismatch.pem", &format!("{cert}{other_key}"));
    write(d, "ca.pem", &cert);
    std::fs::create_dir_all(d.join("dir")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    write(&d.join("dir"), "a.pem", &format!("{cert}{key}"));
    write(&d.join("dir"), "b.pem", &cert);
    write(&d.join("dir"), "b.pem.key", &key);
    std::fs::create_dir_all(d.join("junkdir")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    write(&d.join("junkdir"), "a.pem", &format!("{cert}{key}"));
    write(&d.join("junkdir"), "notes.txt", "junk\n");

    let p = |f: &str| d.join(f).display().to_string();
    let cases = [
        ("good", format!("ssl crt {}", p("good.pem"))),
        ("keyfirst", format!("ssl crt {}", p("keyfirst.pem"))),
        ("beside", format!("ssl crt {}", p("beside.pem"))),
        ("dir", format!("ssl crt {}", p("dir"))),
        ("two", format!("ssl crt {} crt {}", p("good.pem"), p("dir"))),
        ("nokey", format!("ssl crt {}", p("nokey.pem"))),
        ("garbage", format!("ssl crt {}", p("garbage.pem"))),
        ("keyonly", format!("ssl crt {}", p("keyonly.pem"))),
        ("mismatch", format!("ssl crt {}", p("mismatch.pem"))),
        ("junkdir", format!("ssl crt {}", p("junkdir"))),
        ("missing", format!("ssl crt {}", p("missing.pem"))),
        (
            "ca-missing",
            format!(
                "ssl crt {} verify required ca-file {}",
                p("good.pem"),
                p("nope.pem")
            ),
        ),
        (
            "ca-garbage",
            format!(
                "ssl crt {} verify optional ca-file {}",
                p("good.pem"),
                p("garbage.pem")
            ),
        ),
        (
            "verify-no-ca",
            format!("ssl crt {} verify required", p("good.pem")),
        ),
        (
            "verify-ok",
            format!(
                "ssl crt {} verify required ca-file {}",
                p("good.pem"),
                p("ca.pem")
            ),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, opts) in &cases {
        let file = format!("{name}.cfg");
        write(d, &file, &bind_cfg(&format!("127.0.0.1:18443 {opts}")));
        let h = check(Path::new(tk::HAPROXY_PATH), d, &[&file], &[]);
        let s = check(&switchyard(), d, &[&file], &[]);
        s.assert_no_panic(name);
        let (ha, sy) = (bind_alerts(&h.stderr), bind_alerts(&s.stderr));
        let same_text = ha.iter().all(|l| sy.contains(l));
        if h.code != s.code || !same_text {
            wrong.push(format!(
                "{name}: haproxy {:?} {ha:?}\n  switchyard {:?} {sy:?}\n{}",
                h.code, s.code, s.stderr
            ));
        }
        if *name == "verify-no-ca" {
            assert!(s.stderr.contains(&format!("[{file}:7]")), "{}", s.stderr);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `curl -sk` through HTTPS: which server answered.
fn served_by_https(url: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-D", "-", url])
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("x-served-by"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn https_load_and_a_map_cutover_lose_no_request() {
    cutover_under_load(&[]);
}

/// The same over HTTP/2 (`hey -h2` negotiates h2 by ALPN): many streams
/// per connection, each a request through the map.
#[test]
fn https_h2_load_and_a_map_cutover_lose_no_request() {
    cutover_under_load(&["-h2"]);
}

/// HTTPS load (hey with `extra` options) while `set map` moves the
/// traffic from blue to green: every request answered 200, both seen.
fn cutover_under_load(extra: &[&str]) {
    let (blue, green) = (FakeUpstream::start("blue"), FakeUpstream::start("green"));
    let dir = tempdir();
    let d = dir.path();
    let (cert, key) = self_signed();
    write(d, "site.pem", &format!("{cert}{key}"));
    let map = d.join("bluegreen.map");
    write(d, "bluegreen.map", "active be_blue\n");
    let sock = d.join("admin.sock").display().to_string();
    let port = tk::free_port();
    let cfg = format!(
        "global\n    stats socket {sock} mode 600 level admin\n\
         defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         frontend fe\n    bind 127.0.0.1:{port} ssl crt site.pem alpn h2,http/1.1\n\
             use_backend %[str(active),map({map},be_blue)]\n\
         backend be_blue\n    server blue1 {blue}\n\
         backend be_green\n    server green1 {green}\n",
        map = map.display(),
        blue = blue.addr(),
        green = green.addr()
    );
    write(d, "haproxy.cfg", &cfg);
    let proxy = life::spawn(d, "switchyard", &["-W", "-f", "haproxy.cfg"]);
    proxy.wait_for_line("Loading success.", STARTUP);
    let url = format!("https://127.0.0.1:{port}/");
    assert_eq!(served_by_https(&url), "blue");

    // hey does not verify certificates: a self-signed one serves. `-host`
    // also sets its SNI: without it hey sends "127.0.0.1:<port>", a name
    // rustls refuses (OpenSSL lets it through to the default certificate).
    let args = |more: &[&str]| -> Vec<String> {
        extra
            .iter()
            .chain(more)
            .chain(["-host", "a.test", url.as_str()].iter())
            .map(|s| s.to_string())
            .collect()
    };
    let a = args(&["-n", "2000", "-c", "50"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let summary = tk::try_run_hey(&a).unwrap_or_else(|e| panic!("hey: {e}"));
    assert!(summary.only_200(), "{}", summary.raw);
    assert_eq!(summary.total_requests, 2000);

    let blue_before = blue.requests();
    let a = args(&["-z", "60s", "-c", "50"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let hey = BackgroundHey::start(&a).unwrap_or_else(|e| panic!("hey: {e}"));
    eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        blue.requests() > blue_before + 500
    });
    tk::cli(&sock, &format!("set map {} active be_green", map.display()));
    let green_before = green.requests();
    eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        green.requests() > green_before + 500
    });
    let summary = hey.finish(Duration::ZERO);
    assert_no_failures(&summary, 1000);
    assert_eq!(served_by_https(&url), "green");
}
