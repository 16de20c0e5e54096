//! `server` and `default-server` options, one per config, run through
//! `haproxy -c` and `switchyard -c`: the exit codes and the ALERT/WARNING
//! lines (pid and program name aside) must be the same, except for the few
//! cases in `KNOWN`, whose switchyard output is pinned.

mod common;

use std::path::Path;

use common::*;

/// Options tried on `server s1 127.0.0.1:80 <opt>`.
const SERVER_OPTS: &str = include_str!("server_keyword_cases.txt");

/// Options tried on `default-server <opt>`.
const DEFAULT_SERVER_OPTS: &[&str] = &[
    "foo",
    "weight x",
    "weight 300",
    "inter x",
    "inter 0",
    "slowstart x",
    "cookie",
    "resolvers",
    "agent-check",
    "track x",
    "addr 127.0.0.2",
    "rise 0",
    "maxconn 10x",
    "port 99999",
];

/// Where switchyard differs on purpose: (option, why, exit code, its lines).
const KNOWN: &[(&str, &str, i32, &[&str])] = &[
    (
        "send-proxy-v2",
        "PROXY protocol v2 is not implemented: refused rather than ignored",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'send-proxy-v2' is not supported by switchyard."],
    ),
    (
        "send-proxy-v2 foo",
        "refused at send-proxy-v2, before HAProxy's complaint about 'foo'",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'send-proxy-v2' is not supported by switchyard."],
    ),
    (
        "minconn 5",
        "dynamic maxconn (minconn/fullconn) is not implemented",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'minconn' is not supported by switchyard."],
    ),
    (
        "check-proto h2",
        "checks speak HTTP/1.1 only",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'check-proto' is not supported by switchyard."],
    ),
    (
        "force-tlsv12",
        "TLS version forcing is not implemented",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'force-tlsv12' is not supported by switchyard."],
    ),
    (
        "namespace foo",
        "network namespaces are not implemented (HAProxy fails too: no such namespace)",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : keyword 'namespace' is not supported by switchyard."],
    ),
    (
        "proto fcgi",
        "FastCGI is not implemented (HAProxy fails later: no fcgi-app)",
        1,
        &["ALERT config : [c.cfg:7] : 'server b/s1' : 'proto' : protocol 'fcgi' is not supported by switchyard."],
    ),
    (
        "tfo",
        "ignored with a warning; HAProxy warns about retries instead",
        2,
        &["WARNING config : parsing [c.cfg:7] : server keyword 'tfo' is ignored by switchyard."],
    ),
    (
        "no-tlsv10",
        "ignored with a warning (switchyard's TLS defaults already exclude it)",
        2,
        &["WARNING config : parsing [c.cfg:7] : server keyword 'no-tlsv10' is ignored by switchyard."],
    ),
    (
        "ssl-min-ver TLSv1.2",
        "ignored with a warning",
        2,
        &["WARNING config : parsing [c.cfg:7] : server keyword 'ssl-min-ver' is ignored by switchyard."],
    ),
    (
        "alpn h2,http/1.1",
        "switchyard offers only http/1.1 to servers and says so",
        2,
        &["WARNING config : parsing [c.cfg:7] : server 's1' : 'alpn h2,http/1.1' : switchyard speaks HTTP/1.1 to servers; only 'http/1.1' is offered."],
    ),
    (
        "default-server id 5",
        "HAProxy's non-fatal ALERT is a WARNING here (switchyard has no non-fatal alerts)",
        2,
        &["WARNING config : [c.cfg:7] : 'id' option is not accepted in default-server sections"],
    ),
];

/// Whole `server-template` lines (several lines where a case needs two).
const TEMPLATE_LINES: &[&str] = &[
    "server-template app 3 127.0.0.1:80",
    "server-template a:b 3 127.0.0.1:80",
    "server-template app 3",
    "server-template app abc 127.0.0.1:80",
    "server-template app 3-1 127.0.0.1:80",
    "server-template app 0 127.0.0.1:80",
    "server-template app -3 127.0.0.1:80",
    "server-template app 3- 127.0.0.1:80",
    "server-template app 2x 127.0.0.1:80",
    "server-template app 0-2 127.0.0.1:80",
    "server-template app 3 127.0.0.1:80 bogus",
    "server-template app 3 127.0.0.1:80 weight x",
    "server-template app 2 127.0.0.1:80 resolve-opts allow-dup-ip resolve-net 10.0.0.0/8",
    "server-template app 2 127.0.0.1:80 resolve-opts bogus",
    "server-template app 2 nosuch.invalid:80 init-addr none",
    "server app2 127.0.0.1:81\n server-template app 3 127.0.0.1:80",
    "server-template app 1-2 127.0.0.1:80\n server-template app 2-3 127.0.0.1:80",
];

fn config(line: &str) -> String {
    format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nbackend b\n{line}\n"
    )
}

/// `[ALERT]    (123) : config : x` -> `ALERT config : x`; other lines dropped.
fn normalise(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let level = ["ALERT", "WARNING"]
                .into_iter()
                .find(|lv| l.starts_with(&format!("[{lv}]")))?;
            let rest = l.split_once(") : ").map(|(_, r)| r)?;
            Some(format!("{level} {rest}"))
        })
        .collect()
}

