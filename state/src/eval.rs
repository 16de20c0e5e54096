//! Evaluating compiled samples, conditions and routing against a request.
//! Pure functions over a [`RequestView`]; the proxy implements the view over
//! its request type.

use std::borrow::Cow;
use std::net::IpAddr;

use switchyard_config::{AclMatch, Fetch};

use crate::compiled::{CAclTest, CCondition, CConv, CFormat, CPart, CSample, CTarget};
use crate::ids::ProxyIdx;
use crate::map::MapEntryRt;
use crate::matching;
use crate::peer_cert::PeerCert;
use crate::snapshot::Snapshot;

/// What the routing code needs to know about a request.
pub trait RequestView {
    fn method(&self) -> &str;
    /// The path part of the URI (no query).
    fn path(&self) -> &str;
    fn query(&self) -> Option<&str>;
    /// The request target as received.
    fn uri(&self) -> &str;
    /// Values of a header (case-insensitive name), in order.
    fn header_values(&self, name: &str) -> Vec<&str>;
    fn src(&self) -> IpAddr;
    fn dst_port(&self) -> u16;
    fn is_tls(&self) -> bool;
    /// The client's certificate, read at the handshake (`ssl_c_*`).
    fn client_cert(&self) -> Option<&PeerCert> {
        None
    }
}

/// A sample's result: text, or a map entry (whose value is the text and which
/// carries its pre-resolved backend).
#[derive(Debug, Clone)]
pub enum SampleOut<'a> {
    Text(Cow<'a, str>),
    Entry(&'a MapEntryRt),
}

impl SampleOut<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            SampleOut::Text(t) => t,
            SampleOut::Entry(e) => &e.value,
        }
    }
}

fn header_occ<'r>(req: &'r dyn RequestView, name: &str, occ: Option<i32>) -> Option<&'r str> {
    let vals = req.header_values(name);
    match occ {
        None | Some(-1) => vals.last().copied(),
        Some(n) if n > 0 => vals.get(n as usize - 1).copied(),
        Some(n) if n < 0 => {
            let back = (-n) as usize;
            vals.len()
                .checked_sub(back)
                .and_then(|i| vals.get(i).copied())
        }
        Some(_) => vals.last().copied(),
    }
}

fn norm_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn query_param<'r>(query: Option<&'r str>, name: &str) -> Option<&'r str> {
    query?.split('&').find_map(|kv| match kv.split_once('=') {
        Some((k, v)) if k == name => Some(v),
        None if kv == name => Some(""),
        _ => None,
    })
}

fn cookie_value<'r>(req: &'r dyn RequestView, name: &str) -> Option<&'r str> {
    req.header_values("cookie").into_iter().rev().find_map(|h| {
        h.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k.trim() == name).then_some(v.trim())
        })
    })
}

