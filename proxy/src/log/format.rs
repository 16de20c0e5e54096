//! Rendering a log line from a [`LogRecord`] with a log-format string.
//! `option httplog` is the format [`HTTPLOG`]; spaces are separators that
//! collapse around empty fields, as in HAProxy (so `%hr %hs` vanish).

use std::fmt::Write;

use chrono::{DateTime, Local};

use super::record::LogRecord;

/// HAProxy 2.6's `option httplog` format.
pub(crate) const HTTPLOG: &str =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

/// HAProxy 2.6's `option tcplog` format.
pub(crate) const TCPLOG: &str =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// The format of `p`'s traffic log lines: its `log-format`, else `option
/// httplog` (which a TCP-mode proxy turns into tcplog, as HAProxy warns),
/// else `option tcplog`; `None` when it logs no traffic lines.
pub(crate) fn format_of(p: &switchyard_config::Proxy) -> Option<&str> {
    if let Some(f) = &p.log_format {
        return Some(f);
    }
    let o = &p.options;
    if o.httplog && p.mode == switchyard_config::Mode::Http {
        Some(HTTPLOG)
    } else if o.httplog || o.tcplog {
        Some(TCPLOG)
    } else {
        None
    }
}

/// Whether requests on proxy `p` produce log lines at all (what the sink
/// checks before formatting), so callers can skip gathering their text.
pub(crate) fn will_log(p: &switchyard_config::Proxy) -> bool {
    !p.logs.is_empty() && format_of(p).is_some()
}

/// `dd/Mon/yyyy:HH:MM:SS.mmm` in local time, as `%tr` prints it.
pub(crate) fn log_date(t: std::time::SystemTime) -> String {
    let d: DateTime<Local> = t.into();
    d.format("%d/%b/%Y:%H:%M:%S%.3f").to_string()
}

/// Render `fmt` for `r`.
pub(crate) fn render(fmt: &str, r: &LogRecord) -> String {
    let mut out = String::with_capacity(160);
    let mut last_space = false;
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            i += 1;
            continue;
        }
        if c != b'%' {
            // Literal text up to the next space or `%`.
            let start = i;
            while i < b.len() && b[i] != b' ' && b[i] != b'%' {
                i += 1;
            }
            out.push_str(&fmt[start..i]);
            last_space = false;
            continue;
        }
        // `%%` is a literal percent.
        if b.get(i + 1) == Some(&b'%') {
            out.push('%');
            last_space = false;
            i += 2;
            continue;
        }
        i += 1;
        let mut quote = false;
        if b.get(i) == Some(&b'{') {
            let end = fmt[i..].find('}').map(|e| i + e).unwrap_or(b.len());
            quote = fmt[i + 1..end.min(b.len())].split(',').any(|o| o == "+Q");
            i = (end + 1).min(b.len());
        }
        if b.get(i) == Some(&b'[') {
            // Sample expressions are not evaluated in log lines here.
            let end = fmt[i..].find(']').map(|e| i + e + 1).unwrap_or(b.len());
            i = end;
            out.push('-');
            last_space = false;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = &fmt[start..i];
        let before = out.len();
        var(&mut out, name, r, quote);
        if out.len() != before {
            last_space = false;
        }
    }
    out
}

fn ms(v: i64) -> String {
    v.to_string()
}

