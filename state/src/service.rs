//! Requests the proxy answers itself with content rendered elsewhere (the
//! stats page, the Prometheus exporter). The binary injects an
//! implementation (from the admin crate) so the proxy never depends on it.

use std::net::IpAddr;

use crate::ids::ProxyIdx;
use crate::snapshot::Snapshot;
use crate::store::Store;

/// A complete, small response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleResponse {
    pub status: u16,
    /// Header names as they should be sent (HAProxy sends lowercase).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a built-in service needs to know about the request.
#[derive(Debug, Clone)]
pub struct ServiceRequest<'a> {
    pub method: &'a str,
    /// The request target as received (path and query).
    pub uri: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    pub src: IpAddr,
    /// The request body (stats admin forms are small; the proxy caps it).
    pub body: &'a [u8],
    /// Whether the frontend's `stats admin if <cond>` matched this request.
    pub admin_allowed: bool,
}

pub trait Services: Send + Sync {
    /// The stats page of frontend `fe` (its `stats uri` matched). `store`
    /// lets admin actions (drain/maint/ready from the page) publish.
    fn stats_page(
        &self,
        store: &Store,
        snap: &Snapshot,
        fe: ProxyIdx,
        req: &ServiceRequest<'_>,
    ) -> SimpleResponse;

    /// `http-request use-service <name>`; `None` if the service is unknown.
    fn use_service(
        &self,
        name: &str,
        snap: &Snapshot,
        req: &ServiceRequest<'_>,
    ) -> Option<SimpleResponse>;
}

/// No built-in services: the stats page answers an empty 404 and no
/// `use-service` name is known. For a proxy run without admin (benches,
/// tests).
#[derive(Debug, Default, Clone, Copy)]
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
