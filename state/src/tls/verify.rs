//! Checking a server's certificate the way HAProxy 2.6 does: `verify none`
//! accepts any certificate; `verify required` checks the chain against the
//! `ca-file`, and the name only when there is one to check (`verifyhost`,
//! or the SNI sent). Handshake signatures are always checked.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

#[derive(Debug)]
pub(crate) struct Verifier {
    /// `None` for `verify none`.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// `verifyhost <name>`: checked instead of the SNI.
    host: Option<ServerName<'static>>,
    algs: WebPkiSupportedAlgorithms,
}

impl Verifier {
    pub(crate) fn new(
        chain: Option<Arc<WebPkiServerVerifier>>,
        host: Option<ServerName<'static>>,
        algs: WebPkiSupportedAlgorithms,
    ) -> Verifier {
        Verifier { chain, host, algs }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        let (name, check_name) = match &self.host {
            Some(h) => (h, true),
            // An IP address name means no SNI was sent: HAProxy then
            // checks only the chain.
            None => (server_name, matches!(server_name, ServerName::DnsName(_))),
        };
        match chain.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !check_name => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
