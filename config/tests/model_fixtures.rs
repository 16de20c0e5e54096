//! What the good fixtures mean: defaults inheritance, default-server order,
//! checks, balance, cookies, rules, ACLs and binds end up in the model.

mod common;

use common::fixtures;
use std::time::Duration;
use switchyard_config::*;

fn load_good(name: &str) -> Config {
    let path = fixtures().join("good").join(name);
    load(&[path]).unwrap_or_else(|e| {
        let errs: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
        panic!("{name}: {}", errs.join("\n"))
    })
}

fn be<'a>(cfg: &'a Config, name: &str) -> &'a BackendSide {
    cfg.backend(name)
        .and_then(|p| p.backend.as_ref())
        .expect("backend")
}

#[test]
fn servers_and_default_server() {
    let cfg = load_good("servers_full.cfg");
    let b = be(&cfg, "be");
    assert_eq!(b.balance, Balance::LeastConn);
    let s = |n: &str| b.servers.iter().find(|s| s.name == n).expect("server");
    // defaults' default-server, then the backend's default-server, then the line
    let s1 = s("s1");
    assert_eq!((s1.rise, s1.fall), (1, 1));
    assert_eq!(s1.inter, Duration::from_secs(1));
    assert_eq!(s1.fastinter, Some(Duration::from_millis(500)));
    assert_eq!(s1.downinter, Some(Duration::from_secs(5)));
    assert_eq!(s1.weight, 256);
    assert_eq!((s1.maxconn, s1.maxqueue), (Some(100), Some(10)));
    assert_eq!(s1.cookie.as_deref(), Some("s1"));
    let s8 = s("s8");
    assert_eq!((s8.inter, s8.rise, s8.fall), (Duration::from_secs(3), 3, 4));
    assert_eq!((s8.maxconn, s8.weight), (Some(50), 10));
    assert_eq!(s8.addr.port, None);
    let s2 = s("s2");
    assert!(s2.backup && s2.forced_id);
    assert_eq!((s2.id, s2.weight), (10, 0));
    assert_eq!(s2.observe, Some(Observe::Layer7));
    assert_eq!((s2.error_limit, s2.on_error), (5, OnError::MarkDown));
    assert!(s2.on_marked_down_shutdown && s2.on_marked_up_shutdown_backup);
    let s3 = s("s3");
    assert_eq!(s3.check_port, Some(18233));
    assert_eq!(s3.check_addr, Some("127.0.0.2".parse().expect("ip")));
    assert!(s3.agent_check);
    assert_eq!(s3.agent_addr, Some("127.0.0.3".parse().expect("ip")));
    assert_eq!(
        (s3.agent_port, s3.agent_inter),
        (Some(18333), Some(Duration::from_secs(2)))
    );
    assert_eq!(s3.agent_send.as_deref(), Some("ping\n"));
    assert_eq!(s("s4").track.as_deref(), Some("be/s1"));
    let s5 = s("s5");
    assert_eq!(
        s5.init_addr,
        vec![InitAddr::Last, InitAddr::Libc, InitAddr::None]
    );
    assert_eq!(s5.resolve_prefer.as_deref(), Some("ipv4"));
    assert!(s5.disabled);
    let s6 = s("s6");
    assert!(s6.send_proxy && s6.proto_h2);
    assert!(!s("s7").check);
    // ids: 1-based positions (the forced 10 takes its own and moves the
    // counter on, as in HAProxy)
    let ids: Vec<(&str, u32)> = b.servers.iter().map(|s| (s.name.as_str(), s.id)).collect();
    assert_eq!(
        ids,
        vec![
            ("s1", 1),
            ("s2", 10),
            ("s3", 3),
            ("s4", 4),
            ("s5", 5),
            ("s6", 6),
            ("s7", 7),
            ("s8", 8)
        ]
    );
    let r = &cfg.resolvers[0];
    assert!(r.parse_resolv_conf);
    assert_eq!(r.accepted_payload_size, Some(8192));
    assert_eq!(r.hold.get("obsolete"), Some(&Duration::from_secs(5)));
    assert_eq!(
        cfg.backend("be").map(|p| p.timeouts.check),
        Some(Some(Duration::from_secs(2)))
    );
}

