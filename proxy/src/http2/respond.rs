//! A reply as an HTTP/2 response: status and headers without the
//! connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2, as HAProxy's
//! H2 mux leaves them out), HAProxy's pre-encoded pages decoded, the body
//! sent within the client's flow-control window under `timeout client`,
//! and the byte counts the HTTP/1 writer keeps (`%B` counts the message as
//! HAProxy's HTX holds it, whatever the client's protocol).

use std::future::poll_fn;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, SendStream};
use http::header::{
    HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE,
};
use http::{HeaderMap, Response, StatusCode};
use switchyard_state::ObserveEvent;

use crate::h1::{htx_head_size, htx_size_raw, htx_trailers_size};
use crate::request::{Reply, RespBody, TxnEnd};
use crate::upstream::{Lease, UpBody};

/// How a response transfer ended.
pub(super) struct Written {
    /// HAProxy's count of what was sent (`%B`).
    pub(super) bytes: u64,
    /// The whole response reached the client.
    pub(super) complete: bool,
    /// Termination code when it did not.
    pub(super) term: Option<[u8; 2]>,
}

/// The most body data gathered for one DATA write.
const COALESCE_MAX: usize = 64 * 1024;

/// Send `reply` on the stream; what was written, the transaction's end and
/// the server lease (its connection given back when the body ended).
pub(super) async fn write(
    tx: &mut SendResponse<Bytes>,
    reply: Box<Reply>,
    is_head: bool,
    t_client: Option<Duration>,
) -> (Written, Box<TxnEnd>, Option<Lease>) {
    let mut reply = reply;
    let mut lease = reply.lease.take();
    let end = reply.end;
    let mut w = Written {
        bytes: 0,
        complete: true,
        term: None,
    };
    if reply.upgrade.take().is_some() || reply.status == 0 {
        // No response (the client is gone), or a protocol switch HTTP/2
        // cannot carry (requests asking for one are refused by the codec).
        tx.send_reset(Reason::CANCEL);
        w.complete = false;
        return (w, end, lease);
    }
    if let Some(raw) = reply.raw.take() {
        let htx = reply.htx_head.unwrap_or_else(|| htx_size_raw(&raw));
        match send_page(tx, &raw, is_head, t_client).await {
            Ok(()) => w.bytes = htx,
            Err(t) => {
                w.complete = false;
                w.term = Some(t);
            }
        }
        return (w, end, lease);
    }
    let status = reply.status;
    interim(tx, &reply.interim);

    // Framing, as the HTTP/1 writer decides it; the length stays as the
    // server or the local reply gave it.
    let headers = &mut reply.headers;
    let no_body_status = (100..200).contains(&status) || status == 204;
    if no_body_status {
        crate::headers::remove_ordered(headers, &CONTENT_LENGTH);
    }
    let no_body = no_body_status || is_head || status == 304;
    if !no_body {
        match &reply.body {
            RespBody::Empty if !headers.contains_key(CONTENT_LENGTH) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            RespBody::Full(b) if !headers.contains_key(CONTENT_LENGTH) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
            }
            RespBody::Upstream(_) => {
                // A chunked body goes as DATA frames: no length was given.
                crate::headers::remove_ordered(headers, &TRANSFER_ENCODING);
            }
            _ => {}
        }
    }
    let htx_head = reply.htx_head.unwrap_or_else(|| {
        htx_head_size(["HTTP/1.1", &status.to_string(), &reply.reason], headers)
    });
    let body = std::mem::replace(&mut reply.body, RespBody::Empty);
    let ends_with_head = no_body
        || matches!(&body, RespBody::Empty)
        || matches!(&body, RespBody::Full(b) if b.is_empty());
    let headers = std::mem::take(headers);
    let mut s = match send_head(tx, status, headers, ends_with_head) {
        Ok(s) => s,
        Err(t) => {
            w.complete = false;
            w.term = Some(t);
            return (w, end, lease);
        }
    };
    w.bytes = htx_head;
    match body {
        RespBody::Empty => {}
        RespBody::Full(b) => {
            if let Some(s) = s.as_mut().filter(|_| !no_body) {
                let n = b.len() as u64;
                match send_all(s, b, true, t_client).await {
                    Ok(()) => w.bytes += n,
                    Err(t) => {
                        w.complete = false;
                        w.term = Some(t);
                    }
                }
            }
        }
        RespBody::Upstream(mut inc) => {
            let ended = relay(&mut inc, s.as_mut(), &lease, t_client, &mut w).await;
            if ended {
                if let Some(l) = lease.as_mut() {
                    l.conn = inc.into_conn();
                }
            }
        }
    }
    (w, end, lease)
}

