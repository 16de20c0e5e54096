//! The [`RequestView`] of a TCP-mode stream: only layer-4 facts exist, so
//! HTTP fetches find nothing (HAProxy's HTTP sample fetches fail in TCP
//! mode, so conditions on them do not match).

use std::net::IpAddr;
use std::sync::Arc;

use switchyard_state::{PeerCert, RequestView};

pub(crate) struct L4View {
    pub(crate) src: IpAddr,
    pub(crate) dst_port: u16,
    pub(crate) tls: bool,
    pub(crate) cert: Option<Arc<PeerCert>>,
}

impl RequestView for L4View {
    fn method(&self) -> &str {
        ""
    }
    fn path(&self) -> &str {
        ""
    }
    fn query(&self) -> Option<&str> {
        None
    }
    fn uri(&self) -> &str {
        ""
    }
    fn header_values(&self, _name: &str) -> Vec<&str> {
        Vec::new()
    }
    fn src(&self) -> IpAddr {
        self.src
    }
    fn dst_port(&self) -> u16 {
        self.dst_port
    }
    fn is_tls(&self) -> bool {
        self.tls
    }
    fn client_cert(&self) -> Option<&PeerCert> {
        self.cert.as_deref()
    }
}
