//! HAProxy's state-change sentences (`srv_update_status`,
//! `srv_append_status`), as pure string builders.

use std::fmt::Write;

use crate::outcome::CheckOutcome;
use switchyard_state::CheckStatus;

/// Servers still usable in the backend after the change, and the server's
/// own session/queue figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tail {
    pub act: u32,
    pub bck: u32,
    pub sessions: u32,
    pub requeued: u32,
    pub queued: u32,
}

/// Which wording the tail uses: "left" when the server goes DOWN or into
/// maintenance, "online" otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TailKind {
    Left,
    Online,
}

/// `. 1 active and 0 backup servers left. 0 sessions active, 0 requeued,
/// 0 remaining in queue` / `. 2 active and 0 backup servers online. 0
/// sessions requeued, 0 total in queue`.
pub(crate) fn tail(kind: TailKind, t: Tail) -> String {
    let on_backup = if t.bck > 0 && t.act == 0 {
        " Running on backup."
    } else {
        ""
    };
    match kind {
        TailKind::Left => format!(
            ". {} active and {} backup servers left.{} {} sessions active, {} requeued, {} remaining in queue",
            t.act, t.bck, on_backup, t.sessions, t.requeued, t.queued
        ),
        TailKind::Online => format!(
            ". {} active and {} backup servers online.{} {} sessions requeued, {} total in queue",
            t.act, t.bck, on_backup, t.requeued, t.queued
        ),
    }
}

/// `, reason: Layer7 check passed, code: 200, info: "...", check duration: 1ms`
pub(crate) fn check_reason(o: &CheckOutcome) -> String {
    let mut m = format!(", reason: {}", o.status.desc());
    // HAProxy prints a code only for statuses from L7OK on (L57DATA).
    if matches!(
        o.status,
        CheckStatus::L7Ok | CheckStatus::L7OkC | CheckStatus::L7Sts
    ) {
        let _ = write!(m, ", code: {}", o.code.unwrap_or(0));
    }
    if !o.desc.is_empty() {
        let _ = write!(m, ", info: \"{}\"", ascii_encode(&o.desc));
    }
    if let Some(d) = o.duration_ms {
        let _ = write!(m, ", check duration: {d}ms");
    }
    m
}

/// Why a state changed: a check's outcome, a fixed phrase (`changed from
/// CLI`), or nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Why<'a> {
    Check(&'a CheckOutcome),
    Text(&'a str),
    None,
}

impl Why<'_> {
    fn render(self) -> String {
        match self {
            Why::Check(o) => check_reason(o),
            Why::Text(t) if !t.is_empty() => format!(", {t}"),
            _ => String::new(),
        }
    }
}

fn prefix(backup: bool) -> &'static str {
    if backup {
        "Backup "
    } else {
        ""
    }
}

/// `Server b/s is DOWN, reason: ... 0 active and 0 backup servers left. ...`
pub(crate) fn down(be: &str, sv: &str, backup: bool, why: Why<'_>, t: Tail) -> String {
    format!(
        "{}Server {be}/{sv} is DOWN{}{}",
        prefix(backup),
        why.render(),
        tail(TailKind::Left, t)
    )
}

/// `Server b/s is UP, reason: ... 1 active and 0 backup servers online. ...`
pub(crate) fn up(be: &str, sv: &str, backup: bool, why: Why<'_>, t: Tail) -> String {
    format!(
        "{}Server {be}/{sv} is UP{}{}",
        prefix(backup),
        why.render(),
        tail(TailKind::Online, t)
    )
}

/// `Server b/s is stopping, reason: ... online. ...`
pub(crate) fn stopping(be: &str, sv: &str, backup: bool, why: Why<'_>, t: Tail) -> String {
    format!(
        "{}Server {be}/{sv} is stopping{}{}",
        prefix(backup),
        why.render(),
        tail(TailKind::Online, t)
    )
}

/// `Server b/s is going DOWN for maintenance. 1 active ... left. ...`
pub(crate) fn going_maint(be: &str, sv: &str, backup: bool, cause: &str, t: Tail) -> String {
    format!(
        "{}Server {be}/{sv} is going DOWN for maintenance{}{}",
        prefix(backup),
        paren(cause),
        tail(TailKind::Left, t)
    )
}

