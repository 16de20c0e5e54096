//! Applying one health or admin event to a server's live state, with
//! HAProxy's log lines: `srv_set_running/stopping/stopped`,
//! `set_server_check_status`, and the admin half of `srv_update_status`.
//!
//! Every function takes the snapshot the caller just loaded (or published)
//! and indices into it; live state is shared by identity, so a snapshot
//! published meanwhile does not matter.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use switchyard_config::LogLevel;
use switchyard_state::{
    now_ms, AdminState, OpState, ProxyIdx, ProxyRt, ServerIdx, ServerRt, Snapshot,
};

use crate::counter::RiseFall;
use crate::error::HealthError;
use crate::live_ops::{
    backend_back_from_maint, backend_down_if_emptied, backend_up_accumulate, emit_server, lock,
    server_down, server_leaves_drain, server_leaves_maint, server_stopping, server_up, total,
    touch, usable_counts,
};
use crate::message::{self, MaintKind, Tail, Why};
use crate::observe::{hana_desc, ObserveEvent, OnErrorAction};
use crate::outcome::{CheckOutcome, CheckResult};
use crate::slowstart::coming_up_state;
use switchyard_state::CheckStatus;

/// What `set server <b>/<s> health` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    /// health = rise+fall-1, server UP (`changed from CLI`).
    Up,
    /// health = rise+fall-1, server soft-stopped (NOLB).
    Stopping,
    /// health = 0, server DOWN.
    Down,
}

fn lookup(
    snap: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
) -> Result<(&Arc<ProxyRt>, &ServerRt), HealthError> {
    let px = snap.proxy(p).ok_or(HealthError::NoSuchServer)?;
    let sv = snap.server(p, s).ok_or(HealthError::NoSuchServer)?;
    Ok((px, sv))
}

fn rise_fall(sv: &ServerRt) -> RiseFall {
    RiseFall::new(sv.cfg.rise, sv.cfg.fall)
}

fn tail(px: &ProxyRt, sv: &ServerRt) -> Tail {
    let (act, bck) = usable_counts(px);
    Tail {
        act,
        bck,
        sessions: sv.live.cur_conns.load(Relaxed),
        requeued: 0,
        queued: 0,
    }
}

/// `set server <b>/<s> health up|stopping|down`: force the check result.
/// No effect (and no log) on a server in maintenance or already in that
/// state, as in HAProxy; the health counter is set in every case.
pub fn force_health(
    snap: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
    forced: Forced,
) -> Result<(), HealthError> {
    let (px, sv) = lookup(snap, p, s)?;
    if sv.cfg.track.is_some() {
        return Err(HealthError::Tracking);
    }
    let _g = lock();
    let rf = rise_fall(sv);
    let why = Why::Text("changed from CLI");
    match forced {
        Forced::Up => {
            sv.live.health.store(rf.max(), Relaxed);
            go_running(px, sv, why);
        }
        Forced::Stopping => {
            sv.live.health.store(rf.max(), Relaxed);
            go_stopping(px, sv, why);
        }
        Forced::Down => {
            sv.live.health.store(0, Relaxed);
            go_stopped(px, sv, why);
        }
    }
    Ok(())
}

/// `enable health` / `disable health`: start or stop running checks. The
/// server keeps its state (a DOWN server stays DOWN). Servers without
/// `check` are left alone.
pub fn set_checks_enabled(
    snap: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
    enabled: bool,
) -> Result<(), HealthError> {
    let (_, sv) = lookup(snap, p, s)?;
    if sv.cfg.check {
        sv.live.checks_enabled.store(enabled, Relaxed);
    }
    Ok(())
}

/// Record one check outcome (HAProxy's `set_server_check_status` followed
/// by `check_notify_*`): check columns, the rise/fall counter, `chkfail`,
/// and the UP/DOWN/stopping transition with its log line. Outcomes for a
/// server in maintenance are dropped (its checks are paused).
pub fn record_check(
    snap: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
    o: &CheckOutcome,
) -> Result<(), HealthError> {
    let (px, sv) = lookup(snap, p, s)?;
    if sv.admin.is_maint() {
        return Ok(());
    }
    let _g = lock();
    record_locked(px, sv, o);
    Ok(())
}

