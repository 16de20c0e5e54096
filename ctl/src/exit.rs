//! Exit codes of `switchyard ctl`. They are part of the interface: deployment scripts
//! branch on them, so a code never changes meaning.

use serde::Serialize;

/// How a `ctl` command ended, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// 0: everything asked for was done and verified.
    Ok,
    /// 1: bad command line (unknown flag, bad duration, bad regex, bad URL, …). Nothing was sent.
    Usage,
    /// 2: a target could not be reached (connect, read or write failed or timed out).
    /// When that happens after the switch, the switch is rolled back and the code is 4 or 6.
    Unreachable,
    /// 3: a precondition does not hold, nothing was changed: not enough `UP` servers before
    /// the wait timed out, unknown backend/server/map/key, nothing recorded to roll back to.
    Precondition,
    /// 4: the change was made but could not be verified (map readback or smoke test failed,
    /// or a target failed mid-switch) and every target was rolled back to its previous value.
    RolledBack,
    /// 5: the switch is done and kept, but the old backend (or the drained server) still had
    /// connections when the drain deadline passed.
    DrainDeadline,
    /// 6: a rollback itself failed: targets may disagree; the message lists each one's value.
    RollbackFailed,
    /// 7: a proxy refused a command for another reason (e.g. `Permission denied` on a socket
    /// below `level admin`) or answered something this client cannot read.
    Refused,
    /// 8: a local file could not be read or written (map file for `--persist`, state file).
    /// After a successful switch the runtime change is kept; only the file is behind.
    LocalFile,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Usage => 1,
            Exit::Unreachable => 2,
            Exit::Precondition => 3,
            Exit::RolledBack => 4,
            Exit::DrainDeadline => 5,
            Exit::RollbackFailed => 6,
            Exit::Refused => 7,
            Exit::LocalFile => 8,
        }
    }
}

/// The table printed by `ctl --help` (kept next to the enum so the two cannot drift).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok: done and verified
  1  usage error: nothing was sent
  2  a target is unreachable (before any change)
  3  precondition not met: not enough UP servers, unknown backend/server/map/key,
     nothing recorded to roll back to; nothing was changed
  4  verification or smoke test failed: every target was rolled back
  5  drain deadline missed: the switch is kept, connections were still open
  6  rollback failed: targets may disagree, see the message
  7  a proxy refused a command (e.g. Permission denied) or sent an unreadable reply
  8  local file error (map file for --persist, state file)";
