//! `-Ws`: tell systemd (a `Type=notify` unit, like Debian's haproxy.service)
//! that we are ready, reloading or stopping, through `$NOTIFY_SOCKET`, with
//! the messages HAProxy's master sends.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    // A leading '@' names a socket in the abstract namespace.
    let addr = match path.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None => SocketAddr::from_pathname(&path),
    };
    if let (Ok(addr), Ok(sock)) = (addr, UnixDatagram::unbound()) {
        let _ = sock.send_to_addr(state.as_bytes(), &addr);
    }
}

/// Serving: the first time, and after each reload that worked.
pub fn ready() {
    send(&format!(
        "READY=1\nMAINPID={}\nSTATUS=Ready.\n",
        std::process::id()
    ));
}

/// A reload begins. `MONOTONIC_USEC` lets `Type=notify-reload` units match
/// this message to the reload they asked for.
pub fn reloading() {
    let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1_000)
        .unwrap_or(0);
    send(&format!(
        "RELOADING=1\nSTATUS=Reloading Configuration.\nMONOTONIC_USEC={usec}\n"
    ));
}

/// A reload failed and the previous configuration keeps serving. systemd
/// has no "reload failed" message, so this is READY=1 with a status.
pub fn reload_failed() {
    send("READY=1\nSTATUS=Reload failed!\n");
}

pub fn stopping() {
    send("STOPPING=1");
}