fn record_locked(px: &ProxyRt, sv: &ServerRt, o: &CheckOutcome) {
    let live = &sv.live;
    let rf = rise_fall(sv);
    let prev_status = live.check_status();
    live.check_status.store(o.status as u8, Relaxed);
    live.check_code.store(o.code.unwrap_or(0), Relaxed);
    live.check_duration_ms
        .store(o.duration_ms.map(|d| d as i64).unwrap_or(-1), Relaxed);
    live.last_check_text
        .store((!o.desc.is_empty()).then(|| Arc::new(o.desc.clone())));

    let mut health = live.health.load(Relaxed);
    let mut report = false;
    let result = o.result();
    match result {
        CheckResult::Failed => {
            let (h, counted) = rf.on_failure(health);
            if counted {
                live.chkfail.fetch_add(1, Relaxed);
                report = true;
            }
            health = h;
        }
        CheckResult::Passed | CheckResult::CondPassed => {
            if health < rf.max() {
                report = true;
                health = rf.on_success(health);
            }
            if sv.cfg.observe.is_some() {
                live.observe_errors.store(0, Relaxed);
            }
        }
        CheckResult::Neutral => return,
    }
    live.health.store(health, Relaxed);

    let log_checks = px.cfg.options.log_health_checks;
    if log_checks && (prev_status != o.status || report) {
        let line =
            message::health_check_log(&px.name, &sv.name, sv.cfg.backup, o, health, rf, sv.uweight);
        emit_server(LogLevel::Notice, &line);
    }

    // With log-health-checks the check was already described above.
    let why = if log_checks { Why::None } else { Why::Check(o) };
    match result {
        CheckResult::Failed if health == 0 => go_stopped(px, sv, why),
        CheckResult::Passed if rf.is_up(health) => go_running(px, sv, why),
        CheckResult::CondPassed if rf.is_up(health) => go_stopping(px, sv, why),
        _ => {}
    }
}

/// Passive health: when live traffic has counted `error-limit` consecutive
/// errors in `ServerLive::observe_errors`, apply `on-error` (HAProxy's
/// `__health_adjust`): the counter is reset, `hanafail` counts one, and
/// unless the mode is `fastinter` a failed check (HANA) is simulated.
/// Returns true when the limit was reached (the caller then switches the
/// server's checks to `fastinter`).
pub fn apply_observe_errors(
    snap: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
) -> Result<bool, HealthError> {
    let (px, sv) = lookup(snap, p, s)?;
    if sv.cfg.observe.is_none() {
        return Ok(false);
    }
    let live = &sv.live;
    let limit = sv.cfg.error_limit.max(1);
    if live.observe_errors.load(Relaxed) < limit {
        return Ok(false);
    }
    let _g = lock();
    let count = live.observe_errors.swap(0, Relaxed);
    if count < limit {
        // Someone reset it meanwhile (a success).
        return Ok(false);
    }
    let last = ObserveEvent::from_u8(live.observe_last.load(Relaxed));
    live.hanafail.fetch_add(1, Relaxed);
    if sv.admin.is_maint() {
        return Ok(true);
    }
    let rf = rise_fall(sv);
    let action = OnErrorAction::for_mode(sv.cfg.on_error, live.health.load(Relaxed), rf);
    if let Some(h) = action.health_before_failure {
        live.health.store(h, Relaxed);
        let o = CheckOutcome::new(CheckStatus::Hana, None, hana_desc(count, last), None);
        record_locked(px, sv, &o);
    }
    Ok(action.force_fastinter)
}

/// The Runtime API changed a server's admin state (`set server state`,
/// `enable/disable server`, DNS): `before` and `after` are the snapshots
/// around the publish. Applies HAProxy's consequences to live state and
/// logs them:
/// - entering MAINT: health 0, DOWN (`is going DOWN for maintenance. ...`
///   or `was DOWN and now enters maintenance.`), checks paused;
/// - leaving MAINT: health = rise, the server is UP at once and takes
///   traffic (shown `UP 1/fall`), with slowstart if configured
///   (`is UP/READY (leaving forced maintenance).`);
/// - entering/leaving DRAIN (`enters drain state. ...`,
///   `is UP (leaving forced drain).`);
/// - `backend 'b' has no server available!` when the last usable server
///   goes.
pub fn admin_state_changed(
    before: &Snapshot,
    after: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
) -> Result<(), HealthError> {
    let (px_b, b) = lookup(before, p, s)?;
    let (px, a) = lookup(after, p, s)?;
    if !Arc::ptr_eq(&b.live, &a.live) {
        return Err(HealthError::NoSuchServer);
    }
    let _g = lock();
    let counts_before = usable_counts(px_b);
    admin_locked(px, b.admin, a, counts_before, "");
    Ok(())
}

