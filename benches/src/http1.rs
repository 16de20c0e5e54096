//! Blocking HTTP/1.1 client pieces for the comparison helpers: send a small
//! GET and read one response (Content-Length or chunked-free bodies only,
//! which is what the bench upstreams send).

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// One response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `GET <path>` on a keep-alive connection.
pub fn send_get(stream: &mut TcpStream, host: &str, path: &str) -> io::Result<()> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sy-bench\r\n\r\n");
    stream.write_all(req.as_bytes())
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Read one response. `buf` carries bytes read past the response (none with
/// one request in flight, kept for safety) between calls.
pub fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Reply> {
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) =
            resp.parse(buf).map_err(|_| bad("bad response head"))?
        {
            let status = resp.code.ok_or_else(|| bad("no status"))?;
            let mut len = 0usize;
            for h in resp.headers.iter() {
                if h.name.eq_ignore_ascii_case("content-length") {
                    len = std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .ok_or_else(|| bad("bad content-length"))?;
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(bad("chunked responses are not supported by this helper"));
                }
            }
            while buf.len() < head_len + len {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[head_len..head_len + len].to_vec();
            buf.drain(..head_len + len);
            return Ok(Reply { status, body });
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Send one Runtime API command over TCP (non-interactive: the server
/// answers and closes) and return the reply text.
pub fn cli_command(addr: std::net::SocketAddr, cmd: &str) -> io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.write_all(cmd.as_bytes())?;
    s.write_all(b"\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
