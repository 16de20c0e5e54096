//! `show map`, `get map` and `show cli sockets` output.

use std::fmt::Write;

use switchyard_config::{CliLevel, ListenAddr, MapMatch};
use switchyard_state::{MapRt, Snapshot};

/// `show map` with no argument: one line per map, by id.
pub fn map_list(snap: &Snapshot) -> String {
    let mut out = String::from("# id (file) description\n");
    let mut maps: Vec<&MapRt> = snap.maps.iter().map(|m| &**m).collect();
    maps.sort_by_key(|m| m.uid);
    for m in maps {
        let _ = writeln!(
            out,
            "{} ({}) pattern loaded from file '{}' used by map at file '{}' line {}. curr_ver={} next_ver={} entry_cnt={}",
            m.uid,
            m.name,
            m.name,
            m.first_use.file,
            m.first_use.line,
            m.curr_ver,
            m.next_ver,
            m.entry_count()
        );
    }
    out
}

/// `show map [@ver] <map>`: `0x<ref> key value` per entry.
pub fn map_entries(m: &MapRt, ver: Option<u32>) -> String {
    let mut out = String::new();
    if let Some(v) = m.version(ver) {
        for e in v.iter() {
            let _ = writeln!(out, "0x{:x} {} {}", e.reference(), e.key, e.value);
        }
    }
    out
}

/// `get map <map> <value>`.
pub fn get_map(m: &MapRt, input: &str) -> String {
    let idx = index_kind(m);
    match m.lookup(input) {
        Some(e) => format!(
            "type={}, case=sensitive, found=yes, idx={idx}, key=\"{}\", value=\"{}\", type=\"str\"\n",
            m.kind.type_name(),
            e.key,
            e.value
        ),
        None => format!("type={}, case=sensitive, found=no\n", m.kind.type_name()),
    }
}

/// How HAProxy indexes the map's patterns, as `get map`/`get acl` say.
fn index_kind(m: &MapRt) -> &'static str {
    match m.kind {
        MapMatch::Str | MapMatch::Beg | MapMatch::Ip => "tree",
        _ => "list",
    }
}

/// `get acl` on a map: its keys as an ACL's patterns.
pub fn get_acl(m: &MapRt, input: &str) -> String {
    let idx = index_kind(m);
    match m.lookup(input) {
        Some(e) => format!(
            "type={}, case=sensitive, match=yes, idx={idx}, pattern=\"{}\"\n",
            m.kind.type_name(),
            e.key
        ),
        None => format!("type={}, case=sensitive, match=no\n", m.kind.type_name()),
    }
}

/// One `show cli sockets` line for a listening address.
pub fn socket_line(addr: &ListenAddr, level: CliLevel) -> String {
    let a = match addr {
        ListenAddr::Unix(p) => format!("unix@{}", p.display()),
        ListenAddr::Tcp(std::net::SocketAddr::V4(a)) => format!("ipv4@{}:{}", a.ip(), a.port()),
        ListenAddr::Tcp(std::net::SocketAddr::V6(a)) => format!("ipv6@[{}]:{}", a.ip(), a.port()),
    };
    format!("{a} {} all\n", level.as_str())
}
