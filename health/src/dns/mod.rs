//! DNS re-resolution of servers that name a `resolvers` section: one task
//! per (section, hostname, preferred family), querying exactly the
//! section's nameservers every `hold valid`, and applying answers to every
//! server using that name (HAProxy's shared resolution).

mod apply;
mod query;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use switchyard_config::Resolvers;
use switchyard_state::{Snapshot, Store};
use tokio::sync::watch;
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
    tasks: HashMap<ResKey, (Resolvers, JoinHandle<()>)>,
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
                wanted.insert(key, r.clone());
            }
        }
        self.tasks.retain(|k, (cfg, task)| {
            let keep = wanted.get(k) == Some(cfg) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for (key, cfg) in wanted {
            if self.tasks.contains_key(&key) {
                continue;
            }
            let task = tokio::spawn(resolution_task(
                self.store.clone(),
                key.clone(),
                cfg.clone(),
                self.stop.clone(),
            ));
            self.tasks.insert(key, (cfg, task));
        }
    }

    pub(crate) fn stop(&mut self) {
        for (_, (_, t)) in self.tasks.drain() {
            t.abort();
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
) {
    let servers = NameServers::new(&cfg);
    let valid = hold(&cfg, "valid", Duration::from_secs(10));
    let resolve = if cfg.timeout_resolve.is_zero() {
        Duration::from_secs(1)
    } else {
        cfg.timeout_resolve
    };
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
            Ok(answer) => apply::Verdict::Answer {
                ns: answer.nameserver,
                ips: answer.ips,
            },
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
        apply::apply(&store, &key.section, &key.host, key.family, &verdict);
        tokio::select! {
            _ = sleep(wait) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}
