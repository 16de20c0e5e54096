//! Server selection for a backend (HAProxy's `assign_server`): which servers
//! are eligible (active usable ones, else backups), and the `balance`
//! algorithms over them. Lock-free: per-snapshot precomputed data lives in
//! `BackendRt.lb`, the rotating cursor in `ProxyLive.lb_cursor`, load in the
//! servers' atomics.

mod hash;
mod schedule;

use std::sync::atomic::Ordering::Relaxed;

use rand::Rng;
use switchyard_config::{Balance, Mode};
use switchyard_state::{BackendRt, ProxyRt, RequestView, ServerIdx, ServerRt};

use crate::queue;

/// Why no server was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickError {
    /// No usable server at all (HAProxy's `SRV_STATUS_NOSRV`).
    NoServer,
    /// Usable servers exist but all are at their maxconn: queue in the backend.
    Full,
}

/// What the algorithms may look at.
pub struct LbInput<'a> {
    pub req: &'a dyn RequestView,
    /// A server to avoid if another one is available (the one that failed).
    pub avoid: Option<ServerIdx>,
    pub now_ms: u64,
}

/// Per-snapshot balancer data.
#[derive(Debug)]
struct LbData {
    /// Smooth WRR schedules over the configured weights.
    rr_active: Vec<u32>,
    rr_backup: Vec<u32>,
    /// Server positions ordered by id, for `balance first`.
    by_id_active: Vec<u32>,
    by_id_backup: Vec<u32>,
}

fn lb_data(be: &BackendRt) -> Option<&LbData> {
    be.lb.get_or_init(|| {
        let weights = |backup: bool| -> Vec<(u32, u32)> {
            be.servers
                .iter()
                .enumerate()
                .filter(|(_, s)| s.cfg.backup == backup)
                .map(|(i, s)| (i as u32, s.uweight))
                .collect()
        };
        let by_id = |backup: bool| -> Vec<u32> {
            let mut v: Vec<(u32, u32)> = be
                .servers
                .iter()
                .enumerate()
                .filter(|(_, s)| s.cfg.backup == backup)
                .map(|(i, s)| (s.id, i as u32))
                .collect();
            v.sort();
            v.into_iter().map(|(_, i)| i).collect()
        };
        LbData {
            rr_active: schedule::smooth_wrr(&weights(false)),
            rr_backup: schedule::smooth_wrr(&weights(true)),
            by_id_active: by_id(false),
            by_id_backup: by_id(true),
        }
    })
}

/// The algorithm in effect for backend `be`. The layer-7 hashes need HTTP:
/// a TCP backend falls back to round robin, as HAProxy does ("Layer 7 hash
/// not possible ... Falling back to round robin").
pub(crate) fn effective(be: &ProxyRt) -> Balance {
    let algo = be
        .cfg
        .backend
        .as_ref()
        .map(|b| b.balance.clone())
        .unwrap_or_default();
    let l7 = matches!(
        algo,
        Balance::Uri { .. } | Balance::UrlParam(_) | Balance::Hdr(_)
    );
    if l7 && be.cfg.mode == Mode::Tcp {
        Balance::RoundRobin
    } else {
        algo
    }
}

/// Whether the algorithm is of HAProxy's round-robin kind (`BE_LB_KIND_RR`):
/// a failed connection is redispatched at once when several servers are up.
pub(crate) fn is_rr_kind(b: &Balance) -> bool {
    matches!(
        b,
        Balance::RoundRobin | Balance::StaticRr | Balance::Random(_)
    )
}

/// Algorithms that queue new requests behind already-queued ones.
pub(crate) fn queues_fifo(b: &Balance) -> bool {
    matches!(b, Balance::RoundRobin | Balance::StaticRr | Balance::First)
}

/// Whether the server can take one more request now.
pub(crate) fn has_room(s: &ServerRt) -> bool {
    match s.effective_maxconn() {
        None => true,
        Some(m) => queue::server_queue_len(&s.live) == 0 && s.live.cur_conns.load(Relaxed) < m,
    }
}

