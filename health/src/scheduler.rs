//! The checker's supervisor: one check task per checked server, a DNS task
//! per resolved name, and a ticker that ends slowstart ramps. It follows the
//! store: on every new generation it starts tasks for servers it has not
//! seen (by live-state identity) and stops those that are gone.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

use switchyard_state::{now_ms, OpState, ServerLive, Snapshot, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::check_task::{check_task, Target};
use crate::dns::DnsManager;
use crate::live_ops::{lock, usable_counts};
use crate::spread::config_delays;
use crate::transition::finish_slowstart;

/// How often the store's generation and slowstart ramps are looked at.
const TICK: Duration = Duration::from_millis(200);

fn key(live: &Arc<ServerLive>) -> usize {
    Arc::as_ptr(live) as usize
}

pub(crate) async fn run(store: Arc<Store>, mut stop: watch::Receiver<bool>) {
    let mut checks: HashMap<usize, JoinHandle<()>> = HashMap::new();
    let mut seen: HashMap<usize, Weak<ServerLive>> = HashMap::new();
    let mut dns = DnsManager::new(store.clone(), stop.clone());
    let mut generation = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            r = stop.changed() => if r.is_err() || *stop.borrow() { break },
            _ = tick.tick() => {}
        }
        let snap = store.load_full();
        if generation != Some(snap.generation) {
            generation = Some(snap.generation);
            adopt_new_servers(&snap, &mut seen);
            sync_checks(&store, &snap, &mut checks, &stop);
            dns.sync(&snap);
        }
        end_ramps(&snap);
    }
    for (_, t) in checks.drain() {
        t.abort();
    }
    dns.stop();
}

/// Servers seen for the first time: a server that starts in maintenance
/// (`disabled`, `init-addr none`) is DOWN with health 0 underneath, as
/// HAProxy's boot-time `srv_update_status` leaves it (silently). A backend
/// without any usable server starts its downtime now.
fn adopt_new_servers(snap: &Snapshot, seen: &mut HashMap<usize, Weak<ServerLive>>) {
    seen.retain(|_, w| w.strong_count() > 0);
    let _g = lock();
    for px in &snap.proxies {
        let Some(be) = &px.backend else { continue };
        for sv in &be.servers {
            if seen
                .insert(key(&sv.live), Arc::downgrade(&sv.live))
                .is_some()
            {
                continue;
            }
            if sv.admin.is_maint() && sv.live.op_state() != OpState::Stopped {
                let live = &sv.live;
                live.op_state.store(OpState::Stopped as u8, Relaxed);
                live.health.store(0, Relaxed);
                live.slowstart_begin_ms.store(0, Relaxed);
                let last = live.last_change_ms.load(Relaxed);
                live.down_since_ms.store(last.max(1), Relaxed);
            }
        }
        let (act, bck) = usable_counts(px);
        if act + bck == 0 && px.live.be_down_since_ms.load(Relaxed) == 0 {
            let last = px.live.be_last_change_ms.load(Relaxed);
            px.live.be_down_since_ms.store(last.max(1), Relaxed);
        }
    }
}

/// Start a task for every checked server without one; stop the tasks of
/// servers no longer in the snapshot. New servers get their place in the
/// first-check spread of this snapshot's config.
fn sync_checks(
    store: &Arc<Store>,
    snap: &Snapshot,
    checks: &mut HashMap<usize, JoinHandle<()>>,
    stop: &watch::Receiver<bool>,
) {
    let delays: HashMap<(String, String), Duration> =
        config_delays(&snap.config).into_iter().collect();
    let now = Instant::now();
    let mut wanted = HashMap::new();
    for (pi, px) in snap.proxies.iter().enumerate() {
        let Some(be) = &px.backend else { continue };
        for (si, sv) in be.servers.iter().enumerate() {
            if !sv.cfg.check {
                continue;
            }
            let k = key(&sv.live);
            wanted.insert(k, ());
            if checks.get(&k).is_some_and(|t| !t.is_finished()) {
                continue;
            }
            let delay = delays
                .get(&(px.name.to_string(), sv.name.to_string()))
                .copied()
                .unwrap_or_default();
            let target = Target::new(px.name.clone(), sv.name.clone(), sv.live.clone(), pi, si);
            let task = tokio::spawn(check_task(store.clone(), target, now + delay, stop.clone()));
            checks.insert(k, task);
        }
    }
    checks.retain(|k, t| {
        let keep = wanted.contains_key(k);
        if !keep {
            t.abort();
        }
        keep
    });
}

/// STARTING servers whose slowstart is over become RUNNING.
fn end_ramps(snap: &Snapshot) {
    let now = now_ms();
    for px in &snap.proxies {
        let Some(be) = &px.backend else { continue };
        for sv in &be.servers {
            if sv.live.op_state() == OpState::Starting && sv.slowstart_step(now).is_none() {
                finish_slowstart(px, sv, now);
            }
        }
    }
}
