//! Applying one state-file line to a freshly built server, with HAProxy
//! 2.6's rules (`srv_state_srv_update`):
//! - admin state: a `disabled` added or removed in the config wins;
//!   otherwise the file's forced maintenance comes back, and a forced drain
//!   comes back unless the config weight went from 0 to non-zero;
//! - the user weight comes back only if the config weight is unchanged;
//! - the address comes back only for servers named by hostname (HAProxy's
//!   `init-addr last`); the port always does;
//! - the operational state (health, check status, `disable health`) is
//!   applied only to servers whose live state is new. On an in-process
//!   reload a server that already existed keeps its live state, which is
//!   more recent than any file.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;

use switchyard_config::InitAddr;
use switchyard_state::{AdminState, OpState, ServerRt};

use super::parse::{Values, CHK_CONFIGURED, CHK_ENABLED, CMAINT, FDRAIN, FMAINT};

pub fn apply(sv: &mut ServerRt, v: &Values, fresh_live: bool, now_ms: u64) {
    if fresh_live {
        apply_op_state(sv, v, now_ms);
    }
    apply_admin(sv, v);
    if v.iweight == sv.iweight {
        sv.uweight = v.uweight;
    }
    apply_addr(sv, v);
}

fn apply_admin(sv: &mut ServerRt, v: &Values) {
    let cfg_cmaint = sv.admin.has(AdminState::CMAINT);
    let file_cmaint = v.admin & CMAINT != 0;
    // Same `disabled` setting as when the file was written: bring back what
    // the operator did, a forced maintenance or the enabling of a
    // `disabled` server. A changed setting keeps the new config's state.
    if cfg_cmaint == file_cmaint {
        if v.admin & FMAINT != 0 {
            sv.admin.set(AdminState::FMAINT);
        } else if cfg_cmaint {
            sv.admin.clear(AdminState::FMAINT);
        }
    }
    if !sv.admin.has(AdminState::FMAINT)
        && v.admin & FDRAIN != 0
        && (v.iweight > 0 || sv.iweight == 0)
    {
        sv.admin.set(AdminState::FDRAIN);
    }
}

fn apply_addr(sv: &mut ServerRt, v: &Values) {
    let by_name = sv.cfg.addr.ip.is_none();
    let uses_last = sv.cfg.init_addr.is_empty() || sv.cfg.init_addr.contains(&InitAddr::Last);
    if let (true, true, Some(ip)) = (by_name, uses_last, v.addr) {
        let port = sv.addr.map(|a| a.port()).or(sv.cfg.addr.port).unwrap_or(0);
        sv.addr = Some(SocketAddr::new(ip, port));
        sv.admin.clear(AdminState::RMAINT);
    }
    if let (Some(port), Some(addr)) = (v.port, sv.addr.as_mut()) {
        addr.set_port(port);
    }
}

