//! One CLI session as a byte-in/byte-out state machine: framing, parsing,
//! execution and HAProxy's prompts. The network layer only moves bytes and
//! applies the idle timeout.

use switchyard_config::CliLevel;

use crate::cli::framing::{Framer, Step};
use crate::exec::{self, severity_prefix, Env, SessionState};
use crate::parse::parse;

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Wait for more input (a partial line, a payload, or interactive mode).
    NeedMore,
    /// A response was written and no request bytes are left: HAProxy closes
    /// a non-interactive session now (the caller may first check whether
    /// more bytes already arrived).
    Idle,
    /// A response was written and request bytes remain: flush, then call
    /// `run` again.
    More,
    /// Close the connection.
    Close,
}

pub struct Session {
    pub state: SessionState,
    framer: Framer,
}

impl Session {
    pub fn new(level: CliLevel, bufsize: usize) -> Session {
        Session {
            state: SessionState::new(level),
            framer: Framer::new(bufsize),
        }
    }

    /// Handle the next request `input` holds (at most one), appending the
    /// reply to `out`.
    pub fn run(
        &mut self,
        input: &mut Vec<u8>,
        eof: bool,
        env: &Env,
        out: &mut Vec<u8>,
    ) -> Progress {
        match self.framer.next(input, eof) {
            Step::NeedMore => return Progress::NeedMore,
            Step::Close => return Progress::Close,
            Step::PayloadStarted | Step::PayloadLine => {
                if self.state.interactive {
                    out.extend_from_slice(b"+ ");
                }
                return if input.is_empty() {
                    Progress::NeedMore
                } else {
                    Progress::More
                };
            }
            Step::Request(req) => {
                let cmd = parse(&req, self.state.mode);
                let outcome = exec::execute(cmd, &mut self.state, env);
                if outcome.close {
                    return Progress::Close;
                }
                if let Some(sev) = outcome.severity {
                    out.extend_from_slice(severity_prefix(self.state.severity, sev).as_bytes());
                }
                out.extend_from_slice(outcome.text.as_bytes());
                if self.state.interactive {
                    out.extend_from_slice(b"\n> ");
                } else if !outcome.nolf {
                    out.push(b'\n');
                }
            }
        }
        if !input.is_empty() || self.framer.in_payload() {
            Progress::More
        } else if self.state.interactive {
            Progress::NeedMore
        } else if eof {
            Progress::Close
        } else {
            Progress::Idle
        }
    }
}
