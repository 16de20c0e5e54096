//! The demo's haproxy.cfg: seed 000's blue/green-by-map setup, with literal
//! loopback addresses instead of its `resolvers` section (which queried a
//! LAN DNS server), and ports chosen at start.

use std::path::Path;

use super::ports::DemoPorts;

/// The config text, naming the map file at `map`.
pub fn config_text(p: &DemoPorts, map: &Path) -> String {
    let map = map.display();
    format!(
        "global
    maxconn 8192
    log stdout format raw daemon debug
    stats socket ipv4@127.0.0.1:{admin} level admin
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
    bind *:{proxy}
    mode http
    stats enable
    monitor-uri /haproxy-status
    stats uri /admin
    stats auth admin:admin
    stats refresh 5s
    default_backend DEFAULT
    option forwardfor
    use_backend %[str(SIMPLE_SERVICE),map({map})]

backend blue
    mode http
    option http-keep-alive
    timeout http-keep-alive 10m
    timeout connect 10s
    balance roundrobin
    option httpchk
    option redispatch
    retries 1000
    retry-on all-retryable-errors
    http-check send meth GET  uri /
    server blue 127.0.0.1:{blue} maxconn 10 check inter 2s  fall 2  rise 2 slowstart 5000

backend green
    mode http
    option http-keep-alive
    timeout http-keep-alive 10m
    timeout connect 10s
    balance roundrobin
    option httpchk
    option redispatch
    retries 1000
    retry-on all-retryable-errors
    http-check send meth GET  uri /
    server green 127.0.0.1:{green} maxconn 10 check inter 2s  fall 2  rise 2 slowstart 5000

backend DEFAULT
    http-request set-log-level silent
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
",
        admin = p.admin,
        proxy = p.proxy,
        blue = p.blue,
        green = p.green,
    )
}

/// The map routes everything to blue at first.
pub const MAP_TEXT: &str = "SIMPLE_SERVICE blue\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_resolvers_and_loopback_servers() {
        let p = DemoPorts {
            proxy: 1,
            admin: 2,
            blue: 3,
            green: 4,
        };
        let t = config_text(&p, Path::new("/tmp/x/hosts.map"));
        assert!(!t.contains("resolvers"));
        assert!(!t.contains("192.168."));
        assert!(t.contains("server blue 127.0.0.1:3 "));
        assert!(t.contains("map(/tmp/x/hosts.map)"));
        assert!(t.contains("ipv4@127.0.0.1:2 level admin"));
    }
}
