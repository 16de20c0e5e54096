//! The result of one check, in HAProxy's terms (`set_server_check_status`).

use switchyard_state::CheckStatus;

/// What one probe (or passive-health event) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub status: CheckStatus,
    /// The HTTP status read, if any (`check_code`, `code: N` in logs).
    pub code: Option<u16>,
    /// The `last_chk` text: `Connection refused`, a reason phrase, ... (may
    /// be empty).
    pub desc: String,
    /// How long the check took; `None` for HANA (passive) events.
    pub duration_ms: Option<u64>,
}

/// How a status moves the health counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    /// No change (INI, UNK, ...).
    Neutral,
    Failed,
    Passed,
    /// L7OKC: passed, but asks for soft-stop (disable-on-404).
    CondPassed,
}

impl CheckOutcome {
    pub fn new(
        status: CheckStatus,
        code: Option<u16>,
        desc: impl Into<String>,
        duration_ms: Option<u64>,
    ) -> Self {
        CheckOutcome {
            status,
            code,
            desc: desc.into(),
            duration_ms,
        }
    }

    pub fn result(&self) -> CheckResult {
        result_of(self.status)
    }
}

/// HAProxy's `check_statuses[].result` table.
pub fn result_of(status: CheckStatus) -> CheckResult {
    use CheckStatus::*;
    match status {
        Unk | Ini | Start | Checked => CheckResult::Neutral,
        L4Ok | L6Ok | L7Ok | ProcOk => CheckResult::Passed,
        L7OkC => CheckResult::CondPassed,
        Hana | SockErr | L4Tout | L4Con | L6Tout | L6Rsp | L7Tout | L7Rsp | L7Sts | ProcErr
        | ProcTout => CheckResult::Failed,
    }
}
