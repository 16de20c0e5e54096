//! The admin form the stats page posts (`s=<server>&...&action=<a>&b=#<iid>`),
//! a port of HAProxy 2.6's `stats_process_http_post`: the last `b` and the
//! last `action` win, every `s` is applied, and the result code follows
//! HAProxy's counting (`NONE` when no server was named, `ERRP` when none
//! could be changed, `PART`, `DONE`).

use std::sync::atomic::Ordering::Relaxed;

use switchyard_health::{admin_state_changed, force_health, set_checks_enabled, Forced};
use switchyard_state::{AdminState, ProxyIdx, ServerIdx, Snapshot, Store};

/// HAProxy's `LINESIZE`: a longer parameter is refused (`ERRP`).
const MAX_PARAM: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Ready,
    Drain,
    Maint,
    Shutdown,
    DisableHealth,
    EnableHealth,
    HealthUp,
    HealthNolb,
    HealthDown,
    DisableAgent,
    EnableAgent,
    AgentUp,
    AgentDown,
    // The pre-1.6 actions, still accepted.
    Disable,
    Enable,
    Stop,
    Start,
}

fn action(v: &str) -> Option<Action> {
    Some(match v {
        "ready" => Action::Ready,
        "drain" => Action::Drain,
        "maint" => Action::Maint,
        "shutdown" => Action::Shutdown,
        "dhlth" => Action::DisableHealth,
        "ehlth" => Action::EnableHealth,
        "hrunn" => Action::HealthUp,
        "hnolb" => Action::HealthNolb,
        "hdown" => Action::HealthDown,
        "dagent" => Action::DisableAgent,
        "eagent" => Action::EnableAgent,
        "arunn" => Action::AgentUp,
        "adown" => Action::AgentDown,
        "disable" => Action::Disable,
        "enable" => Action::Enable,
        "stop" => Action::Stop,
        "start" => Action::Start,
        _ => return None,
    })
}

/// `url_decode(s, 1)`: `+` is a space; a bad `%` escape fails.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = hex(*b.get(i + 1)?)?;
                let l = hex(*b.get(i + 2)?)?;
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The decoded form: the backend named last, the action chosen last, and
/// every server, or the result code when the form is invalid.
struct Form {
    backend: Option<String>,
    action: Option<Action>,
    servers: Vec<String>,
}

fn parse(body: &str) -> Result<Form, &'static str> {
    let mut f = Form {
        backend: None,
        action: None,
        servers: Vec::new(),
    };
    // HAProxy walks the parameters from the end; the first `b`/`action`
    // met that way (the last ones) win, and it stops at a bad escape.
    for param in body.rsplit('&') {
        if param.len() >= MAX_PARAM {
            return Err("ERRP");
        }
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let (Some(k), Some(v)) = (url_decode(k), url_decode(v)) else {
            break;
        };
        match k.as_str() {
            "b" if f.backend.is_none() => f.backend = Some(v),
            "action" if f.action.is_none() => f.action = Some(action(&v).ok_or("ERRP")?),
            "s" => f.servers.push(v),
            _ => {}
        }
    }
    Ok(f)
}

/// Apply a posted form; returns the `st=` code for the redirect.
pub fn apply(store: &Store, body: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(body);
    let form = match parse(&text) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let snap = store.load_full();
    let p = match &form.backend {
        Some(b) => match crate::exec::lookup::backend(&snap, b) {
            Some(p) => p,
            None => return "ERRP",
        },
        None => return "NONE",
    };
    let Some(act) = form.action else {
        return "NONE";
    };
    let (mut total, mut altered) = (0usize, 0usize);
    for name in &form.servers {
        total += 1;
        let snap = store.load_full();
        let Some(s) = find_server(&snap, p, name) else {
            continue;
        };
        if !apply_one(store, &snap, p, s, act) {
            total -= 1;
            continue;
        }
        altered += 1;
    }
    match (total, altered) {
        (0, _) => "NONE",
        (_, 0) => "ERRP",
        (t, a) if t == a => "DONE",
        _ => "PART",
    }
}

