//! The pure transitions the Runtime API and the checker drive: states,
//! counters and HAProxy's exact log lines, without sockets.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use common::{capture_logs, idx, logs_with, logs_with_level, status, store_from, with_server};
use switchyard_config::LogLevel;
use switchyard_health::{
    admin_state_changed, apply_observe_errors, force_health, record_check, set_checks_enabled,
    weight_changed, CheckOutcome, Forced, HealthError,
};
use switchyard_state::{AdminState, CheckStatus, ObserveEvent, OpState, Store};

fn cfg(be: &str, servers: &str) -> String {
    format!("defaults\n    mode http\nbackend {be}\n    option httpchk GET /health\n{servers}")
}

fn ok200() -> CheckOutcome {
    CheckOutcome::new(CheckStatus::L7Ok, Some(200), "", Some(1))
}

fn refused() -> CheckOutcome {
    CheckOutcome::new(CheckStatus::L4Con, None, "Connection refused", Some(0))
}

fn record(store: &Store, be: &str, sv: &str, o: &CheckOutcome) {
    let (p, s) = idx(store, be, sv);
    record_check(&store.load(), p, s, o).expect("record");
}

/// Change the admin state through a publish, then tell health, as the
/// admin crate does.
fn set_admin(store: &Store, be: &str, sv: &str, f: impl FnOnce(&mut AdminState)) {
    let (p, s) = idx(store, be, sv);
    let before = store.load_full();
    store
        .update(|snap| {
            let sv = snap.server_mut(p, s).ok_or(())?;
            f(&mut sv.admin);
            Ok::<_, ()>(())
        })
        .expect("update");
    let after = store.load_full();
    admin_state_changed(&before, &after, p, s).expect("admin change");
}

#[test]
fn rise_fall_sequence_exactly_as_haproxy() {
    capture_logs();
    let store = store_from(&cfg(
        "tr_seq",
        "    server s1 127.0.0.1:1 check inter 1s rise 2 fall 2\n",
    ));
    let st = || status(&store, "tr_seq", "s1");
    assert_eq!(st(), "UP 1/2");
    with_server(&store, "tr_seq", "s1", |sv| {
        assert_eq!(sv.live.check_status(), CheckStatus::Ini)
    });
    record(&store, "tr_seq", "s1", &refused());
    assert_eq!(st(), "DOWN");
    with_server(&store, "tr_seq", "s1", |sv| {
        assert_eq!(sv.live.chkfail.load(Relaxed), 1);
        assert_eq!(sv.live.chkdown.load(Relaxed), 1);
        assert_eq!(
            sv.live
                .last_check_text
                .load()
                .as_deref()
                .map(String::as_str),
            Some("Connection refused")
        );
    });
    record(&store, "tr_seq", "s1", &refused());
    with_server(&store, "tr_seq", "s1", |sv| {
        assert_eq!(sv.live.chkfail.load(Relaxed), 1, "no chkfail at health 0")
    });
    record(&store, "tr_seq", "s1", &ok200());
    assert_eq!(st(), "DOWN 1/2");
    record(&store, "tr_seq", "s1", &ok200());
    assert_eq!(st(), "UP");
    let s503 = CheckOutcome::new(
        CheckStatus::L7Sts,
        Some(503),
        "Service Unavailable",
        Some(1),
    );
    record(&store, "tr_seq", "s1", &s503);
    assert_eq!(st(), "UP 1/2");
    record(&store, "tr_seq", "s1", &s503);
    assert_eq!(st(), "DOWN");
    with_server(&store, "tr_seq", "s1", |sv| {
        assert_eq!(sv.live.chkfail.load(Relaxed), 3);
        assert_eq!(sv.live.chkdown.load(Relaxed), 2);
        assert_eq!(sv.live.check_code.load(Relaxed), 503);
    });
    let logs = logs_with("tr_seq");
    assert_eq!(
        logs,
        [
            "Server tr_seq/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "backend tr_seq has no server available!",
            "Server tr_seq/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_seq/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\", check duration: 1ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "backend tr_seq has no server available!",
        ]
    );
    let levels: Vec<LogLevel> = logs_with_level("tr_seq")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(
        levels,
        [
            LogLevel::Alert,
            LogLevel::Emerg,
            LogLevel::Notice,
            LogLevel::Alert,
            LogLevel::Emerg
        ]
    );
    with_server(&store, "tr_seq", "s1", |sv| {
        let be = store.load();
        let px = be.proxy(idx(&store, "tr_seq", "s1").0).expect("proxy");
        assert_eq!(px.live.be_chkdown.load(Relaxed), 2);
        assert!(px.live.be_down_since_ms.load(Relaxed) > 0);
        assert!(sv.live.down_since_ms.load(Relaxed) > 0);
    });
}

