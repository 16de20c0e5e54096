//! The Runtime API over real sockets, against HAProxy 2.6's captured
//! outputs: framing, errors, permissions, maps, and malformed input.

mod common;

use std::time::Duration;

use common::{raw, socat, socat_str, Admin};

const CFG: &str = "
global
    maxconn 1000
    stats socket ipv4@127.0.0.1:{p1} level admin
    stats socket ipv4@127.0.0.1:{p2} level operator
    stats socket ipv4@127.0.0.1:{p3} level user
    stats timeout 2s

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{p4}
    use_backend %[req.hdr(x-be),map(MAPFILE,be_app)]
    default_backend be_app

backend be_app
    balance roundrobin
    server s1 127.0.0.1:1 weight 1
    server s2 127.0.0.1:2 weight 10

backend be_green
    server g1 127.0.0.1:3
";

fn start() -> (Admin, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    std::io::Write::write_all(&mut f, b"blue be_app\ngreen be_green\n").expect("write");
    let cfg = CFG.replace("MAPFILE", &f.path().display().to_string());
    (Admin::start(&cfg), f)
}

#[test]
fn help_unknown_and_empty_line_match_haproxy() {
    let (a, _m) = start();
    assert_eq!(
        socat_str(a.addr(), "help\n"),
        include_str!("data/cli-help.txt")
    );
    assert_eq!(
        socat_str(a.addr(), "xyzzy\n"),
        include_str!("data/cli-unknown-command.txt")
    );
    assert_eq!(
        socat_str(a.addr(), "\n"),
        include_str!("data/cli-empty-line.txt")
    );
}

#[test]
fn chained_commands_and_framing() {
    let (a, _m) = start();
    assert_eq!(
        socat_str(
            a.addr(),
            "get weight be_app/s1;show cli level;get weight be_app/s2\n"
        ),
        "1 (initial 1)\n\nadmin\n\n10 (initial 10)\n\n"
    );
    // Unterminated line: nothing runs.
    assert_eq!(socat_str(a.addr(), "show cli level"), "");
    // CRLF, blanks, escapes.
    assert_eq!(socat_str(a.addr(), "  show\tcli level  \r\n"), "admin\n\n");
    assert_eq!(
        socat_str(a.addr(), "show\\ cli level\n").lines().next(),
        Some("Unknown command, but maybe one of the following ones is a better match:")
    );
    // quit closes without a prompt; later lines are not run.
    assert_eq!(
        socat_str(a.addr(), "show cli level\nquit\nshow cli level\n"),
        "admin\n\n"
    );
}

#[test]
fn prompt_mode_and_payload() {
    let (a, _m) = start();
    let out = socat_str(a.addr(), "prompt\nget weight be_app/s1\nshow cli level\n");
    assert_eq!(out, "\n> 1 (initial 1)\n\n> admin\n\n> ");
    let m = _m.path().display().to_string();
    let out = socat_str(
        a.addr(),
        &format!("prompt\nadd map {m} <<\nk3 v3\n\nshow map {m}\n"),
    );
    let out = common::norm_addrs(&out);
    assert_eq!(
        out,
        "\n> + + \n> 0xADDR blue be_app\n0xADDR green be_green\n0xADDR k3 v3\n\n> "
    );
}

#[test]
fn permission_matrix() {
    let (a, m) = start();
    let (admin, oper, user) = (&a.addrs[0], &a.addrs[1], &a.addrs[2]);
    let m = m.path().display().to_string();
    assert_eq!(socat_str(oper, "show cli level\n"), "operator\n\n");
    assert_eq!(socat_str(user, "show cli level\n"), "user\n\n");
    for addr in [oper, user] {
        assert_eq!(
            socat_str(addr, "set server be_app/s1 state drain\n"),
            "Permission denied\n\n"
        );
        assert_eq!(
            socat_str(addr, "set weight be_app/s1 5\n"),
            "Permission denied\n\n"
        );
        assert_eq!(
            socat_str(addr, "disable frontend fe\n"),
            "Permission denied\n\n"
        );
        assert_eq!(
            socat_str(addr, "clear counters all\n"),
            "Permission denied\n\n"
        );
        // Reads are allowed.
        assert_eq!(
            socat_str(addr, "get weight be_app/s1\n"),
            "1 (initial 1)\n\n"
        );
    }
    assert_eq!(socat_str(oper, "clear counters\n"), "\n");
    assert_eq!(socat_str(user, "clear counters\n"), "Permission denied\n\n");
    // In 2.6 map writers need no level.
    assert_eq!(
        socat_str(user, &format!("set map {m} blue be_green\n")),
        "\n"
    );
    // Levels can be lowered, never raised.
    assert_eq!(
        socat_str(admin, "user;show cli level;operator\n"),
        "\nuser\n\nPermission denied\n\n"
    );
    assert_eq!(socat_str(admin, "user -;show cli level\n"), "user\n\n");
    // addr/cookie/algo blank at user level.
    let u = socat_str(user, "show stat\n");
    let row = u
        .lines()
        .find(|l| l.starts_with("be_app,s1,"))
        .unwrap_or_default()
        .to_string();
    assert!(!row.contains("127.0.0.1:1"), "{row}");
    let ad = socat_str(admin, "show stat\n");
    assert!(ad.contains("127.0.0.1:1,"));
}

