//! Where event lines go: stdout/stderr, a UDP syslog server or a unix
//! datagram socket. Sockets are opened once; a failed send drops the line
//! (logging never stops the proxy).

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;

use switchyard_config::{LogDest, LogTarget};

enum Out {
    Stdout,
    Stderr,
    Udp(Option<UdpSocket>, SocketAddr),
    Unix(Option<UnixDatagram>, std::path::PathBuf),
}

pub struct Writers(Vec<Out>);

impl Writers {
    pub fn new(targets: &[LogTarget]) -> Writers {
        Writers(
            targets
                .iter()
                .map(|t| match &t.dest {
                    LogDest::Stdout => Out::Stdout,
                    LogDest::Stderr => Out::Stderr,
                    LogDest::Udp(a) => {
                        let local: SocketAddr = if a.is_ipv4() {
                            ([0, 0, 0, 0], 0).into()
                        } else {
                            ([0u16; 8], 0).into()
                        };
                        Out::Udp(UdpSocket::bind(local).ok(), *a)
                    }
                    LogDest::Unix(p) => Out::Unix(UnixDatagram::unbound().ok(), p.clone()),
                })
                .collect(),
        )
    }

    /// Write `line` to the `i`th target.
    pub fn write(&self, i: usize, _t: &LogTarget, line: &str) {
        match self.0.get(i) {
            Some(Out::Stdout) => {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "{line}");
                let _ = o.flush();
            }
            Some(Out::Stderr) => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Some(Out::Udp(Some(s), to)) => {
                let _ = s.send_to(line.as_bytes(), to);
            }
            Some(Out::Unix(Some(s), to)) => {
                let _ = s.send_to(line.as_bytes(), to);
            }
            _ => {}
        }
    }
}
