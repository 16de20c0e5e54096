//! The `ssl_c_*` client-certificate fetches side by side with the real
//! HAProxy 2.6: the same config and PEM files (made with rcgen at test
//! time), `curl` with and without a client certificate and on a plain bind;
//! the headers the rules set are compared as the upstream received them.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    SerialNumber,
};
use tk::{FakeUpstream, Proxy, ProxyKind};

const WAIT: Duration = Duration::from_secs(10);

const HEADERS: [&str; 11] = [
    "x-cn", "x-dn", "x-issuer", "x-serial", "x-used", "x-verify", "x-nb", "x-na", "x-o2", "x-has",
    "x-ok",
];

/// A CA (`ca.pem`), a server certificate signed by nobody (`site.pem`),
/// and a client certificate the CA signed (`client.pem`, `client.key`)
/// with a known subject, serial and validity.
fn certificates(d: &Path) {
    let fail = |e: rcgen::Error| -> ! { panic!("rcgen: {e}") };
    let ca_key = KeyPair::generate().unwrap_or_else(|e| fail(e));
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail(e));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::OrganizationName, "Acme CA");
    ca.distinguished_name.push(DnType::CommonName, "Acme Root");
    let ca_cert = ca.self_signed(&ca_key).unwrap_or_else(|e| fail(e));
    write(d, "ca.pem", &ca_cert.pem());

    let site_key = KeyPair::generate().unwrap_or_else(|e| fail(e));
    let mut site = CertificateParams::new(vec!["a.test".to_string()]).unwrap_or_else(|e| fail(e));
    site.distinguished_name = rcgen::DistinguishedName::new();
    site.distinguished_name.push(DnType::CommonName, "a.test");
    let site_cert = site.self_signed(&site_key).unwrap_or_else(|e| fail(e));
    write(
        d,
        "site.pem",
        &format!("{}{}", site_cert.pem(), site_key.serialize_pem()),
    );

    let key = KeyPair::generate().unwrap_or_else(|e| fail(e));
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail(e));
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CountryName, "FR");
    p.distinguished_name.push(DnType::OrganizationName, "Acme");
    p.distinguished_name
        .push(DnType::OrganizationalUnitName, "Ops");
    p.distinguished_name.push(DnType::CommonName, "alice");
    p.serial_number = Some(SerialNumber::from_slice(&[0x8a, 0x01, 0xb2, 0x3c]));
    p.not_before = rcgen::date_time_ymd(2024, 1, 2);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let c = p
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap_or_else(|e| fail(e));
    write(d, "client.pem", &c.pem());
    write(d, "client.key", &key.serialize_pem());
}

/// The rules under test, for a frontend bound with `bind`.
fn frontend(name: &str, bind: &str) -> String {
    format!(
        "frontend {name}\n  bind {bind}\n\
         acl has_cert ssl_c_used\n\
         http-request set-header X-Cn %[ssl_c_s_dn(cn)]\n\
         http-request set-header X-Dn %[ssl_c_s_dn]\n\
         http-request set-header X-Issuer %[ssl_c_i_dn]\n\
         http-request set-header X-Serial %[ssl_c_serial,hex]\n\
         http-request set-header X-Used %[ssl_c_used]\n\
         http-request set-header X-Verify %[ssl_c_verify]\n\
         http-request set-header X-Nb %[ssl_c_notbefore]\n\
         http-request set-header X-Na %[ssl_c_notafter]\n\
         http-request set-header X-O2 %[ssl_c_i_dn(o,-1)]\n\
         http-request set-header X-Has yes if has_cert\n\
         http-request set-header X-Ok yes if {{ ssl_c_verify 0 }} {{ ssl_c_s_dn(ou) -m str Ops }}\n\
         default_backend be\n"
    )
}

/// `curl` with `args`: the status code it printed.
fn curl_status(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--max-time", "5"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the upstream saw of the `X-*` headers (each name's values).
fn seen(up: &FakeUpstream) -> Vec<(String, Vec<String>)> {
    let r = up
        .last_request()
        .unwrap_or_else(|| panic!("the upstream saw no request"));
    HEADERS
        .iter()
        .map(|h| {
            let v = r.header_all(h).iter().map(|s| s.to_string()).collect();
            (h.to_string(), v)
        })
        .collect()
}

#[test]
fn client_certificate_fetches_match_haproxy() {
    if !have_haproxy("client_certificate_fetches_match_haproxy") {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    certificates(d);
    let path = |n: &str| d.join(n).display().to_string();
    let tls = format!(
        "ssl crt {} verify optional ca-file {}",
        path("site.pem"),
        path("ca.pem")
    );
    let up = FakeUpstream::start("up");
    let mut runs = Vec::new();
    for kind in [ProxyKind::Haproxy, ProxyKind::Switchyard(switchyard())] {
        let p = tk::free_ports(4);
        let cfg = format!(
            "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n\
             frontend ready\n  bind 127.0.0.1:{}\n  http-request return status 200\n{}{}\
             frontend need\n  bind 127.0.0.1:{} {tls}\n  acl has_cert ssl_c_used\n  \
             http-request deny if !has_cert\n  default_backend be\n\
             backend be\n  server s1 127.0.0.1:{}\n",
            p[0],
            frontend("fe", &format!("127.0.0.1:{} {tls}", p[1])),
            frontend("plain", &format!("127.0.0.1:{}", p[2])),
            p[3],
            up.port(),
        );
        let mut px = Proxy::spawn_kind(&kind, &cfg, &[]).unwrap_or_else(|e| panic!("spawn: {e}"));
        px.wait_ready(lo(p[0]), WAIT);
        let cert = ["--cert", &path("client.pem"), "--key", &path("client.key")];
        let fe = format!("https://127.0.0.1:{}/", p[1]);
        let need = format!("https://127.0.0.1:{}/", p[3]);
        let plain = format!("http://127.0.0.1:{}/", p[2]);
        let mut run = Vec::new();
        let with: Vec<&str> = cert.iter().copied().chain([fe.as_str()]).collect();
        run.push(format!("with cert: {}", curl_status(&with)));
        run.push(format!("{:?}", seen(&up)));
        run.push(format!("without cert: {}", curl_status(&[&fe])));
        run.push(format!("{:?}", seen(&up)));
        run.push(format!("plain: {}", curl_status(&[&plain])));
        run.push(format!("{:?}", seen(&up)));
        let with: Vec<&str> = cert.iter().copied().chain([need.as_str()]).collect();
        run.push(format!("need, with cert: {}", curl_status(&with)));
        run.push(format!("need, without: {}", curl_status(&[&need])));
        runs.push(run);
        drop(px);
    }
    let sy = runs.pop().unwrap_or_default();
    let ha = runs.pop().unwrap_or_default();
    for (h, s) in ha.iter().zip(&sy) {
        eprintln!("haproxy:    {h}\nswitchyard: {s}");
    }
    assert!(ha[1].contains("\"alice\""), "{ha:?}");
    assert_eq!(sy, ha);
}