/// `findserver`: by name; an ambiguous (duplicated) name finds nothing.
fn find_server(snap: &Snapshot, p: ProxyIdx, name: &str) -> Option<ServerIdx> {
    let servers = &snap.proxy(p)?.backend.as_ref()?.servers;
    let mut hits = servers.iter().enumerate().filter(|(_, s)| &*s.name == name);
    let (i, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    Some(ServerIdx(i as u32))
}

/// Apply one action to one server; false when HAProxy would not count it
/// (the change does not apply to this server).
fn apply_one(store: &Store, snap: &Snapshot, p: ProxyIdx, s: ServerIdx, act: Action) -> bool {
    let Some(sv) = snap.server(p, s) else {
        return false;
    };
    let admin = sv.admin;
    let tracking = sv.cfg.track.is_some();
    let agent = sv.cfg.agent_check && sv.cfg.agent_port.is_some();
    match act {
        Action::Ready => set_admin(store, p, s, 0, AdminState::FMAINT | AdminState::FDRAIN),
        Action::Drain => set_admin(store, p, s, AdminState::FDRAIN, AdminState::FMAINT),
        Action::Maint => set_admin(store, p, s, AdminState::FMAINT, AdminState::FDRAIN),
        Action::Disable => {
            !admin.has(AdminState::FMAINT) && set_admin(store, p, s, AdminState::FMAINT, 0)
        }
        Action::Enable => {
            admin.has(AdminState::FMAINT) && set_admin(store, p, s, 0, AdminState::FMAINT)
        }
        Action::Stop => {
            !admin.has(AdminState::FDRAIN) && set_admin(store, p, s, AdminState::FDRAIN, 0)
        }
        Action::Start => {
            admin.has(AdminState::FDRAIN) && set_admin(store, p, s, 0, AdminState::FDRAIN)
        }
        Action::DisableHealth | Action::EnableHealth => {
            sv.cfg.check && set_checks_enabled(snap, p, s, act == Action::EnableHealth).is_ok()
        }
        Action::HealthUp => !tracking && force_health(snap, p, s, Forced::Up).is_ok(),
        Action::HealthNolb => !tracking && force_health(snap, p, s, Forced::Stopping).is_ok(),
        Action::HealthDown => !tracking && force_health(snap, p, s, Forced::Down).is_ok(),
        // Agent checks are not run by switchyard; the toggles only count,
        // as `enable/disable agent` on the CLI.
        Action::DisableAgent | Action::EnableAgent => agent,
        Action::AgentUp => agent && force_health(snap, p, s, Forced::Up).is_ok(),
        Action::AgentDown => agent && force_health(snap, p, s, Forced::Down).is_ok(),
        Action::Shutdown => {
            let running = snap.proxy(p).is_some_and(|x| !x.cfg.disabled);
            if running {
                sv.live.shutdown_gen.fetch_add(1, Relaxed);
            }
            running
        }
    }
}

/// Change admin bits, publish, then apply the consequences (logs, health).
fn set_admin(store: &Store, p: ProxyIdx, s: ServerIdx, set: u8, clear: u8) -> bool {
    let r: Result<(Snapshot, Snapshot), ()> = store.update(|snap| {
        let before = snap.clone();
        let sv = snap.server_mut(p, s).ok_or(())?;
        sv.change_admin(set, clear);
        Ok((before, snap.clone()))
    });
    match r {
        Ok((b, a)) => admin_state_changed(&b, &a, p, s).is_ok(),
        Err(()) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parsing() {
        let f = parse("s=a&s=b%20c&action=drain&b=%233")
            .ok()
            .unwrap_or_else(|| panic!("parses"));
        assert_eq!(f.backend.as_deref(), Some("#3"));
        assert_eq!(f.action, Some(Action::Drain));
        assert_eq!(f.servers, vec!["b c".to_string(), "a".to_string()]);
        // The last action wins; an unknown last action is an error.
        assert_eq!(
            parse("action=bogus&action=ready")
                .ok()
                .and_then(|f| f.action),
            Some(Action::Ready)
        );
        assert!(matches!(parse("action=ready&action=bogus"), Err("ERRP")));
        assert_eq!(url_decode("a+b%2Fc"), Some("a b/c".into()));
        assert_eq!(url_decode("%zz"), None);
        assert_eq!(url_decode("%2"), None);
    }
}
