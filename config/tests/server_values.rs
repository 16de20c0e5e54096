//! Odd server option values HAProxy 2.6 accepts, and the value it takes:
//! it reads them with atol()/atoi() (digits up to the first other
//! character, 0 for none, the low 32 bits of an int, the low 16 bits of an
//! unsigned short port) and keeps slowstart in whole seconds, rounded up.
//! switchyard must take the same value. `server_keyword_parity` (in the
//! switchyard crate) checks that HAProxy accepts each of these lines.

use std::time::Duration;
use switchyard_config::model::Server;

fn server(opts: &str) -> Server {
    let text = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nbackend b\n server s1 127.0.0.1:80 {opts}\n"
    );
    let cfg = switchyard_config::parse_str("v.cfg", &text).expect("valid");
    cfg.proxies
        .into_iter()
        .find(|p| p.name == "b")
        .and_then(|p| p.backend)
        .and_then(|b| b.servers.into_iter().next())
        .expect("server s1")
}

#[test]
fn weight_is_read_with_atol() {
    assert_eq!(server("weight x").weight, 0);
    assert_eq!(server("weight").weight, 0);
    assert_eq!(server("weight 10x").weight, 10);
    assert_eq!(server("weight 1s").weight, 1);
    assert_eq!(server("weight 1e3").weight, 1);
    assert_eq!(server("weight +5").weight, 5);
    // (int)4294967297 == 1
    assert_eq!(server("weight 4294967297").weight, 1);
}

#[test]
fn limits_zero_or_negative_mean_none() {
    assert_eq!(server("maxconn x").maxconn, None);
    assert_eq!(server("maxconn").maxconn, None);
    assert_eq!(server("maxconn 10x").maxconn, Some(10));
    assert_eq!(server("maxconn -1").maxconn, None);
    assert_eq!(server("maxqueue 7q").maxqueue, Some(7));
    assert_eq!(server("maxqueue -3").maxqueue, None);
}

#[test]
fn ports_keep_their_low_16_bits() {
    assert_eq!(server("port x").check_port, None);
    assert_eq!(server("port 0").check_port, None);
    assert_eq!(server("port 99999").check_port, Some(34463));
    assert_eq!(server("port -1").check_port, Some(65535));
    assert_eq!(server("agent-port 99999").agent_port, Some(34463));
}

#[test]
fn port_is_the_agent_port_unless_agent_port_is_given() {
    let s = server("agent-check port 5555");
    assert_eq!((s.check_port, s.agent_port), (Some(5555), Some(5555)));
    let s = server("agent-check agent-port 6666 port 5555");
    assert_eq!((s.check_port, s.agent_port), (Some(5555), Some(6666)));
}

#[test]
fn counts_and_ids_are_read_with_atol() {
    assert_eq!(server("rise 3x").rise, 3);
    assert_eq!(server("fall 2s").fall, 2);
    assert_eq!(server("error-limit 4x").error_limit, 4);
    let s = server("id 5x");
    assert_eq!((s.id, s.forced_id), (5, true));
}

#[test]
fn slowstart_is_whole_seconds_rounded_up() {
    assert_eq!(
        server("slowstart 10ms").slowstart,
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        server("slowstart 1500ms").slowstart,
        Some(Duration::from_secs(2))
    );
    assert_eq!(server("slowstart 0").slowstart, None);
    assert_eq!(
        server("slowstart 30s").slowstart,
        Some(Duration::from_secs(30))
    );
}

#[test]
fn empty_init_addr_keeps_no_method() {
    assert!(server("init-addr").init_addr.is_empty());
}

fn template(line: &str) -> Result<Vec<Server>, String> {
    let text = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nbackend b\n {line}\n"
    );
    switchyard_config::parse_str("t.cfg", &text)
        .map(|cfg| {
            cfg.proxies
                .into_iter()
                .find(|p| p.name == "b")
                .and_then(|p| p.backend)
                .map(|b| b.servers)
                .unwrap_or_default()
        })
        .map_err(|e| {
            e.errors
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
}

#[test]
fn template_ranges_are_read_with_atoi() {
    let names = |line: &str| -> Vec<String> {
        template(line)
            .expect("valid")
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(
        names("server-template a 3 127.0.0.1:80"),
        ["a1", "a2", "a3"]
    );
    assert_eq!(names("server-template a 2x 127.0.0.1:80"), ["a1", "a2"]);
    assert_eq!(names("server-template a 0-1 127.0.0.1:80"), ["a0", "a1"]);
    assert_eq!(names("server-template a 7-7 127.0.0.1:80"), ["a7"]);
    // Every server gets the template's options and its own id.
    let servers = template("server-template a 2 127.0.0.1:80 weight 7 backup").expect("valid");
    assert!(servers.iter().all(|s| s.weight == 7 && s.backup));
    assert_eq!(servers.iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_template_too_large_is_refused_not_allocated() {
    // HAProxy would try to allocate (int)99999999999 servers.
    let e = template("server-template a 99999999999 127.0.0.1:80").expect_err("refused");
    assert!(
        e.contains("t.cfg:7") && e.contains("makes more than 100000 servers"),
        "{e}"
    );
    let e = template("server-template a -3 127.0.0.1:80").expect_err("refused");
    assert!(
        e.contains("Wrong server-template number or range arg '-3'."),
        "{e}"
    );
}

#[test]
fn srv_record_names_are_refused_with_their_line() {
    let e =
        template("server-template a 2 _http._tcp.app.test:80 init-addr none").expect_err("refused");
    assert!(
        e.contains("t.cfg:7") && e.contains("SRV record names are not supported by switchyard"),
        "{e}"
    );
}