/// The eligible set: usable active servers, else usable backups (only the
/// first one unless `option allbackups`).
fn eligible(px: &ProxyRt, be: &BackendRt) -> Eligible {
    if be.servers.iter().any(|s| !s.cfg.backup && s.is_usable()) {
        return Eligible::Active;
    }
    if px.cfg.options.allbackups {
        if be.servers.iter().any(|s| s.cfg.backup && s.is_usable()) {
            return Eligible::Backups;
        }
    } else if let Some(i) = be
        .servers
        .iter()
        .position(|s| s.cfg.backup && s.is_usable())
    {
        return Eligible::One(i as u32);
    }
    Eligible::None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eligible {
    Active,
    Backups,
    One(u32),
    None,
}

impl Eligible {
    fn admits(self, s: &ServerRt, i: u32) -> bool {
        match self {
            Eligible::Active => !s.cfg.backup && s.is_usable(),
            Eligible::Backups => s.cfg.backup && s.is_usable(),
            Eligible::One(j) => i == j,
            Eligible::None => false,
        }
    }
}

/// Number of usable active servers (HAProxy's `srv_act`).
pub(crate) fn active_count(be: &BackendRt) -> usize {
    be.servers
        .iter()
        .filter(|s| !s.cfg.backup && s.is_usable())
        .count()
}

/// Pick a server for a new (non-persistent) request.
pub fn pick(
    px: &ProxyRt,
    be: &BackendRt,
    algo: &Balance,
    input: &LbInput<'_>,
) -> Result<ServerIdx, PickError> {
    let set = eligible(px, be);
    if set == Eligible::None {
        return Err(PickError::NoServer);
    }
    if let Eligible::One(i) = set {
        let s = be.servers.get(i as usize).ok_or(PickError::NoServer)?;
        return match algo {
            // Hash algorithms go to the server even when it is full (its own
            // queue takes the request); the others need a free slot.
            a if is_hash(a) => Ok(ServerIdx(i)),
            _ if has_room(s) => Ok(ServerIdx(i)),
            _ => Err(PickError::Full),
        };
    }
    match algo {
        Balance::RoundRobin => rr(px, be, set, input, true),
        Balance::StaticRr => rr(px, be, set, input, false),
        Balance::LeastConn => leastconn(px, be, set, input),
        Balance::First => first(be, set),
        Balance::Random(draws) => random(be, set, (*draws).max(1), input),
        Balance::Source => hashed(px, be, set, input, Some(hash::source(input.req.src()))),
        Balance::Uri {
            len,
            depth,
            whole,
            path_only,
        } => {
            let uri = if *path_only {
                input.req.path()
            } else {
                input.req.uri()
            };
            let key = hash::uri_key(uri, *len, *depth, *whole);
            hashed(px, be, set, input, Some(hash::sdbm(key.as_bytes())))
        }
        Balance::UrlParam(name) => {
            let h = hash::url_param(input.req.uri(), name).map(|v| hash::sdbm(v.as_bytes()));
            hashed(px, be, set, input, h)
        }
        Balance::Hdr(name) => {
            let h = input
                .req
                .header_values(name)
                .last()
                .map(|v| hash::sdbm(v.as_bytes()));
            hashed(px, be, set, input, h)
        }
    }
}

fn is_hash(a: &Balance) -> bool {
    matches!(
        a,
        Balance::Source | Balance::Uri { .. } | Balance::UrlParam(_) | Balance::Hdr(_)
    )
}

/// Round robin over the precomputed schedule. `dynamic` applies slowstart's
/// effective weight by skipping a ramping server proportionally.
fn rr(
    px: &ProxyRt,
    be: &BackendRt,
    set: Eligible,
    input: &LbInput<'_>,
    dynamic: bool,
) -> Result<ServerIdx, PickError> {
    let Some(lb) = lb_data(be) else {
        return Err(PickError::NoServer);
    };
    let sched = if set == Eligible::Backups {
        &lb.rr_backup
    } else {
        &lb.rr_active
    };
    if sched.is_empty() {
        return Err(PickError::NoServer);
    }
    let cursor = &px.live.lb_cursor;
    let start = cursor.fetch_add(1, Relaxed) as usize;
    let len = sched.len();
    let mut full = false;
    let mut rng = rand::thread_rng();
    for strict in [true, false] {
        for k in 0..len {
            // A slot whose server cannot take this request is given up
            // and the next slot taken from the shared cursor, so the
            // others keep their proportions. (Walking on to the next entry
            // instead handed every skipped slot to the server after it:
            // with one of three servers down, one of the two others got
            // two thirds.) The fallback pass just walks the schedule.
            let pos = match (strict, k) {
                (true, 0) | (false, _) => start + k,
                (true, _) => cursor.fetch_add(1, Relaxed) as usize,
            };
            let i = sched[pos % len];
            let Some(s) = be.servers.get(i as usize) else {
                continue;
            };
            if !set.admits(s, i) {
                continue;
            }
            if !has_room(s) {
                full = true;
                continue;
            }
            if strict {
                if input.avoid == Some(ServerIdx(i)) {
                    continue;
                }
                if dynamic {
                    let eff = s.effective_weight(input.now_ms);
                    if eff < s.uweight && rng.gen_range(0..s.uweight) >= eff {
                        continue;
                    }
                }
            }
            return Ok(ServerIdx(i));
        }
    }
    Err(if full {
        PickError::Full
    } else {
        PickError::NoServer
    })
}

fn leastconn(
    px: &ProxyRt,
    be: &BackendRt,
    set: Eligible,
    input: &LbInput<'_>,
) -> Result<ServerIdx, PickError> {
    let n = be.servers.len();
    if n == 0 {
        return Err(PickError::NoServer);
    }
    // The scan starts at a rotating position so that ties spread; the
    // rotation is two slices, not an index modulo n per server.
    let start = px.live.lb_cursor.fetch_add(1, Relaxed) as usize % n;
    let (tail, head) = be.servers.split_at(start);
    let rotated = || {
        head.iter()
            .zip(start..)
            .chain(tail.iter().zip(0..))
            .map(|(s, i)| (s, i as u32))
    };
    let mut best: Option<(u64, u64, u32)> = None; // (load, weight, idx)
    let mut full = false;
    for pass_avoid in [true, false] {
        for (s, i) in rotated() {
            if !set.admits(s, i) {
                continue;
            }
            if !has_room(s) {
                full = true;
                continue;
            }
            if pass_avoid && input.avoid == Some(ServerIdx(i)) {
                continue;
            }
            let load =
                u64::from(s.live.cur_conns.load(Relaxed)) + queue::server_queue_len(&s.live) as u64;
            let w = u64::from(s.effective_weight(input.now_ms).max(1));
            // Lower load per weight wins; ties keep the first in rotation.
            let better = match best {
                None => true,
                Some((bl, bw, _)) => load * bw < bl * w,
            };
            if better {
                best = Some((load, w, i));
            }
        }
        if let Some((_, _, i)) = best {
            return Ok(ServerIdx(i));
        }
    }
    Err(if full {
        PickError::Full
    } else {
        PickError::NoServer
    })
}

fn first(be: &BackendRt, set: Eligible) -> Result<ServerIdx, PickError> {
    let Some(lb) = lb_data(be) else {
        return Err(PickError::NoServer);
    };
    let order = if set == Eligible::Backups {
        &lb.by_id_backup
    } else {
        &lb.by_id_active
    };
    let mut full = false;
    for &i in order {
        let Some(s) = be.servers.get(i as usize) else {
            continue;
        };
        if !set.admits(s, i) {
            continue;
        }
        if has_room(s) {
            return Ok(ServerIdx(i));
        }
        full = true;
    }
    Err(if full {
        PickError::Full
    } else {
        PickError::NoServer
    })
}

fn random(
    be: &BackendRt,
    set: Eligible,
    draws: u32,
    input: &LbInput<'_>,
) -> Result<ServerIdx, PickError> {
    let cands: Vec<(u32, u32)> = be
        .servers
        .iter()
        .enumerate()
        .filter(|(i, s)| set.admits(s, *i as u32))
        .map(|(i, s)| (i as u32, s.effective_weight(input.now_ms)))
        .collect();
    if cands.is_empty() {
        return Err(PickError::NoServer);
    }
    let roomy: Vec<(u32, u32)> = cands
        .iter()
        .copied()
        .filter(|(i, _)| be.servers.get(*i as usize).map(has_room).unwrap_or(false))
        .collect();
    if roomy.is_empty() {
        return Err(PickError::Full);
    }
    let total: u64 = roomy.iter().map(|(_, w)| u64::from((*w).max(1))).sum();
    let mut rng = rand::thread_rng();
    let mut best: Option<(u32, u32)> = None; // (load, idx)
    for _ in 0..draws {
        let mut r = rng.gen_range(0..total);
        let mut chosen = roomy[0].0;
        for (i, w) in &roomy {
            let w = u64::from((*w).max(1));
            if r < w {
                chosen = *i;
                break;
            }
            r -= w;
        }
        let load = be.servers[chosen as usize].live.cur_conns.load(Relaxed);
        if best.map(|(l, _)| load < l).unwrap_or(true) {
            best = Some((load, chosen));
        }
    }
    best.map(|(_, i)| ServerIdx(i)).ok_or(PickError::Full)
}

/// Map-based hashing over the eligible servers' weights; a missing key
/// falls back to round robin, as HAProxy does.
fn hashed(
    px: &ProxyRt,
    be: &BackendRt,
    set: Eligible,
    input: &LbInput<'_>,
    h: Option<u32>,
) -> Result<ServerIdx, PickError> {
    let Some(h) = h else {
        return rr(px, be, set, input, false);
    };
    // Two passes over the servers instead of a candidate list per pick.
    let cands = || {
        be.servers
            .iter()
            .zip(0u32..)
            .filter(move |(s, i)| set.admits(s, *i))
            .map(|(s, i)| (i, u64::from(s.uweight)))
    };
    let total: u64 = cands().map(|(_, w)| w).sum();
    if total == 0 {
        return Err(PickError::NoServer);
    }
    let mut r = u64::from(h) % total;
    // A server the health checker took down between the passes shortens
    // the second: the last one still eligible takes the request then.
    let mut last = None;
    for (i, w) in cands() {
        if r < w {
            return Ok(ServerIdx(i));
        }
        r -= w;
        last = Some(ServerIdx(i));
    }
    last.ok_or(PickError::NoServer)
}
