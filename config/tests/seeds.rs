//! The configurations from the seed articles load unmodified (seed 000
//! split where the blog glued lines) and mean what they say.
//!
//! Their map files live at absolute paths; the tests create them when
//! missing (and remove exactly what they created), so one test at a time
//! touches them: a process-wide lock serialises the tests of this file.

mod common;

use common::{fixtures, TempFile};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use switchyard_config::*;

static MAP_FILES: Mutex<()> = Mutex::new(());

const HOSTS_MAP: &str = "/home/dong/code/learn-haproxy/hosts.map";
const BLUEGREEN_MAP: &str = "/etc/haproxy/maps/bluegreen.map";

fn load_seed(name: &str) -> Config {
    let path = fixtures().join("seeds").join(name);
    match load(&[path]) {
        Ok(c) => c,
        Err(e) => {
            let errs: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
            panic!("{name} should load:\n{}", errs.join("\n"));
        }
    }
}

#[test]
fn seed000_bluegreen_map() {
    let _lock = MAP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let map = TempFile::ensure(Path::new(HOSTS_MAP), "SIMPLE_SERVICE blue\n");
    let cfg = load_seed("seed000_bluegreen_map.cfg");

    // global
    let g = &cfg.global;
    assert_eq!(g.maxconn, Some(8192));
    assert_eq!(g.stats_timeout, Duration::from_secs(120));
    assert_eq!(g.stats_sockets.len(), 1);
    assert_eq!(
        g.stats_sockets[0].addr,
        ListenAddr::Tcp("127.0.0.1:9000".parse().expect("addr"))
    );
    assert_eq!(g.stats_sockets[0].level, CliLevel::Admin);
    assert_eq!(g.logs.len(), 1);
    assert_eq!(g.logs[0].dest, LogDest::Stdout);
    assert_eq!(g.logs[0].format, LogFormatKind::Raw);
    assert_eq!(g.logs[0].facility, "daemon");
    assert_eq!(g.logs[0].level, Some(LogLevel::Debug));

    // resolvers
    assert_eq!(cfg.resolvers.len(), 1);
    let r = &cfg.resolvers[0];
    assert_eq!(r.name, "local");
    assert_eq!(
        r.nameservers[0],
        ("ns1".to_string(), "127.0.0.53:53".parse().expect("addr"))
    );
    assert_eq!(r.nameservers[1].0, "ns2");
    assert_eq!(r.hold.get("valid"), Some(&Duration::from_secs(5)));
    assert_eq!(r.resolve_retries, 3);
    assert_eq!(r.timeout_retry, Duration::from_secs(1));
    assert_eq!(r.timeout_resolve, Duration::from_secs(1));

    // proxies, ids from 2 in config order
    let names: Vec<(&str, u32)> = cfg
        .proxies
        .iter()
        .map(|p| (p.name.as_str(), p.id))
        .collect();
    assert_eq!(
        names,
        vec![("igw", 2), ("blue", 3), ("green", 4), ("DEFAULT", 5)]
    );

    let igw = cfg.frontend("igw").expect("igw");
    assert_eq!(igw.kind, ProxyKind::Frontend);
    assert_eq!(igw.mode, Mode::Http);
    assert!(igw.options.httplog && igw.options.dontlognull);
    assert_eq!(igw.logs, g.logs, "log global copies the global targets");
    assert_eq!(igw.timeouts.client, Some(Duration::from_secs(60)));
    assert!(igw
        .options
        .forwardfor
        .as_ref()
        .is_some_and(|f| f.header == "X-Forwarded-For"));
    let fe = igw.frontend.as_ref().expect("frontend side");
    assert!(igw.backend.is_none());
    assert_eq!(fe.binds.len(), 1);
    assert_eq!(
        fe.binds[0].addr,
        ListenAddr::Tcp("0.0.0.0:8785".parse().expect("addr"))
    );
    assert_eq!(
        fe.maxconn,
        Some(8192),
        "frontend maxconn defaults to the global one"
    );
    assert_eq!(fe.default_backend.as_deref(), Some("DEFAULT"));
    assert_eq!(fe.monitor_uri.as_deref(), Some("/haproxy-status"));
    let stats = fe.stats.as_ref().expect("stats page");
    assert_eq!(stats.uri, "/admin");
    assert_eq!(stats.auth, vec![("admin".to_string(), "admin".to_string())]);
    assert_eq!(stats.refresh, Some(Duration::from_secs(5)));
    assert_eq!(fe.use_backends.len(), 1);
    let ub = &fe.use_backends[0];
    assert!(ub.cond.is_none());
    let BackendTarget::Dynamic(f) = &ub.target else {
        panic!("dynamic use_backend expected");
    };
    assert_eq!(
        f.parts,
        vec![FmtPart::Sample(SampleExpr {
            fetch: Fetch::Str("SIMPLE_SERVICE".into()),
            converters: vec![Converter::Map {
                kind: MapMatch::Str,
                file: HOSTS_MAP.into(),
                default: None,
            }],
        })]
    );

    // the map, read at load time, keyed by the literal path
    let m = cfg.maps.get(HOSTS_MAP).expect("map loaded");
    assert_eq!(m.name, HOSTS_MAP);
    assert_eq!(m.kind, MapMatch::Str);
    assert!(m.first_use.file.ends_with("seed000_bluegreen_map.cfg"));
    assert_eq!(m.first_use.line, 32);
    if map.created() {
        assert_eq!(
            m.entries,
            vec![MapEntry {
                key: "SIMPLE_SERVICE".into(),
                value: "blue".into()
            }]
        );
    }

    for (name, port) in [("blue", 3000), ("green", 4000)] {
        let p = cfg.backend(name).expect("backend");
        assert_eq!(p.kind, ProxyKind::Backend);
        assert!(p.frontend.is_none());
        assert_eq!(p.options.conn_mode, HttpConnMode::KeepAlive);
        assert_eq!(p.options.redispatch, Some(-1));
        assert_eq!(p.timeouts.http_keep_alive, Some(Duration::from_secs(600)));
        assert_eq!(p.timeouts.connect, Some(Duration::from_secs(10)));
        assert_eq!(p.timeouts.server, Some(Duration::from_secs(5)));
        let be = p.backend.as_ref().expect("backend side");
        assert_eq!(be.balance, Balance::RoundRobin);
        assert_eq!(be.retries, 1000);
        assert_eq!(be.retry_on, RetryOn(RetryOn::ALL_RETRYABLE));
        assert_eq!(be.http_reuse, HttpReuse::Aggressive);
        let hc = &be.http_check;
        assert!(hc.enabled);
        assert_eq!(
            (hc.method.as_str(), hc.uri.as_str(), hc.version.as_str()),
            ("GET", "/", "HTTP/1.0")
        );
        assert_eq!(be.servers.len(), 1);
        let s = &be.servers[0];
        assert_eq!(s.name, name);
        assert_eq!(s.id, 1);
        assert_eq!(s.addr.host, "localhost");
        assert_eq!(s.addr.ip, None);
        assert_eq!(s.addr.port, Some(port));
        assert_eq!(s.maxconn, Some(10));
        assert!(s.check);
        assert_eq!(s.inter, Duration::from_secs(2));
        assert_eq!((s.fall, s.rise), (2, 2));
        assert_eq!(s.slowstart, Some(Duration::from_millis(5000)));
        assert_eq!(s.resolvers.as_deref(), Some("local"));
        assert_eq!(s.init_addr, vec![InitAddr::None]);
        assert_eq!(s.weight, 1);
        assert_eq!(s.error_limit, 10);
    }

    let def = cfg.backend("DEFAULT").expect("DEFAULT");
    let be = def.backend.as_ref().expect("backend side");
    assert!(be.servers.is_empty());
    assert_eq!(be.retries, 3);
    assert_eq!(def.http_request.len(), 2);
    assert_eq!(
        def.http_request[0].action,
        HttpRequestAction::SetLogLevel(LogLevel::Silent)
    );
    assert!(def.http_request[0].cond.is_none());
    assert_eq!(
        def.http_request[1].action,
        HttpRequestAction::Return {
            status: 404,
            content_type: Some("text/html".into()),
            body: ReturnBody::String("Default backend".into()),
            headers: vec![],
        }
    );
    assert!(cfg.has_listener());
}

