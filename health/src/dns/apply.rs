//! Applying a resolution to the servers that share it: a new address is
//! published with `Store::update` (that server only), a server waiting for
//! its first address leaves RMAINT, and HAProxy's lines are logged:
//! `b/s changed its IP from (none) to ::1 by local/ns1.`,
//! `Server b/s ('host') is UP/READY (resolves again).`,
//! `Server b/s administratively READY thanks to valid DNS answer.`

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use switchyard_config::LogLevel;
use switchyard_state::{AdminState, ProxyIdx, ServerIdx, ServerLive, Snapshot, Store};

use super::records::{Choice, Holder, Prefs, Records};
use super::Family;
use crate::live_ops::{emit_server, lock, usable_counts};
use crate::transition::admin_locked;

/// What one resolution round produced.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    /// A valid answer from `ns` (`section/nameserver`), already merged
    /// into the resolution's records; maybe no address.
    Answer { ns: String },
    /// No valid answer; `expired` once the matching `hold` period since
    /// the last valid answer is over.
    Failed { cause: &'static str, expired: bool },
}

struct Target {
    proxy: Arc<str>,
    server: Arc<str>,
    live: Arc<ServerLive>,
}

impl Target {
    fn holder(&self) -> Holder {
        Holder {
            proxy: self.proxy.clone(),
            server: self.server.clone(),
        }
    }
}

fn locate(snap: &Snapshot, t: &Target) -> Option<(ProxyIdx, ServerIdx)> {
    let (p, s) = snap.find_server(&t.proxy, &t.server)?;
    snap.server(p, s)
        .is_some_and(|sv| Arc::ptr_eq(&sv.live, &t.live))
        .then_some((p, s))
}

pub(crate) fn apply(
    store: &Store,
    section: &str,
    host: &str,
    family: Family,
    v: &Verdict,
    records: &mut Records,
) {
    let snap = store.load_full();
    let mut targets = Vec::new();
    for px in &snap.proxies {
        let Some(be) = &px.backend else { continue };
        for sv in &be.servers {
            let c = &sv.cfg;
            if c.resolvers.as_deref() == Some(section)
                && c.addr.ip.is_none()
                && c.addr.host == host
                && Family::from_prefer(c.resolve_prefer.as_deref()) == family
            {
                targets.push(Target {
                    proxy: px.name.clone(),
                    server: sv.name.clone(),
                    live: sv.live.clone(),
                });
            }
        }
    }
    drop(snap);
    let holders: Vec<Holder> = targets.iter().map(Target::holder).collect();
    records.keep_holders(&holders);
    // HAProxy hands the nameserver to the first requester only; the others
    // read the same answer "from the cache".
    let mut updater = match v {
        Verdict::Answer { ns, .. } => Some(ns.clone()),
        Verdict::Failed { .. } => None,
    };
    // In server order: each server's pick decides what the next may take.
    let mut keep = false;
    for t in &targets {
        let by = updater.take().unwrap_or_else(|| "DNS cache".to_string());
        keep |= apply_one(store, t, family, v, records, &by);
    }
    // A failed resolution that sent every server it still served to
    // maintenance takes its records with it: the next answer is shared out
    // afresh (HAProxy's purge of the answer tree).
    if matches!(v, Verdict::Failed { .. }) && !keep {
        records.clear();
    }
}

/// A change to publish for one server.
struct Change {
    new_ip: Option<IpAddr>,
    clear_addr: bool,
    set_rmaint: bool,
    clear_rmaint: bool,
}

/// Applies the verdict to one server. Returns whether the server keeps
/// the resolution's records: all do, except one a failed resolution has
/// just put in maintenance (HAProxy's `snr_resolution_error_cb`).
fn apply_one(
    store: &Store,
    t: &Target,
    family: Family,
    v: &Verdict,
    records: &mut Records,
    by: &str,
) -> bool {
    let snap = store.load_full();
    let Some((p, s)) = locate(&snap, t) else {
        return true;
    };
    let Some(sv) = snap.server(p, s) else {
        return true;
    };
    let current = sv.addr.map(|a| a.ip());
    let rmaint = sv.admin.has(AdminState::RMAINT);
    let (change, cause) = match v {
        Verdict::Answer { .. } => {
            let prefs = Prefs {
                family,
                nets: &sv.cfg.resolve_net,
                allow_dup_ip: sv.cfg.allow_dup_ip,
            };
            match records.choose(&t.holder(), current, prefs) {
                Choice::Use(ip) => (
                    Change {
                        new_ip: (current != Some(ip)).then_some(ip),
                        clear_addr: false,
                        set_rmaint: false,
                        clear_rmaint: rmaint,
                    },
                    "",
                ),
                Choice::NoIp => (
                    Change {
                        new_ip: None,
                        clear_addr: true,
                        set_rmaint: !rmaint,
                        clear_rmaint: false,
                    },
                    "No IP for server ",
                ),
            }
        }
        // Once the hold is over the server loses its address too, and
        // gives up its record.
        Verdict::Failed { cause, expired } => (
            Change {
                new_ip: None,
                clear_addr: true,
                set_rmaint: *expired && !rmaint,
                clear_rmaint: false,
            },
            *cause,
        ),
    };
    let keeps = !matches!(v, Verdict::Failed { .. }) || !change.set_rmaint;
    if !keeps {
        records.release(&t.holder());
    }
    if change.new_ip.is_none() && !change.set_rmaint && !change.clear_rmaint {
        return keeps;
    }
    drop(snap);

    let _g = lock();
    let published = store.update(|next| {
        let Some((p, s)) = locate(next, t) else {
            return Err(());
        };
        let before = next.clone();
        let Some(sv) = next.server_mut(p, s) else {
            return Err(());
        };
        let was = sv.admin;
        let old = sv.addr;
        let port = sv.addr.map(|a| a.port()).or(sv.cfg.addr.port).unwrap_or(0);
        if let Some(ip) = change.new_ip {
            sv.addr = Some(SocketAddr::new(ip, port));
        }
        if change.set_rmaint {
            sv.admin.set(AdminState::RMAINT);
            if change.clear_addr {
                sv.addr = None;
            }
        }
        if change.clear_rmaint {
            sv.change_admin(0, AdminState::RMAINT);
        }
        Ok((before, was, old, p, s))
    });
    let Ok((before, was, old, p, s)) = published else {
        return keeps;
    };
    let after = store.load_full();

    if let Some(ip) = change.new_ip {
        let old = old
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "(none)".to_string());
        emit_server(
            LogLevel::Notice,
            &format!(
                "{}/{} changed its IP from {old} to {ip} by {by}",
                t.proxy, t.server
            ),
        );
    }
    // The publish above is the only one between `before` and `after` for
    // this server while we hold the transition lock.
    let (Some(px_before), Some(px), Some(sv)) =
        (before.proxy(p), after.proxy(p), after.server(p, s))
    else {
        return keeps;
    };
    if !Arc::ptr_eq(&sv.live, &t.live) {
        return keeps;
    }
    admin_locked(px, was, sv, usable_counts(px_before), cause);
    if change.clear_rmaint {
        emit_server(
            LogLevel::Notice,
            &format!(
                "Server {}/{} administratively READY thanks to valid DNS answer",
                t.proxy, t.server
            ),
        );
    }
    keeps
}