/// `Server b/s was DOWN and now enters maintenance.`
pub(crate) fn was_down_maint(be: &str, sv: &str, backup: bool, cause: &str) -> String {
    format!(
        "{}Server {be}/{sv} was DOWN and now enters maintenance{}",
        prefix(backup),
        paren(cause)
    )
}

/// Which maintenance a server leaves (the last one named wins, as in
/// HAProxy where later messages overwrite earlier ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaintKind {
    Forced,
    Resolution,
    Inherited,
}

/// `Server b/s is UP/READY (leaving forced maintenance).` and friends.
pub(crate) fn leaving_maint(
    be: &str,
    sv: &str,
    backup: bool,
    kind: MaintKind,
    hostname: &str,
    is_up: bool,
    drain: bool,
) -> String {
    let st = if is_up { "UP" } else { "DOWN" };
    let rd = if drain { "DRAIN" } else { "READY" };
    let p = prefix(backup);
    match kind {
        MaintKind::Forced => {
            format!("{p}Server {be}/{sv} is {st}/{rd} (leaving forced maintenance)")
        }
        MaintKind::Resolution => {
            format!("{p}Server {be}/{sv} ('{hostname}') is {st}/{rd} (resolves again)")
        }
        MaintKind::Inherited => format!("{p}Server {be}/{sv} is {st}/{rd} (leaving maintenance)"),
    }
}

/// `Server b/s enters drain state. 0 active ... online. ...`
pub(crate) fn enters_drain(be: &str, sv: &str, backup: bool, cause: &str, t: Tail) -> String {
    format!(
        "{}Server {be}/{sv} enters drain state{}{}",
        prefix(backup),
        paren(cause),
        tail(TailKind::Online, t)
    )
}

/// `Server b/s is UP (leaving forced drain).` (completely leaving drain is
/// always worded "forced" in HAProxy 2.6).
pub(crate) fn leaving_drain(be: &str, sv: &str, backup: bool, is_up: bool) -> String {
    let st = if is_up { "UP" } else { "DOWN" };
    format!(
        "{}Server {be}/{sv} is {st} (leaving forced drain)",
        prefix(backup)
    )
}

/// One drain flag removed, another one remains.
pub(crate) fn remains_drain(be: &str, sv: &str, backup: bool, forced_left: bool) -> String {
    if forced_left {
        format!(
            "{}Server {be}/{sv} is leaving forced drain but remains in drain mode",
            prefix(backup)
        )
    } else {
        format!(
            "{}Server {be}/{sv} remains in forced drain mode",
            prefix(backup)
        )
    }
}

/// One maintenance flag removed, another one remains.
pub(crate) fn remains_maint(
    be: &str,
    sv: &str,
    backup: bool,
    kind: MaintKind,
    hostname: &str,
) -> String {
    let p = prefix(backup);
    match kind {
        MaintKind::Forced => {
            format!("{p}Server {be}/{sv} is leaving forced maintenance but remains in maintenance")
        }
        MaintKind::Resolution => {
            format!("{p}Server {be}/{sv} ('{hostname}') resolves again but remains in maintenance")
        }
        MaintKind::Inherited => format!("{p}Server {be}/{sv} remains in forced maintenance"),
    }
}

/// The `option log-health-checks` line: `Health check for server b/s
/// succeeded, reason: ..., status: 3/3 UP`.
pub(crate) fn health_check_log(
    be: &str,
    sv: &str,
    backup: bool,
    o: &CheckOutcome,
    health: u32,
    rf: crate::counter::RiseFall,
    uweight: u32,
) -> String {
    let (rise, fall) = (rf.rise, rf.fall);
    use crate::outcome::CheckResult::*;
    let res = o.result();
    let cond = if res == CondPassed {
        "conditionally "
    } else {
        ""
    };
    let verdict = if matches!(res, Passed | CondPassed) {
        "succeeded"
    } else {
        "failed"
    };
    let (x, y, st) = if health >= rise {
        (
            health - rise + 1,
            fall,
            if uweight > 0 { "UP" } else { "DRAIN" },
        )
    } else {
        (health, rise, "DOWN")
    };
    format!(
        "Health check for {}server {be}/{sv} {cond}{verdict}{}, status: {x}/{y} {st}",
        if backup { "backup " } else { "" },
        check_reason(o)
    )
}

/// `backend 'b' has no server available!` (stderr) / without quotes (log).
pub(crate) fn no_server(kind: &str, be: &str) -> (String, String) {
    (
        format!("{kind} '{be}' has no server available!"),
        format!("{kind} {be} has no server available!"),
    )
}