#[test]
fn seed000_without_its_map_fails_like_haproxy() {
    let _lock = MAP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    if Path::new(HOSTS_MAP).exists() {
        return; // a real file is there: nothing to check without touching it
    }
    let path = fixtures().join("seeds/seed000_bluegreen_map.cfg");
    let e = load(&[path]).expect_err("missing map is fatal");
    assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
    let d = &e.errors[0];
    assert_eq!(d.location.line, 32);
    assert!(
        d.message
            .contains("failed to open pattern file </home/dong/code/learn-haproxy/hosts.map>"),
        "{}",
        d.message
    );
}

#[test]
fn seed002_reload_configs() {
    for (file, default) in [
        ("seed002_reload_blue.cfg", "http_back"),
        ("seed002_reload_green.cfg", "http_back_green"),
    ] {
        let cfg = load_seed(file);
        let fe = cfg.frontend("http_front").expect("frontend");
        // No `mode` anywhere: HAProxy's default is TCP.
        assert_eq!(fe.mode, Mode::Tcp);
        let side = fe.frontend.as_ref().expect("fe side");
        assert_eq!(
            side.binds[0].addr,
            ListenAddr::Tcp("0.0.0.0:80".parse().expect("addr"))
        );
        assert_eq!(side.default_backend.as_deref(), Some(default));
        for (be, servers) in [
            ("http_back", ["blue1", "blue2"]),
            ("http_back_green", ["green1", "green2"]),
        ] {
            let b = cfg.backend(be).expect("backend");
            let side = b.backend.as_ref().expect("be side");
            let got: Vec<(&str, u32, bool)> = side
                .servers
                .iter()
                .map(|s| (s.name.as_str(), s.id, s.check))
                .collect();
            assert_eq!(got, vec![(servers[0], 1, true), (servers[1], 2, true)]);
            assert_eq!(side.servers[0].addr.ip.map(|ip| ip.is_ipv4()), Some(true));
        }
        let ids: Vec<u32> = cfg.proxies.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![2, 3, 4]);
        // HAProxy warns about the missing timeouts; so do we.
        assert!(cfg.warnings.iter().any(|w| w
            .message
            .contains("missing timeouts for frontend 'http_front'")));
    }
}