/// One of HAProxy's pre-encoded pages (HTTP/1 bytes) as a response; its
/// head alone (length included) to a HEAD request.
pub(super) async fn send_page(
    tx: &mut SendResponse<Bytes>,
    raw: &Bytes,
    is_head: bool,
    t_client: Option<Duration>,
) -> Result<(), [u8; 2]> {
    let Some((status, headers, body)) = decode_page(raw) else {
        tx.send_reset(Reason::INTERNAL_ERROR);
        return Err(*b"PR");
    };
    match send_head(tx, status, headers, is_head || body.is_empty())? {
        Some(mut s) => send_all(&mut s, body, true, t_client).await,
        None => Ok(()),
    }
}

/// Relay the server's body onto `s` (`None`: the response had no body to
/// send), under `timeout server` and the server's kill switch; whether the
/// server's body ended cleanly.
async fn relay(
    inc: &mut UpBody,
    mut s: Option<&mut SendStream<Bytes>>,
    lease: &Option<Lease>,
    t_client: Option<Duration>,
    w: &mut Written,
) -> bool {
    let t_server = lease.as_ref().and_then(|l| l.t_server);
    let kill = lease.as_ref().and_then(|l| l.kill.clone());
    let observe = |ev| {
        if let Some(l) = lease {
            l.observe(ev);
        }
    };
    loop {
        let next = async {
            match t_server {
                Some(t) => tokio::time::timeout(t, inc.next()).await.ok(),
                None => Some(inc.next().await),
            }
        };
        let frame = tokio::select! {
            f = next => f,
            k = crate::kill::killed(kill.as_ref()) => {
                // Only this stream ends: HAProxy resets the killed stream,
                // the connection's others go on.
                if let Some(s) = s.as_mut() {
                    s.send_reset(Reason::CANCEL);
                }
                w.complete = false;
                w.term = Some([k.code(), b'D']);
                return false;
            }
        };
        let first = match frame {
            None => {
                observe(ObserveEvent::HttpReadTimeout);
                Err(*b"sD")
            }
            Some(Err(_)) => {
                observe(ObserveEvent::HttpReadError);
                Err(*b"SD")
            }
            Some(Ok(d)) => Ok(d),
        };
        let first = match first {
            Ok(d) => d,
            Err(t) => {
                if let Some(s) = s.as_mut() {
                    s.send_reset(Reason::INTERNAL_ERROR);
                }
                w.complete = false;
                w.term = Some(t);
                return false;
            }
        };
        // What else is ready goes in the same write.
        let (data, ended) = gather(inc, first);
        let Some(s) = s.as_mut() else {
            if ended {
                return true;
            }
            continue;
        };
        let n = data.len() as u64;
        let trailers = if ended {
            let raw = inc.take_trailers();
            // A chunked server body's end block and trailers count in
            // `%B`, as in HAProxy's HTX.
            if inc.kind == crate::upstream::BodyKind::Chunked {
                w.bytes += htx_trailers_size(&raw);
            }
            trailers(&raw)
        } else {
            None
        };
        let eos = ended && trailers.is_none();
        if !data.is_empty() || eos {
            if let Err(t) = send_all(s, data, eos, t_client).await {
                w.complete = false;
                w.term = Some(t);
                return false;
            }
        }
        w.bytes += n;
        if let Some(t) = trailers {
            if s.send_trailers(t).is_err() {
                w.complete = false;
                w.term = Some(*b"CD");
                return false;
            }
        }
        if ended {
            return true;
        }
    }
}

/// `first` (what a read returned: data, or `None` for the end) and what
/// else of the body is ready now, as one buffer; whether the body ended.
fn gather(inc: &mut UpBody, first: Option<Bytes>) -> (Bytes, bool) {
    let Some(first) = first else {
        return (Bytes::new(), true);
    };
    let mut ended = false;
    let mut more: Vec<Bytes> = Vec::new();
    let mut total = first.len();
    while total < COALESCE_MAX {
        match inc.ready() {
            Some(Ok(Some(d))) => {
                total += d.len();
                more.push(d);
            }
            Some(Ok(None)) => {
                ended = true;
                break;
            }
            // An error is seen (and accounted) by the next read.
            Some(Err(_)) | None => break,
        }
    }
    if more.is_empty() {
        return (first, ended);
    }
    let mut all = Vec::with_capacity(total);
    all.extend_from_slice(&first);
    more.iter().for_each(|d| all.extend_from_slice(d));
    (Bytes::from(all), ended)
}

/// Send the response head; the stream to send the body on, unless the head
/// ended it.
fn send_head(
    tx: &mut SendResponse<Bytes>,
    status: u16,
    mut headers: HeaderMap,
    end: bool,
) -> Result<Option<SendStream<Bytes>>, [u8; 2]> {
    let Ok(code) = StatusCode::from_u16(status) else {
        tx.send_reset(Reason::INTERNAL_ERROR);
        return Err(*b"SH");
    };
    strip_connection_fields(&mut headers);
    let mut resp = Response::new(());
    *resp.status_mut() = code;
    *resp.headers_mut() = headers;
    match tx.send_response(resp, end) {
        Ok(s) if !end => Ok(Some(s)),
        Ok(_) => Ok(None),
        Err(_) => Err(*b"CD"),
    }
}

