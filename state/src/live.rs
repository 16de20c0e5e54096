//! Per-object live state: atomics shared by every snapshot that contains the
//! object (carried over by identity), written by the proxy (traffic) and the
//! health checker (health), read by the admin thread.

use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed,
};

use arc_swap::ArcSwapOption;

use crate::counters::Counters;
use crate::ext::Ext;

/// `ProxyLive::fe_maxconn_override` when `set maxconn frontend` never ran.
pub(crate) const NO_MAXCONN_OVERRIDE: u64 = u64::MAX;

/// Wall-clock milliseconds since the Unix epoch (the poll's reading inside
/// a [`crate::clock::PollScope`]).
pub fn now_ms() -> u64 {
    crate::clock::now_ms()
}

/// HAProxy's `srv_op_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpState {
    Stopped = 0,
    /// Ramping up under slowstart.
    Starting = 1,
    Running = 2,
    /// Soft-stopped (NOLB): keeps persistent traffic only.
    Stopping = 3,
}

impl OpState {
    pub fn from_u8(v: u8) -> OpState {
        match v {
            0 => OpState::Stopped,
            1 => OpState::Starting,
            3 => OpState::Stopping,
            _ => OpState::Running,
        }
    }
}

/// HAProxy's check status codes (numbers as in `show servers state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CheckStatus {
    Unk = 0,
    Ini = 1,
    Start = 2,
    Checked = 3,
    Hana = 4,
    SockErr = 5,
    L4Ok = 6,
    L4Tout = 7,
    L4Con = 8,
    L6Ok = 9,
    L6Tout = 10,
    L6Rsp = 11,
    L7Tout = 12,
    L7Rsp = 13,
    L7Ok = 15,
    L7OkC = 16,
    L7Sts = 17,
    ProcErr = 18,
    ProcTout = 19,
    ProcOk = 20,
}

impl CheckStatus {
    pub fn from_u8(v: u8) -> CheckStatus {
        use CheckStatus::*;
        match v {
            1 => Ini,
            2 => Start,
            3 => Checked,
            4 => Hana,
            5 => SockErr,
            6 => L4Ok,
            7 => L4Tout,
            8 => L4Con,
            9 => L6Ok,
            10 => L6Tout,
            11 => L6Rsp,
            12 => L7Tout,
            13 => L7Rsp,
            15 => L7Ok,
            16 => L7OkC,
            17 => L7Sts,
            18 => ProcErr,
            19 => ProcTout,
            20 => ProcOk,
            _ => Unk,
        }
    }

    /// The `check_status` column text.
    pub fn name(self) -> &'static str {
        use CheckStatus::*;
        match self {
            Unk => "UNK",
            Ini => "INI",
            Start => "START",
            Checked => "CHECKED",
            Hana => "HANA",
            SockErr => "SOCKERR",
            L4Ok => "L4OK",
            L4Tout => "L4TOUT",
            L4Con => "L4CON",
            L6Ok => "L6OK",
            L6Tout => "L6TOUT",
            L6Rsp => "L6RSP",
            L7Tout => "L7TOUT",
            L7Rsp => "L7RSP",
            L7Ok => "L7OK",
            L7OkC => "L7OKC",
            L7Sts => "L7STS",
            ProcErr => "PROCERR",
            ProcTout => "PROCTOUT",
            ProcOk => "PROCOK",
        }
    }

    /// The `check_desc` column text.
    pub fn desc(self) -> &'static str {
        use CheckStatus::*;
        match self {
            Unk => "Unknown",
            Ini => "Initializing",
            Start => "Starting",
            Checked => "No status change",
            Hana => "Health analyze",
            SockErr => "Socket error",
            L4Ok => "Layer4 check passed",
            L4Tout => "Layer4 timeout",
            L4Con => "Layer4 connection problem",
            L6Ok => "Layer6 check passed",
            L6Tout => "Layer6 timeout",
            L6Rsp => "Layer6 invalid response",
            L7Tout => "Layer7 timeout",
            L7Rsp => "Layer7 invalid response",
            L7Ok => "Layer7 check passed",
            L7OkC => "Layer7 check conditionally passed",
            L7Sts => "Layer7 wrong status",
            ProcErr => "External check error",
            ProcTout => "External check timeout",
            ProcOk => "External check passed",
        }
    }
}

/// Live state of one server.
#[derive(Debug)]
pub struct ServerLive {
    pub counters: Counters,
    /// Requests in flight on this server (HAProxy's `served`/`used_cur`).
    pub cur_conns: AtomicU32,
    /// Idle pooled connections (`srv_icur`).
    pub idle_conns: AtomicU32,

