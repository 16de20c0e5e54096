//! Compiling `bind ... ssl` into a rustls server config when the snapshot
//! is built (start and reload only; runtime edits clone the result), so a
//! bad key is a config error and a reload picks up new certificates.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use switchyard_config::{Bind, BindSsl, CertFile, ListenAddr, Proxy, ProxyKind};

use crate::build::BuildError;
use crate::sni::{dns_names, NamedCert, SniCerts};

/// The compiled TLS side of one `ssl` bind, found by its configured address.
#[derive(Debug, Clone)]
pub struct BindTls {
    pub addr: ListenAddr,
    pub config: Arc<ServerConfig>,
}

/// The ALPN protocols we serve; anything else in `alpn` is not advertised.
const SERVED: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Sessions kept per bind for resumption (HAProxy's `tune.ssl.cachesize`
/// is 20000 entries; rustls's cache is per bind).
const SESSION_CACHE_SIZE: usize = 20_000;

/// rustls's session cache, but a TLS 1.3 ticket resumes any number of
/// times (rustls takes it out on first use), as an OpenSSL ticket does in
/// HAProxy.
#[derive(Debug)]
struct ReusableSessions(Arc<ServerSessionMemoryCache>);

impl StoresServerSessions for ReusableSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.0.put(key, value)
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }
    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }
    fn can_cache(&self) -> bool {
        self.0.can_cache()
    }
}

/// Every `ssl` bind of a frontend, compiled.
pub(crate) fn compile_binds(p: &Proxy, binds: &[Bind]) -> Result<Vec<BindTls>, BuildError> {
    let mut out = Vec::new();
    for b in binds {
        let Some(ssl) = &b.ssl else { continue };
        let config = compile(b, ssl).map_err(|message| BuildError::BindTls {
            location: b.location.to_string(),
            bind: bind_text(&b.addr),
            section: section(p.kind),
            message,
        })?;
        out.push(BindTls {
            addr: b.addr.clone(),
            config,
        });
    }
    Ok(out)
}

fn section(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
        ProxyKind::Listen => "listen",
    }
}

fn bind_text(a: &ListenAddr) -> String {
    match a {
        ListenAddr::Tcp(s) => s.to_string(),
        ListenAddr::Unix(p) => format!("unix@{}", p.display()),
    }
}

/// Always ring, never a process-wide default provider.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn compile(b: &Bind, ssl: &BindSsl) -> Result<Arc<ServerConfig>, String> {
    let provider = provider();
    let certs = ssl
        .files
        .iter()
        .map(|f| certified(&provider, f))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("no certificate loaded.".into());
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verify = ssl.verify.as_deref().unwrap_or("none");
    let builder = if verify == "none" || ssl.ca_certs.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(ssl.ca_certs.iter().cloned());
        let ca = ssl
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if added == 0 {
            return Err(format!("'ca-file' : unable to load {ca}"));
        }
        let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let v = if verify == "optional" {
            v.allow_unauthenticated()
        } else {
            v
        };
        let v = v
            .build()
            .map_err(|e| format!("'ca-file' : unable to load {ca} ({e})"))?;
        builder.with_client_cert_verifier(v)
    };
    let mut config = builder.with_cert_resolver(Arc::new(SniCerts { certs }));
    config.session_storage = Arc::new(ReusableSessions(ServerSessionMemoryCache::new(
        SESSION_CACHE_SIZE,
    )));
    // In the configured order: rustls, like OpenSSL's
    // `SSL_select_next_proto` in HAProxy, picks the first of ours the
    // client offers.
    config.alpn_protocols = b
        .alpn
        .iter()
        .map(|p| p.as_bytes())
        .filter(|p| SERVED.contains(p))
        .map(<[u8]>::to_vec)
        .collect();
    Ok(Arc::new(config))
}

fn certified(provider: &CryptoProvider, f: &CertFile) -> Result<NamedCert, String> {
    let path = f.path.display();
    let key = provider
        .key_provider
        .load_private_key(f.key.clone_key())
        .map_err(|_| format!("unable to load private key from file '{path}'."))?;
    let ck = CertifiedKey::new(f.chain.clone(), key);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        ck.keys_match()
    {
        return Err(format!(
            "inconsistencies between private key and certificate loaded '{path}'."
        ));
    }
    let names = f.chain.first().map(dns_names).unwrap_or_default();
    Ok(NamedCert {
        names,
        key: Arc::new(ck),
    })
}
