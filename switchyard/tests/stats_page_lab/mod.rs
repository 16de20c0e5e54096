//! A seed-000-like lab shared by the stats page, browser, Prometheus and
//! hatop tests: a frontend with `stats enable`, `stats uri /admin`,
//! `stats auth admin:admin`, `stats refresh 5s`, `stats admin if TRUE`,
//! `monitor-uri` and the Prometheus exporter; a read-only stats frontend;
//! blue/green backends with HTTP checks, settled to one server UP, one in
//! DRAIN, one in MAINT and one DOWN. The same text runs under switchyard
//! and, when installed, the real HAProxy (the oracle), against the same
//! in-process upstreams.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use switchyard_testkit as tk;
use tk::{FakeUpstream, HttpResponse, Proxy, ProxyKind};

/// `Authorization` for `stats auth admin:admin`.
pub const AUTH: &str = "Basic YWRtaW46YWRtaW4=";

/// What every lab waits for after setup: `(proxy, server, status)`.
pub const SETTLED: [(&str, &str, &str); 4] = [
    ("blue", "blue1", "UP"),
    ("blue", "blue2", "DRAIN"),
    ("green", "green1", "MAINT"),
    ("green", "green2", "DOWN"),
];

const CFG: &str = "global
    maxconn 8192
    stats socket ipv4@127.0.0.1:{cli} level admin
    stats socket @DIR@/admin.sock mode 600 level admin
    stats timeout 2m

defaults
    mode http
    timeout connect 2s
    timeout client 1m
    timeout server 5s

frontend igw
    bind 127.0.0.1:{fe}
    stats enable
    monitor-uri /haproxy-status
    stats uri /admin
    stats auth admin:admin
    stats refresh 5s
    stats admin if TRUE
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend DEFAULT
    use_backend %[str(SIMPLE_SERVICE),map(@DIR@/hosts.map)]

frontend ro
    bind 127.0.0.1:{ro}
    stats enable
    stats uri /stats
    default_backend DEFAULT

backend blue
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health
    server blue1 127.0.0.1:{u1} maxconn 10 check inter 300 fall 2 rise 2
    server blue2 127.0.0.1:{u2} maxconn 10 check inter 300 fall 2 rise 2

backend green
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health
    server green1 127.0.0.1:{u3} maxconn 10 check inter 300 fall 2 rise 2
    server green2 127.0.0.1:{dead} maxconn 10 check inter 300 fall 2 rise 2

backend DEFAULT
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
";

/// The upstreams both proxies check and forward to.
pub struct Upstreams {
    pub servers: Vec<FakeUpstream>,
    /// A port nothing listens on (green2).
    pub dead: u16,
}

impl Upstreams {
    pub fn start() -> Upstreams {
        let servers = ["blue1", "blue2", "green1"]
            .iter()
            .map(|n| FakeUpstream::start(n))
            .collect();
        Upstreams {
            servers,
            dead: tk::free_port(),
        }
    }
}

/// One running proxy on the lab config.
pub struct Lab {
    pub label: &'static str,
    pub proxy: Proxy,
    pub fe: u16,
    pub ro: u16,
    /// `127.0.0.1:<port>` of the admin TCP stats socket.
    pub cli: String,
}

pub fn switchyard_kind() -> ProxyKind {
    ProxyKind::Switchyard(PathBuf::from(env!("CARGO_BIN_EXE_switchyard")))
}

/// True (after saying why not) when the real HAProxy can run here.
pub fn have_haproxy(test: &str) -> bool {
    if tk::haproxy_available() {
        return true;
    }
    eprintln!(
        "{test}: {} not installed; differential part skipped",
        tk::HAPROXY_PATH
    );
    false
}