/// The admin half of `srv_update_status`, for a server whose admin state
/// went from `was` to `a.admin`. `cause` is appended in parentheses to the
/// maintenance/drain lines (`DNS NX status`, ...).
pub(crate) fn admin_locked(
    px: &ProxyRt,
    was: AdminState,
    a: &ServerRt,
    counts_before: (u32, u32),
    cause: &str,
) {
    let now = now_ms();
    let live = &a.live;
    let rf = rise_fall(a);
    let (be, sv, bk) = (&*px.name, &*a.name, a.cfg.backup);
    let is = a.admin;
    if was == is {
        return;
    }
    let cleared = |bit: u8| was.has(bit) && !is.has(bit);
    let forced_cleared = cleared(AdminState::FMAINT);

    if !was.is_maint() && is.is_maint() {
        let op = live.op_state();
        live.health.store(0, Relaxed);
        if op == OpState::Stopped {
            emit_server(
                LogLevel::Notice,
                &message::was_down_maint(be, sv, bk, cause),
            );
        } else {
            let was_stopping = op == OpState::Stopping || was.is_drain();
            server_down(live, now);
            live.chkdown.fetch_add(1, Relaxed);
            let level = if was_stopping {
                LogLevel::Notice
            } else {
                LogLevel::Alert
            };
            emit_server(level, &message::going_maint(be, sv, bk, cause, tail(px, a)));
            backend_down_if_emptied(px, counts_before, now);
        }
        // Drain flags are not reported while in maintenance.
        return;
    } else if was.is_maint() && !is.is_maint() {
        if a.cfg.check && live.checks_enabled.load(Relaxed) {
            live.health.store(rf.rise, Relaxed);
        }
        server_leaves_maint(live, coming_up_state(a.cfg.slowstart), now);
        let mut kind = None;
        if forced_cleared {
            kind = Some(MaintKind::Forced);
        }
        if cleared(AdminState::RMAINT) {
            kind = Some(MaintKind::Resolution);
        }
        if cleared(AdminState::IMAINT) {
            kind = Some(MaintKind::Inherited);
        }
        if let Some(k) = kind {
            let msg = message::leaving_maint(be, sv, bk, k, &a.cfg.addr.host, true, is.is_drain());
            emit_server(LogLevel::Notice, &msg);
        }
        backend_down_if_emptied(px, counts_before, now);
        backend_back_from_maint(px, counts_before, now);
        // The drain flags were committed with the maintenance change, so
        // HAProxy only says the server "remains" drained.
        remains_drain_note(px, a);
        return;
    } else if is.is_maint() {
        if forced_cleared {
            emit_server(
                LogLevel::Notice,
                &message::remains_maint(be, sv, bk, MaintKind::Forced, ""),
            );
        }
        if cleared(AdminState::RMAINT) {
            let host = &a.cfg.addr.host;
            emit_server(
                LogLevel::Notice,
                &message::remains_maint(be, sv, bk, MaintKind::Resolution, host),
            );
        } else if cleared(AdminState::IMAINT) {
            emit_server(
                LogLevel::Notice,
                &message::remains_maint(be, sv, bk, MaintKind::Inherited, ""),
            );
        }
        return;
    }

    if !was.is_drain() && is.is_drain() {
        touch(live, now);
        emit_server(
            LogLevel::Notice,
            &message::enters_drain(be, sv, bk, cause, tail(px, a)),
        );
        backend_down_if_emptied(px, counts_before, now);
    } else if was.is_drain() && !is.is_drain() {
        backend_up_accumulate(&px.live, counts_before, now);
        server_leaves_drain(live, now);
        let up = live.op_state() != OpState::Stopped;
        emit_server(LogLevel::Notice, &message::leaving_drain(be, sv, bk, up));
    } else {
        remains_drain_note(px, a);
    }
}

/// HAProxy's `srv_update_status` ends, for a drained server that stays
/// drained, with `remains in forced drain mode` — after every state change
/// of that server, even a health-check one.
fn remains_drain_note(px: &ProxyRt, sv: &ServerRt) {
    if sv.admin.is_maint() || !sv.admin.is_drain() {
        return;
    }
    let forced_left = !sv.admin.has(AdminState::FDRAIN);
    emit_server(
        LogLevel::Notice,
        &message::remains_drain(&px.name, &sv.name, sv.cfg.backup, forced_left),
    );
}

