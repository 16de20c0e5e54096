//! Choosing a bind's certificate by the client's SNI, as HAProxy does: an
//! exact name first, then a wildcard (`*.example.com` covers one label),
//! else the bind's first certificate (its default).

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// One loaded certificate and the DNS names it answers for (lowercase).
#[derive(Debug)]
pub(crate) struct NamedCert {
    pub(crate) names: Vec<String>,
    pub(crate) key: Arc<CertifiedKey>,
}

/// The certificates of one `bind`, in load order; never empty.
#[derive(Debug)]
pub(crate) struct SniCerts {
    pub(crate) certs: Vec<NamedCert>,
}

impl SniCerts {
    /// The certificate for `sni` (`None`: no SNI sent).
    pub(crate) fn pick(&self, sni: Option<&str>) -> Option<&Arc<CertifiedKey>> {
        let default = self.certs.first().map(|c| &c.key);
        let Some(sni) = sni else { return default };
        let exact = self
            .certs
            .iter()
            .find(|c| c.names.iter().any(|n| n.eq_ignore_ascii_case(sni)));
        if let Some(c) = exact {
            return Some(&c.key);
        }
        let wild = sni.split_once('.').and_then(|(_, parent)| {
            self.certs.iter().find(|c| {
                c.names.iter().any(|n| {
                    n.strip_prefix("*.")
                        .is_some_and(|d| d.eq_ignore_ascii_case(parent))
                })
            })
        });
        wild.map(|c| &c.key).or(default)
    }
}

impl ResolvesServerCert for SniCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.pick(hello.server_name()).cloned()
    }
}

/// The names a certificate answers for: its subjectAltName DNS names and
/// its subject CNs, as HAProxy 2.6 indexes both (a CN counts even when
/// there is a SAN; `*.` in either is a wildcard).
pub(crate) fn dns_names(leaf: &rustls::pki_types::CertificateDer<'_>) -> Vec<String> {
    let mut names: Vec<String> = match webpki::EndEntityCert::try_from(leaf) {
        Ok(ee) => ee.valid_dns_names().map(str::to_ascii_lowercase).collect(),
        Err(_) => Vec::new(),
    };
    for cn in crate::peer_cert::subject_common_names(leaf) {
        let cn = cn.to_ascii_lowercase();
        if !names.contains(&cn) {
            names.push(cn);
        }
    }
    names
}