#[test]
fn seed004_runtime_cutover() {
    let _lock = MAP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let _map = TempFile::ensure(Path::new(BLUEGREEN_MAP), "active backend_blue\n");
    let cfg = load_seed("seed004_runtime_cutover.cfg");
    let s = &cfg.global.stats_sockets[0];
    assert_eq!(s.addr, ListenAddr::Unix("/run/haproxy/admin.sock".into()));
    assert_eq!(s.mode, Some(0o660));
    assert_eq!(s.level, CliLevel::Admin);

    let fe = cfg.frontend("fe_http").expect("fe");
    assert_eq!(fe.mode, Mode::Http);
    assert_eq!(fe.timeouts.client, Some(Duration::from_secs(30)));
    let side = fe.frontend.as_ref().expect("side");
    assert_eq!(
        side.binds[0].addr,
        ListenAddr::Tcp("0.0.0.0:80".parse().expect("addr"))
    );
    let BackendTarget::Dynamic(f) = &side.use_backends[0].target else {
        panic!("dynamic use_backend expected");
    };
    let FmtPart::Sample(e) = &f.parts[0] else {
        panic!("sample expected");
    };
    assert_eq!(
        e.converters,
        vec![Converter::Map {
            kind: MapMatch::Str,
            file: BLUEGREEN_MAP.into(),
            default: Some("backend_blue".into()),
        }]
    );
    assert!(cfg.maps.contains_key(BLUEGREEN_MAP));

    for (be, servers) in [
        ("backend_blue", ["blue1", "blue2"]),
        ("backend_green", ["green1", "green2"]),
    ] {
        let b = cfg.backend(be).expect("backend");
        let side = b.backend.as_ref().expect("side");
        let hc = &side.http_check;
        assert!(hc.enabled);
        assert_eq!((hc.method.as_str(), hc.uri.as_str()), ("GET", "/healthz"));
        assert_eq!(
            hc.expect,
            vec![HttpExpect {
                negate: false,
                matcher: ExpectMatcher::Status(vec![(200, 200)])
            }]
        );
        for (i, s) in side.servers.iter().enumerate() {
            assert_eq!(s.name, servers[i]);
            // default-server in defaults applies
            assert_eq!(s.inter, Duration::from_secs(5));
            assert_eq!((s.fall, s.rise), (3, 2));
            assert!(s.check);
        }
    }
}
