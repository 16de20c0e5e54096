//! `-x <socket>` at startup: take the old process's listening sockets over
//! before binding anything. As in HAProxy 2.6, a failure is fatal unless
//! in master-worker mode (`-W`), where binding anew is good enough, and
//! `-x /dev/null` means "none".

use std::os::fd::OwnedFd;

use switchyard_config::ListenAddr;

use crate::cli::Args;
use crate::console;
use crate::fdpass::client;

/// The inherited sockets (none without `-x`); `None` when startup must stop.
pub fn fetch(args: &Args) -> Option<Vec<(ListenAddr, OwnedFd)>> {
    let Some(path) = args.fd_socket.as_ref() else {
        return Some(Vec::new());
    };
    if path.as_os_str() == "/dev/null" {
        return Some(Vec::new());
    }
    match client::fetch(path) {
        Ok(sockets) => Some(sockets),
        Err(e) => {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound
                | std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::PermissionDenied => format!(
                    "Failed to connect to the old process socket '{}'",
                    path.display()
                ),
                _ => format!("Failed to get the sockets of the old process: {e}"),
            };
            console::warning(&what);
            console::alert("Failed to get the sockets from the old process!");
            args.master_worker.then(Vec::new)
        }
    }
}
