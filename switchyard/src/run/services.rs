//! What the proxy calls for the stats page and `http-request use-service`.
//!
//! Placeholder until the admin crate's `AdminServices` lands: the stats page
//! answers 503 and no service is known.

use std::sync::Arc;

use switchyard_admin::AdminCtx;
use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

pub fn services(_ctx: Arc<AdminCtx>) -> Arc<dyn Services> {
    Arc::new(Unavailable)
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