    // ---- health (written by the health checker / CLI `set server health`)
    pub op_state: AtomicU8,
    /// 0..=rise+fall-1; UP when >= rise.
    pub health: AtomicU32,
    pub check_status: AtomicU8,
    /// HTTP status of the last check, 0 = none.
    pub check_code: AtomicU16,
    /// Duration of the last check in ms, -1 = none.
    pub check_duration_ms: AtomicI64,
    pub check_running: AtomicBool,
    /// `enable/disable health`.
    pub checks_enabled: AtomicBool,
    pub chkfail: AtomicU64,
    pub chkdown: AtomicU64,
    /// Unix ms of the last state change (`lastchg`).
    pub last_change_ms: AtomicU64,
    /// Unix ms when the server went down, 0 if it is not down.
    pub down_since_ms: AtomicU64,
    /// Accumulated downtime in ms, not counting the current down period.
    pub downtime_ms: AtomicU64,
    /// Unix ms when slowstart began, 0 when not ramping.
    pub slowstart_begin_ms: AtomicU64,
    /// `last_chk` text (e.g. `Connection refused`, a reason phrase).
    pub last_check_text: ArcSwapOption<String>,
    /// Passive health: consecutive errors seen on live traffic, and HANA fails.
    pub observe_errors: AtomicU32,
    /// The last error's `ObserveEvent` code (0 = none), for the HANA text.
    pub observe_last: AtomicU8,
    pub hanafail: AtomicU64,

    /// `shutdown sessions server`: bumped by the Runtime API; a stream
    /// that started under an older value should be closed by the proxy.
    pub shutdown_gen: AtomicU64,

    /// A slot for the proxy's per-server structures (connection queue).
    pub ext: Ext,
}

impl ServerLive {
    /// A fresh server: checked servers start UP with health = rise (HAProxy
    /// 2.6), shown as `UP 1/fall` with check status INI.
    pub fn new(check: bool, rise: u32) -> ServerLive {
        ServerLive {
            counters: Counters::default(),
            cur_conns: AtomicU32::new(0),
            idle_conns: AtomicU32::new(0),
            op_state: AtomicU8::new(OpState::Running as u8),
            health: AtomicU32::new(rise),
            check_status: AtomicU8::new(if check {
                CheckStatus::Ini
            } else {
                CheckStatus::Unk
            } as u8),
            check_code: AtomicU16::new(0),
            check_duration_ms: AtomicI64::new(-1),
            check_running: AtomicBool::new(false),
            checks_enabled: AtomicBool::new(check),
            chkfail: AtomicU64::new(0),
            chkdown: AtomicU64::new(0),
            last_change_ms: AtomicU64::new(now_ms()),
            down_since_ms: AtomicU64::new(0),
            downtime_ms: AtomicU64::new(0),
            slowstart_begin_ms: AtomicU64::new(0),
            last_check_text: ArcSwapOption::empty(),
            observe_errors: AtomicU32::new(0),
            observe_last: AtomicU8::new(0),
            hanafail: AtomicU64::new(0),
            shutdown_gen: AtomicU64::new(0),
            ext: Ext::default(),
        }
    }

    pub fn op_state(&self) -> OpState {
        OpState::from_u8(self.op_state.load(Relaxed))
    }

    pub fn check_status(&self) -> CheckStatus {
        CheckStatus::from_u8(self.check_status.load(Relaxed))
    }

    /// Total downtime in seconds, including the current down period.
    pub fn downtime_secs(&self, now: u64) -> u64 {
        let mut ms = self.downtime_ms.load(Relaxed);
        let since = self.down_since_ms.load(Relaxed);
        if since != 0 {
            ms += now.saturating_sub(since);
        }
        ms / 1000
    }

    /// Record a state change now (for `lastchg`).
    pub fn touch(&self) {
        self.last_change_ms.store(now_ms(), Relaxed);
    }
}

/// Live state of one proxy: its frontend and backend counters.
#[derive(Debug)]
pub struct ProxyLive {
    pub fe: Counters,
    pub be: Counters,
    /// Round-robin cursor and other balancer state.
    pub lb_cursor: AtomicU64,
    pub be_last_change_ms: AtomicU64,
    pub be_down_since_ms: AtomicU64,
    pub be_downtime_ms: AtomicU64,
    pub be_chkdown: AtomicU64,
    /// `disable frontend`: listeners stop accepting.
    pub fe_paused: AtomicBool,
    /// `set maxconn frontend` override ([`NO_MAXCONN_OVERRIDE`] = none);
    /// 0 is a real value: the frontend accepts nothing, as in HAProxy.
    pub fe_maxconn_override: AtomicU64,
    /// `shutdown frontend`: the frontend is stopped for good (status STOP);
    /// its listeners should be closed.
    pub fe_stopped: AtomicBool,
    /// A slot for the proxy's per-backend structures (backend queue).
    pub ext: Ext,
}

impl Default for ProxyLive {
    fn default() -> Self {
        ProxyLive {
            fe: Counters::default(),
            be: Counters::default(),
            lb_cursor: AtomicU64::new(0),
            be_last_change_ms: AtomicU64::new(now_ms()),
            be_down_since_ms: AtomicU64::new(0),
            be_downtime_ms: AtomicU64::new(0),
            be_chkdown: AtomicU64::new(0),
            fe_paused: AtomicBool::new(false),
            fe_maxconn_override: AtomicU64::new(NO_MAXCONN_OVERRIDE),
            fe_stopped: AtomicBool::new(false),
            ext: Ext::default(),
        }
    }
}
