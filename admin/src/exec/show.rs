//! Read-only commands and session settings.

use std::time::Duration;

use switchyard_config::CliLevel;
use switchyard_state::now_ms;

use super::lookup;
use super::{need, Env, Outcome, SessionState};
use crate::command::{Command, ModeKind};
use crate::render::{info, maps as rmaps, servers, stat, stat_rows};

const SCHEMA: &str = include_str!("../render/schema.json.txt");

pub(crate) fn show(cmd: Command, sess: &SessionState, env: &Env) -> Result<Outcome, Outcome> {
    match cmd {
        Command::ShowCliLevel => Ok(Outcome::info(format!("{}\n", sess.level.as_str()))),
        Command::ShowCliSockets => {
            let mut out = String::from("# socket lvl processes\n");
            for (addr, lvl) in &env.sockets {
                out.push_str(&rmaps::socket_line(addr, *lvl));
            }
            Ok(Outcome::dump(out))
        }
        Command::ShowVersion => Ok(Outcome::info(format!("{}\n", env.ctx.version))),
        Command::ShowInfo(q) => Ok(Outcome::dump(info::render(&env.ctx, &env.store.load(), q))),
        Command::ShowStat(q) => {
            let snap = env.store.load();
            let bound = match &q.bound {
                Some((px, t, sid)) => {
                    let iid = lookup::any_proxy(&snap, px)
                        .map(|i| i as i32)
                        .unwrap_or_else(|| switchyard_config::cnum::atoi(px));
                    if iid == 0 {
                        return Err(Outcome::err("No such proxy.\n"));
                    }
                    Some((iid, *t, *sid))
                }
                None => None,
            };
            let ctx = stat_rows::RowCtx {
                now_ms: now_ms(),
                show_legends: sess.bind_level >= CliLevel::Operator,
            };
            let filter = stat_rows::RowFilter {
                bound,
                hide_down: q.hide_down,
                hide_maint: q.hide_maint,
            };
            let rows = stat_rows::collect(&snap, ctx, filter);
            Ok(Outcome::dump(stat::render(&rows, q.format, q.desc)))
        }
        Command::InvalidStatDomain => Err(Outcome::err("Invalid statistics domain.\n")),
        Command::ShowStatResolvers => Ok(Outcome::dump("")),
        Command::ShowSchemaJson => Ok(Outcome::dump(SCHEMA.strip_suffix('\n').unwrap_or(SCHEMA))),
        Command::ShowServers { conn, backend } => {
            let snap = env.store.load();
            let only = match backend {
                Some(b) => Some(
                    lookup::backend(&snap, &b)
                        .ok_or_else(|| Outcome::err("Can't find backend.\n"))?
                        .get(),
                ),
                None => None,
            };
            Ok(Outcome::dump(if conn {
                servers::servers_conn(&snap, only, env.ctx.nbthread)
            } else {
                servers::servers_state(&snap, only, now_ms())
            }))
        }
        Command::ShowBackend => Ok(Outcome::dump(servers::show_backend(&env.store.load()))),
        Command::ShowEnv(var) => match var {
            Some(v) => match std::env::var_os(&v) {
                Some(val) => Ok(Outcome::dump(format!("{v}={}\n", val.to_string_lossy()))),
                None => Err(Outcome::err("Variable not found\n")),
            },
            None => {
                let mut out = String::new();
                for (k, v) in std::env::vars_os() {
                    out.push_str(&format!(
                        "{}={}\n",
                        k.to_string_lossy(),
                        v.to_string_lossy()
                    ));
                }
                Ok(Outcome::dump(out))
            }
        },
        Command::ShowErrors => {
            need(sess, CliLevel::Operator)?;
            Ok(Outcome::dump(format!(
                "Total events captured on [{}] : 0\n",
                log_date(now_ms())
            )))
        }
        Command::Unsupported(kw) => match kw.as_str() {
            "show sess" | "show peers" | "show table" | "show resolvers" | "show cache"
            | "show events" => Ok(Outcome::dump("")),
            _ => Err(Outcome::err(format!(
                "'{kw}' is not supported by switchyard.\n"
            ))),
        },
        _ => Err(Outcome::err("Internal error.\n")),
    }
}

/// `expert-mode [on|off]` and friends.
pub(crate) fn mode(kind: ModeKind, arg: Option<String>, sess: &mut SessionState) -> Outcome {
    if let Err(e) = need(sess, CliLevel::Admin) {
        return e;
    }
    let (name, bit) = match kind {
        ModeKind::Expert => ("expert-mode", &mut sess.mode.expert),
        ModeKind::Experimental => ("experimental-mode", &mut sess.mode.experimental),
        ModeKind::McliDebug => return Outcome::empty(),
    };
    match arg {
        None => Outcome::info(format!("{name} is {}\n", if *bit { "ON" } else { "OFF" })),
        Some(a) => {
            *bit = a == "on";
            Outcome::empty()
        }
    }
}

/// `set timeout cli <delay>` (default unit: seconds).
pub(crate) fn set_timeout(
    arg0: &str,
    value: &str,
    sess: &mut SessionState,
) -> Result<Outcome, Outcome> {
    if arg0 != "cli" {
        return Err(Outcome::err("'set timeout' only supports 'cli'.\n"));
    }
    if value.is_empty() {
        return Err(Outcome::err("Expects an integer value.\n"));
    }
    let d = parse_time(value).filter(|d| *d >= Duration::from_secs(1));
    let Some(d) = d else {
        return Err(Outcome::err("Invalid timeout value.\n"));
    };
    sess.timeout = Some(d);
    Ok(Outcome::empty())
}

/// HAProxy time values: digits then an optional unit (us, ms, s, m, h, d);
/// the default unit here is the second.
fn parse_time(v: &str) -> Option<Duration> {
    let n = v.bytes().take_while(|b| b.is_ascii_digit()).count();
    let num: u64 = v[..n].parse().ok()?;
    let ms = match &v[n..] {
        "" | "s" => num.checked_mul(1000)?,
        "us" => num / 1000,
        "ms" => num,
        "m" => num.checked_mul(60_000)?,
        "h" => num.checked_mul(3_600_000)?,
        "d" => num.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// `22/Nov/2026:23:34:59.076` (UTC).
pub(crate) fn log_date(ms: u64) -> String {
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02}.{:03}",
        d,
        MON[(m - 1).clamp(0, 11) as usize],
        y,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(log_date(0), "01/Jan/1970:00:00:00.000");
        assert_eq!(log_date(1_795_390_979_076), "22/Nov/2026:23:42:59.076");
        assert_eq!(parse_time("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_time("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_time("x"), None);
    }
}
