//! `log` lines (global and proxies): `log global`, `no log`, and
//! `log <addr> [len n] [format f] <facility> [level [minlevel]]`.

use crate::addr::{socket_addr, unix_path};
use crate::model::{LogDest, LogFormatKind, LogLevel, LogTarget};

pub(crate) const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

pub(crate) fn log_level(name: &str) -> Option<LogLevel> {
    Some(match name {
        "emerg" => LogLevel::Emerg,
        "alert" => LogLevel::Alert,
        "crit" => LogLevel::Crit,
        "err" => LogLevel::Err,
        "warning" => LogLevel::Warning,
        "notice" => LogLevel::Notice,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        _ => return None,
    })
}

/// What a `log` line asks for.
#[derive(Debug)]
pub(crate) enum LogLine {
    /// `log global`: copy the global targets.
    Global,
    /// `no log`: drop the targets inherited or declared so far.
    Clear,
    Target(LogTarget),
}

/// `words` start with `log`. The error is the text after `log : `.
pub(crate) fn parse_log(
    words: &[String],
    negate: bool,
    in_global: bool,
) -> Result<LogLine, String> {
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    if negate {
        if !arg(1).is_empty() {
            return Err("'no log' does not expect arguments".to_string());
        }
        return Ok(LogLine::Clear);
    }
    if arg(1) == "global" && arg(2).is_empty() {
        if in_global {
            return Err("'global' is not supported for a global syslog server".to_string());
        }
        return Ok(LogLine::Global);
    }
    if arg(1).is_empty() || arg(2).is_empty() {
        return Err(format!(
            "expects <address> and <facility> {} as arguments",
            if in_global { "" } else { "or global" }
        ));
    }
    let mut i = 2;
    if arg(i) == "len" {
        let ok = arg(i + 1)
            .parse::<u32>()
            .is_ok_and(|n| (80..=65535).contains(&n));
        if !ok {
            return Err(format!(
                "invalid log length '{}', must be between 80 and 65535",
                arg(i + 1)
            ));
        }
        i += 2;
    }
    let mut format = LogFormatKind::Rfc3164;
    if arg(i) == "format" {
        format = match arg(i + 1) {
            "rfc3164" => LogFormatKind::Rfc3164,
            "rfc5424" => LogFormatKind::Rfc5424,
            "raw" => LogFormatKind::Raw,
            "short" => LogFormatKind::Short,
            f @ ("local" | "timed" | "iso" | "priority") => {
                return Err(format!("log format '{f}' is not supported by switchyard"));
            }
            f => return Err(format!("unknown log format '{f}'")),
        };
        i += 2;
    }
    if arg(i) == "sample" {
        return Err("log sampling ('sample') is not supported by switchyard".to_string());
    }
    let facility = arg(i);
    if !FACILITIES.contains(&facility) {
        return Err(format!("unknown log facility '{facility}'"));
    }
    i += 1;
    let mut level = None;
    if !arg(i).is_empty() {
        level = Some(
            log_level(arg(i)).ok_or_else(|| format!("unknown optional log level '{}'", arg(i)))?,
        );
        i += 1;
    }
    let mut min_level = None;
    if !arg(i).is_empty() {
        min_level = Some(
            log_level(arg(i))
                .ok_or_else(|| format!("unknown optional minimum log level '{}'", arg(i)))?,
        );
        i += 1;
    }
    if !arg(i).is_empty() {
        return Err(format!("cannot handle unexpected argument '{}'", arg(i)));
    }
    let addr = arg(1);
    let dest = match addr {
        "stdout" | "fd@1" => LogDest::Stdout,
        "stderr" | "fd@2" => LogDest::Stderr,
        a if a.starts_with("ring@") => {
            return Err(format!(
                "ring log targets ('{a}') are not supported by switchyard"
            ))
        }
        a if a.starts_with("tcp@") || a.starts_with("tcp4@") || a.starts_with("tcp6@") => {
            return Err(format!(
                "TCP log targets ('{a}') are not supported by switchyard"
            ));
        }
        a => match unix_path(a) {
            Some(p) => LogDest::Unix(p),
            None => LogDest::Udp(socket_addr(a, Some(514))?),
        },
    };
    Ok(LogLine::Target(LogTarget {
        dest,
        format,
        facility: facility.to_string(),
        level,
        min_level,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<LogLine, String> {
        let w: Vec<String> = s.split(' ').map(str::to_string).collect();
        parse_log(&w, false, true)
    }

    #[test]
    fn targets() {
        match p("log stdout format raw daemon debug") {
            Ok(LogLine::Target(t)) => {
                assert_eq!(t.dest, LogDest::Stdout);
                assert_eq!(t.format, LogFormatKind::Raw);
                assert_eq!(t.facility, "daemon");
                assert_eq!(t.level, Some(LogLevel::Debug));
            }
            other => panic!("{other:?}"),
        }
        match p("log 127.0.0.1 local0 notice err") {
            Ok(LogLine::Target(t)) => {
                assert_eq!(t.dest, LogDest::Udp("127.0.0.1:514".parse().expect("a")));
                assert_eq!(t.min_level, Some(LogLevel::Err));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(p("log /dev/log local0"), Ok(LogLine::Target(_))));
        assert!(p("log stdout format foo daemon").is_err());
        assert!(p("log stdout foo").is_err());
        assert!(p("log stdout daemon foo").is_err());
        assert!(p("log stdout daemon debug info extra").is_err());
        assert!(p("log").is_err());
        assert!(p("log global").is_err());
    }
}