struct Outcome {
    code: Option<i32>,
    lines: Vec<String>,
}

fn run_both(dir: &Path, name: &str, text: &str) -> (Outcome, Outcome) {
    write(dir, "c.cfg", text);
    let h = check(Path::new(tk::HAPROXY_PATH), dir, &["c.cfg"], &[]);
    let s = check(&switchyard(), dir, &["c.cfg"], &[]);
    s.assert_no_panic(name);
    (
        Outcome {
            code: h.code,
            lines: normalise(&h.stderr),
        },
        Outcome {
            code: s.code,
            lines: normalise(&s.stderr),
        },
    )
}

/// The switchyard-only summary lines are not part of the pinned text.
fn main_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            !l.contains("Error(s) found in configuration file")
                && !l.contains("Fatal errors found in configuration")
        })
        .cloned()
        .collect()
}

fn all_cases() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = SERVER_OPTS
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|o| {
            (
                o.to_string(),
                config(&format!(" server s1 127.0.0.1:80 {o}")),
            )
        })
        .collect();
    for o in DEFAULT_SERVER_OPTS {
        v.push((
            format!("default-server {o}"),
            config(&format!(" default-server {o}")),
        ));
    }
    v.push(("default-server id 5".into(), config(" default-server id 5")));
    for t in TEMPLATE_LINES {
        v.push((t.to_string(), config(&format!(" {t}"))));
    }
    v
}

#[test]
fn server_options_agree_with_haproxy() {
    if !have_haproxy("server_options_agree_with_haproxy") {
        return;
    }
    let cases = all_cases();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let dir = tempdir();
    let mut failures = Vec::new();
    for (opt, text) in &cases {
        let (h, s) = run_both(dir.path(), opt, text);
        if let Some((_, why, code, pinned)) = KNOWN.iter().find(|k| k.0 == opt) {
            let got = main_lines(&s.lines);
            if s.code != Some(*code) || got != *pinned {
                failures.push(format!(
                    "[{opt}] (known: {why}) switchyard changed: exit {:?}\n{}",
                    s.code,
                    got.join("\n")
                ));
            }
            if h.code == s.code && h.lines == s.lines {
                failures.push(format!("[{opt}] now matches HAProxy: drop it from KNOWN"));
            }
            continue;
        }
        if h.code != s.code || h.lines != s.lines {
            failures.push(format!(
                "[{opt}] haproxy exit {:?}, switchyard exit {:?}\n--- haproxy:\n{}\n--- switchyard:\n{}",
                h.code,
                s.code,
                h.lines.join("\n"),
                s.lines.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Cases that need more than one server line.
#[test]
fn multi_server_cases_agree_with_haproxy() {
    if !have_haproxy("multi_server_cases_agree_with_haproxy") {
        return;
    }
    let cases = [
        (
            "duplicate id",
            " server s0 127.0.0.1:80 id 5\n server s1 127.0.0.1:81 id 5",
        ),
        (
            "duplicate name",
            " server s0 127.0.0.1:80\n server s0 127.0.0.1:81",
        ),
        (
            "duplicate name, distinct ids",
            " server s0 127.0.0.1:80 id 1\n server s0 127.0.0.1:81 id 2",
        ),
        (
            "track without checks",
            " server s0 127.0.0.1:80\n server s1 127.0.0.1:81 track s0",
        ),
        (
            "track a checked server",
            " server s0 127.0.0.1:80 check\n server s1 127.0.0.1:81 track s0",
        ),
        (
            "track loop",
            " server s0 127.0.0.1:80 track s1\n server s1 127.0.0.1:81 track s0",
        ),
        (
            "default-server agent-port then port",
            " default-server agent-port 5555\n server s1 127.0.0.1:81 agent-check port 80",
        ),
        (
            "default-server port then agent-check",
            " default-server port 5555\n server s1 127.0.0.1:81 agent-check",
        ),
        // A file that fails to parse stops HAProxy before its whole-config
        // checks: no duplicate-name, track or http-check complaints follow.
        (
            "parse error, then a duplicate name",
            " server s0 127.0.0.1:80\n server s0 127.0.0.1:81\n server s2 127.0.0.1:82 bogus",
        ),
        (
            "parse error, then an unknown track",
            " server s0 127.0.0.1:80 track nosuch\n server s1 127.0.0.1:81 bogus",
        ),
        (
            "parse error, then http-check rules without httpchk",
            " http-check send meth GET\n server s1 127.0.0.1:81 bogus",
        ),
    ];
    let dir = tempdir();
    let mut failures = Vec::new();
    for (name, lines) in cases {
        let (h, s) = run_both(dir.path(), name, &config(lines));
        if h.code != s.code || h.lines != s.lines {
            failures.push(format!(
                "[{name}] haproxy exit {:?}, switchyard exit {:?}\n--- haproxy:\n{}\n--- switchyard:\n{}",
                h.code,
                s.code,
                h.lines.join("\n"),
                s.lines.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
