//! `hey` running in the background while a test drives a deployment, stopped when the
//! test is done with it: hey handles SIGINT by sending no more requests, letting the ones
//! in flight finish, and printing its usual report.

use crate::hey::{parse_hey, HeySummary};
use crate::ChildGuard;
use nix::sys::signal::Signal;
use std::io;
use std::process::Command;
use std::time::Duration;

/// A `hey` process started by [`BackgroundHey::start`]; killed if dropped unfinished.
#[derive(Debug)]
pub struct BackgroundHey {
    child: ChildGuard,
    args: Vec<String>,
}

impl BackgroundHey {
    /// Starts `hey <args>`; give it a large `-n` and stop it with [`BackgroundHey::finish`].
    pub fn start(args: &[&str]) -> io::Result<BackgroundHey> {
        let mut cmd = Command::new("hey");
        cmd.args(args);
        let child = ChildGuard::spawn("hey", cmd)?.with_stop_timeout(Duration::from_secs(10));
        Ok(BackgroundHey {
            child,
            args: args.iter().map(|a| a.to_string()).collect(),
        })
    }

    /// True while hey is still sending.
    pub fn is_running(&mut self) -> bool {
        self.child.is_running()
    }

    /// Lets hey run up to `grace` more, then interrupts it (SIGINT) and returns its
    /// report. Panics if hey prints no report.
    #[track_caller]
    pub fn finish(mut self, grace: Duration) -> HeySummary {
        if self.child.wait_exit(grace).is_none() {
            let _ = self.child.signal(Signal::SIGINT);
        }
        let status = self.child.wait_exit(Duration::from_secs(30));
        self.child.output().wait_closed(Duration::from_secs(5));
        let text = self.child.stdout_lines().join("\n");
        let summary = parse_hey(&text);
        if summary.total_requests == 0 && summary.status_codes.is_empty() {
            panic!(
                "hey {:?} gave no report (exit {status:?}):\n{}",
                self.args,
                self.child.output().tail(40)
            );
        }
        summary
    }
}