/// `ssl_c_serial`'s binary sample as text: the serial's bytes (lossy
/// where they are not UTF-8; `ssl_c_serial,hex` does not go through here).
fn serial_bytes(hex: &str) -> String {
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `hex`: each byte as two uppercase hex digits.
fn to_hex(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Fetch a single value (sample context: last header occurrence).
pub(crate) fn fetch<'r>(f: &'r Fetch, req: &'r dyn RequestView) -> Option<Cow<'r, str>> {
    Some(match f {
        Fetch::Str(s) => Cow::Borrowed(s.as_str()),
        Fetch::Path => Cow::Borrowed(req.path()),
        Fetch::Base => {
            let host = header_occ(req, "host", None).unwrap_or("");
            Cow::Owned(format!("{host}{}", req.path()))
        }
        Fetch::Url => Cow::Borrowed(req.uri()),
        Fetch::Query => Cow::Borrowed(req.query()?),
        Fetch::ReqHdr { name, occ } => Cow::Borrowed(header_occ(req, name, *occ)?),
        Fetch::Src => Cow::Owned(norm_ip(req.src()).to_string()),
        Fetch::Method => Cow::Borrowed(req.method()),
        Fetch::UrlParam(n) => Cow::Borrowed(query_param(req.query(), n)?),
        Fetch::Cookie(n) => Cow::Borrowed(cookie_value(req, n)?),
        Fetch::DstPort => Cow::Owned(req.dst_port().to_string()),
        Fetch::SslFc => Cow::Borrowed(if req.is_tls() { "1" } else { "0" }),
        Fetch::SslCUsed => {
            // No sample off TLS; on TLS, whether a certificate came.
            if !req.is_tls() {
                return None;
            }
            Cow::Borrowed(if req.client_cert().is_some() {
                "1"
            } else {
                "0"
            })
        }
        // A handshake that failed verification never gets here (no
        // `ca-ignore-err`/`crt-ignore-err`), so a TLS connection reads 0.
        Fetch::SslCVerify => Cow::Borrowed(if req.is_tls() { "0" } else { return None }),
        Fetch::SslCDn { issuer, entry, occ } => {
            let c = req.client_cert()?;
            let dn = if *issuer { &c.issuer } else { &c.subject };
            Cow::Borrowed(match entry {
                None => dn.oneline(),
                Some(e) => dn.entry(e, *occ)?,
            })
        }
        Fetch::SslCSerial => Cow::Owned(serial_bytes(&req.client_cert()?.serial_hex)),
        Fetch::SslCNotBefore => Cow::Borrowed(req.client_cert()?.not_before.as_deref()?),
        Fetch::SslCNotAfter => Cow::Borrowed(req.client_cert()?.not_after.as_deref()?),
        Fetch::True => Cow::Borrowed("1"),
        Fetch::False => Cow::Borrowed("0"),
    })
}

impl Snapshot {
    /// Evaluate a sample expression. `None` when the fetch fails (e.g. an
    /// absent header) or a converter fails (a map miss with no default).
    pub fn eval_sample<'a>(
        &'a self,
        s: &'a CSample,
        req: &'a dyn RequestView,
    ) -> Option<SampleOut<'a>> {
        let mut convs = s.convs.as_slice();
        let first = match (&s.fetch, convs) {
            // The serial is kept as hex already: `ssl_c_serial,hex` is it.
            (Fetch::SslCSerial, [CConv::Hex, rest @ ..]) => {
                convs = rest;
                Cow::Borrowed(req.client_cert()?.serial_hex.as_str())
            }
            (f, _) => fetch(f, req)?,
        };
        let mut out = SampleOut::Text(first);
        for c in convs {
            out = match c {
                CConv::Lower => SampleOut::Text(Cow::Owned(out.as_str().to_lowercase())),
                CConv::Upper => SampleOut::Text(Cow::Owned(out.as_str().to_uppercase())),
                CConv::Hex => SampleOut::Text(Cow::Owned(to_hex(out.as_str()))),
                CConv::Map { map, default } => {
                    let m = self.maps.get(map.get())?;
                    match m.lookup(out.as_str()) {
                        Some(e) => SampleOut::Entry(e),
                        None => SampleOut::Text(Cow::Borrowed(default.as_deref()?)),
                    }
                }
            };
        }
        Some(out)
    }

    /// Render a log-format string (`%[...]` parts). Failed samples render
    /// empty, as HAProxy does; `%X` variables render as `-` here (the proxy
    /// renders them where it knows their values).
    pub fn eval_format(&self, f: &CFormat, req: &dyn RequestView) -> String {
        let mut s = String::new();
        for p in &f.parts {
            match p {
                CPart::Lit(t) => s.push_str(t),
                CPart::Sample(x) => {
                    if let Some(v) = self.eval_sample(x, req) {
                        s.push_str(v.as_str());
                    }
                }
                CPart::Var(_) => s.push('-'),
            }
        }
        s
    }

    /// Evaluate a condition (`if`/`unless`).
    pub fn eval_cond(&self, c: &CCondition, req: &dyn RequestView) -> bool {
        let any = c.any_of.iter().any(|group| {
            group
                .iter()
                .all(|t| t.tests.iter().any(|a| self.eval_acl(a, req)) != t.negate)
        });
        any != c.unless
    }

    fn eval_acl(&self, a: &CAclTest, req: &dyn RequestView) -> bool {
        // ACLs on headers test every occurrence.
        let values: Vec<Cow<'_, str>> = match &a.fetch {
            Fetch::ReqHdr { name, occ: None } => req
                .header_values(name)
                .into_iter()
                .map(Cow::Borrowed)
                .collect(),
            f => fetch(f, req).into_iter().collect(),
        };
        match a.kind {
            AclMatch::Found => !values.is_empty(),
            AclMatch::Bool => values.iter().any(|v| v != "0" && !v.is_empty()),
            AclMatch::Len => values.iter().any(|v| {
                let len = v.len().to_string();
                a.patterns.iter().any(|p| matching::int(&len, p))
            }),
            _ => values.iter().any(|v| self.match_value(a, v)),
        }
    }

    fn match_value(&self, a: &CAclTest, v: &str) -> bool {
        let ic = a.icase;
        match a.kind {
            AclMatch::Exact => a.patterns.iter().any(|p| matching::exact(v, p, ic)),
            AclMatch::Beg => a.patterns.iter().any(|p| matching::beg(v, p, ic)),
            AclMatch::End => a.patterns.iter().any(|p| matching::end(v, p, ic)),
            AclMatch::Sub => a.patterns.iter().any(|p| matching::sub(v, p, ic)),
            AclMatch::Dom => a.patterns.iter().any(|p| matching::dom(v, p, ic)),
            AclMatch::Reg => a.regexes.iter().any(|r| r.is_match(v)),
            AclMatch::Ip => a.nets.iter().any(|n| matching::ip(v, n)),
            AclMatch::Int => a.patterns.iter().any(|p| matching::int(v, p)),
            AclMatch::Found | AclMatch::Bool | AclMatch::Len => false,
        }
    }

    /// Choose the backend for a request arriving on frontend `fe`, as
    /// HAProxy's `process_switching_rules`: the first matching `use_backend`
    /// wins; a dynamic name that is empty or names no backend stops the rule
    /// walk and falls back to `default_backend`.
    pub fn route(&self, fe: ProxyIdx, req: &dyn RequestView) -> Option<ProxyIdx> {
        let px = self.proxies.get(fe.get())?;
        let f = px.frontend.as_ref()?;
        for rule in &f.use_backends {
            if let Some(c) = &rule.cond {
                if !self.eval_cond(c, req) {
                    continue;
                }
            }
            match &rule.target {
                CTarget::Static(idx) => return Some(*idx),
                CTarget::Dynamic(fmt) => match self.dynamic_target(fmt, req) {
                    Some(idx) => return Some(idx),
                    None => break,
                },
            }
        }
        f.default_backend
    }

    fn dynamic_target(&self, fmt: &CFormat, req: &dyn RequestView) -> Option<ProxyIdx> {
        // The common case `%[...,map(f)]`: the entry carries its backend.
        if let [CPart::Sample(s)] = fmt.parts.as_slice() {
            return match self.eval_sample(s, req)? {
                SampleOut::Entry(e) => e.backend.filter(|b| self.is_backend(*b)),
                SampleOut::Text(t) => self.backend_by_name(&t),
            };
        }
        let name = self.eval_format(fmt, req);
        self.backend_by_name(&name)
    }

    fn is_backend(&self, idx: ProxyIdx) -> bool {
        self.proxies
            .get(idx.get())
            .map(|p| p.backend.is_some())
            .unwrap_or(false)
    }

    /// A proxy with a backend side, by name.
    pub fn backend_by_name(&self, name: &str) -> Option<ProxyIdx> {
        self.backend_names.get(name).copied()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::peer_cert::Dn;

    struct View {
        tls: bool,
        cert: Option<PeerCert>,
    }

    impl RequestView for View {
        fn method(&self) -> &str {
            "GET"
        }
        fn path(&self) -> &str {
            "/"
        }
        fn query(&self) -> Option<&str> {
            None
        }
        fn uri(&self) -> &str {
            "/"
        }
        fn header_values(&self, _name: &str) -> Vec<&str> {
            Vec::new()
        }
        fn src(&self) -> IpAddr {
            IpAddr::from([127, 0, 0, 1])
        }
        fn dst_port(&self) -> u16 {
            443
        }
        fn is_tls(&self) -> bool {
            self.tls
        }
        fn client_cert(&self) -> Option<&PeerCert> {
            self.cert.as_ref()
        }
    }

    fn cert() -> PeerCert {
        PeerCert {
            subject: Dn::from_pairs(&[("C", "FR"), ("O", "Acme"), ("CN", "alice")]),
            issuer: Dn::from_pairs(&[("CN", "Test CA")]),
            serial_hex: "414243".into(),
            not_before: Some("240101000000Z".into()),
            not_after: None,
        }
    }

    fn get(f: Fetch, v: &View) -> Option<String> {
        fetch(&f, v).map(|c| c.into_owned())
    }

    fn dn(issuer: bool, entry: Option<&str>, occ: i32) -> Fetch {
        Fetch::SslCDn {
            issuer,
            entry: entry.map(str::to_string),
            occ,
        }
    }

    #[test]
    fn client_certificate_fetches() {
        let v = View {
            tls: true,
            cert: Some(cert()),
        };
        assert_eq!(get(Fetch::SslCUsed, &v).as_deref(), Some("1"));
        assert_eq!(get(Fetch::SslCVerify, &v).as_deref(), Some("0"));
        assert_eq!(
            get(dn(false, None, 1), &v).as_deref(),
            Some("/C=FR/O=Acme/CN=alice")
        );
        assert_eq!(get(dn(false, Some("cn"), 1), &v).as_deref(), Some("alice"));
        assert_eq!(get(dn(false, Some("OU"), 1), &v), None);
        assert_eq!(get(dn(true, None, 1), &v).as_deref(), Some("/CN=Test CA"));
        assert_eq!(get(Fetch::SslCSerial, &v).as_deref(), Some("ABC"));
        assert_eq!(
            get(Fetch::SslCNotBefore, &v).as_deref(),
            Some("240101000000Z")
        );
        assert_eq!(get(Fetch::SslCNotAfter, &v), None);
    }

    #[test]
    fn without_a_certificate() {
        let tls = View {
            tls: true,
            cert: None,
        };
        assert_eq!(get(Fetch::SslCUsed, &tls).as_deref(), Some("0"));
        assert_eq!(get(Fetch::SslCVerify, &tls).as_deref(), Some("0"));
        assert_eq!(get(dn(false, None, 1), &tls), None);
        assert_eq!(get(Fetch::SslCSerial, &tls), None);
        let plain = View {
            tls: false,
            cert: None,
        };
        assert_eq!(get(Fetch::SslCUsed, &plain), None);
        assert_eq!(get(Fetch::SslCVerify, &plain), None);
    }

    #[test]
    fn serial_hex_and_hex_converter() {
        let snap = crate::build(
            std::sync::Arc::new(switchyard_config::Config::default()),
            None,
            &|_| None,
        )
        .unwrap();
        let v = View {
            tls: true,
            cert: Some(cert()),
        };
        let serial = CSample {
            fetch: Fetch::SslCSerial,
            convs: vec![CConv::Hex],
        };
        assert_eq!(snap.eval_sample(&serial, &v).unwrap().as_str(), "414243");
        let lower = CSample {
            fetch: Fetch::SslCSerial,
            convs: vec![CConv::Hex, CConv::Lower],
        };
        assert_eq!(snap.eval_sample(&lower, &v).unwrap().as_str(), "414243");
        let s = CSample {
            fetch: Fetch::Str("a/".into()),
            convs: vec![CConv::Hex],
        };
        assert_eq!(snap.eval_sample(&s, &v).unwrap().as_str(), "612F");
    }
}