#[test]
fn error_texts() {
    let (a, m) = start();
    let m = m.path().display().to_string();
    let cases: Vec<(String, &str)> = vec![
        ("set server".into(), "Require 'backend/server'.\n\n"),
        ("set server be_app/s1".into(), "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n"),
        ("set server be_app/s1 state bogus".into(), "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"),
        ("set server be_app/s1 health bogus".into(), "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n"),
        ("set server be_app/nope state ready".into(), "No such server.\n\n"),
        ("set server nope/s1 state ready".into(), "No such backend.\n\n"),
        ("get weight be_app".into(), "Require 'backend/server'.\n\n"),
        ("set weight be_app/s1".into(), "Require <weight> or <weight%>.\n\n"),
        ("set server be_app/s1 weight 300".into(), "Absolute weight can only be between 0 and 256 inclusive.\n\n"),
        ("set server be_app/s1 weight abc".into(), "Empty weight string empty or preceded by garbage\n"),
        ("set server be_app/s1 weight 5x".into(), "Trailing garbage in weight string\n"),
        ("enable health be_app/s1".into(), "Health check was not configured on this server, cannot enable.\n\n"),
        ("enable agent be_app/s1".into(), "Agent was not configured on this server, cannot enable.\n\n"),
        ("set server be_app/s1 agent up".into(), "agent checks are not enabled on this server.\n\n"),
        ("show servers conn nosuch".into(), "Can't find backend.\n\n"),
        ("show servers state nosuch".into(), "Can't find backend.\n\n"),
        ("show stat nosuch 4 -1".into(), "No such proxy.\n\n"),
        ("show map nosuch.map".into(), "Unknown map identifier. Please use #<id> or <file>.\n\n"),
        (format!("set map {m} nokey v"), "entry not found.\n\n"),
        (format!("set map {m} #0x1 v"), "key or pattern not found.\n\n"),
        ("set map".into(), "'set map' expects three parameters: map identifier, key and value.\n\n"),
        (format!("add map {m} onlykey"), "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n"),
        (format!("del map {m} nokey"), "Key not found.\n\n"),
        (format!("del map {m}"), "This command expects two parameters: map identifier and key.\n\n"),
        (format!("commit map @5 {m}"), "Version number out of range.\n\n"),
        (format!("commit map {m}"), "Missing version number.\n\n"),
        (format!("add map @9 {m} a b"), "Version number in the future, please use 'prepare map' before.\n\n"),
        ("set maxconn global".into(), "Expects an integer value.\n\n"),
        ("disable frontend nope".into(), "No such frontend.\n\n"),
        ("debug dev panic".into(), "This command is restricted to expert mode only.\n\n"),
    ];
    for (cmd, want) in cases {
        assert_eq!(socat_str(a.addr(), &format!("{cmd}\n")), want, "{cmd}");
    }
}

#[test]
fn map_writes_publish_before_the_reply() {
    let (a, m) = start();
    let m = m.path().display().to_string();
    let gen0 = a.store.load().generation;
    assert_eq!(
        socat_str(a.addr(), &format!("set map {m} blue be_green\n")),
        "\n"
    );
    // The reply came after the publish: the snapshot already routes green.
    let snap = a.store.load();
    assert_eq!(snap.generation, gen0 + 1);
    let mi = snap.map_idx(&m).expect("map");
    let e = snap.maps[mi.get()].lookup("blue").expect("entry");
    assert_eq!(&*e.value, "be_green");
    assert!(e.backend.is_some());
    // A failing command publishes nothing.
    assert_eq!(
        socat_str(a.addr(), &format!("set map {m} nokey x\n")),
        "entry not found.\n\n"
    );
    assert_eq!(a.store.load().generation, gen0 + 1);
}

