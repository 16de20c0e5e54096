//! What a finished handshake agreed on, kept with the connection for
//! `ssl_fc`, `%ft`'s `~`, `%sslv`, `%sslc` and the `ssl_c_*` fetches.

use std::num::NonZeroU16;
use std::sync::Arc;

use rustls::server::ServerConnection;
use switchyard_state::PeerCert;

/// The protocol version and cipher suite, as their TLS code points, and
/// the client's certificate, read once here rather than per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsParams {
    version: NonZeroU16,
    suite: u16,
    cert: Option<Arc<PeerCert>>,
}

impl TlsParams {
    /// From a completed handshake (`None` only if it is not complete).
    pub(crate) fn of(conn: &ServerConnection) -> Option<TlsParams> {
        let version = NonZeroU16::new(u16::from(conn.protocol_version()?))?;
        let suite = u16::from(conn.negotiated_cipher_suite()?.suite());
        // The leaf is first; one that does not parse reads as none.
        let cert = conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|der| PeerCert::parse(der))
            .map(Arc::new);
        Some(TlsParams {
            version,
            suite,
            cert,
        })
    }

    /// The client's certificate (`ssl_c_*`), when it sent one.
    pub(crate) fn client_cert(&self) -> Option<&Arc<PeerCert>> {
        self.cert.as_ref()
    }

    /// `%sslv`, in OpenSSL's spelling as HAProxy logs it.
    pub(crate) fn version_name(&self) -> &'static str {
        match self.version.get() {
            0x0304 => "TLSv1.3",
            0x0303 => "TLSv1.2",
            _ => "-",
        }
    }

    /// `%sslc`, in OpenSSL's names (the suites rustls's ring provider has).
    pub(crate) fn cipher_name(&self) -> &'static str {
        match self.suite {
            0x1301 => "TLS_AES_128_GCM_SHA256",
            0x1302 => "TLS_AES_256_GCM_SHA384",
            0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
            0xc02b => "ECDHE-ECDSA-AES128-GCM-SHA256",
            0xc02c => "ECDHE-ECDSA-AES256-GCM-SHA384",
            0xcca9 => "ECDHE-ECDSA-CHACHA20-POLY1305",
            0xc02f => "ECDHE-RSA-AES128-GCM-SHA256",
            0xc030 => "ECDHE-RSA-AES256-GCM-SHA384",
            0xcca8 => "ECDHE-RSA-CHACHA20-POLY1305",
            _ => "-",
        }
    }
}
