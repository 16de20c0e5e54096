//! The admin side (Runtime API sockets, stats page services, health checks),
//! run on its own thread with a current-thread runtime so a saturated proxy
//! cannot delay `show stat` or make a check time out.
//!
//! Placeholder until the admin and health crates publish their APIs: binds
//! nothing and answers the stats page with 503.

use std::sync::Arc;

use switchyard_config::Config;
use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

/// Sockets bound before privileges are dropped.
pub struct BoundAdmin {}

/// Bind every `stats socket` synchronously.
pub fn bind(_config: &Config) -> anyhow::Result<BoundAdmin> {
    Ok(BoundAdmin {})
}

/// What the proxy calls for the stats page and `use-service`.
pub fn services() -> Arc<dyn Services> {
    Arc::new(Unavailable)
}

/// Start health checks and the Runtime API on a dedicated thread.
pub fn spawn_thread(bound: BoundAdmin, store: Arc<Store>) -> anyhow::Result<()> {
    let _ = (bound, store);
    Ok(())
}

struct Unavailable;

impl Services for Unavailable {
    fn stats_page(
        &self,
        _store: &Store,
        _snap: &Snapshot,
        _fe: ProxyIdx,
        _req: &ServiceRequest<'_>,
    ) -> SimpleResponse {
        SimpleResponse {
            status: 503,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"stats page not available yet\n".to_vec(),
        }
    }

    fn use_service(
        &self,
        _name: &str,
        _snap: &Snapshot,
        _req: &ServiceRequest<'_>,
    ) -> Option<SimpleResponse> {
        None
    }
}