fn paren(cause: &str) -> String {
    if cause.is_empty() {
        String::new()
    } else {
        format!(" ({cause})")
    }
}

/// HAProxy's `chunk_asciiencode` with `"` as the quote character.
fn ascii_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x1b => out.push_str("\\e"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(act: u32, bck: u32) -> Tail {
        Tail {
            act,
            bck,
            ..Tail::default()
        }
    }

    #[test]
    fn reference_lines() {
        let refused = CheckOutcome::new(CheckStatus::L4Con, None, "Connection refused", Some(0));
        assert_eq!(
            down("be_app", "s2", false, Why::Check(&refused), t(1, 0)),
            "Server be_app/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue"
        );
        let ok = CheckOutcome::new(CheckStatus::L7Ok, Some(200), "", Some(1));
        assert_eq!(
            up("be_app", "s2", false, Why::Check(&ok), t(2, 0)),
            "Server be_app/s2 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue"
        );
        let c404 = CheckOutcome::new(CheckStatus::L7OkC, Some(404), "", Some(2));
        assert_eq!(
            stopping("be_sticky", "s1", false, Why::Check(&c404), t(1, 0)),
            "Server be_sticky/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 2ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue"
        );
        assert_eq!(
            going_maint("be_app", "s1", false, "", t(1, 0)),
            "Server be_app/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue"
        );
        assert_eq!(
            was_down_maint("be_app", "s2", false, ""),
            "Server be_app/s2 was DOWN and now enters maintenance"
        );
        assert_eq!(
            leaving_maint("be_app", "s1", false, MaintKind::Forced, "", true, false),
            "Server be_app/s1 is UP/READY (leaving forced maintenance)"
        );
        assert_eq!(
            leaving_maint(
                "blue",
                "blue",
                false,
                MaintKind::Resolution,
                "localhost",
                true,
                false
            ),
            "Server blue/blue ('localhost') is UP/READY (resolves again)"
        );
        assert_eq!(
            enters_drain("be_app", "s1", false, "", t(0, 0)),
            "Server be_app/s1 enters drain state. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue"
        );
        assert_eq!(
            leaving_drain("be_app", "s1", false, true),
            "Server be_app/s1 is UP (leaving forced drain)"
        );
        assert_eq!(
            up("blue", "blue", false, Why::None, t(1, 0)),
            "Server blue/blue is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue"
        );
        assert_eq!(
            up("b", "s", false, Why::Text("changed from CLI"), t(1, 0)),
            "Server b/s is UP, changed from CLI. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue"
        );
        assert_eq!(
            no_server("backend", "green"),
            (
                "backend 'green' has no server available!".to_string(),
                "backend green has no server available!".to_string()
            )
        );
    }

    #[test]
    fn backup_and_running_on_backup() {
        let o = CheckOutcome::new(CheckStatus::L4Tout, None, "", Some(2000));
        assert_eq!(
            down("b", "s", true, Why::Check(&o), t(0, 1)),
            "Backup Server b/s is DOWN, reason: Layer4 timeout, check duration: 2000ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue"
        );
        let hana = CheckOutcome::new(CheckStatus::Hana, None, "x\"y", None);
        assert_eq!(
            check_reason(&hana),
            ", reason: Health analyze, info: \"x\\\"y\""
        );
        let rsp = CheckOutcome::new(CheckStatus::L7Rsp, None, "", Some(3));
        assert_eq!(
            check_reason(&rsp),
            ", reason: Layer7 invalid response, check duration: 3ms"
        );
    }

    #[test]
    fn log_health_checks_line() {
        let o = CheckOutcome::new(CheckStatus::L4Con, None, "Connection refused", Some(0));
        assert_eq!(
            health_check_log("b", "s", false, &o, 0, crate::counter::RiseFall::new(2, 3), 1),
            "Health check for server b/s failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms, status: 0/2 DOWN"
        );
        let ok = CheckOutcome::new(CheckStatus::L7Ok, Some(200), "", Some(1));
        assert_eq!(
            health_check_log("b", "s", true, &ok, 4, crate::counter::RiseFall::new(2, 3), 1),
            "Health check for backup server b/s succeeded, reason: Layer7 check passed, code: 200, check duration: 1ms, status: 3/3 UP"
        );
    }
}