#[test]
fn checks_balance_and_cookies() {
    let cfg = load_good("checks_and_balance.cfg");
    let hc = &be(&cfg, "b1").http_check;
    assert!(hc.enabled);
    assert_eq!(
        (hc.method.as_str(), hc.uri.as_str(), hc.version.as_str()),
        ("OPTIONS", "/", "HTTP/1.0")
    );
    let b2 = be(&cfg, "b2");
    assert_eq!(b2.balance, Balance::StaticRr);
    assert_eq!(b2.http_check.uri, "/health");
    assert_eq!(
        b2.http_check.expect[0].matcher,
        ExpectMatcher::Status(vec![(200, 200), (201, 201), (300, 310)])
    );
    let b3 = be(&cfg, "b3");
    assert_eq!(b3.balance, Balance::Source);
    assert!(b3.http_check.disable_on_404);
    assert!(b3.http_check.expect[0].negate);
    let b4 = be(&cfg, "b4");
    assert_eq!(
        b4.balance,
        Balance::Uri {
            len: Some(10),
            depth: Some(2),
            whole: true,
            path_only: false
        }
    );
    assert_eq!(
        (
            b4.http_check.method.as_str(),
            b4.http_check.version.as_str()
        ),
        ("HEAD", "HTTP/1.1")
    );
    let b5 = &be(&cfg, "b5").http_check;
    assert_eq!(b5.uri, "/healthz");
    assert_eq!(b5.version, "HTTP/1.1");
    assert_eq!(
        b5.headers,
        vec![
            ("Host".to_string(), "app.local".to_string()),
            ("X-Check".to_string(), "yes".to_string())
        ]
    );
    assert!(b5.send_state);
    assert_eq!(be(&cfg, "b5").balance, Balance::UrlParam("userid".into()));
    assert_eq!(be(&cfg, "b6").balance, Balance::Hdr("X-User".into()));
    assert_eq!(be(&cfg, "b6").hash_type.as_deref(), Some("consistent"));
    let b7 = be(&cfg, "b7");
    assert_eq!(b7.balance, Balance::Random(3));
    assert_eq!((b7.retries, b7.fullconn), (0, Some(100)));
    let all = RetryOn::ALL_RETRYABLE
        | RetryOn::S401
        | RetryOn::S403
        | RetryOn::S404
        | RetryOn::S408
        | RetryOn::S425
        | RetryOn::S501;
    assert_eq!(b7.retry_on, RetryOn(all));
    assert_eq!(b7.http_reuse, HttpReuse::Never);
    let p7 = cfg.backend("b7").expect("b7");
    assert_eq!(p7.options.redispatch, Some(2));
    assert!(p7.options.allbackups && p7.options.persist && p7.options.log_health_checks);
    let b8 = be(&cfg, "b8");
    let c = b8.cookie.as_ref().expect("cookie");
    assert_eq!((c.name.as_str(), c.mode), ("SERVERID", CookieMode::Insert));
    assert!(c.indirect && c.nocache && c.postonly && c.httponly && c.secure);
    assert_eq!(c.domain, vec![".example.com".to_string()]);
    assert_eq!(
        (c.maxidle, c.maxlife),
        (
            Some(Duration::from_secs(1800)),
            Some(Duration::from_secs(8 * 3600))
        )
    );
    assert_eq!(c.attr, vec!["SameSite=Lax".to_string()]);
    assert_eq!(b8.retry_on, RetryOn(0), "retry-on replaces the list");
    assert_eq!(
        cfg.backend("b8").map(|p| p.options.conn_mode),
        Some(HttpConnMode::ServerClose)
    );
    assert_eq!(
        be(&cfg, "b9").cookie.as_ref().map(|c| c.mode),
        Some(CookieMode::Prefix)
    );
    assert_eq!(
        cfg.backend("b9").map(|p| p.options.conn_mode),
        Some(HttpConnMode::KeepAlive),
        "no option httpclose cancels it"
    );
    assert_eq!(
        be(&cfg, "b10").cookie.as_ref().map(|c| c.mode),
        Some(CookieMode::Rewrite)
    );
    // defaults: retries 3, conn-failure only
    assert_eq!(be(&cfg, "b1").retries, 3);
    assert_eq!(be(&cfg, "b1").retry_on, RetryOn(RetryOn::CONN_FAILURE));
}

