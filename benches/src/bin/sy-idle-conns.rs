//! Open N keep-alive connections to a proxy, do one `GET /` on each, and keep
//! them all open (idle) so the proxy's memory per idle connection can be
//! measured. Prints `ready <open> <failed>` once all are open, then holds
//! them until killed (or `--hold-secs`, a safety limit, passes).
//!
//! usage: sy-idle-conns <host:port> <count> [--hold-secs N]

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use switchyard_benches::http1::{read_reply, send_get};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(count)) = (
        args.first().and_then(|a| a.parse::<SocketAddr>().ok()),
        args.get(1).and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: sy-idle-conns <host:port> <count> [--hold-secs N]");
        return ExitCode::from(2);
    };
    let hold = match args.iter().position(|a| a == "--hold-secs") {
        Some(i) => match args.get(i + 1).and_then(|v| v.parse::<u64>().ok()) {
            Some(s) => Duration::from_secs(s),
            None => {
                eprintln!("--hold-secs needs a number of seconds");
                return ExitCode::from(2);
            }
        },
        None => Duration::from_secs(600),
    };
    let host = addr.to_string();
    let mut open = Vec::with_capacity(count);
    let mut failed = 0usize;
    let mut last_err = None;
    for _ in 0..count {
        match one(addr, &host) {
            Ok(s) => open.push(s),
            Err(e) => {
                failed += 1;
                last_err = Some(e);
            }
        }
    }
    if let Some(e) = last_err {
        eprintln!("sy-idle-conns: {failed} connection(s) failed, last error: {e}");
    }
    println!("ready {} {failed}", open.len());
    std::thread::sleep(hold);
    drop(open);
    ExitCode::SUCCESS
}

fn one(addr: SocketAddr, host: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    send_get(&mut s, host, "/")?;
    let mut buf = Vec::new();
    let r = read_reply(&mut s, &mut buf)?;
    if r.status != 200 {
        return Err(std::io::Error::other(format!("status {}", r.status)));
    }
    Ok(s)
}
