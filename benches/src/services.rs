//! Built-in services for an in-process proxy in benches: none (the bench
//! configs have no stats page and no `use-service`).

use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

#[derive(Debug, Default)]
pub struct NoServices;

impl Services for NoServices {
    fn stats_page(
        &self,
        _: &Store,
        _: &Snapshot,
        _: ProxyIdx,
        _: &ServiceRequest<'_>,
    ) -> SimpleResponse {
        SimpleResponse {
            status: 404,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn use_service(&self, _: &str, _: &Snapshot, _: &ServiceRequest<'_>) -> Option<SimpleResponse> {
        None
    }
}
