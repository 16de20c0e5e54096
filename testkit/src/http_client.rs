//! A small blocking HTTP/1.1 client for tests: one-shot requests ([`http_get`],
//! [`http_request`]) and a [`KeepAliveClient`] that sends many requests on one connection.
//! It writes exactly what it is told (plus `Host` and framing), so tests see the proxy's
//! behaviour, not a client library's retries or pooling.

use crate::http1::{
    find_header, head_end, header_list, response_framing, BodyFraming, ChunkedDecoder, HeaderList,
};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Default connect and read timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    /// (lowercase name, value) in wire order, repeats kept.
    pub headers: HeaderList,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// `http://host[:port][/path]` split into (authority, socket address, path-and-query).
pub fn parse_url(url: &str) -> io::Result<(String, SocketAddr, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not an http:// URL: {url}"),
        )
    })?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {authority}"),
        )
    })?;
    Ok((authority.to_owned(), addr, path))
}

/// Serialises a request head (and body) the way the helpers send it: `Host` unless given,
/// `Content-Length` when there is a body and no framing header was given.
pub fn encode_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has("host") {
        out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
    }
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn fill(stream: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// Reads one response to a `method` request from `stream`; `buf` holds bytes already
/// read and keeps any that belong to the next response. Interim 1xx responses are skipped.
pub fn read_response(
    stream: &mut impl Read,
    buf: &mut Vec<u8>,
    method: &str,
) -> io::Result<HttpResponse> {
    loop {
        let end = loop {
            if let Some(end) = head_end(buf) {
                break end;
            }
            if fill(stream, buf)? == 0 {
                return Err(if buf.is_empty() {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before a response",
                    )
                } else {
                    invalid(format!(
                        "connection closed inside a response head: {:?}",
                        String::from_utf8_lossy(buf)
                    ))
                });
            }
        };
        let mut raw_headers = [httparse::EMPTY_HEADER; 128];
        let mut parsed = httparse::Response::new(&mut raw_headers);
        match parsed.parse(&buf[..end]) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(invalid("truncated response head")),
            Err(e) => {
                return Err(invalid(format!(
                    "bad response head ({e}): {:?}",
                    String::from_utf8_lossy(&buf[..end])
                )))
            }
        }
        let status = parsed.code.unwrap_or(0);
        let reason = parsed.reason.unwrap_or("").to_owned();
        let headers = header_list(parsed.headers);
        buf.drain(..end);
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let body = read_body(
            stream,
            buf,
            response_framing(method, status, &headers).map_err(invalid)?,
        )?;
        return Ok(HttpResponse {
            status,
            reason,
            headers,
            body,
        });
    }
}

fn read_body(
    stream: &mut impl Read,
    buf: &mut Vec<u8>,
    framing: BodyFraming,
) -> io::Result<Vec<u8>> {
    match framing {
        BodyFraming::Empty => Ok(Vec::new()),
        BodyFraming::Length(n) => {
            let n = usize::try_from(n).map_err(|_| invalid("body too large"))?;
            while buf.len() < n {
                if fill(stream, buf)? == 0 {
                    return Err(invalid(format!("body cut at {} of {n} bytes", buf.len())));
                }
            }
            Ok(buf.drain(..n).collect())
        }
        BodyFraming::UntilClose => {
            while fill(stream, buf)? > 0 {}
            Ok(std::mem::take(buf))
        }
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            let mut body = Vec::new();
            loop {
                let used = decoder
                    .feed(buf, &mut body)
                    .map_err(|e| invalid(e.to_string()))?;
                buf.drain(..used);
                if decoder.is_done() {
                    return Ok(body);
                }
                if fill(stream, buf)? == 0 {
                    return Err(invalid("connection closed inside a chunked body"));
                }
            }
        }
    }
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One request on a fresh connection (closed afterwards: `Connection: close` is added
/// unless a `Connection` header is given).
pub fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let (authority, addr, path) = parse_url(url)?;
    let mut stream = connect(addr)?;
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
    {
        all.push(("Connection", "close"));
    }
    stream.write_all(&encode_request(method, &path, &authority, &all, body))?;
    read_response(&mut stream, &mut Vec::new(), method)
}

/// `GET url` on a fresh connection.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> io::Result<HttpResponse> {
    http_request("GET", url, headers, b"")
}

/// Sends requests one after another on a single connection.
#[derive(Debug)]
pub struct KeepAliveClient {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl KeepAliveClient {
    /// Connects to `addr` ("127.0.0.1:8080"); `Host` defaults to that text.
    pub fn connect(addr: &str) -> io::Result<Self> {
        let sock = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no address for {addr}"),
            )
        })?;
        Ok(KeepAliveClient {
            stream: connect(sock)?,
            host: addr.to_owned(),
            buf: Vec::new(),
        })
    }

    /// Changes the read timeout (default 30 s).
    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))
    }

    /// Sends one request and reads its response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<HttpResponse> {
        self.stream
            .write_all(&encode_request(method, path, &self.host, headers, body))?;
        self.read_response(method)
    }

    /// `GET path` on this connection.
    pub fn get(&mut self, path: &str) -> io::Result<HttpResponse> {
        self.request("GET", path, &[], b"")
    }

    /// Writes bytes as they are (pipelining, malformed requests, ...).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads the next response, to a request made with `method`.
    pub fn read_response(&mut self, method: &str) -> io::Result<HttpResponse> {
        read_response(&mut self.stream, &mut self.buf, method)
    }

    /// True if the server has closed the connection (EOF or error) with nothing pending.
    pub fn peer_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        if self.stream.set_nonblocking(true).is_err() {
            return true;
        }
        let mut probe = [0u8; 1];
        let closed = match self.stream.peek(&mut probe) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        let _ = self.stream.set_nonblocking(false);
        closed
    }

    /// The underlying socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}
