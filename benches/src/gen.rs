//! haproxy.cfg and map-file text generators. Every config here is also valid
//! for the real haproxy 2.6 (a test runs `haproxy -c` on each), so the same
//! text can drive switchyard, haproxy and the comparison script.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

/// The map key seed 000 routes by.
pub const KEY: &str = "SIMPLE_SERVICE";

/// A seed-000-style config: one frontend routing with
/// `use_backend %[str(SIMPLE_SERVICE),map(<file>)]`, backends `blue` and
/// `green`, and `DEFAULT` answering 404.
#[derive(Debug, Clone)]
pub struct MapCfg {
    pub bind: SocketAddr,
    /// The Runtime API on TCP, if any.
    pub stats: Option<SocketAddr>,
    pub blue: SocketAddr,
    pub green: SocketAddr,
    /// Servers per colour: the first is `blue`/`green` at the address above,
    /// the rest `blue2..` on consecutive ports (never contacted by benches).
    pub servers_per_backend: usize,
    pub nbthread: Option<usize>,
    pub maxconn: u32,
}

impl MapCfg {
    pub fn new(bind: SocketAddr, blue: SocketAddr, green: SocketAddr) -> MapCfg {
        MapCfg {
            bind,
            stats: None,
            blue,
            green,
            servers_per_backend: 1,
            nbthread: None,
            maxconn: 8192,
        }
    }

    pub fn render(&self, map_path: &Path) -> String {
        let mut s = String::new();
        s.push_str("global\n");
        let _ = writeln!(s, "    maxconn {}", self.maxconn);
        if let Some(n) = self.nbthread {
            let _ = writeln!(s, "    nbthread {n}");
        }
        if let Some(st) = self.stats {
            let _ = writeln!(s, "    stats socket ipv4@{st} level admin");
            s.push_str("    stats timeout 2m\n");
        }
        s.push_str(DEFAULTS);
        s.push_str("frontend igw\n");
        let _ = writeln!(s, "    bind {}", self.bind);
        let _ = writeln!(s, "    maxconn {}", self.maxconn);
        s.push_str("    mode http\n    default_backend DEFAULT\n    option forwardfor\n");
        let _ = writeln!(
            s,
            "    use_backend %[str({KEY}),map({})]\n",
            map_path.display()
        );
        backend(&mut s, "blue", self.blue, self.servers_per_backend);
        backend(&mut s, "green", self.green, self.servers_per_backend);
        s.push_str(DEFAULT_BACKEND);
        s
    }
}

const DEFAULTS: &str = "
defaults
    mode    http
    http-reuse aggressive
    timeout connect 2s
    timeout client 5m
    timeout server 30s
    timeout http-keep-alive 5m

";

const DEFAULT_BACKEND: &str = "backend DEFAULT
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
";

fn backend(s: &mut String, name: &str, first: SocketAddr, count: usize) {
    let _ = writeln!(s, "backend {name}");
    s.push_str("    mode http\n    option http-keep-alive\n    balance roundrobin\n");
    for i in 0..count.max(1) {
        let (sname, addr) = if i == 0 {
            (name.to_string(), first)
        } else {
            let port = first.port().wrapping_add(i as u16).max(1);
            (
                format!("{name}{}", i + 1),
                SocketAddr::new(first.ip(), port),
            )
        };
        let _ = writeln!(s, "    server {sname} {addr}");
    }
    s.push('\n');
}

/// A map file: `SIMPLE_SERVICE blue` first, then `svcN blue|green` filler up
/// to `entries` lines.
pub fn map_text(entries: usize) -> String {
    let mut s = String::with_capacity(entries * 16);
    let _ = writeln!(s, "{KEY} blue");
    for i in 1..entries {
        let _ = writeln!(s, "svc{i} {}", if i % 2 == 0 { "blue" } else { "green" });
    }
    s
}