impl Lab {
    /// Start `kind` on the lab config and settle the four server states.
    pub fn start(kind: &ProxyKind, up: &Upstreams) -> Lab {
        let (fe, ro, cli) = (tk::free_port(), tk::free_port(), tk::free_port());
        let cfg = CFG
            .replace("{cli}", &cli.to_string())
            .replace("{fe}", &fe.to_string())
            .replace("{ro}", &ro.to_string())
            .replace("{u1}", &up.servers[0].port().to_string())
            .replace("{u2}", &up.servers[1].port().to_string())
            .replace("{u3}", &up.servers[2].port().to_string())
            .replace("{dead}", &up.dead.to_string());
        let mut proxy = match Proxy::builder(kind)
            .config(&cfg)
            .file("hosts.map", "SIMPLE_SERVICE blue\n")
            .spawn()
        {
            Ok(p) => p,
            Err(e) => panic!("{}: cannot start: {e}", kind.label()),
        };
        proxy.wait_ready(([127, 0, 0, 1], fe).into(), Duration::from_secs(20));
        let lab = Lab {
            label: kind.label(),
            proxy,
            fe,
            ro,
            cli: format!("127.0.0.1:{cli}"),
        };
        lab.wait_statuses(&[
            ("blue", "blue1", "UP"),
            ("blue", "blue2", "UP"),
            ("green", "green1", "UP"),
            ("green", "green2", "DOWN"),
        ]);
        lab.cmd("set server blue/blue2 state drain");
        lab.cmd("set server green/green1 state maint");
        lab.wait_statuses(&SETTLED);
        lab
    }

    /// The unix stats socket.
    pub fn sock(&self) -> PathBuf {
        self.proxy.dir().join("admin.sock")
    }

    /// One Runtime API command; its reply.
    pub fn cmd(&self, command: &str) -> String {
        tk::cli(&self.cli, command)
    }

    /// `show stat` as rows of cells (header first, without `# `).
    pub fn show_stat(&self) -> Vec<Vec<String>> {
        csv_rows(&self.cmd("show stat"))
    }

    /// `(status, check_status)` of a server.
    pub fn status(&self, px: &str, sv: &str) -> Option<(String, String)> {
        self.show_stat()
            .into_iter()
            .find(|r| {
                r.first().map(String::as_str) == Some(px)
                    && r.get(1).map(String::as_str) == Some(sv)
            })
            .map(|r| (r[17].clone(), r[36].clone()))
    }

    /// Wait until every server has its status (a settled check result,
    /// not `UP 1/2`-style transitions).
    #[track_caller]
    pub fn wait_statuses(&self, want: &[(&str, &str, &str)]) {
        tk::eventually_named(
            &format!("{}: servers reach {want:?}", self.label),
            Duration::from_secs(20),
            Duration::from_millis(50),
            || {
                // The CLI may still be binding right after the frontend.
                let rows = csv_rows(
                    &tk::try_cli(&self.cli, "show stat").map_err(|e| vec![e.to_string()])?,
                );
                let mut missing = Vec::new();
                for (px, sv, st) in want {
                    let ok = rows.iter().any(|r| {
                        r.len() > 36
                            && r[0] == *px
                            && r[1] == *sv
                            && r[17] == *st
                            && (r[17] == "MAINT" || !r[36].is_empty() && r[36] != "INI")
                    });
                    if !ok {
                        missing.push(format!("{px}/{sv}"));
                    }
                }
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(missing)
                }
            },
        );
    }

    /// `GET path` on the stats frontend, with or without the credentials.
    pub fn get(&self, path: &str, auth: bool) -> HttpResponse {
        let url = format!("http://127.0.0.1:{}{path}", self.fe);
        let headers: &[(&str, &str)] = if auth {
            &[("Authorization", AUTH)]
        } else {
            &[]
        };
        match tk::http_get(&url, headers) {
            Ok(r) => r,
            Err(e) => panic!("{}: GET {path}: {e}", self.label),
        }
    }

    /// `POST path` with a form body, authenticated.
    pub fn post(&self, port: u16, path: &str, form: &str) -> HttpResponse {
        let url = format!("http://127.0.0.1:{port}{path}");
        match tk::http_request(
            "POST",
            &url,
            &[
                ("Authorization", AUTH),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        ) {
            Ok(r) => r,
            Err(e) => panic!("{}: POST {path}: {e}", self.label),
        }
    }

    /// Three requests through `igw` to `blue`, so both proxies have the
    /// same traffic on the page.
    pub fn traffic(&self) {
        for _ in 0..3 {
            let r = self.get("/x", false);
            assert_eq!(r.status, 200, "{}: /x goes to blue", self.label);
        }
    }
}

/// CSV text to rows of cells (the `# ` of the header dropped).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.trim_start_matches("# ")
                .split(',')
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Where tests leave artifacts (screenshots, captures): `target/test-artifacts/`.
pub fn artifact_dir() -> PathBuf {
    let dir = tk::target_profile_dir()
        .and_then(|d| d.parent().map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir)
        .join("test-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}