#[test]
fn named_defaults_and_from() {
    let cfg = load_good("defaults_named.cfg");
    let fe = cfg.frontend("fe_http").expect("fe");
    assert_eq!(fe.mode, Mode::Http);
    let ff = fe.options.forwardfor.as_ref().expect("forwardfor");
    assert_eq!(ff.header, "X-Real-IP");
    assert!(ff.if_none);
    assert!(ff
        .except
        .is_some_and(|n| n.prefix == 8 && n.contains("127.1.2.3".parse().expect("ip"))));
    assert_eq!(be(&cfg, "be_http").retries, 5);
    // rules from the named defaults run first, with their private ACLs
    let fr = cfg.frontend("fe_rules").expect("fe_rules");
    assert_eq!(fr.http_request.len(), 1);
    let cond = fr.http_request[0].cond.as_ref().expect("cond");
    let AclRef::Named(n) = &cond.any_of[0][0].acl else {
        panic!("named acl expected");
    };
    assert!(fr.acls.iter().any(|a| &a.name == n));
    // the last plain defaults (tcp) applies to the listen
    let l = cfg
        .proxies
        .iter()
        .find(|p| p.name == "tcp_listen")
        .expect("listen");
    assert_eq!(l.kind, ProxyKind::Listen);
    assert_eq!(l.mode, Mode::Tcp);
    assert!(l.frontend.is_some() && l.backend.is_some());
    let ids: Vec<u32> = cfg.proxies.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![2, 3, 4, 5, 6]);
}

#[test]
fn acls_and_conditions() {
    let cfg = load_good("acl_conditions.cfg");
    let fe = cfg.frontend("fe").expect("fe");
    let acl = |n: &str| &fe.acls.iter().find(|a| a.name == n).expect("acl").test;
    assert_eq!(acl("is_api").match_kind, AclMatch::Beg);
    assert!(acl("is_api").ignore_case);
    assert_eq!(acl("host_dom").match_kind, AclMatch::Dom);
    assert_eq!(acl("from_lan").match_kind, AclMatch::Ip);
    assert_eq!(
        acl("from_file").patterns,
        vec!["127.0.0.1".to_string(), "10.0.0.0/8".to_string()]
    );
    assert_eq!(
        acl("from_file").pattern_files,
        vec!["maps/allow.lst".to_string()]
    );
    assert_eq!(acl("has_ua").match_kind, AclMatch::Found);
    assert_eq!(acl("short_path").match_kind, AclMatch::Len);
    assert_eq!(acl("lower_host").converters, vec![Converter::Lower]);
    assert_eq!(acl("base_dir").match_kind, AclMatch::Reg);
    assert_eq!(
        acl("base_dir").patterns,
        vec!["(?:^|/)static(?:/|$)".to_string()]
    );
    assert_eq!(acl("dash").patterns, vec!["-weird".to_string()]);
    let side = fe.frontend.as_ref().expect("side");
    let c = side.use_backends[0].cond.as_ref().expect("cond");
    assert_eq!(c.any_of.len(), 3);
    assert_eq!(c.any_of[2].len(), 2);
    assert!(c.any_of[2][1].negate);
    assert!(side.use_backends[1].cond.as_ref().is_some_and(|c| c.unless));
    let maps: Vec<&String> = cfg.maps.keys().collect();
    assert_eq!(
        maps,
        vec!["maps/domains.map", "maps/hosts.map", "maps/paths.map"]
    );
    assert_eq!(cfg.maps["maps/domains.map"].kind, MapMatch::Dom);
    assert_eq!(cfg.maps["maps/paths.map"].entries.len(), 2);
    assert!(cfg.maps["maps/hosts.map"]
        .path
        .ends_with("good/maps/hosts.map"));
}

