//! Run the proxy alone on a config file, for side-by-side comparisons with
//! haproxy: `cargo run -p switchyard-proxy --example serve -- haproxy.cfg`.
//! Stops on Ctrl-C (soft stop).

use std::sync::Arc;

use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

struct NoServices;

impl Services for NoServices {
    fn stats_page(
        &self,
        _: &Store,
        _: &Snapshot,
        _: ProxyIdx,
        _: &ServiceRequest<'_>,
    ) -> SimpleResponse {
        SimpleResponse {
            status: 503,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    fn use_service(&self, _: &str, _: &Snapshot, _: &ServiceRequest<'_>) -> Option<SimpleResponse> {
        None
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: serve <haproxy.cfg>")?;
    let cfg = switchyard_config::load(&[path.into()]).map_err(|e| format!("{:?}", e.errors))?;
    let resolve = |h: &str| {
        std::net::ToSocketAddrs::to_socket_addrs(&(h, 0))
            .ok()?
            .next()
            .map(|a| a.ip())
    };
    let snap = switchyard_state::build(Arc::new(cfg), None, &resolve)?;
    let listeners = Listeners::bind(&snap)?;
    let store = Arc::new(Store::new(snap));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let proxy = Proxy::new(store, Arc::new(NoServices));
        let stop = proxy.shutdown_handle();
        let p = proxy.clone();
        let serve = tokio::spawn(async move { p.serve(listeners).await });
        let _ = tokio::signal::ctrl_c().await;
        stop.soft_stop().await;
        let _ = serve.await;
    });
    Ok(())
}
