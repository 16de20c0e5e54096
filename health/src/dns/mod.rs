//! DNS re-resolution of servers that name a `resolvers` section: one task
//! per (section, hostname, preferred family), querying exactly the
//! section's nameservers every `hold valid`, and applying answers to every
//! server using that name (HAProxy's shared resolution).

mod apply;
mod query;
mod records;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use switchyard_config::Resolvers;
use switchyard_state::{Snapshot, Store};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};

pub(crate) use query::Family;
use query::{NameServers, QueryError};

/// One shared resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ResKey {
    section: String,
    host: String,
    family: Family,
}

pub(crate) struct DnsManager {
    store: Arc<Store>,
    stop: watch::Receiver<bool>,
    tasks: HashMap<ResKey, Running>,
}

struct Running {
    cfg: Resolvers,
    task: JoinHandle<()>,
    /// Resolve again now (a new snapshot may have servers waiting for an
    /// address again, e.g. after a reload).
    wake: Arc<Notify>,
}

impl DnsManager {
    pub(crate) fn new(store: Arc<Store>, stop: watch::Receiver<bool>) -> DnsManager {
        DnsManager {
            store,
            stop,
            tasks: HashMap::new(),
        }
    }

    /// Start resolutions that the snapshot needs, stop the others (and
    /// restart those whose section changed).
    pub(crate) fn sync(&mut self, snap: &Snapshot) {
        let mut wanted: HashMap<ResKey, Resolvers> = HashMap::new();
        // Keys with a server still waiting for an address.
        let mut waiting: std::collections::HashSet<ResKey> = std::collections::HashSet::new();
        for px in &snap.proxies {
            let Some(be) = &px.backend else { continue };
            for sv in &be.servers {
                let Some(section) = &sv.cfg.resolvers else {
                    continue;
                };
                if sv.cfg.addr.ip.is_some() || sv.cfg.addr.host.is_empty() {
                    continue;
                }
                let Some(r) = snap.config.resolvers.iter().find(|r| &r.name == section) else {
                    continue;
                };
                if r.nameservers.is_empty() {
                    continue;
                }
                let key = ResKey {
                    section: section.clone(),
                    host: sv.cfg.addr.host.clone(),
                    family: Family::from_prefer(sv.cfg.resolve_prefer.as_deref()),
                };
                if sv.addr.is_none() {
                    waiting.insert(key.clone());
                }
                wanted.insert(key, r.clone());
            }
        }
        self.tasks.retain(|k, r| {
            let keep = wanted.get(k) == Some(&r.cfg) && !r.task.is_finished();
            if keep && waiting.contains(k) {
                r.wake.notify_one();
            } else if !keep {
                r.task.abort();
            }
            keep
        });
        for (key, cfg) in wanted {
            if self.tasks.contains_key(&key) {
                continue;
            }
            let wake = Arc::new(Notify::new());
            let task = tokio::spawn(resolution_task(
                self.store.clone(),
                key.clone(),
                cfg.clone(),
                self.stop.clone(),
                wake.clone(),
            ));
            self.tasks.insert(key, Running { cfg, task, wake });
        }
    }

    pub(crate) fn stop(&mut self) {
        for (_, r) in self.tasks.drain() {
            r.task.abort();
        }
    }
}

fn hold(r: &Resolvers, what: &str, default: Duration) -> Duration {
    r.hold.get(what).copied().unwrap_or(default)
}

async fn resolution_task(
    store: Arc<Store>,
    key: ResKey,
    cfg: Resolvers,
    mut stop: watch::Receiver<bool>,
    wake: Arc<Notify>,
) {
    let servers = NameServers::new(&cfg);
    let valid = hold(&cfg, "valid", Duration::from_secs(10));
    let resolve = if cfg.timeout_resolve.is_zero() {
        Duration::from_secs(1)
    } else {
        cfg.timeout_resolve
    };
    let obsolete = hold(&cfg, "obsolete", Duration::ZERO);
    let mut records = records::Records::default();
    let mut last_valid = Instant::now();
    loop {
        let result = servers.resolve(&key.host, key.family).await;
        let wait = match &result {
            Ok(_) => {
                last_valid = Instant::now();
                valid.max(resolve)
            }
            Err(_) => resolve,
        };
        let verdict = match result {
            Ok(answer) => {
                records.answer(&answer.ips, Instant::now(), obsolete);
                apply::Verdict::Answer {
                    ns: answer.nameserver,
                }
            }
            Err(e) => {
                let (what, cause) = match e {
                    QueryError::Nx => ("nx", "DNS NX status"),
                    QueryError::Timeout => ("timeout", "DNS timeout status"),
                    QueryError::Refused => ("refused", "DNS refused status"),
                    QueryError::Other => ("other", "unspecified DNS error"),
                };
                let expired = last_valid.elapsed() >= hold(&cfg, what, Duration::from_secs(30));
                apply::Verdict::Failed { cause, expired }
            }
        };
        apply::apply(
            &store,
            &key.section,
            &key.host,
            key.family,
            &verdict,
            &mut records,
        );
        tokio::select! {
            _ = sleep(wait) => {}
            _ = wake.notified() => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}