/// A frontend with `rules` ACL-guarded `use_backend` lines, each testing the
/// Host header and a path prefix (`acl h<i> hdr(host) -i svc<i>.example.com`,
/// `acl p<i> path_beg /api/v<i>/`, `use_backend be<i%2> if h<i> p<i>`).
/// [`AclCfg::last_rule_request`] matches only the last rule: the worst case.
#[derive(Debug, Clone)]
pub struct AclCfg {
    pub bind: SocketAddr,
    pub upstream: SocketAddr,
    pub rules: usize,
}

impl AclCfg {
    pub fn render(&self) -> String {
        let mut s = String::from("global\n    maxconn 8192\n");
        s.push_str(DEFAULTS);
        s.push_str("frontend web\n");
        let _ = writeln!(s, "    bind {}", self.bind);
        s.push_str("    default_backend DEFAULT\n");
        for i in 0..self.rules {
            let _ = writeln!(s, "    acl h{i} hdr(host) -i svc{i}.example.com");
            let _ = writeln!(s, "    acl p{i} path_beg /api/v{i}/");
            let _ = writeln!(s, "    use_backend be{} if h{i} p{i}", i % 2);
        }
        s.push('\n');
        backend(&mut s, "be0", self.upstream, 1);
        backend(&mut s, "be1", self.upstream, 1);
        s.push_str(DEFAULT_BACKEND);
        s
    }

    /// Host and path that match rule `rules - 1` only.
    pub fn last_rule_request(&self) -> (String, String) {
        let i = self.rules.saturating_sub(1);
        (format!("svc{i}.example.com"), format!("/api/v{i}/items"))
    }
}

/// Seed 004's rule: `use_backend %[str(active),map(<file>,backend_blue)]`
/// (a map with a default value).
pub fn seed004_cfg(bind: SocketAddr, upstream: SocketAddr, map_path: &Path) -> String {
    let mut s = String::from("global\n    maxconn 8192\n");
    s.push_str(DEFAULTS);
    s.push_str("frontend fe_http\n");
    let _ = writeln!(s, "    bind {bind}");
    let _ = writeln!(
        s,
        "    use_backend %[str(active),map({},backend_blue)]\n",
        map_path.display()
    );
    backend(&mut s, "backend_blue", upstream, 2);
    backend(&mut s, "backend_green", upstream, 2);
    s
}

/// The map for [`seed004_cfg`].
pub fn seed004_map() -> &'static str {
    "active backend_blue\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The generated configs are real haproxy 2.6 configs: the oracle accepts them.
    fn haproxy_accepts(cfg: &str, dir: &Path) {
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        let out = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .expect("run haproxy -c");
        assert!(
            out.status.success(),
            "haproxy -c rejected:\n{cfg}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn generated_configs_pass_haproxy_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let map = dir.path().join("hosts.map");
        std::fs::write(&map, map_text(1000)).expect("map");
        let mut m = MapCfg::new(addr(18785), addr(13000), addr(14000));
        m.stats = Some(addr(19000));
        m.nbthread = Some(1);
        m.servers_per_backend = 500;
        haproxy_accepts(&m.render(&map), dir.path());
        haproxy_accepts(
            &AclCfg {
                bind: addr(18786),
                upstream: addr(13000),
                rules: 10,
            }
            .render(),
            dir.path(),
        );
        let m4 = dir.path().join("bluegreen.map");
        std::fs::write(&m4, seed004_map()).expect("map");
        haproxy_accepts(&seed004_cfg(addr(18787), addr(13000), &m4), dir.path());
    }

    #[test]
    fn map_text_has_the_key_first_and_n_lines() {
        let t = map_text(100);
        assert_eq!(t.lines().count(), 100);
        assert_eq!(t.lines().next(), Some("SIMPLE_SERVICE blue"));
    }

    #[test]
    fn last_rule_request_names_the_last_rule() {
        let c = AclCfg {
            bind: addr(1),
            upstream: addr(2),
            rules: 10,
        };
        assert_eq!(
            c.last_rule_request(),
            ("svc9.example.com".to_string(), "/api/v9/items".to_string())
        );
    }
}
