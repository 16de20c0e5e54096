//! One connection of a fake upstream: a hand-rolled HTTP/1.1 loop, because the broken
//! behaviours (partial status line, junk, silence, RST) need the raw socket.

use super::shared::Shared;
use super::{Behavior, RequestHead};
use crate::http1::{
    find_header, head_end, header_list, request_framing, BodyFraming, ChunkedDecoder,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request head accepted (HAProxy's default buffer is 16 KiB).
const MAX_HEAD: usize = 64 * 1024;

/// Bytes sent by [`Behavior::Junk`].
pub const JUNK: &[u8] = b"\x00\x01\x02\xffTHIS IS NOT HTTP\xfe\r\n\r\n";

/// Bytes sent by [`Behavior::CloseMidHeader`] before closing.
pub const PARTIAL_STATUS_LINE: &[u8] = b"HTTP/1.1 20";

struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// Reads and counts the body; `None` if the client went away or sent garbage.
async fn read_body(stream: &mut TcpStream, buf: &mut Vec<u8>, framing: BodyFraming) -> Option<u64> {
    match framing {
        BodyFraming::Empty => Some(0),
        BodyFraming::Length(n) => {
            let mut left = n;
            loop {
                let take = (buf.len() as u64).min(left) as usize;
                buf.drain(..take);
                left -= take as u64;
                if left == 0 {
                    return Some(n);
                }
                if read_more(stream, buf).await.ok()? == 0 {
                    return None;
                }
            }
        }
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            let mut total = 0u64;
            let mut out = Vec::new();
            loop {
                let used = decoder.feed(buf, &mut out).ok()?;
                buf.drain(..used);
                total += out.len() as u64;
                out.clear();
                if decoder.is_done() {
                    return Some(total);
                }
                if read_more(stream, buf).await.ok()? == 0 {
                    return None;
                }
            }
        }
        BodyFraming::UntilClose => None,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn response(
    status: u16,
    name: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
    close: bool,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nX-Served-By: {name}\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

fn echo_body(name: &str, head: &RequestHead) -> Vec<u8> {
    let mut headers = serde_json::Map::new();
    for (n, v) in &head.headers {
        match headers.get_mut(n) {
            Some(serde_json::Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(v);
            }
            _ => {
                headers.insert(n.clone(), serde_json::Value::String(v.clone()));
            }
        }
    }
    serde_json::json!({
        "name": name,
        "method": head.method,
        "path": head.path,
        "headers": headers,
        "header_list": head.headers,
        "body_length": head.body_len,
    })
    .to_string()
    .into_bytes()
}

/// Whether the client asked to keep the connection open after this request.
fn keep_alive(head: &RequestHead) -> bool {
    let conn = find_header(&head.headers, "connection")
        .unwrap_or("")
        .to_ascii_lowercase();
    if head.version == 0 {
        conn.contains("keep-alive")
    } else {
        !conn.contains("close")
    }
}

/// Serves requests on `stream` until the client closes or a behaviour ends the connection.
pub(crate) async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let end = loop {
            if let Some(end) = head_end(&buf) {
                break end;
            }
            if buf.len() > MAX_HEAD {
                return;
            }
            match read_more(&mut stream, &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let mut raw = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut raw);
        let parsed = req.parse(&buf[..end]);
        let head = match parsed {
            Ok(httparse::Status::Complete(_)) => RequestHead {
                method: req.method.unwrap_or("").to_owned(),
                path: req.path.unwrap_or("").to_owned(),
                version: req.version.unwrap_or(1),
                headers: header_list(req.headers),
                body_len: 0,
            },
            _ => {
                let body = b"bad request\n";
                let _ = stream
                    .write_all(&response(
                        400,
                        &shared.name,
                        "text/plain",
                        body,
                        false,
                        true,
                    ))
                    .await;
                return;
            }
        };
        buf.drain(..end);
        let _busy = InFlight::enter(&shared);
        let expects_continue = find_header(&head.headers, "expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects_continue
            && stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
        {
            return;
        }
        let Ok(framing) = request_framing(&head.headers) else {
            return;
        };
        let Some(body_len) = read_body(&mut stream, &mut buf, framing).await else {
            return;
        };
        let head = RequestHead { body_len, ..head };
        shared.record(head.clone());
        let head_only = head.method.eq_ignore_ascii_case("HEAD");
        let close = !keep_alive(&head);
        let name = shared.name.clone();

        let health = shared.health_path.as_str();
        let path = head.path_only();
        let mut counted = false;
        let bytes = if path == health {
            shared.health_checks.fetch_add(1, Ordering::SeqCst);
            if shared.healthy() {
                response(200, &name, "text/plain", b"OK\n", head_only, close)
            } else {
                let status = shared.health_down_status();
                response(
                    status,
                    &name,
                    "text/plain",
                    b"SERVICE UNAVAILABLE\n",
                    head_only,
                    close,
                )
            }
        } else if head.method == "POST" && path.strip_prefix(health) == Some("/enable") {
            shared.set_healthy(true);
            response(200, &name, "text/plain", b"enabled\n", head_only, close)
        } else if head.method == "POST" && path.strip_prefix(health) == Some("/disable") {
            shared.set_healthy(false);
            response(200, &name, "text/plain", b"disabled\n", head_only, close)
        } else {
            shared.requests.fetch_add(1, Ordering::SeqCst);
            counted = true;
            match shared.behavior() {
                Behavior::Echo => response(
                    200,
                    &name,
                    "application/json",
                    &echo_body(&name, &head),
                    head_only,
                    close,
                ),
                Behavior::Status(code) => response(
                    code,
                    &name,
                    "application/json",
                    &echo_body(&name, &head),
                    head_only,
                    close,
                ),
                Behavior::Delay(d) => {
                    tokio::time::sleep(d).await;
                    response(
                        200,
                        &name,
                        "application/json",
                        &echo_body(&name, &head),
                        head_only,
                        close,
                    )
                }
                Behavior::Unavailable => {
                    let body = format!("{name} unavailable\n");
                    response(503, &name, "text/plain", body.as_bytes(), head_only, close)
                }
                Behavior::CloseMidHeader => {
                    let _ = stream.write_all(PARTIAL_STATUS_LINE).await;
                    let _ = stream.shutdown().await;
                    return;
                }
                Behavior::Junk => {
                    let _ = stream.write_all(JUNK).await;
                    let _ = stream.shutdown().await;
                    return;
                }
                Behavior::Silent => {
                    // Keep reading so the client's close is noticed; answer nothing.
                    while matches!(read_more(&mut stream, &mut buf).await, Ok(n) if n > 0) {
                        buf.clear();
                    }
                    return;
                }
                Behavior::Reset => {
                    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                    return;
                }
            }
        };
        // Counted before writing, so a client that has the response sees the count.
        if counted {
            shared.responses.fetch_add(1, Ordering::SeqCst);
        }
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}
