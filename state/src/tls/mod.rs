//! TLS to a server, compiled when the snapshot is built: certificate and
//! CA errors are configuration errors (with file:line), and a reload swaps
//! the whole client configuration at once.

mod verify;

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use switchyard_config::{Fetch, Server};

use verify::Verifier;

/// Where the SNI of a connection comes from (`sni <expr>`).
#[derive(Debug, Clone)]
pub enum SniSource {
    /// No `sni`: HAProxy sends none.
    None,
    /// `sni str(<name>)`.
    Fixed(ServerName<'static>),
    /// `sni req.hdr(<name>)`: the request header's last value (lower-case name).
    Header(String),
}

/// A server's TLS settings, ready to connect with.
#[derive(Debug)]
pub struct ServerTls {
    pub config: Arc<ClientConfig>,
    pub sni: SniSource,
    /// `check-sni`: the name a TLS health check sends.
    pub check_sni: Option<ServerName<'static>>,
}

/// Why a server's TLS settings cannot be used (the text HAProxy prints).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{location}] : 'server {backend}/{server}' : {reason}")]
pub struct TlsError {
    pub location: String,
    pub backend: String,
    pub server: String,
    pub reason: String,
}

const NO_CA: &str = "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.";

/// Whether `s` needs TLS settings: `ssl` on it or its default-server
/// (`set server ssl on` may turn them on later), or `check-ssl`.
pub fn wants_tls(s: &Server) -> bool {
    s.ssl_ctx || s.ssl || s.check_ssl == Some(true)
}

/// An error about `s`'s TLS settings.
pub fn unsupported(s: &Server, backend: &str, reason: &str) -> TlsError {
    TlsError {
        location: s.location.to_string(),
        backend: backend.to_string(),
        server: s.name.clone(),
        reason: reason.to_string(),
    }
}

/// Compile `s`'s TLS settings; `verify_default` is `ssl-server-verify`.
pub fn compile(s: &Server, backend: &str, verify_default: bool) -> Result<ServerTls, TlsError> {
    let err = |reason: String| TlsError {
        location: s.location.to_string(),
        backend: backend.to_string(),
        server: s.name.clone(),
        reason,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let required = match s.verify.as_deref() {
        Some("none") => false,
        Some(_) => true,
        None => verify_default,
    };
    let chain = if required {
        let Some(ca) = &s.ca_file else {
            return Err(err(NO_CA.to_string()));
        };
        Some(chain_verifier(ca, &provider).map_err(err)?)
    } else {
        None
    };
    let host = match &s.verifyhost {
        Some(h) => Some(
            ServerName::try_from(h.clone())
                .map_err(|_| err(format!("'verifyhost' : invalid hostname '{h}'.")))?,
        ),
        None => None,
    };
    let verifier = Verifier::new(chain, host, provider.signature_verification_algorithms);
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match &s.crt {
        Some(path) => {
            let (certs, key) = client_cert(path).map_err(err)?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                err(format!(
                    "unable to load SSL certificate from file '{}' : {e}.",
                    path.display()
                ))
            })?
        }
        None => builder.with_no_client_auth(),
    };
    // We speak HTTP/1.1 to servers: with any `alpn`, offer only that.
    if !s.alpn.is_empty() {
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
    }
    let sni = match s.sni_expr.as_ref().map(|e| &e.fetch) {
        None => SniSource::None,
        Some(Fetch::Str(name)) => SniSource::Fixed(
            ServerName::try_from(name.clone())
                .map_err(|_| err(format!("'sni' : invalid server name '{name}'.")))?,
        ),
        Some(Fetch::ReqHdr { name, .. }) => SniSource::Header(name.to_ascii_lowercase()),
        // The config parser refuses other expressions.
        Some(_) => return Err(err("'sni' : unsupported expression.".to_string())),
    };
    let check_sni = match &s.check_sni {
        Some(n) => Some(
            ServerName::try_from(n.clone())
                .map_err(|_| err(format!("'check-sni' : invalid server name '{n}'.")))?,
        ),
        None => None,
    };
    Ok(ServerTls {
        config: Arc::new(config),
        sni,
        check_sni,
    })
}

fn chain_verifier(
    ca: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let bad = || format!("unable to load CA file '{}'.", ca.display());
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|_| bad())? {
        roots.add(c.map_err(|_| bad())?).map_err(|_| bad())?;
    }
    if roots.is_empty() {
        return Err(bad());
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("{}: {e}", bad()))
}

type ClientCert = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// `crt <file>`: a PEM file with the certificate chain and its key.
fn client_cert(path: &Path) -> Result<ClientCert, String> {
    let shown = path.display();
    if let Err(e) = std::fs::metadata(path) {
        let s = e.to_string();
        let why = s.rfind(" (os error ").map_or(s.as_str(), |i| &s[..i]);
        return Err(format!(
            "unable to stat SSL certificate from file '{shown}' : {why}."
        ));
    }
    let bad = || format!("unable to load SSL certificate from file '{shown}'.");
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|_| bad())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    if certs.is_empty() {
        return Err(bad());
    }
    let key = PrivateKeyDer::from_pem_file(path).map_err(|_| bad())?;
    Ok((certs, key))
}
