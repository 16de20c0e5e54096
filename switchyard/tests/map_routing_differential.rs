//! End to end against the real HAProxy: the same config and map files run
//! under haproxy and switchyard, the same requests, and the backend that
//! answered (fake upstreams name themselves in `X-Served-By`) must match.

mod common;

use common::*;
use tk::{http_request, FakeUpstream, Proxy, ProxyKind, DIR_PLACEHOLDER as DIR};

const BACKENDS: [&str; 5] = ["blue", "green", "red", "yellow", "dflt"];

fn config(port: u16, ups: &[FakeUpstream]) -> String {
    let mut cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    acl p_exact path /exact
    acl p_beg path_beg /beg
    acl p_end path_end .json
    acl p_sub path_sub /sub/
    acl p_reg path_reg ^/re[0-9]+$
    acl p_dir path_dir dir
    acl h_host hdr(host) -i admin.example
    acl h_dom hdr_dom(host) -i example.org
    acl h_found req.hdr(x-flag) -m found
    acl h_len req.hdr(x-len) -m len 3
    acl h_int req.hdr(x-num) -m int 42
    acl q_color url_param(color) -m str red
    acl m_post method POST
    acl c_beta req.cook(beta) -m str on
    acl src_lo src 127.0.0.0/8
    use_backend red if p_exact
    use_backend yellow if p_beg !m_post
    use_backend green if p_end || p_sub
    use_backend blue if p_reg
    use_backend red if p_dir
    use_backend green if h_host
    use_backend yellow if h_dom
    use_backend blue if h_found h_len
    use_backend red if h_int
    use_backend green if q_color
    use_backend yellow if c_beta
    use_backend %[req.hdr(x-svc),map({DIR}/svc.map)] if {{ req.hdr(x-svc) -m found }}
    use_backend %[str(SIMPLE_SERVICE),map({DIR}/hosts.map)] if {{ path_beg /simple }}
    use_backend %[req.hdr(x-env),lower,map({DIR}/env.map,green)] if src_lo
    default_backend dflt
"
    );
    for (name, up) in BACKENDS.iter().zip(ups) {
        cfg.push_str(&format!(
            "backend {name}\n    server {name} {}\n",
            up.addr()
        ));
    }
    cfg
}

const SVC_MAP: &str = "# service -> backend\napi blue\nweb yellow\nghost nosuchbackend\n";
const HOSTS_MAP: &str = "SIMPLE_SERVICE blue\n";
const ENV_MAP: &str = "prod red\nstaging   yellow\n";

/// (description, method, path, headers)
type Req = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

fn requests() -> Vec<Req> {
    vec![
        ("map hit", "GET", "/simple", vec![]),
        ("map hit by header", "GET", "/x", vec![("X-Svc", "api")]),
        ("map hit, second entry", "GET", "/x", vec![("X-Svc", "web")]),
        (
            "map value names no backend",
            "GET",
            "/x",
            vec![("X-Svc", "ghost")],
        ),
        (
            "map miss without default",
            "GET",
            "/x",
            vec![("X-Svc", "nope")],
        ),
        (
            "map miss uses the map default",
            "GET",
            "/x",
            vec![("X-Env", "qa")],
        ),
        ("map hit after lower", "GET", "/x", vec![("X-Env", "PROD")]),
        (
            "map hit, spaced value",
            "GET",
            "/x",
            vec![("X-Env", "staging")],
        ),
        (
            "absent header skips the map default",
            "GET",
            "/plain",
            vec![],
        ),
        ("path exact", "GET", "/exact", vec![]),
        ("path exact is not a prefix", "GET", "/exact/more", vec![]),
        ("path_beg", "GET", "/beginning", vec![]),
        ("path_beg negated by method", "POST", "/beginning", vec![]),
        ("path_end", "GET", "/data/file.json", vec![]),
        ("path_sub", "GET", "/a/sub/b", vec![]),
        ("path_reg", "GET", "/re123", vec![]),
        ("path_reg no match", "GET", "/re12x", vec![]),
        ("path_dir", "GET", "/a/dir/b", vec![]),
        ("hdr -i", "GET", "/h", vec![("Host", "ADMIN.example")]),
        ("hdr_dom", "GET", "/h", vec![("Host", "www.example.org")]),
        (
            "found and len both",
            "GET",
            "/h",
            vec![("X-Flag", "1"), ("X-Len", "abc")],
        ),
        (
            "found but len differs",
            "GET",
            "/h",
            vec![("X-Flag", "1"), ("X-Len", "abcd")],
        ),
        ("int", "GET", "/h", vec![("X-Num", "42")]),
        ("int no match", "GET", "/h", vec![("X-Num", "43")]),
        ("url_param", "GET", "/p?size=1&color=red", vec![]),
        ("url_param other value", "GET", "/p?color=blue", vec![]),
        ("cookie", "GET", "/c", vec![("Cookie", "a=1; beta=on")]),
        (
            "first matching rule wins",
            "GET",
            "/exact",
            vec![("X-Svc", "api")],
        ),
    ]
}

/// `(status, served-by or body)` for each request.
fn outcomes(port: u16) -> Vec<(u16, String)> {
    requests()
        .into_iter()
        .map(|(what, method, path, headers)| {
            let url = format!("http://127.0.0.1:{port}{path}");
            match http_request(method, &url, &headers, b"") {
                Ok(r) => {
                    let who = r
                        .header("x-served-by")
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("<no server> {}", r.text().trim()));
                    (r.status, who)
                }
                Err(e) => (0, format!("{what}: error {e}")),
            }
        })
        .collect()
}

fn spawn(kind: &ProxyKind, port: u16, ups: &[FakeUpstream]) -> Proxy {
    let mut p = Proxy::builder(kind)
        .config(&config(port, ups))
        .file("svc.map", SVC_MAP)
        .file("hosts.map", HOSTS_MAP)
        .file("env.map", ENV_MAP)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", kind.label()));
    p.wait_ready(lo(port), STARTUP);
    p
}

#[test]
fn map_and_acl_routing_matches_haproxy() {
    if !have_haproxy("map_and_acl_routing_matches_haproxy") {
        return;
    }
    let ups: Vec<FakeUpstream> = BACKENDS.iter().map(|n| FakeUpstream::start(n)).collect();
    let (hport, sport) = (tk::free_port(), tk::free_port());
    let _h = spawn(&ProxyKind::Haproxy, hport, &ups);
    let _s = spawn(&ProxyKind::Switchyard(switchyard()), sport, &ups);

    let want = outcomes(hport);
    // Sanity: the oracle routes as the seeds describe.
    assert_eq!(want[0], (200, "blue".to_owned()), "haproxy: map hit");
    assert_eq!(want[8], (200, "dflt".to_owned()), "haproxy: absent header");
    let got = outcomes(sport);

    let diffs: Vec<String> = requests()
        .iter()
        .zip(want.iter().zip(&got))
        .filter(|(_, (w, g))| w != g)
        .map(|((what, m, p, h), (w, g))| {
            format!("{what} ({m} {p} {h:?}): haproxy {w:?}, switchyard {g:?}")
        })
        .collect();
    assert!(diffs.is_empty(), "routing differs:\n{}", diffs.join("\n"));
}
