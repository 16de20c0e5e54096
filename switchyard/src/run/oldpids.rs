//! `-sf`/`-st`: once our listeners are bound, tell the previous processes to
//! finish (SIGUSR1) or terminate (SIGTERM). Errors (a pid already gone) are
//! ignored, as HAProxy does.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cli::OldPidSignal;

pub fn tell(pids: &[i32], how: Option<OldPidSignal>) {
    let sig = match how {
        Some(OldPidSignal::Finish) => Signal::SIGUSR1,
        Some(OldPidSignal::Terminate) => Signal::SIGTERM,
        None => return,
    };
    let me = std::process::id() as i32;
    for &pid in pids {
        // Never signal ourselves (a pidfile left over from this very pid).
        if pid > 0 && pid != me {
            let _ = kill(Pid::from_raw(pid), sig);
        }
    }
}
