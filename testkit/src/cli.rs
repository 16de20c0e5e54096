//! Talking to a Runtime API ("stats socket") the way the seeds' scripts do:
//! `echo "cmd" | socat stdio tcp4-connect:addr`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a CLI exchange may take before it is abandoned.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a stats socket listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// Parses the address forms used in configs and scripts: `ipv4@127.0.0.1:9000`,
/// `ipv6@[::1]:9000`, `127.0.0.1:9000`, `tcp4-connect:127.0.0.1:9000`, `unix@/p`,
/// `unix-connect:/p`, or a bare `/path`.
pub fn parse_cli_addr(text: &str) -> io::Result<CliAddr> {
    let t = text.trim();
    for prefix in ["unix@", "unix-connect:", "unix:"] {
        if let Some(path) = t.strip_prefix(prefix) {
            return Ok(CliAddr::Unix(PathBuf::from(path)));
        }
    }
    if t.starts_with('/') || t.starts_with('.') {
        return Ok(CliAddr::Unix(PathBuf::from(t)));
    }
    let mut rest = t;
    for prefix in [
        "ipv4@",
        "ipv6@",
        "tcp4-connect:",
        "tcp6-connect:",
        "tcp-connect:",
        "tcp:",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
            break;
        }
    }
    rest.parse::<SocketAddr>().map(CliAddr::Tcp).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad CLI address {text:?}"),
        )
    })
}

fn exchange<S: Read + Write>(
    mut stream: S,
    input: &[u8],
    half_close: impl FnOnce(&S) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    stream.write_all(input)?;
    half_close(&stream)?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out)?;
    Ok(out)
}

/// Sends `input` as is, half-closes, and reads until the server closes.
pub fn cli_raw(addr: &str, input: &[u8]) -> io::Result<Vec<u8>> {
    match parse_cli_addr(addr)? {
        CliAddr::Tcp(sock) => {
            let stream = TcpStream::connect_timeout(&sock, CLI_TIMEOUT)?;
            stream.set_read_timeout(Some(CLI_TIMEOUT))?;
            exchange(stream, input, |s| s.shutdown(Shutdown::Write))
        }
        CliAddr::Unix(path) => {
            let stream = UnixStream::connect(path)?;
            stream.set_read_timeout(Some(CLI_TIMEOUT))?;
            exchange(stream, input, |s| s.shutdown(Shutdown::Write))
        }
    }
}

/// `command` plus a newline (as `echo` sends it), returning the reply as text.
pub fn try_cli(addr: &str, command: &str) -> io::Result<String> {
    let mut line = command.as_bytes().to_vec();
    line.push(b'\n');
    cli_raw(addr, &line).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// Like `echo "command" | socat stdio tcp4-connect:addr`; panics if the socket cannot be
/// reached or does not answer within [`CLI_TIMEOUT`].
#[track_caller]
pub fn cli(addr: &str, command: &str) -> String {
    match try_cli(addr, command) {
        Ok(reply) => reply,
        Err(e) => panic!("cli({addr}, {command:?}) failed: {e}"),
    }
}

/// True if the `socat` binary is installed.
pub fn socat_available() -> bool {
    Command::new("socat")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The address as socat names it (`tcp4-connect:…`, `tcp6-connect:…`, `unix-connect:…`).
pub fn socat_address(addr: &str) -> io::Result<String> {
    Ok(match parse_cli_addr(addr)? {
        CliAddr::Tcp(SocketAddr::V4(a)) => format!("tcp4-connect:{a}"),
        CliAddr::Tcp(SocketAddr::V6(a)) => format!("tcp6-connect:[{}]:{}", a.ip(), a.port()),
        CliAddr::Unix(p) => format!("unix-connect:{}", p.display()),
    })
}

/// Runs the real `socat stdio <addr>` with `input` on its stdin and returns its stdout:
/// byte-exact what the seeds' scripts see. Panics if socat cannot run or hangs.
#[track_caller]
pub fn socat(addr: &str, input: &[u8]) -> Vec<u8> {
    match try_socat(addr, input) {
        Ok(out) => out,
        Err(e) => panic!("socat {addr}: {e}"),
    }
}

/// [`socat`] returning errors instead of panicking.
pub fn try_socat(addr: &str, input: &[u8]) -> io::Result<Vec<u8>> {
    let target = socat_address(addr)?;
    let mut child = Command::new("socat")
        .arg("stdio")
        .arg(&target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + CLI_TIMEOUT;
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "socat did not finish",
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    reader
        .join()
        .map_err(|_| io::Error::other("socat reader thread panicked"))?
}
