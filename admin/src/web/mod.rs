//! HTTP services answered from admin data: the stats page and the
//! Prometheus exporter, injected into the proxy through
//! [`switchyard_state::Services`].

pub mod html;
pub mod html_fmt;
pub mod html_row;
mod prom_table;
pub mod prometheus;
pub mod stats_page;
mod stats_post;

use std::sync::Arc;

use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

use crate::ctx::AdminCtx;

/// The [`Services`] implementation the binary installs in the proxy.
#[derive(Debug, Clone)]
pub struct AdminServices {
    pub ctx: Arc<AdminCtx>,
}

impl AdminServices {
    pub fn new(ctx: Arc<AdminCtx>) -> AdminServices {
        AdminServices { ctx }
    }
}

impl Services for AdminServices {
    fn stats_page(
        &self,
        store: &Store,
        snap: &Snapshot,
        fe: ProxyIdx,
        req: &ServiceRequest<'_>,
    ) -> SimpleResponse {
        stats_page::stats_page(&self.ctx, store, snap, fe, req)
    }

    fn use_service(
        &self,
        name: &str,
        snap: &Snapshot,
        req: &ServiceRequest<'_>,
    ) -> Option<SimpleResponse> {
        match name {
            "prometheus-exporter" => {
                let query = req.uri.split_once('?').map(|(_, q)| q).unwrap_or("");
                let body = prometheus::render(&self.ctx, snap, query);
                Some(SimpleResponse {
                    status: 200,
                    headers: vec![
                        ("cache-control".into(), "no-cache".into()),
                        ("content-type".into(), "text/plain; version=0.0.4".into()),
                    ],
                    body: body.into_bytes(),
                })
            }
            _ => None,
        }
    }
}
