//! Acceptance: the seed articles' shell pipelines (socat, cut, column, awk,
//! sed) run unchanged against our Runtime API, on the seed configs with the
//! socket port and paths rewritten for the sandbox.

mod common;

use std::process::Command;

use common::{fill_ports, Admin};

/// Seed 000's config (map-based blue/green), loopback ports. The servers
/// are named by IP here: tests never query a resolver.
const SEED000: &str = "global
    maxconn 8192
    stats socket ipv4@127.0.0.1:{p1} level admin
    stats timeout 2m
defaults
    log     global
    mode    http
    option  httplog
    option  dontlognull
    http-reuse aggressive
    timeout connect 2s
    timeout client 1m
    timeout server 5s
frontend igw
    bind 127.0.0.1:{p2}
    mode http
    stats enable
    monitor-uri /haproxy-status
    stats uri /admin
    stats auth admin:admin
    stats refresh 5s
    default_backend DEFAULT
    option forwardfor
    use_backend %[str(SIMPLE_SERVICE),map(MAP)]
backend blue
    mode http
    balance roundrobin
    option httpchk
    option redispatch
    retries 1000
    retry-on all-retryable-errors
    http-check send meth GET  uri /
    server blue 127.0.0.1:{p3} maxconn 10 check inter 2s  fall 2  rise 2 slowstart 5000
backend green
    mode http
    balance roundrobin
    option httpchk
    option redispatch
    retries 1000
    http-check send meth GET  uri /
    server green 127.0.0.1:{p4} maxconn 10 check inter 2s  fall 2  rise 2 slowstart 5000
backend DEFAULT
    http-request set-log-level silent
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
";

fn sh(script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn seed000_deploy_script_functions() {
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("hosts.map");
    std::fs::write(&map, "SIMPLE_SERVICE blue\n").expect("map");
    let a = Admin::start(&SEED000.replace("MAP", &map.display().to_string()));
    let port = a.addr().rsplit(':').next().unwrap_or_default().to_string();
    let sock = format!("tcp4-connect:127.0.0.1:{port}");
    // waitItUp: the status field of the server row.
    let status = |name: &str| {
        sh(&format!(
            "echo \"show stat\" | socat stdio {sock} | cut -d \",\" -f 2,18 | column -s, -t | grep {name} | awk \"{{print \\$2}}\""
        ))
    };
    // Checked servers start UP with health = rise ("UP 1/2": awk prints "UP").
    assert_eq!(status("green"), "UP\n");
    // forwardTo green.
    let m = map.display();
    assert_eq!(
        sh(&format!(
            "echo \"set map {m} SIMPLE_SERVICE green\" | socat stdio {sock}"
        )),
        "\n"
    );
    let snap = a.store.load();
    let mi = snap.map_idx(&m.to_string()).expect("map");
    assert_eq!(
        &*snap.maps[mi.get()]
            .lookup("SIMPLE_SERVICE")
            .expect("entry")
            .value,
        "green"
    );
    // readyToDown: field 7 of the second line is used_cur.
    let count = sh(&format!(
        "echo \"show servers conn blue $\" | socat stdio {sock} | sed -n 2p | cut -d \" \" -f 7"
    ));
    assert_eq!(count, "0\n");
}

#[test]
fn seed004_runtime_cutover_steps() {
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("bluegreen.map");
    std::fs::write(&map, "active backend_blue\n").expect("map");
    let cfg = fill_ports(&format!(
        "global
  stats socket ipv4@127.0.0.1:{{p1}} mode 660 level admin
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  default-server inter 5s fall 3 rise 2
frontend fe_http
  bind 127.0.0.1:{{p2}}
  use_backend %[str(active),map({m},backend_blue)]
backend backend_blue
  option httpchk GET /healthz
  http-check expect status 200
  server blue1 127.0.0.1:{{p3}} check
  server blue2 127.0.0.1:{{p4}} check
backend backend_green
  option httpchk GET /healthz
  http-check expect status 200
  server green1 127.0.0.1:{{p5}} check
  server green2 127.0.0.1:{{p6}} check
",
        m = map.display()
    ));
    let a = Admin::start(&cfg);
    let sock = format!("tcp4-connect:{}", a.addr());
    let m = map.display();
    let show = sh(&format!("echo \"show map {m}\" | socat stdio {sock}"));
    assert!(
        show.ends_with(" active backend_blue\n\n") && show.starts_with("0x"),
        "{show:?}"
    );
    let stat = sh(&format!(
        "echo \"show stat backend_green 4 -1\" | socat stdio {sock}"
    ));
    let rows: Vec<&str> = stat.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].starts_with("backend_green,green1,"), "{stat}");
    assert_eq!(
        sh(&format!(
            "echo \"set map {m} active backend_green\" | socat stdio {sock}"
        )),
        "\n"
    );
    let show = sh(&format!("echo \"show map {m}\" | socat stdio {sock}"));
    assert!(show.ends_with(" active backend_green\n\n"), "{show:?}");
    assert_eq!(
        sh(&format!(
            "echo \"set map {m} active backend_blue\" | socat stdio {sock}"
        )),
        "\n"
    );
}
