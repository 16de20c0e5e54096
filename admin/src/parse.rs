//! Request words → typed [`Command`]. Pure: no state is consulted, so
//! errors that HAProxy reports after a lookup are left to the executor.

use switchyard_config::cnum::atoi;
use switchyard_config::CliLevel;

use crate::cli::keywords::{self, kw_name, Lookup, ModeBits};
use crate::cli::words::Request;
use crate::command::*;

/// Parse one request. `mode` selects which expert commands are visible.
pub fn parse(req: &Request, mode: ModeBits) -> Command {
    let kw = match keywords::lookup(&req.words, mode) {
        Lookup::Found(kw) => kw,
        Lookup::Usage(text) => return Command::Usage(text),
        Lookup::ExpertOnly => return Command::ExpertOnly,
        Lookup::ExperimentalOnly => return Command::ExperimentalOnly,
    };
    let a = Args(&req.words);
    let payload = req.payload.clone();
    match kw_name(kw).as_str() {
        "help" => Command::Usage(keywords::usage_msg(&req.words, mode)),
        "prompt" => Command::Prompt,
        "quit" => Command::Quit,
        "show cli level" => Command::ShowCliLevel,
        "show cli sockets" => Command::ShowCliSockets,
        "operator" => Command::SetLevel {
            to: CliLevel::Operator,
            nolf: a.s(1) == "-",
        },
        "user" => Command::SetLevel {
            to: CliLevel::User,
            nolf: a.s(1) == "-",
        },
        "expert-mode" => mode_cmd(ModeKind::Expert, &a),
        "experimental-mode" => mode_cmd(ModeKind::Experimental, &a),
        "mcli-debug-mode" => mode_cmd(ModeKind::McliDebug, &a),
        "show version" => Command::ShowVersion,
        "show info" => Command::ShowInfo(info_query(&a)),
        "show stat" => stat_query(&a),
        "show schema json" => Command::ShowSchemaJson,
        "show servers conn" => Command::ShowServers {
            conn: true,
            backend: a.opt(3),
        },
        "show servers state" => Command::ShowServers {
            conn: false,
            backend: a.opt(3),
        },
        "show backend" => Command::ShowBackend,
        "show map" => {
            let (ver, rest) = a.version_at(2);
            Command::ShowMap {
                ver,
                map: rest.opt(2),
            }
        }
        "get map" => Command::GetMap {
            map: a.s(2),
            key: a.s(3),
        },
        "set map" => Command::SetMap {
            map: a.s(2),
            entry: entry_arg(&a.s(3)),
            value: a.s(4),
        },
        "add map" => {
            let (ver, rest) = a.version_at(2);
            Command::AddMap {
                ver,
                map: rest.s(2),
                key: rest.s(3),
                value: rest.s(4),
                payload,
            }
        }
        "del map" => Command::DelMap {
            map: a.s(2),
            entry: entry_arg(&a.s(3)),
        },
        "clear map" => {
            let (ver, rest) = a.version_at(2);
            Command::ClearMap {
                ver,
                map: rest.s(2),
            }
        }
        "prepare map" => Command::PrepareMap { map: a.s(2) },
        "commit map" => {
            let v = a.s(2);
            Command::CommitMap {
                ver: v.strip_prefix('@').map(str::to_string),
                map: a.s(3),
            }
        }
        "show acl" | "get acl" | "add acl" | "del acl" | "clear acl" | "prepare acl"
        | "commit acl" => Command::Acl {
            verb: a.s(0),
            args: (2..req.words.len()).map(|i| a.s(i)).collect(),
        },
        "set server" => Command::SetServer {
            target: a.s(2),
            op: server_op(&a),
        },
        "get weight" => Command::GetWeight { target: a.s(2) },
        "set weight" => Command::SetWeight {
            target: a.s(2),
            weight: a.s(3),
        },
        "set maxconn server" => Command::SetMaxconnServer {
            target: a.s(3),
            value: a.s(4),
        },
        "set maxconn frontend" => Command::SetMaxconnFrontend {
            frontend: a.s(3),
            value: a.s(4),
        },
        "set maxconn global" => Command::SetMaxconnGlobal { value: a.s(3) },
        "enable server" => toggle(&a, ServerToggle::EnableServer),
        "disable server" => toggle(&a, ServerToggle::DisableServer),
        "enable health" => toggle(&a, ServerToggle::EnableHealth),
        "disable health" => toggle(&a, ServerToggle::DisableHealth),
        "enable agent" => toggle(&a, ServerToggle::EnableAgent),
        "disable agent" => toggle(&a, ServerToggle::DisableAgent),
        "enable frontend" => Command::Frontend {
            frontend: a.s(2),
            op: FrontendOp::Enable,
        },
        "disable frontend" => Command::Frontend {
            frontend: a.s(2),
            op: FrontendOp::Disable,
        },
        "shutdown frontend" => Command::Frontend {
            frontend: a.s(2),
            op: FrontendOp::Shutdown,
        },
        "shutdown sessions server" => Command::ShutdownSessionsServer { target: a.s(3) },
        "shutdown session" => Command::ShutdownSession { id: a.s(2) },
        "clear counters" => Command::ClearCounters {
            all: a.s(2) == "all",
        },
        "set timeout" => Command::SetTimeoutCli {
            arg0: a.s(2),
            value: a.s(3),
        },
        "set severity-output" => Command::SetSeverityOutput(a.s(2)),
        "show env" => Command::ShowEnv(a.opt(2)),
        "show errors" => Command::ShowErrors,
        other => Command::Unsupported(other.to_string()),
    }
}

