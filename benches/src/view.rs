//! A request for routing benchmarks: what the proxy's own view exposes,
//! held in plain fields.

use std::net::{IpAddr, Ipv4Addr};

use switchyard_state::RequestView;

#[derive(Debug, Clone)]
pub struct BenchRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub src: IpAddr,
    pub dst_port: u16,
}

impl BenchRequest {
    /// `GET <path>` with `Host: <host>` and a few typical client headers.
    pub fn get(host: &str, path: &str) -> BenchRequest {
        BenchRequest {
            method: "GET".into(),
            path: path.into(),
            query: None,
            uri: path.into(),
            headers: vec![
                ("Host".into(), host.into()),
                ("User-Agent".into(), "curl/7.88.1".into()),
                ("Accept".into(), "*/*".into()),
            ],
            src: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dst_port: 8785,
        }
    }
}

impl RequestView for BenchRequest {
    fn method(&self) -> &str {
        &self.method
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }
    fn uri(&self) -> &str {
        &self.uri
    }
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn src(&self) -> IpAddr {
        self.src
    }
    fn dst_port(&self) -> u16 {
        self.dst_port
    }
    fn is_tls(&self) -> bool {
        false
    }
}
