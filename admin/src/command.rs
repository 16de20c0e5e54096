//! The typed Runtime API commands. Arguments that HAProxy validates only
//! after a lookup (a weight after the server is found, say) stay as text
//! here so the executor can report errors in HAProxy's order.

use switchyard_config::CliLevel;

/// `show stat`/`show info` output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    Typed,
    Json,
}

/// `show stat [{proxy|iid} type sid] [typed|json] [desc] [up] [no-maint]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatQuery {
    /// The proxy argument of a bound query (name, iid or -1) and the
    /// type mask and server id; only set when all three were given.
    pub bound: Option<(String, i32, i32)>,
    pub format: Format,
    pub desc: bool,
    /// `up`: hide servers that are not UP.
    pub hide_down: bool,
    /// `no-maint`: hide servers in maintenance.
    pub hide_maint: bool,
}

/// `show info [typed|json] [desc] [float]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InfoQuery {
    pub format: Format,
    pub desc: bool,
}

/// An entry designator for `set map`/`del map`: a key or `#0x<ref>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryArg {
    Key(String),
    /// `#0x...` parsed as a number.
    Ref(u64),
    /// `#0x...` that is not a valid number.
    Malformed,
}

/// `set server <b>/<s> <what> ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerOp {
    Weight(String),
    State(String),
    Health(String),
    Agent(String),
    AgentAddr {
        addr: String,
        port: Option<String>,
    },
    AgentPort(String),
    AgentSend(String),
    CheckAddr {
        addr: String,
        port: Option<String>,
    },
    CheckPort(String),
    Addr {
        addr: String,
        port: Option<String>,
    },
    Fqdn(String),
    Ssl(String),
    /// Anything else: the usage text.
    Unknown,
}

/// `enable|disable server|health|agent <b>/<s>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerToggle {
    EnableServer,
    DisableServer,
    EnableHealth,
    DisableHealth,
    EnableAgent,
    DisableAgent,
}

/// `enable|disable|shutdown frontend <f>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontendOp {
    Enable,
    Disable,
    Shutdown,
}

/// `expert-mode`, `experimental-mode`, `mcli-debug-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeKind {
    Expert,
    Experimental,
    McliDebug,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `help [words]`, an unknown command or an empty line: the text.
    Usage(String),
    ExpertOnly,
    ExperimentalOnly,
    Prompt,
    Quit,
    ShowCliLevel,
    ShowCliSockets,
    /// `operator` / `user`; `nolf` when followed by `-`.
    SetLevel {
        to: CliLevel,
        nolf: bool,
    },
    Mode {
        kind: ModeKind,
        arg: Option<String>,
        nolf: bool,
    },
    ShowVersion,
    ShowInfo(InfoQuery),
    ShowStat(StatQuery),
    /// `show stat domain <bad>`.
    InvalidStatDomain,
    /// `show stat domain resolvers`: no resolver stats are kept.
    ShowStatResolvers,
    ShowSchemaJson,
    ShowServers {
        conn: bool,
        backend: Option<String>,
    },
    ShowBackend,
    ShowMap {
        ver: Option<String>,
        map: Option<String>,
    },
    GetMap {
        map: String,
        key: String,
    },
    SetMap {
        map: String,
        entry: EntryArg,
        value: String,
    },
    AddMap {
        ver: Option<String>,
        map: String,
        key: String,
        value: String,
        payload: Option<Vec<u8>>,
    },
    DelMap {
        map: String,
        entry: EntryArg,
    },
    ClearMap {
        ver: Option<String>,
        map: String,
    },
    PrepareMap {
        map: String,
    },
    CommitMap {
        ver: Option<String>,
        map: String,
    },
    /// `show/get/add/del/clear/prepare/commit acl`: switchyard keeps no ACL
    /// pattern references, so these report HAProxy's "unknown ACL" texts.
    Acl {
        verb: String,
        args: Vec<String>,
    },
    SetServer {
        target: String,
        op: ServerOp,
    },
    GetWeight {
        target: String,
    },
    SetWeight {
        target: String,
        weight: String,
    },
    SetMaxconnServer {
        target: String,
        value: String,
    },
    SetMaxconnFrontend {
        frontend: String,
        value: String,
    },
    SetMaxconnGlobal {
        value: String,
    },
    ServerToggle {
        target: String,
        op: ServerToggle,
    },
    Frontend {
        frontend: String,
        op: FrontendOp,
    },
    ShutdownSessionsServer {
        target: String,
    },
    ShutdownSession {
        id: String,
    },
    ClearCounters {
        all: bool,
    },
    SetTimeoutCli {
        arg0: String,
        value: String,
    },
    SetSeverityOutput(String),
    ShowEnv(Option<String>),
    ShowErrors,
    /// A HAProxy command switchyard does not implement.
    Unsupported(String),
}
