//! What a certificate says about its holder, read once per connection (or
//! per `crt` at load): subject and issuer names, serial, validity, in the
//! text HAProxy's `ssl_c_*` fetches give (OpenSSL's short attribute names,
//! one-line DNs `/C=FR/CN=x`), and the subject CNs SNI indexes.

use x509_parser::prelude::{parse_x509_certificate, X509Certificate, X509Name};
use x509_parser::time::ASN1Time;

/// A certificate's facts for `ssl_c_*` (the client's leaf certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    pub subject: Dn,
    pub issuer: Dn,
    /// `ssl_c_serial,hex`: uppercase hex of the serial's magnitude bytes.
    pub serial_hex: String,
    /// `ssl_c_notbefore` / `ssl_c_notafter`: `YYMMDDhhmmssZ`; `None` when
    /// HAProxy gives nothing (a date outside 1950-2099).
    pub not_before: Option<String>,
    pub not_after: Option<String>,
}

/// A distinguished name: its attributes in order, and their one-line form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dn {
    entries: Vec<(String, String)>,
    oneline: String,
}

impl Dn {
    fn of(name: &X509Name<'_>) -> Dn {
        let mut entries = Vec::new();
        let mut oneline = String::new();
        for attr in name.iter_attributes() {
            let key = short_name(&attr.attr_type().to_id_string());
            // The string's bytes as they are (OpenSSL's ASN1_STRING data).
            let value = String::from_utf8_lossy(attr.attr_value().data).into_owned();
            oneline.push('/');
            oneline.push_str(&key);
            oneline.push('=');
            oneline.push_str(&value);
            entries.push((key, value));
        }
        Dn { entries, oneline }
    }

    /// A DN from its entries (tests of the fetches).
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Dn {
        let entries: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let oneline = entries.iter().map(|(k, v)| format!("/{k}={v}")).collect();
        Dn { entries, oneline }
    }

    /// `ssl_c_s_dn`: `/K=V/K=V...`.
    pub fn oneline(&self) -> &str {
        &self.oneline
    }

    /// `ssl_c_s_dn(<entry>[,<occ>])`: the `occ`th value of `entry` (its
    /// short name, any case) from the start, or from the end when negative.
    pub fn entry(&self, key: &str, occ: i32) -> Option<&str> {
        let matching = |e: &&(String, String)| e.0.eq_ignore_ascii_case(key);
        let n = usize::try_from(occ.unsigned_abs()).ok()?.checked_sub(1)?;
        let found = if occ > 0 {
            self.entries.iter().filter(matching).nth(n)
        } else {
            self.entries.iter().rev().filter(matching).nth(n)
        };
        found.map(|e| e.1.as_str())
    }

    /// Every `CN` value, in order.
    pub fn common_names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.0 == "CN")
            .map(|e| e.1.as_str())
    }
}

impl PeerCert {
    /// Parse a DER certificate; `None` when it does not parse.
    pub fn parse(der: &[u8]) -> Option<PeerCert> {
        let (_, cert) = parse_x509_certificate(der).ok()?;
        Some(PeerCert::of(&cert))
    }

    fn of(cert: &X509Certificate<'_>) -> PeerCert {
        let raw = cert.raw_serial();
        // OpenSSL keeps the magnitude: DER's sign-padding zero is dropped.
        let serial = match raw {
            [0, rest @ ..] if !rest.is_empty() => rest,
            r => r,
        };
        let mut serial_hex = String::with_capacity(serial.len() * 2);
        for b in serial {
            serial_hex.push_str(&format!("{b:02X}"));
        }
        let validity = cert.validity();
        PeerCert {
            subject: Dn::of(cert.subject()),
            issuer: Dn::of(cert.issuer()),
            serial_hex,
            not_before: asn1_time(&validity.not_before),
            not_after: asn1_time(&validity.not_after),
        }
    }
}

/// The subject CNs of a DER certificate (SNI indexes them besides its
/// SAN DNS names, as HAProxy 2.6 does).
pub fn subject_common_names(der: &[u8]) -> Vec<String> {
    let Ok((_, cert)) = parse_x509_certificate(der) else {
        return Vec::new();
    };
    Dn::of(cert.subject())
        .common_names()
        .map(str::to_string)
        .collect()
}

/// HAProxy's `ssl_sock_get_time`: a UTCTime as it is (`YYMMDDhhmmssZ`), a
/// GeneralizedTime of the 2000s without its century; DER (RFC 5280) uses
/// UTCTime up to 2049, so the date alone tells which it was.
fn asn1_time(t: &ASN1Time) -> Option<String> {
    let d = t.to_datetime();
    let year = d.year();
    if !(1950..=2099).contains(&year) {
        return None;
    }
    Some(format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        year % 100,
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    ))
}

/// OpenSSL's short name for an attribute type (`OBJ_nid2sn`), else its
/// dotted OID (as `i2t_ASN1_OBJECT` prints unknown ones).
fn short_name(oid: &str) -> String {
    let sn = match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => return other.to_string(),
    };
    sn.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entries_by_occurrence() {
        let dn = Dn {
            entries: vec![
                ("CN".into(), "a".into()),
                ("O".into(), "o".into()),
                ("CN".into(), "b".into()),
            ],
            oneline: String::new(),
        };
        assert_eq!(dn.entry("cn", 1), Some("a"));
        assert_eq!(dn.entry("CN", 2), Some("b"));
        assert_eq!(dn.entry("CN", -1), Some("b"));
        assert_eq!(dn.entry("CN", -2), Some("a"));
        assert_eq!(dn.entry("CN", 3), None);
        assert_eq!(dn.entry("CN", 0), None);
        assert_eq!(dn.entry("OU", 1), None);
        assert_eq!(dn.common_names().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn garbage_is_no_certificate() {
        assert!(PeerCert::parse(b"not a certificate").is_none());
        assert!(subject_common_names(&[0x30, 0x03, 0x02, 0x01]).is_empty());
    }
}
