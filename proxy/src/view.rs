//! [`RequestView`] over a parsed request head, for routing and rules.

use std::net::IpAddr;

use http::HeaderMap;
use switchyard_state::{PeerCert, RequestView};

pub(crate) struct ReqView<'a> {
    pub(crate) method: &'a str,
    /// The request target as received.
    pub(crate) target: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) src: IpAddr,
    pub(crate) dst_port: u16,
    pub(crate) tls: bool,
    pub(crate) cert: Option<&'a PeerCert>,
}

impl<'a> ReqView<'a> {
    pub(crate) fn new(
        method: &'a http::Method,
        target: &'a str,
        uri: &'a http::Uri,
        headers: &'a HeaderMap,
        o: &'a crate::rules::Origin,
    ) -> ReqView<'a> {
        ReqView {
            method: method.as_str(),
            target,
            path: uri.path(),
            query: uri.query(),
            headers,
            src: o.src,
            dst_port: o.dst_port,
            tls: o.tls,
            cert: o.cert.as_deref(),
        }
    }
}

impl RequestView for ReqView<'_> {
    fn method(&self) -> &str {
        self.method
    }
    fn path(&self) -> &str {
        self.path
    }
    fn query(&self) -> Option<&str> {
        self.query
    }
    fn uri(&self) -> &str {
        self.target
    }
    /// Like HAProxy's `hdr()`, a header's comma-separated values count as
    /// separate occurrences (except `Cookie`, whose values are `;`-lists).
    fn header_values(&self, name: &str) -> Vec<&str> {
        let split = !name.eq_ignore_ascii_case("cookie");
        let mut out = Vec::new();
        for v in self.headers.get_all(name) {
            let Ok(s) = v.to_str() else { continue };
            if split {
                out.extend(s.split(',').map(str::trim));
            } else {
                out.push(s);
            }
        }
        out
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
        self.cert
    }
}