fn var(out: &mut String, name: &str, r: &LogRecord, quote: bool) {
    let q = |out: &mut String, s: &str| {
        if quote {
            out.push('"');
            escape(out, s);
            out.push('"');
        } else {
            escape(out, s);
        }
    };
    let t = &r.times;
    match name {
        "ci" => q(
            out,
            &r.client
                .map(|a| a.ip().to_string())
                .unwrap_or_else(|| "unix".into()),
        ),
        "cp" => q(
            out,
            &r.client
                .map(|a| a.port().to_string())
                .unwrap_or_else(|| "1".into()),
        ),
        "fi" => q(
            out,
            &r.frontend_addr
                .map(|a| a.ip().to_string())
                .unwrap_or_else(|| "unix".into()),
        ),
        "fp" => q(
            out,
            &r.frontend_addr
                .map(|a| a.port().to_string())
                .unwrap_or_else(|| "1".into()),
        ),
        "tr" | "t" => q(out, &log_date(r.date)),
        "trg" => {
            let d: DateTime<chrono::Utc> = r.date.into();
            q(out, &d.format("%d/%b/%Y:%H:%M:%S %z").to_string())
        }
        "ft" => {
            let s = if r.tls.is_some() {
                format!("{}~", r.frontend)
            } else {
                r.frontend.to_string()
            };
            q(out, &s)
        }
        "f" => q(out, &r.frontend),
        "sslv" => q(out, r.tls.as_ref().map_or("-", |t| t.version_name())),
        "sslc" => q(out, r.tls.as_ref().map_or("-", |t| t.cipher_name())),
        "b" => q(out, &r.backend),
        "s" => q(out, &r.server),
        "TR" | "Tq" => q(out, &ms(t.tr)),
        "Tw" => q(out, &ms(t.tw)),
        "Tc" => q(out, &ms(t.tc)),
        "Tr" => q(out, &ms(t.tresp)),
        "Ta" | "Tt" => q(out, &ms(t.ta)),
        "Th" | "Ti" => q(out, "0"),
        "ST" => q(out, &r.status.to_string()),
        "B" => q(out, &r.bytes.to_string()),
        "U" => q(out, &r.bytes_in.to_string()),
        "CC" | "CS" => q(out, "-"),
        "tsc" => q(out, std::str::from_utf8(&r.term).unwrap_or("----")),
        "ts" => q(out, std::str::from_utf8(&r.term[..2]).unwrap_or("--")),
        "ac" => q(out, &r.actconn.to_string()),
        "fc" => q(out, &r.feconn.to_string()),
        "bc" => q(out, &r.beconn.to_string()),
        "sc" => q(out, &r.srvconn.to_string()),
        "rc" => {
            let s = if r.redispatched {
                format!("+{}", r.retries)
            } else {
                r.retries.to_string()
            };
            q(out, &s)
        }
        "sq" => q(out, &r.srv_queue.to_string()),
        "bq" => q(out, &r.be_queue.to_string()),
        "hr" | "hs" | "hrl" | "hsl" => {}
        "r" => q(out, r.request.as_deref().unwrap_or("<BADREQ>")),
        "HM" => q(out, r.method.as_deref().unwrap_or("-")),
        "HU" => q(out, r.uri.as_deref().unwrap_or("-")),
        "HP" => q(
            out,
            r.uri
                .as_deref()
                .map(|u| u.split('?').next().unwrap_or(u))
                .unwrap_or("-"),
        ),
        "HV" => q(
            out,
            r.request
                .as_deref()
                .and_then(|l| l.rsplit(' ').next())
                .unwrap_or("-"),
        ),
        "pid" => q(out, &std::process::id().to_string()),
        "ID" => {}
        "H" => q(out, &hostname()),
        _ => {
            let _ = write!(out, "%{name}");
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// HAProxy encodes `"`, `#` and non-printable bytes in logged strings as `#XX`.
fn escape(out: &mut String, s: &str) {
    for ch in s.chars() {
        if ch == '"' || ch == '#' || (ch as u32) < 0x20 || ch as u32 == 0x7f {
            let _ = write!(out, "#{:02X}", ch as u32);
        } else {
            out.push(ch);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::log::record::Times;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn httplog_line_shape() {
        let mut r = LogRecord::new(
            None,
            Arc::from("fe_main"),
            UNIX_EPOCH + Duration::from_millis(1_000_123),
        );
        r.client = Some("127.0.0.1:52926".parse().unwrap());
        r.backend = Arc::from("be_app");
        r.server = Arc::from("s1");
        r.times = Times {
            tr: 0,
            tw: 0,
            tc: 0,
            tresp: 5,
            ta: 5,
        };
        r.status = 200;
        r.bytes = 156;
        r.actconn = 1;
        r.feconn = 1;
        r.request = Some("GET /x HTTP/1.1".into());
        let line = render(HTTPLOG, &r);
        let date = log_date(r.date);
        assert_eq!(
            line,
            format!("127.0.0.1:52926 [{date}] fe_main be_app/s1 0/0/0/5/5 200 156 - - ---- 1/1/0/0/0 0/0 \"GET /x HTTP/1.1\"")
        );
        r.redispatched = true;
        r.retries = 1;
        r.request = None;
        assert!(render(HTTPLOG, &r).ends_with("1/1/0/0/+1 0/0 \"<BADREQ>\""));
    }
}