/// The Runtime API changed a server's weight (`set server weight`, `set
/// weight`): if that leaves the backend without any usable server,
/// `backend 'b' has no server available!` is logged, as HAProxy's weight
/// branch of `srv_update_status` does.
pub fn weight_changed(
    before: &Snapshot,
    after: &Snapshot,
    p: ProxyIdx,
    s: ServerIdx,
) -> Result<(), HealthError> {
    let (px_b, b) = lookup(before, p, s)?;
    let (px, a) = lookup(after, p, s)?;
    if !Arc::ptr_eq(&b.live, &a.live) {
        return Err(HealthError::NoSuchServer);
    }
    // Even an unchanged weight goes through HAProxy's status update, so a
    // drained server logs that it stays drained.
    let _g = lock();
    if !a.admin.is_maint() {
        let (before, now) = (usable_counts(px_b), now_ms());
        if total(usable_counts(px)) > 0 {
            backend_up_accumulate(&px.live, before, now);
        }
        backend_down_if_emptied(px, before, now);
        remains_drain_note(px, a);
    }
    Ok(())
}

/// `srv_set_running`: UP (or STARTING under slowstart) unless in
/// maintenance or already up.
fn go_running(px: &ProxyRt, sv: &ServerRt, why: Why<'_>) {
    if sv.admin.is_maint() || matches!(sv.live.op_state(), OpState::Running | OpState::Starting) {
        return;
    }
    let before = usable_counts(px);
    let now = now_ms();
    backend_up_accumulate(&px.live, before, now);
    server_up(&sv.live, coming_up_state(sv.cfg.slowstart), now);
    emit_server(
        LogLevel::Notice,
        &message::up(&px.name, &sv.name, sv.cfg.backup, why, tail(px, sv)),
    );
    backend_down_if_emptied(px, before, now);
    remains_drain_note(px, sv);
}

/// The end of a slowstart ramp: HAProxy's warmup task moves STARTING to
/// RUNNING through the "getting UP" branch, hence a second, reason-less
/// `Server b/s is UP. ...` line and a new `lastchg`.
pub(crate) fn finish_slowstart(px: &ProxyRt, sv: &ServerRt, now: u64) {
    let _g = lock();
    if sv.admin.is_maint()
        || sv.live.op_state() != OpState::Starting
        || sv.slowstart_step(now).is_some()
    {
        return;
    }
    let before = usable_counts(px);
    backend_up_accumulate(&px.live, before, now);
    server_up(&sv.live, OpState::Running, now);
    emit_server(
        LogLevel::Notice,
        &message::up(&px.name, &sv.name, sv.cfg.backup, Why::None, tail(px, sv)),
    );
    backend_down_if_emptied(px, before, now);
    remains_drain_note(px, sv);
}

/// `srv_set_stopping`: soft-stop (NOLB) unless in maintenance or already.
fn go_stopping(px: &ProxyRt, sv: &ServerRt, why: Why<'_>) {
    if sv.admin.is_maint() || sv.live.op_state() == OpState::Stopping {
        return;
    }
    let before = usable_counts(px);
    let now = now_ms();
    server_stopping(&sv.live, now);
    emit_server(
        LogLevel::Notice,
        &message::stopping(&px.name, &sv.name, sv.cfg.backup, why, tail(px, sv)),
    );
    backend_down_if_emptied(px, before, now);
    remains_drain_note(px, sv);
}

/// `srv_set_stopped`: DOWN unless in maintenance or already DOWN.
fn go_stopped(px: &ProxyRt, sv: &ServerRt, why: Why<'_>) {
    let op = sv.live.op_state();
    if sv.admin.is_maint() || op == OpState::Stopped {
        return;
    }
    let was_stopping = op == OpState::Stopping || sv.admin.is_drain();
    let before = usable_counts(px);
    let now = now_ms();
    server_down(&sv.live, now);
    sv.live.chkdown.fetch_add(1, Relaxed);
    let level = if was_stopping {
        LogLevel::Notice
    } else {
        LogLevel::Alert
    };
    emit_server(
        level,
        &message::down(&px.name, &sv.name, sv.cfg.backup, why, tail(px, sv)),
    );
    backend_down_if_emptied(px, before, now);
    remains_drain_note(px, sv);
}