/// Positional access with HAProxy's "missing argument = empty string".
struct Args<'a>(&'a [Vec<u8>]);

impl<'a> Args<'a> {
    fn s(&self, i: usize) -> String {
        self.0
            .get(i)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .unwrap_or_default()
    }
    fn opt(&self, i: usize) -> Option<String> {
        Some(self.s(i)).filter(|s| !s.is_empty())
    }
    /// An optional `@<ver>` at `i`: returns it and the args shifted past it
    /// (HAProxy does `args++`).
    fn version_at(&self, i: usize) -> (Option<String>, Args<'a>) {
        match self.0.get(i) {
            Some(w) if w.first() == Some(&b'@') => (
                Some(String::from_utf8_lossy(&w[1..]).into_owned()),
                Args(&self.0[1..]),
            ),
            _ => (None, Args(self.0)),
        }
    }
}

fn mode_cmd(kind: ModeKind, a: &Args<'_>) -> Command {
    Command::Mode {
        kind,
        arg: a.opt(1),
        nolf: !a.s(1).is_empty() && a.s(2) == "-",
    }
}

fn toggle(a: &Args<'_>, op: ServerToggle) -> Command {
    Command::ServerToggle { target: a.s(2), op }
}

fn info_query(a: &Args<'_>) -> InfoQuery {
    let mut q = InfoQuery::default();
    let mut i = 2;
    while !a.s(i).is_empty() {
        match a.s(i).as_str() {
            "typed" => q.format = Format::Typed,
            "json" => q.format = Format::Json,
            "desc" => q.desc = true,
            _ => {}
        }
        i += 1;
    }
    q
}

fn stat_query(a: &Args<'_>) -> Command {
    let mut i = 2;
    if a.s(i) == "domain" {
        i += 1;
        match a.s(i).as_str() {
            "proxy" => i += 1,
            "resolvers" => return Command::ShowStatResolvers,
            _ => return Command::InvalidStatDomain,
        }
    }
    let mut q = StatQuery::default();
    if !a.s(i).is_empty() && !a.s(i + 1).is_empty() && !a.s(i + 2).is_empty() {
        q.bound = Some((a.s(i), atoi(&a.s(i + 1)), atoi(&a.s(i + 2))));
        i += 3;
    }
    while !a.s(i).is_empty() {
        match a.s(i).as_str() {
            "typed" => q.format = Format::Typed,
            "json" => q.format = Format::Json,
            "desc" => q.desc = true,
            "no-maint" => q.hide_maint = true,
            "up" => q.hide_down = true,
            _ => {}
        }
        i += 1;
    }
    Command::ShowStat(q)
}

