//! Config texts for `-c` tests. `D` is the 5-line `defaults` section, so a
//! line right after it is line 6.

#![allow(dead_code)]

use super::DEFAULTS as D;

/// A broken config HAProxy 2.6 rejects (exit 1), and the line it blames
/// (`None`: HAProxy names no location, as for an unknown `use_backend`).
pub struct Broken {
    pub name: &'static str,
    pub text: String,
    pub line: Option<usize>,
    /// A word the error must mention.
    pub mentions: &'static str,
}

fn b(name: &'static str, text: String, line: Option<usize>, mentions: &'static str) -> Broken {
    Broken {
        name,
        text,
        line,
        mentions,
    }
}

const FE: &str = "frontend f\n    bind 127.0.0.1:18001\n";
const BE: &str = "backend b\n    server s 127.0.0.1:1\n";

/// The malformed-config table: every entry must give exit 1 with
/// `file:line`, never a panic.
pub fn broken() -> Vec<Broken> {
    vec![
        b("truncated_bind", "frontend f\n    bind\n".into(), Some(2), "bind"),
        b(
            "truncated_no_lf",
            "frontend f\n    bind 127.0.0.1:18001\n    default_back".into(),
            Some(3),
            "default_back",
        ),
        b("unknown_global_keyword", "global\n    foo bar\n".into(), Some(2), "foo"),
        b(
            "unknown_section",
            "frontnd f\n    bind 127.0.0.1:18001\n".into(),
            Some(1),
            "frontnd",
        ),
        b("server_out_of_section", "server s 127.0.0.1:1\n".into(), Some(1), "server"),
        b(
            "missing_map_file",
            format!(
                "{D}{FE}    use_backend %[str(a),map(/nonexistent/switchyard-test.map)]\n    default_backend b\n{BE}"
            ),
            Some(8),
            "switchyard-test.map",
        ),
        b(
            "truncated_sample_expression",
            format!("{D}{FE}    use_backend %[str(a),map(x.map]\n"),
            Some(8),
            "map",
        ),
        b(
            "bad_timeout_unit",
            format!("{D}{FE}    timeout client 10xs\n"),
            Some(8),
            "timeout client",
        ),
        b(
            "timeout_overflow",
            format!("{D}{FE}    timeout client 99999999999d\n"),
            Some(8),
            "timeout client",
        ),
        b("bad_server_port", format!("{D}backend b\n    server s 127.0.0.1:99999\n"), Some(7), "99999"),
        b("bad_bind_port", "frontend f\n    bind 127.0.0.1:notaport\n".into(), Some(2), "notaport"),
        b(
            "weight_out_of_range",
            format!("{D}backend b\n    server s 127.0.0.1:80 weight 300\n"),
            Some(7),
            "weight",
        ),
        b(
            "rise_not_a_number",
            format!("{D}backend b\n    server s 127.0.0.1:80 check rise abc\n"),
            Some(7),
            "rise",
        ),
        b(
            "inter_zero",
            format!("{D}{FE}    default_backend b\nbackend b\n    server s 127.0.0.1:1 inter 0\n"),
            Some(10),
            "inter",
        ),
        b("nbthread_zero", "global\n    nbthread 0\n".into(), Some(2), "nbthread"),
        b(
            "duplicate_backend",
            format!("{D}{FE}    default_backend b\n{BE}{BE}"),
            Some(11),
            "'b'",
        ),
        b(
            "duplicate_server",
            format!("{D}{FE}    default_backend b\n{BE}    server s 127.0.0.1:2\n"),
            Some(11),
            "'s'",
        ),
        b(
            "unterminated_quote",
            format!("{D}{FE}    http-request return status 404 string \"abc\n"),
            Some(8),
            "quote",
        ),
        b(
            "unknown_fetch",
            format!("{D}{FE}    acl a nosuchfetch x\n    use_backend b if a\n{BE}"),
            Some(8),
            "nosuchfetch",
        ),
        b(
            "unknown_acl",
            format!("{D}{FE}    use_backend b if nosuchacl\n{BE}"),
            Some(8),
            "nosuchacl",
        ),
        b("unknown_balance", format!("{D}backend b\n    balance nosuch\n{}", "    server s 127.0.0.1:1\n"), Some(7), "balance"),
        b("unknown_mode", format!("{D}backend b\n    mode smtp\n"), Some(7), "smtp"),
        b("unknown_option", format!("{D}backend b\n    option nosuchoption\n"), Some(7), "nosuchoption"),
        b(
            "bad_return_status",
            format!("{D}{FE}    http-request return status 99\n"),
            Some(8),
            "99",
        ),
        b(
            "default_backend_without_name",
            format!("{D}{FE}    default_backend\n"),
            Some(8),
            "default_backend",
        ),
        b("stats_socket_without_address", "global\n    stats socket\n".into(), Some(2), "stats socket"),
        b("server_without_address", format!("{D}backend b\n    server s\n"), Some(7), "server"),
        b(
            "bad_expect_status",
            format!("{D}listen l\n    bind 127.0.0.1:18001\n    http-check expect status abc\n"),
            Some(8),
            "http-check",
        ),
        b("unknown_backend", format!("{D}{FE}    use_backend nope\n"), None, "nope"),
    ]
}

/// Configs where HAProxy's verdict is less obvious (it accepts some junk
/// numbers, an `if` without condition...): only the exit codes are compared.
pub fn edge_cases() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("comments_only", "# nothing\n\n   # here\n".into()),
        (
            "if_without_condition",
            format!("{D}{FE}    use_backend b if\n{BE}"),
        ),
        (
            "acl_without_pattern",
            format!("{D}{FE}    acl a path_beg\n    use_backend b if a\n{BE}"),
        ),
        (
            "frontend_without_bind",
            format!("{D}frontend f\n    default_backend b\n{BE}"),
        ),
        (
            "missing_timeouts",
            format!("{FE}    default_backend b\n{BE}"),
        ),
        (
            "stats_socket_only",
            "global\n    stats socket ipv4@127.0.0.1:18002 level admin\n".into(),
        ),
        (
            "listen_section",
            format!("{D}listen l\n    bind 127.0.0.1:18001\n    server s 127.0.0.1:1\n"),
        ),
        (
            "tabs_and_crlf",
            format!("{D}frontend\tf\r\n\tbind\t127.0.0.1:18001\r\n\tdefault_backend b\r\n{BE}"),
        ),
    ]
}

/// Junk numbers HAProxy silently reads as 0 (C's `atol`); switchyard refuses
/// them with a `file:line` error instead — a deliberate difference: a typo
/// in `maxconn` should not quietly become "no limit".
pub fn stricter_than_haproxy() -> Vec<(&'static str, String, usize)> {
    vec![
        ("global_maxconn_junk", "global\n    maxconn abc\n".into(), 2),
        ("global_maxconn_overflow", "global\n    maxconn 99999999999999999999\n".into(), 2),
        (
            // SRV service discovery is not implemented: refused, not left
            // to wait for an A record that never comes.
            "srv_record_server",
            format!("{D}resolvers r\n    nameserver dns 127.0.0.1:53\n{FE}    default_backend b\nbackend b\n    server-template s 2 _http._tcp.app.test resolvers r init-addr none\n"),
            12,
        ),
        (
            "retries_junk",
            format!("{D}{FE}    default_backend b\nbackend b\n    retries abc\n    server s 127.0.0.1:1\n"),
            10,
        ),
    ]
}
