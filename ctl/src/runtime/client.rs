//! One Runtime API exchange: connect, send `command\n`, read the reply to EOF.
//!
//! HAProxy's non-interactive mode answers one line and closes the connection, so a
//! fresh connection per command needs no framing: the reply is everything until EOF,
//! minus the one empty line HAProxy appends after every response.

use crate::error::CtlError;
use crate::runtime::reply::refusal;
use crate::target::Target;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Connect/read/write timeout when none is given (`--timeout`).
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Replies larger than this are cut (a `show stat` of thousands of servers is ~MBs).
const MAX_REPLY: u64 = 64 * 1024 * 1024;

/// A client for one target. Cheap to clone; holds no connection.
#[derive(Debug, Clone)]
pub struct Client {
    target: Target,
    timeout: Duration,
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Client {
    pub fn new(target: Target, timeout: Duration) -> Client {
        Client { target, timeout }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Sends one command line and returns the reply without HAProxy's trailing empty line.
    pub fn send(&self, command: &str) -> Result<String, CtlError> {
        if command.contains(['\n', '\r']) {
            return Err(CtlError::Usage(format!(
                "command {command:?} contains a line break"
            )));
        }
        self.exchange(command)
            .map(|raw| strip_terminator(&raw).to_owned())
            .map_err(|source| CtlError::Unreachable {
                target: self.target.clone(),
                source,
            })
    }

    /// [`Client::send`], and any non-empty reply is an error (what setters print).
    pub fn set(&self, command: &str) -> Result<(), CtlError> {
        let reply = self.send(command)?;
        crate::runtime::expect_empty(&self.target, command, &reply)
    }

    /// The error for an unexpected non-empty reply to `command`.
    pub fn refusal(&self, command: &str, reply: &str) -> CtlError {
        refusal(&self.target, command, reply)
    }

    /// The error for a reply whose shape this client does not understand.
    pub fn protocol(&self, command: &str, detail: impl Into<String>) -> CtlError {
        CtlError::Protocol {
            target: self.target.clone(),
            command: command.to_owned(),
            detail: detail.into(),
        }
    }

    fn exchange(&self, command: &str) -> io::Result<String> {
        let mut conn = self.connect()?;
        let mut line = Vec::with_capacity(command.len() + 1);
        line.extend_from_slice(command.as_bytes());
        line.push(b'\n');
        let mut reply = Vec::new();
        match &mut conn {
            Conn::Unix(s) => {
                s.write_all(&line)?;
                s.take(MAX_REPLY).read_to_end(&mut reply)?;
            }
            Conn::Tcp(s) => {
                s.write_all(&line)?;
                s.take(MAX_REPLY).read_to_end(&mut reply)?;
            }
        }
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    fn connect(&self) -> io::Result<Conn> {
        let timeout = Some(self.timeout);
        match &self.target {
            Target::Unix(path) => {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)?;
                Ok(Conn::Unix(s))
            }
            Target::Tcp { host, port } => {
                let mut last = None;
                for addr in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, self.timeout) {
                        Ok(s) => {
                            s.set_read_timeout(timeout)?;
                            s.set_write_timeout(timeout)?;
                            s.set_nodelay(true)?;
                            return Ok(Conn::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "host resolved to no address")
                }))
            }
        }
    }
}

/// Every 2.6 response ends with one extra `\n` (an empty line); drop exactly that.
fn strip_terminator(raw: &str) -> &str {
    raw.strip_suffix('\n').unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_one_terminator() {
        assert_eq!(strip_terminator("\n"), "");
        assert_eq!(strip_terminator("a\n\n"), "a\n");
        assert_eq!(strip_terminator("x"), "x");
    }
}