fn entry_arg(s: &str) -> EntryArg {
    if let Some(hex) = s.strip_prefix("#0x") {
        // strtoll(&arg[1], 16) accepts the "0x" prefix and must end exactly.
        return match u64::from_str_radix(hex, 16) {
            Ok(v) if !hex.is_empty() => EntryArg::Ref(v),
            _ => EntryArg::Malformed,
        };
    }
    EntryArg::Key(s.to_string())
}

fn server_op(a: &Args<'_>) -> ServerOp {
    let port = |i: usize| {
        if a.s(i) == "port" {
            Some(a.s(i + 1))
        } else {
            None
        }
    };
    match a.s(3).as_str() {
        "weight" => ServerOp::Weight(a.s(4)),
        "state" => ServerOp::State(a.s(4)),
        "health" => ServerOp::Health(a.s(4)),
        "agent" => ServerOp::Agent(a.s(4)),
        "agent-addr" => ServerOp::AgentAddr {
            addr: a.s(4),
            port: port(5),
        },
        "agent-port" => ServerOp::AgentPort(a.s(4)),
        "agent-send" => ServerOp::AgentSend(a.s(4)),
        "check-addr" => ServerOp::CheckAddr {
            addr: a.s(4),
            port: port(5),
        },
        "check-port" => ServerOp::CheckPort(a.s(4)),
        "addr" => ServerOp::Addr {
            addr: a.s(4),
            port: port(5),
        },
        "fqdn" => ServerOp::Fqdn(a.s(4)),
        "ssl" => ServerOp::Ssl(a.s(4)),
        _ => ServerOp::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words::split;

    fn p(line: &str) -> Command {
        parse(&split(line.as_bytes(), None), ModeBits::default())
    }

    #[test]
    fn table() {
        assert_eq!(p("show cli level"), Command::ShowCliLevel);
        assert_eq!(
            p("user -"),
            Command::SetLevel {
                to: CliLevel::User,
                nolf: true
            }
        );
        assert_eq!(
            p("show servers conn green $"),
            Command::ShowServers {
                conn: true,
                backend: Some("green".into())
            }
        );
        assert_eq!(
            p("show map"),
            Command::ShowMap {
                ver: None,
                map: None
            }
        );
        assert_eq!(
            p("show map @2 m"),
            Command::ShowMap {
                ver: Some("2".into()),
                map: Some("m".into())
            }
        );
        assert_eq!(
            p("set map m #0x10 v"),
            Command::SetMap {
                map: "m".into(),
                entry: EntryArg::Ref(16),
                value: "v".into()
            }
        );
        assert_eq!(
            p("set map m #0xzz v"),
            Command::SetMap {
                map: "m".into(),
                entry: EntryArg::Malformed,
                value: "v".into()
            }
        );
        assert_eq!(
            p("set server b/s state drain"),
            Command::SetServer {
                target: "b/s".into(),
                op: ServerOp::State("drain".into())
            }
        );
        assert_eq!(
            p("set server b/s addr 1.2.3.4 port 80"),
            Command::SetServer {
                target: "b/s".into(),
                op: ServerOp::Addr {
                    addr: "1.2.3.4".into(),
                    port: Some("80".into())
                }
            }
        );
        assert_eq!(
            p("clear counters all"),
            Command::ClearCounters { all: true }
        );
        assert!(matches!(p("xyzzy"), Command::Usage(_)));
        assert!(matches!(p(""), Command::Usage(_)));
        assert_eq!(p("show pools"), Command::Unsupported("show pools".into()));
    }

    #[test]
    fn show_stat_filters_need_all_three_arguments() {
        let Command::ShowStat(q) = p("show stat be 4") else {
            panic!()
        };
        assert!(q.bound.is_none());
        let Command::ShowStat(q) = p("show stat be 4 -1 typed up") else {
            panic!()
        };
        assert_eq!(q.bound, Some(("be".into(), 4, -1)));
        assert_eq!(q.format, Format::Typed);
        assert!(q.hide_down);
        // HAProxy quirk: three flags look like a filter.
        let Command::ShowStat(q) = p("show stat typed up no-maint") else {
            panic!()
        };
        assert_eq!(q.bound, Some(("typed".into(), 0, 0)));
    }
}