/// Send `data` (then the end of the stream if `end`), as the client's
/// window allows; a window that stays shut for `timeout client` is `cD`.
async fn send_all(
    s: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
    t: Option<Duration>,
) -> Result<(), [u8; 2]> {
    if data.is_empty() {
        return s.send_data(data, end).map_err(|_| *b"CD");
    }
    while !data.is_empty() {
        s.reserve_capacity(data.len());
        let cap = poll_fn(|cx| s.poll_capacity(cx));
        let cap = match t {
            Some(d) => tokio::time::timeout(d, cap).await.map_err(|_| *b"cD")?,
            None => cap.await,
        };
        let n = match cap {
            Some(Ok(n)) => n,
            Some(Err(_)) | None => return Err(*b"CD"),
        };
        if n == 0 {
            continue;
        }
        let chunk = data.split_to(n.min(data.len()));
        s.send_data(chunk, end && data.is_empty())
            .map_err(|_| *b"CD")?;
    }
    Ok(())
}

/// Fields that mean something only to one HTTP/1 connection.
fn strip_connection_fields(h: &mut HeaderMap) {
    static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
    static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
    for name in [
        &CONNECTION,
        &TRANSFER_ENCODING,
        &UPGRADE,
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
    ] {
        crate::headers::remove_ordered(h, name);
    }
    if h.get(TE).is_some_and(|v| v != "trailers") {
        crate::headers::remove_ordered(h, &TE);
    }
}

/// One of HAProxy's pages (HTTP/1 bytes): its status, headers and body.
fn decode_page(raw: &Bytes) -> Option<(u16, HeaderMap, Bytes)> {
    let mut fields = [httparse::EMPTY_HEADER; 32];
    let mut r = httparse::Response::new(&mut fields);
    let n = match r.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let status = r.code?;
    let headers = header_map(r.headers)?;
    Some((status, headers, raw.slice(n..)))
}

fn header_map(fields: &[httparse::Header<'_>]) -> Option<HeaderMap> {
    let mut h = HeaderMap::with_capacity(fields.len());
    for f in fields {
        let name = HeaderName::from_bytes(f.name.as_bytes()).ok()?;
        h.append(name, HeaderValue::from_bytes(f.value).ok()?);
    }
    Some(h)
}

/// The server's interim (1xx) responses, HTTP/1-encoded, sent before the
/// final one. A `101` cannot be sent on HTTP/2 and is left out.
pub(super) fn interim(tx: &mut SendResponse<Bytes>, encoded: &[u8]) {
    let mut rest = encoded;
    while !rest.is_empty() {
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(n)) = r.parse(rest) else {
            return;
        };
        rest = &rest[n..];
        let (Some(code), Some(mut headers)) = (r.code, header_map(r.headers)) else {
            return;
        };
        let Ok(status) = StatusCode::from_u16(code) else {
            return;
        };
        if !status.is_informational() || code == 101 {
            continue;
        }
        strip_connection_fields(&mut headers);
        let mut resp = Response::new(());
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
        if tx.send_informational(resp).is_err() {
            return;
        }
    }
}

/// A chunked body's trailer lines (`name: value` with CRLF) as fields;
/// `None` when there are none (or they cannot go on as HTTP/2 fields).
fn trailers(lines: &[u8]) -> Option<HeaderMap> {
    if lines.is_empty() {
        return None;
    }
    let mut h = HeaderMap::new();
    for line in lines.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = line[colon + 1..].trim_ascii();
        h.append(name, HeaderValue::from_bytes(value).ok()?);
    }
    strip_connection_fields(&mut h);
    (!h.is_empty()).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_trailers_decode() {
        let page = crate::pages::htx_page(503);
        let (status, h, body) = decode_page(&page).expect("page");
        assert_eq!(status, 503);
        assert!(h.contains_key(CONTENT_LENGTH));
        assert_eq!(
            h[CONTENT_LENGTH].to_str().ok().and_then(|v| v.parse().ok()),
            Some(body.len())
        );
        let t = trailers(b"x-sum: 12 \r\nconnection: x\r\n").expect("trailers");
        assert_eq!(t["x-sum"], "12");
        assert!(!t.contains_key(CONNECTION));
        assert!(trailers(b"").is_none());
    }

    #[test]
    fn connection_fields_go() {
        let mut h = crate::headers::header_map(&[
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("te", "gzip"),
            ("x-kept", "1"),
        ]);
        strip_connection_fields(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }
}