#[test]
fn http_rules() {
    let cfg = load_good("http_rules.cfg");
    let fe = cfg.frontend("fe").expect("fe");
    let actions: Vec<&HttpRequestAction> = fe.http_request.iter().map(|r| &r.action).collect();
    assert_eq!(
        actions[0],
        &HttpRequestAction::SetLogLevel(LogLevel::Silent)
    );
    assert_eq!(actions[1], &HttpRequestAction::SetLogLevel(LogLevel::Err));
    assert!(
        matches!(actions[2], HttpRequestAction::SetHeader { name, .. } if name == "X-Forwarded-Proto")
    );
    assert!(matches!(actions[4], HttpRequestAction::AddHeader { .. }));
    assert_eq!(
        actions[5],
        &HttpRequestAction::DelHeader {
            name: "X-Secret".into()
        }
    );
    assert_eq!(actions[6], &HttpRequestAction::DisableL7Retry);
    assert!(matches!(
        actions[7],
        HttpRequestAction::Redirect {
            code: 301,
            kind: RedirectKind::Location(_),
            ..
        }
    ));
    assert!(matches!(
        actions[8],
        HttpRequestAction::Redirect {
            drop_query: true,
            kind: RedirectKind::Prefix(_),
            ..
        }
    ));
    assert!(matches!(
        actions[9],
        HttpRequestAction::Redirect {
            kind: RedirectKind::Scheme(_),
            ..
        }
    ));
    assert_eq!(actions[10], &HttpRequestAction::Deny { status: 403 });
    assert_eq!(
        actions[12],
        &HttpRequestAction::UseService("prometheus-exporter".into())
    );
    assert_eq!(
        actions[13],
        &HttpRequestAction::Return {
            status: 200,
            content_type: Some("text/plain".into()),
            body: ReturnBody::String("pong\n".into()),
            headers: vec![],
        }
    );
    assert!(
        matches!(actions[14], HttpRequestAction::Return { body: ReturnBody::LfString(_), headers, .. } if headers.len() == 1)
    );
    assert!(
        matches!(actions[15], HttpRequestAction::Return { body: ReturnBody::Loaded(b), .. } if b == b"hello from a file\n")
    );
    assert!(matches!(
        actions[16],
        HttpRequestAction::Return {
            status: 204,
            body: ReturnBody::None,
            ..
        }
    ));
    assert_eq!(actions[17], &HttpRequestAction::Allow);
    let resp: Vec<&HttpResponseAction> = fe.http_response.iter().map(|r| &r.action).collect();
    assert_eq!(resp.len(), 4);
    assert_eq!(
        resp[2],
        &HttpResponseAction::DelHeader {
            name: "Server".into()
        }
    );
    assert_eq!(resp[3], &HttpResponseAction::SetLogLevel(LogLevel::Info));
    assert!(cfg.maps.contains_key("maps/hosts.map"));
}

#[test]
fn binds_timeouts_and_logs() {
    let cfg = load_good("binds_and_logs.cfg");
    let fe = cfg.frontend("fe").expect("fe");
    let side = fe.frontend.as_ref().expect("side");
    let addrs: Vec<String> = side.binds.iter().map(|b| b.addr.to_string()).collect();
    assert_eq!(
        addrs,
        vec![
            "ipv4@127.0.0.1:18200",
            "ipv4@127.0.0.1:18201",
            "ipv6@[::1]:18202",
            "ipv6@[::1]:18203",
            "ipv4@127.0.0.1:18204",
            "ipv4@127.0.0.1:18205",
            "ipv4@127.0.0.1:18206",
            "ipv4@127.0.0.1:18207",
            "unix@fixture-fe.sock",
            "ipv4@127.0.0.1:18208",
            "ipv4@127.0.0.1:18210",
            "ipv4@127.0.0.1:18211",
        ]
    );
    let protos: Vec<_> = side.binds.iter().map(|b| b.proto).collect();
    assert_eq!(protos[..10], [None; 10]);
    assert_eq!(protos[10..], [Some(BindProto::H2), Some(BindProto::H1)]);
    assert!(fe.options.disable_h2_upgrade);
    assert_eq!(side.binds[1].name.as_deref(), Some("v4"));
    assert!(side.binds[3].v6only);
    assert_eq!(side.binds[5].name.as_deref(), Some("many"));
    assert_eq!(side.binds[8].mode, Some(0o660));
    assert!(side.binds[9].accept_proxy);
    assert_eq!(side.maxconn, Some(500));
    let t = &fe.timeouts;
    assert_eq!(t.http_request, Some(Duration::from_secs(5)));
    assert_eq!(t.http_keep_alive, Some(Duration::from_secs(2)));
    assert_eq!(t.queue, Some(Duration::from_secs(3)));
    assert_eq!(t.tunnel, Some(Duration::from_secs(3600)));
    assert_eq!(
        (t.client_fin, t.server_fin),
        (Some(Duration::from_secs(1)), Some(Duration::from_secs(1)))
    );
    assert_eq!(t.tarpit, Some(Duration::from_secs(2)));
    assert_eq!(t.check, Some(Duration::from_secs(1)));
    // `no log` dropped the frontend's own target, `log global` re-added the global one
    assert_eq!(fe.logs, cfg.global.logs);
    // option httplog (last) replaces log-format / tcplog
    assert!(fe.options.httplog && !fe.options.tcplog && fe.log_format.is_none());
}