fn apply_op_state(sv: &ServerRt, v: &Values, now_ms: u64) {
    let live = &sv.live;
    let (rise, fall) = (sv.cfg.rise.max(1), sv.cfg.fall.max(1));
    let full = rise + fall - 1;
    let stopped = |health: u32| {
        live.health.store(health, Relaxed);
        live.op_state.store(OpState::Stopped as u8, Relaxed);
        live.down_since_ms.store(now_ms, Relaxed);
    };
    match v.op_state {
        0 => stopped(0),
        // STARTING: without a rise count to climb, it is simply running.
        1 if rise > 1 => {
            let h = if v.check_health < 1 || v.check_health >= rise {
                rise - 1
            } else {
                v.check_health
            };
            live.health.store(h, Relaxed);
            live.op_state.store(OpState::Starting as u8, Relaxed);
            if sv.cfg.slowstart.is_some() {
                live.slowstart_begin_ms.store(now_ms, Relaxed);
            }
        }
        3 if fall == 1 => stopped(0),
        3 => {
            let h = if v.check_health < rise || v.check_health > rise + fall - 2 {
                rise
            } else {
                v.check_health
            };
            live.health.store(h, Relaxed);
            live.op_state.store(OpState::Stopping as u8, Relaxed);
        }
        _ => {
            live.health.store(full, Relaxed);
            live.op_state.store(OpState::Running as u8, Relaxed);
        }
    }
    live.check_status.store(v.check_status, Relaxed);
    live.last_change_ms.store(
        now_ms.saturating_sub(v.since_change.saturating_mul(1000)),
        Relaxed,
    );
    // Only `disable health` is carried: a check the file says was
    // configured but not enabled.
    if sv.cfg.check && v.check_state & CHK_CONFIGURED != 0 && v.check_state & CHK_ENABLED == 0 {
        live.checks_enabled.store(false, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse_file;
    use super::*;
    use std::sync::Arc;
    use switchyard_config::{Server, ServerAddr};
    use switchyard_state::ServerLive;

    fn server(host: &str, ip: Option<&str>, weight: u32, disabled: bool) -> ServerRt {
        let cfg = Server {
            name: "s".into(),
            id: 1,
            location: Default::default(),
            addr: ServerAddr {
                host: host.into(),
                ip: ip.and_then(|i| i.parse().ok()),
                port: Some(8080),
            },
            check: true,
            inter: std::time::Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            slowstart: None,
            weight,
            maxconn: None,
            maxqueue: None,
            backup: false,
            cookie: None,
            resolvers: None,
            init_addr: Vec::new(),
            resolve_prefer: None,
            resolve_net: Vec::new(),
            allow_dup_ip: false,
            disabled,
            observe: None,
            error_limit: 10,
            on_error: Default::default(),
            on_marked_down_shutdown: false,
            on_marked_up_shutdown_backup: false,
            check_port: None,
            check_addr: None,
            agent_port: None,
            agent_inter: None,
            agent_send: None,
            track: None,
            ssl: false,
            verify: None,
            sni: None,
            alpn: Vec::new(),
            proto_h2: false,
            send_proxy: false,
            forced_id: false,
            forced_id_flag: false,
            agent_check: false,
            agent_addr: None,
            ca_file: None,
            sni_expr: None,
            crt: None,
            check_ssl: None,
            check_sni: None,
            verifyhost: None,
            ssl_ctx: false,
        };
        let mut admin = AdminState::default();
        if disabled {
            admin.set(AdminState::CMAINT | AdminState::FMAINT);
        }
        ServerRt {
            name: Arc::from("s"),
            id: 1,
            addr: Some(SocketAddr::new(
                ip.unwrap_or("10.0.0.1").parse().expect("ip"),
                8080,
            )),
            cfg: Arc::new(cfg),
            admin,
            uweight: weight,
            iweight: weight,
            maint_weight: None,
            maxconn: None,
            live: Arc::new(ServerLive::new(true, 2)),
            tls: None,
        }
    }

    fn values(line: &str) -> Values {
        parse_file(&format!("1\n{line}\n")).expect("file")[0]
            .values()
            .expect("values")
    }

    #[test]
    fn drain_maint_and_weight_come_back() {
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, false);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 2 8 50 1 0 6 3 4 6 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert!(sv.admin.is_drain());
        assert_eq!(sv.uweight, 50);
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, false);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 0 1 1 1 0 6 3 0 14 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert!(sv.admin.has(AdminState::FMAINT));
    }

    #[test]
    fn config_weight_change_wins() {
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 10, false);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 2 0 50 1 0 6 3 4 6 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert_eq!(sv.uweight, 10);
        // Drain that came from a zero config weight is dropped once the
        // config gives a weight again.
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 10, false);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 2 8 0 0 0 6 3 4 6 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert!(!sv.admin.is_drain());
    }

    #[test]
    fn disabled_in_config_wins() {
        // Disabled since the dump: stays in maintenance, nothing else.
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, true);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 2 0 1 1 0 6 3 4 6 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert!(sv.admin.is_maint());
        // No longer disabled: the file's config maintenance is dropped.
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, false);
        apply(
            &mut sv,
            &values("3 be 1 s 127.0.0.1 0 4 1 1 0 6 3 4 6 0 0 0 - 8080 -"),
            false,
            0,
        );
        assert!(!sv.admin.is_maint());
    }

    #[test]
    fn address_only_for_hostnames_port_always() {
        let line = "3 be 1 s 127.0.0.9 2 0 1 1 0 6 3 4 6 0 0 0 - 9090 -";
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, false);
        apply(&mut sv, &values(line), false, 0);
        assert_eq!(sv.addr, "127.0.0.1:9090".parse().ok());
        let mut sv = server("app.example", None, 1, false);
        apply(&mut sv, &values(line), false, 0);
        assert_eq!(sv.addr, "127.0.0.9:9090".parse().ok());
    }

    #[test]
    fn op_state_only_for_fresh_live_state() {
        let line = "3 be 1 s 127.0.0.1 0 0 1 1 7 8 2 0 2 0 0 0 - 8080 -";
        let mut sv = server("127.0.0.1", Some("127.0.0.1"), 1, false);
        apply(&mut sv, &values(line), false, 100_000);
        assert_eq!(sv.live.op_state(), OpState::Running);
        apply(&mut sv, &values(line), true, 100_000);
        assert_eq!(sv.live.op_state(), OpState::Stopped);
        assert_eq!(sv.live.health.load(Relaxed), 0);
        assert_eq!(sv.live.last_change_ms.load(Relaxed), 93_000);
        // srv_check_state 2: configured but disabled (`disable health`).
        assert!(!sv.live.checks_enabled.load(Relaxed));
    }
}
