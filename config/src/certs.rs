//! Reading `crt` and `ca-file` PEM files for `bind ... ssl`, as HAProxy does
//! at parse time: a file holds the chain and the key in any order; a file
//! without a key takes `<file>.key`; a directory loads every certificate
//! file in it. Only PEM decoding happens here (no crypto): whether the key
//! matches the certificate is checked when the snapshot compiles the TLS
//! config.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};

use crate::model::CertFile;

/// Files of a `crt` directory that are companions, not certificates
/// (HAProxy's `SSL_SOCK_KEYTYPE`/extension list).
const SKIPPED_EXTENSIONS: &[&str] = &["key", "ocsp", "issuer", "sctl"];

/// What went wrong, worded as HAProxy 2.6 words it after the bind prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertError {
    /// No certificate could be decoded.
    NoCert(PathBuf),
    /// Neither the file nor `<file>.key` holds a key.
    NoKey(PathBuf),
    /// The directory could not be listed.
    Dir(PathBuf, String),
}

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertError::NoCert(p) => {
                write!(f, "unable to load certificate from file '{}'.", p.display())
            }
            CertError::NoKey(p) => write!(f, "No Private Key found in '{}'.", p.display()),
            CertError::Dir(p, e) => {
                write!(f, "unable to scan directory '{}' : {e}.", p.display())
            }
        }
    }
}

/// The sections of one PEM file we care about.
#[derive(Default)]
struct Pem {
    certs: Vec<CertificateDer<'static>>,
    key: Option<PrivateKeyDer<'static>>,
}

fn read_pem(path: &Path) -> Option<Pem> {
    let bytes = std::fs::read(path).ok()?;
    let mut out = Pem::default();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = item.ok()?;
        match kind {
            SectionKind::Certificate => out.certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey if out.key.is_none() => {
                out.key = Some(PrivatePkcs8KeyDer::from(der).into());
            }
            SectionKind::RsaPrivateKey if out.key.is_none() => {
                out.key = Some(PrivatePkcs1KeyDer::from(der).into());
            }
            SectionKind::EcPrivateKey if out.key.is_none() => {
                out.key = Some(PrivateSec1KeyDer::from(der).into());
            }
            _ => {}
        }
    }
    Some(out)
}

/// One certificate file: its chain, and its key (from the file itself or
/// from `<file>.key`).
fn load_file(path: &Path) -> Result<CertFile, CertError> {
    let pem = read_pem(path)
        .filter(|p| !p.certs.is_empty())
        .ok_or_else(|| CertError::NoCert(path.to_path_buf()))?;
    let key = match pem.key {
        Some(k) => k,
        None => {
            let mut side = path.as_os_str().to_owned();
            side.push(".key");
            let side = PathBuf::from(side);
            read_pem(&side)
                .and_then(|p| p.key)
                .ok_or(CertError::NoKey(side))?
        }
    };
    Ok(CertFile {
        path: path.to_path_buf(),
        chain: pem.certs,
        key: Arc::new(key),
    })
}

/// A `crt` argument: a file, or a directory whose certificate files load
/// in name order (the first one is the bind's default certificate).
pub(crate) fn load_crt(path: &Path) -> Result<Vec<CertFile>, CertError> {
    if !path.is_dir() {
        return Ok(vec![load_file(path)?]);
    }
    let dir_err = |e: std::io::Error| CertError::Dir(path.to_path_buf(), e.to_string());
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(dir_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            let companion = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| SKIPPED_EXTENSIONS.contains(&e));
            !hidden && !companion
        })
        .collect();
    names.sort();
    names.iter().map(|p| load_file(p)).collect()
}

/// A `ca-file`: every certificate in it; `None` when there is none.
pub(crate) fn load_ca(path: &Path) -> Option<Vec<CertificateDer<'static>>> {
    let pem = read_pem(path)?;
    (!pem.certs.is_empty()).then_some(pem.certs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nAwQF\n-----END PRIVATE KEY-----\n";

    #[test]
    fn key_in_the_file_or_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let both = dir.path().join("both.pem");
        std::fs::write(&both, format!("{KEY}{CERT}")).unwrap();
        let f = load_file(&both).unwrap();
        assert_eq!(f.chain.len(), 1);

        let alone = dir.path().join("alone.pem");
        std::fs::write(&alone, CERT).unwrap();
        let err = load_file(&alone).unwrap_err();
        assert!(err.to_string().ends_with("alone.pem.key'."), "{err}");
        std::fs::write(dir.path().join("alone.pem.key"), KEY).unwrap();
        assert!(load_file(&alone).is_ok());
    }

    #[test]
    fn a_directory_skips_companions_and_sorts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.pem"), format!("{CERT}{KEY}")).unwrap();
        std::fs::write(dir.path().join("a.pem"), CERT).unwrap();
        std::fs::write(dir.path().join("a.pem.key"), KEY).unwrap();
        std::fs::write(dir.path().join("a.pem.ocsp"), "x").unwrap();
        let files = load_crt(dir.path()).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.pem", "b.pem"]);
        std::fs::write(dir.path().join("c.txt"), "junk").unwrap();
        assert!(matches!(load_crt(dir.path()), Err(CertError::NoCert(_))));
    }
}