#[test]
fn global_settings() {
    let cfg = load_good("global_full.cfg");
    let g = &cfg.global;
    assert!(g.daemon && g.master_worker);
    assert_eq!((g.maxconn, g.nbthread), (Some(2000), Some(2)));
    assert_eq!(
        (g.user.as_deref(), g.uid, g.gid),
        (Some("root"), Some(0), Some(0))
    );
    assert_eq!(g.stats_sockets.len(), 3);
    let unix = &g.stats_sockets[1];
    assert_eq!(unix.addr, ListenAddr::Unix("admin-fixture.sock".into()));
    assert_eq!(
        (unix.mode, unix.level, unix.expose_fd_listeners),
        (Some(0o660), CliLevel::Operator, true)
    );
    assert_eq!(g.stats_sockets[2].level, CliLevel::User);
    assert_eq!(
        (g.stats_timeout, g.stats_maxconn),
        (Duration::from_secs(30), 5)
    );
    assert_eq!(g.logs.len(), 3);
    assert_eq!(
        g.logs[1].dest,
        LogDest::Udp("127.0.0.1:514".parse().expect("addr"))
    );
    assert_eq!(g.logs[1].min_level, Some(LogLevel::Err));
    assert_eq!(g.logs[2].format, LogFormatKind::Rfc5424);
    assert_eq!(g.hard_stop_after, Some(Duration::from_secs(30)));
    assert_eq!(g.bufsize, 32768);
    assert_eq!(g.node.as_deref(), Some("lab-node-1"));
    assert_eq!(
        g.description.as_deref(),
        Some("a lab config for switchyard")
    );
    // setenv feeds "${...}" expansion
    let fe = cfg
        .frontend("fe")
        .and_then(|p| p.frontend.as_ref())
        .expect("fe");
    assert_eq!(
        fe.binds[0].addr,
        ListenAddr::Tcp("127.0.0.1:18152".parse().expect("addr"))
    );
    for kw in ["chroot", "cpu-map", "ulimit-n", "ssl-default-bind-ciphers"] {
        assert!(
            cfg.warnings
                .iter()
                .any(|w| w.message.contains(&format!("'{kw}'"))),
            "{kw} warning"
        );
    }
    assert_eq!(be(&cfg, "be").load_server_state, LoadServerState::Global);
}

#[test]
fn listen_stats_and_monitor() {
    let cfg = load_good("listen_stats.cfg");
    let st = cfg
        .proxies
        .iter()
        .find(|p| p.name == "stats")
        .expect("stats");
    let page = st
        .frontend
        .as_ref()
        .and_then(|f| f.stats.as_ref())
        .expect("page");
    assert_eq!(
        (page.uri.as_str(), page.realm.as_str()),
        ("/", "Switchyard Stats")
    );
    assert_eq!(page.auth.len(), 2);
    assert_eq!(page.refresh, Some(Duration::from_secs(10)));
    assert!(page.hide_version && page.show_legends && page.show_node && page.admin.is_some());
    let fe = cfg
        .frontend("fe")
        .and_then(|p| p.frontend.as_ref())
        .expect("fe");
    assert_eq!(fe.monitor_uri.as_deref(), Some("/healthz"));
    let mf = fe.monitor_fail.as_ref().expect("monitor fail");
    let AclRef::Inline(t) = &mf.any_of[0][0].acl else {
        panic!("inline acl expected");
    };
    assert_eq!(
        (t.fetch.clone(), t.match_kind),
        (
            Fetch::ReqHdr {
                name: "x-maintenance".into(),
                occ: None
            },
            AclMatch::Found
        )
    );
    assert_eq!(be(&cfg, "app").balance, Balance::First);
}

#[test]
fn conditional_blocks_choose_the_branch() {
    let cfg = load_good("conditional_blocks.cfg");
    assert!(cfg.frontend("never").is_none());
    let fe = cfg
        .frontend("fe")
        .and_then(|p| p.frontend.as_ref())
        .expect("fe");
    assert_eq!(fe.default_backend.as_deref(), Some("be"));
}