#[test]
fn set_server_health_from_cli() {
    capture_logs();
    let store = store_from(&cfg(
        "tr_cli",
        "    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2 check\n",
    ));
    let (p, s) = idx(&store, "tr_cli", "s2");
    force_health(&store.load(), p, s, Forced::Down).expect("down");
    assert_eq!(status(&store, "tr_cli", "s2"), "DOWN");
    force_health(&store.load(), p, s, Forced::Stopping).expect("stopping");
    assert_eq!(status(&store, "tr_cli", "s2"), "NOLB");
    force_health(&store.load(), p, s, Forced::Up).expect("up");
    assert_eq!(status(&store, "tr_cli", "s2"), "UP");
    // already up: nothing logged
    force_health(&store.load(), p, s, Forced::Up).expect("up again");
    assert_eq!(
        logs_with("tr_cli/s2"),
        [
            "Server tr_cli/s2 is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_cli/s2 is stopping, changed from CLI. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_cli/s2 is UP, changed from CLI. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        ]
    );
    let bad = force_health(&store.load(), p, switchyard_state::ServerIdx(9), Forced::Up);
    assert_eq!(bad, Err(HealthError::NoSuchServer));
}

#[test]
fn tracking_server_health_cannot_be_forced() {
    let store = store_from(&cfg(
        "tr_trk",
        "    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2 track tr_trk/s1\n",
    ));
    let (p, s) = idx(&store, "tr_trk", "s2");
    assert_eq!(
        force_health(&store.load(), p, s, Forced::Down),
        Err(HealthError::Tracking)
    );
    assert_eq!(
        HealthError::Tracking.to_string(),
        "cannot change health on a tracking server."
    );
}

#[test]
fn maintenance_and_back_takes_traffic_at_once() {
    capture_logs();
    let store = store_from(&cfg(
        "tr_mnt",
        "    server s1 127.0.0.1:1 check rise 2 fall 2\n    server s2 127.0.0.1:2 check\n",
    ));
    record(&store, "tr_mnt", "s1", &ok200());
    assert_eq!(status(&store, "tr_mnt", "s1"), "UP");
    set_admin(&store, "tr_mnt", "s1", |a| a.set(AdminState::FMAINT));
    assert_eq!(status(&store, "tr_mnt", "s1"), "MAINT");
    with_server(&store, "tr_mnt", "s1", |sv| {
        assert_eq!(sv.live.op_state(), OpState::Stopped);
        assert_eq!(sv.live.health.load(Relaxed), 0);
        assert!(!sv.is_usable());
    });
    // a check result while in maintenance is ignored
    record(&store, "tr_mnt", "s1", &ok200());
    assert_eq!(status(&store, "tr_mnt", "s1"), "MAINT");
    set_admin(&store, "tr_mnt", "s1", |a| a.clear(AdminState::FMAINT));
    assert_eq!(status(&store, "tr_mnt", "s1"), "UP 1/2");
    with_server(&store, "tr_mnt", "s1", |sv| {
        assert!(sv.is_usable(), "in traffic at once");
        assert_eq!(sv.live.health.load(Relaxed), 2);
    });
    // one failed check then makes it DOWN
    record(&store, "tr_mnt", "s1", &refused());
    assert_eq!(status(&store, "tr_mnt", "s1"), "DOWN");
    // maintenance of a DOWN server
    set_admin(&store, "tr_mnt", "s1", |a| a.set(AdminState::FMAINT));
    set_admin(&store, "tr_mnt", "s1", |a| a.clear(AdminState::FMAINT));
    let logs = logs_with("tr_mnt/s1");
    assert_eq!(
        logs,
        [
            "Server tr_mnt/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_mnt/s1 is UP/READY (leaving forced maintenance).",
            "Server tr_mnt/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_mnt/s1 was DOWN and now enters maintenance.",
            "Server tr_mnt/s1 is UP/READY (leaving forced maintenance).",
        ]
    );
}

#[test]
fn drain_transitions_as_captured_from_haproxy() {
    capture_logs();
    let store = store_from(&cfg(
        "tr_drn",
        "    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2 check\n",
    ));
    let s2 = "tr_drn/s2";
    // maint, drain (from maint), ready, drain, maint, ready
    set_admin(&store, "tr_drn", "s2", |a| a.set(AdminState::FMAINT));
    set_admin(&store, "tr_drn", "s2", |a| {
        a.clear(AdminState::FMAINT);
        a.set(AdminState::FDRAIN)
    });
    assert_eq!(status(&store, "tr_drn", "s2"), "DRAIN 1/3");
    set_admin(&store, "tr_drn", "s2", |a| a.clear(AdminState::FDRAIN));
    set_admin(&store, "tr_drn", "s2", |a| a.set(AdminState::FDRAIN));
    set_admin(&store, "tr_drn", "s2", |a| {
        a.clear(AdminState::FDRAIN);
        a.set(AdminState::FMAINT)
    });
    set_admin(&store, "tr_drn", "s2", |a| a.clear(AdminState::FMAINT));
    // a drained server going DOWN through its check, then UP again
    set_admin(&store, "tr_drn", "s2", |a| a.set(AdminState::FDRAIN));
    record(&store, "tr_drn", "s2", &refused());
    record(&store, "tr_drn", "s2", &ok200());
    record(&store, "tr_drn", "s2", &ok200());
    assert_eq!(
        logs_with(s2),
        [
            "Server tr_drn/s2 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_drn/s2 is UP/DRAIN (leaving forced maintenance).",
            "Server tr_drn/s2 remains in forced drain mode.",
            "Server tr_drn/s2 is UP (leaving forced drain).",
            "Server tr_drn/s2 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_drn/s2 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_drn/s2 is UP/READY (leaving forced maintenance).",
            "Server tr_drn/s2 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_drn/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server tr_drn/s2 remains in forced drain mode.",
            "Server tr_drn/s2 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_drn/s2 remains in forced drain mode.",
        ]
    );
    // a drained server going DOWN is a NOTICE, not an ALERT
    let down = logs_with_level("tr_drn/s2 is DOWN");
    assert_eq!(down[0].0, LogLevel::Notice);
}

#[test]
fn draining_the_last_server_empties_the_backend() {
    capture_logs();
    let store = store_from(&cfg("tr_last", "    server s1 127.0.0.1:1 check\n"));
    set_admin(&store, "tr_last", "s1", |a| a.set(AdminState::FDRAIN));
    assert_eq!(
        logs_with("tr_last"),
        [
            "Server tr_last/s1 enters drain state. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "backend tr_last has no server available!",
        ]
    );
}

#[test]
fn weight_zero_on_the_last_server_empties_the_backend() {
    capture_logs();
    let store = store_from(&cfg("tr_w0", "    server s1 127.0.0.1:1 check\n"));
    let (p, s) = idx(&store, "tr_w0", "s1");
    let before = store.load_full();
    store
        .update(|snap| {
            snap.server_mut(p, s).ok_or(())?.uweight = 0;
            Ok::<_, ()>(())
        })
        .expect("update");
    weight_changed(&before, &store.load_full(), p, s).expect("weight");
    assert_eq!(
        logs_with("tr_w0"),
        ["backend tr_w0 has no server available!"]
    );
}

#[test]
fn disable_on_404_soft_stops_and_2xx_restores() {
    capture_logs();
    let store = store_from(&format!(
        "{}    http-check disable-on-404\n    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2 check\n",
        cfg("tr_404", "")
    ));
    record(&store, "tr_404", "s1", &ok200());
    let c404 = CheckOutcome::new(CheckStatus::L7OkC, Some(404), "", Some(2));
    record(&store, "tr_404", "s1", &c404);
    assert_eq!(status(&store, "tr_404", "s1"), "NOLB");
    with_server(&store, "tr_404", "s1", |sv| {
        assert!(!sv.is_usable());
        assert!(sv.accepts_persistent(), "NOLB keeps cookie traffic");
    });
    record(&store, "tr_404", "s1", &ok200());
    assert_eq!(status(&store, "tr_404", "s1"), "UP");
    assert_eq!(
        logs_with("tr_404/s1"),
        [
            "Server tr_404/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 2ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server tr_404/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        ]
    );
}

#[test]
fn checks_can_be_disabled_and_enabled() {
    let store = store_from(&cfg(
        "tr_en",
        "    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2\n",
    ));
    let (p, s) = idx(&store, "tr_en", "s1");
    set_checks_enabled(&store.load(), p, s, false).expect("disable");
    with_server(&store, "tr_en", "s1", |sv| {
        assert!(!sv.live.checks_enabled.load(Relaxed))
    });
    set_checks_enabled(&store.load(), p, s, true).expect("enable");
    with_server(&store, "tr_en", "s1", |sv| {
        assert!(sv.live.checks_enabled.load(Relaxed))
    });
    // a server without `check` is left alone
    let (p2, s2) = idx(&store, "tr_en", "s2");
    set_checks_enabled(&store.load(), p2, s2, true).expect("no-op");
    with_server(&store, "tr_en", "s2", |sv| {
        assert!(!sv.live.checks_enabled.load(Relaxed))
    });
}

fn observe_store(name: &str, on_error: &str) -> Arc<Store> {
    store_from(&cfg(
        name,
        &format!(
            "    server s1 127.0.0.1:1 check rise 2 fall 3 observe layer4 error-limit 3 on-error {on_error}\n    server s2 127.0.0.1:2 check\n"
        ),
    ))
}

fn live_errors(store: &Store, be: &str, n: usize) -> bool {
    let (p, s) = idx(store, be, "s1");
    with_server(store, be, "s1", |sv| {
        for _ in 0..n {
            sv.live.observe(sv.cfg.observe, ObserveEvent::L4Err);
        }
    });
    apply_observe_errors(&store.load(), p, s).expect("observe")
}

#[test]
fn passive_health_fail_check() {
    capture_logs();
    let store = observe_store("tr_obs_fc", "fail-check");
    record(&store, "tr_obs_fc", "s1", &ok200());
    assert_eq!(status(&store, "tr_obs_fc", "s1"), "UP");
    assert!(!live_errors(&store, "tr_obs_fc", 2), "under the limit");
    // a success clears the streak
    with_server(&store, "tr_obs_fc", "s1", |sv| {
        sv.live.observe(sv.cfg.observe, ObserveEvent::L4Ok)
    });
    assert!(!live_errors(&store, "tr_obs_fc", 2));
    assert!(live_errors(&store, "tr_obs_fc", 1), "limit reached");
    assert_eq!(status(&store, "tr_obs_fc", "s1"), "UP 2/3");
    with_server(&store, "tr_obs_fc", "s1", |sv| {
        assert_eq!(sv.live.check_status(), CheckStatus::Hana);
        assert_eq!(sv.live.hanafail.load(Relaxed), 1);
        assert_eq!(sv.live.observe_errors.load(Relaxed), 0);
        assert_eq!(sv.live.check_duration_ms.load(Relaxed), -1);
        assert_eq!(
            sv.live
                .last_check_text
                .load()
                .as_deref()
                .map(String::as_str),
            Some("Detected 3 consecutive errors, last one was: L4 unsuccessful connection")
        );
    });
    assert!(live_errors(&store, "tr_obs_fc", 3));
    assert!(live_errors(&store, "tr_obs_fc", 3));
    assert_eq!(status(&store, "tr_obs_fc", "s1"), "DOWN");
    assert_eq!(
        logs_with("tr_obs_fc/s1 is DOWN"),
        ["Server tr_obs_fc/s1 is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: L4 unsuccessful connection\". 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
}

#[test]
fn passive_health_mark_down_and_sudden_death() {
    let store = observe_store("tr_obs_md", "mark-down");
    record(&store, "tr_obs_md", "s1", &ok200());
    assert!(live_errors(&store, "tr_obs_md", 3));
    assert_eq!(status(&store, "tr_obs_md", "s1"), "DOWN");

    let store = observe_store("tr_obs_sd", "sudden-death");
    record(&store, "tr_obs_sd", "s1", &ok200());
    assert!(live_errors(&store, "tr_obs_sd", 3));
    assert_eq!(status(&store, "tr_obs_sd", "s1"), "UP 1/3");
    assert!(live_errors(&store, "tr_obs_sd", 3));
    assert_eq!(status(&store, "tr_obs_sd", "s1"), "DOWN");

    let store = observe_store("tr_obs_fi", "fastinter");
    record(&store, "tr_obs_fi", "s1", &ok200());
    assert!(
        live_errors(&store, "tr_obs_fi", 3),
        "fastinter asks for a sooner check"
    );
    assert_eq!(status(&store, "tr_obs_fi", "s1"), "UP");
    with_server(&store, "tr_obs_fi", "s1", |sv| {
        assert_eq!(sv.live.hanafail.load(Relaxed), 1)
    });
}

#[test]
fn log_health_checks_reports_every_check() {
    capture_logs();
    let store = store_from(&format!(
        "{}    option log-health-checks\n    server s1 127.0.0.1:1 check rise 2 fall 2\n",
        cfg("tr_lhc", "")
    ));
    record(&store, "tr_lhc", "s1", &refused());
    assert_eq!(
        logs_with("tr_lhc/s1"),
        [
            "Health check for server tr_lhc/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms, status: 0/2 DOWN.",
            "Server tr_lhc/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        ]
    );
}