#[test]
fn versions_prepare_commit() {
    let (a, m) = start();
    let m = m.path().display().to_string();
    let out = socat_str(
        a.addr(),
        &format!("prepare map {m}\nadd map @1 {m} k1 v1\nshow map @1 {m}\ncommit map @1 {m}\nshow map {m}\nshow map\n"),
    );
    let out = common::norm_addrs(&out);
    let want = format!(
        "New version created: 1\n\n\n0xADDR k1 v1\n\n\n0xADDR k1 v1\n\n# id (file) description\n2 ({m}) pattern loaded from file '{m}' used by map at file 'test.cfg' line 17. curr_ver=1 next_ver=1 entry_cnt=1\n\n"
    );
    assert_eq!(out, want);
}

#[test]
fn server_state_changes() {
    let (a, _m) = start();
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 state drain\n"),
        "\n"
    );
    let st = socat_str(a.addr(), "show stat be_app 4 1\n");
    assert!(
        st.lines().nth(1).is_some_and(|l| l.contains(",DRAIN,")),
        "{st}"
    );
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 state maint\n"),
        "\n"
    );
    let st = socat_str(a.addr(), "show servers state be_app\n");
    assert!(
        st.lines()
            .nth(2)
            .is_some_and(|l| l.starts_with("3 be_app 1 s1 127.0.0.1 0 1 ")),
        "{st}"
    );
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 state ready\n"),
        "\n"
    );
    assert_eq!(
        socat_str(
            a.addr(),
            "set server be_app/s2 weight 50%\nget weight be_app/s2\n"
        ),
        "\n5 (initial 10)\n\n"
    );
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 addr 127.0.0.2 port 8080\n"),
        "IP changed from '127.0.0.1' to '127.0.0.2', port changed from '1' to '8080' by 'stats socket command'\n\n"
    );
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 addr 127.0.0.2\n"),
        "no need to change the addr by 'stats socket command'\n\n"
    );
    assert_eq!(
        socat_str(a.addr(), "set server be_app/s1 addr nope\n"),
        "Invalid addr 'nope' by 'stats socket command'\n\n"
    );
}

#[test]
fn malformed_input_never_breaks_the_server() {
    let (a, m) = start();
    let m = m.path().display().to_string();
    let gen0 = a.store.load().generation;
    // Binary garbage.
    let g = raw(
        a.addr(),
        b"\xff\xfe\x00\x01garbage\x80\n",
        true,
        Duration::from_secs(3),
    );
    assert!(String::from_utf8_lossy(&g).starts_with("Unknown command"));
    // A 1 MiB line: the session closes without running anything.
    let mut big = vec![b'a'; 1 << 20];
    big.push(b'\n');
    assert_eq!(raw(a.addr(), &big, true, Duration::from_secs(5)), b"");
    // A half-sent line, the client keeping the connection open: no reply.
    assert_eq!(
        raw(a.addr(), b"show cli lev", false, Duration::from_millis(500)),
        b""
    );
    // Thousands of commands on one line.
    let many = "show cli level;".repeat(1000) + "\n";
    let out = socat(a.addr(), many.as_bytes());
    // ... and the empty command after the last `;` prints the full list.
    let want = "admin\n\n".repeat(1000) + include_str!("data/cli-empty-line.txt");
    assert_eq!(String::from_utf8_lossy(&out), want);
    // Missing arguments everywhere.
    for cmd in [
        "set",
        "set map",
        "add map",
        "del map",
        "get map",
        "clear map",
        "commit map",
        "prepare map",
        "set weight",
        "set server /",
        "set server a/",
        "set maxconn server",
        "set maxconn frontend",
        "enable",
        "disable server",
        "show stat domain",
        "show servers",
        "shutdown sessions server",
        "set timeout",
        "operator x y",
    ] {
        let out = socat_str(a.addr(), &format!("{cmd}\n"));
        assert!(out.ends_with('\n'), "{cmd}: {out:?}");
    }
    // Routing state unchanged.
    assert_eq!(a.store.load().generation, gen0);
    assert_eq!(
        common::norm_addrs(&socat_str(a.addr(), &format!("show map {m}\n"))),
        "0xADDR blue be_app\n0xADDR green be_green\n\n"
    );
}
