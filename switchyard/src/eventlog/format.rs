//! One event as a log line in the target's format (raw, short, rfc3164,
//! rfc5424), with HAProxy's `haproxy[pid]` tag.

use switchyard_config::{LogFormatKind, LogLevel, LogTarget};

use super::clock::{self, MONTHS};

/// Syslog facility number for a facility name (HAProxy's list).
pub fn facility_code(name: &str) -> u8 {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
        "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
        "local5", "local6", "local7",
    ];
    NAMES
        .iter()
        .position(|n| *n == name)
        .map_or(16, |i| i as u8)
}

fn severity(level: LogLevel) -> u8 {
    match level {
        LogLevel::Emerg => 0,
        LogLevel::Alert => 1,
        LogLevel::Crit => 2,
        LogLevel::Err => 3,
        LogLevel::Warning => 4,
        LogLevel::Notice => 5,
        LogLevel::Info | LogLevel::Silent => 6,
        LogLevel::Debug => 7,
    }
}

/// The full line (without the trailing newline).
pub fn format_line(t: &LogTarget, level: LogLevel, msg: &str) -> String {
    let pri = u32::from(facility_code(&t.facility)) * 8 + u32::from(severity(level));
    let pid = std::process::id();
    match t.format {
        LogFormatKind::Raw => msg.to_owned(),
        LogFormatKind::Short => format!("<{pri}>{msg}"),
        LogFormatKind::Rfc3164 => {
            let c = clock::now();
            let mon = MONTHS[(c.month as usize).saturating_sub(1) % 12];
            format!(
                "<{pri}>{mon} {:2} {:02}:{:02}:{:02} haproxy[{pid}]: {msg}",
                c.day, c.hour, c.min, c.sec
            )
        }
        LogFormatKind::Rfc5424 => {
            let c = clock::now();
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "-".to_owned());
            format!(
                "<{pri}>1 {}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00 {host} haproxy {pid} - - {msg}",
                c.year, c.month, c.day, c.hour, c.min, c.sec, c.micros
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_config::LogDest;

    fn t(format: LogFormatKind, facility: &str) -> LogTarget {
        LogTarget {
            dest: LogDest::Stdout,
            format,
            facility: facility.into(),
            level: None,
            min_level: None,
        }
    }

    #[test]
    fn formats() {
        assert_eq!(
            format_line(&t(LogFormatKind::Raw, "daemon"), LogLevel::Warning, "x"),
            "x"
        );
        assert_eq!(
            format_line(&t(LogFormatKind::Short, "local0"), LogLevel::Info, "x"),
            "<134>x"
        );
        let l = format_line(&t(LogFormatKind::Rfc3164, "local0"), LogLevel::Err, "msg");
        assert!(l.starts_with("<131>"), "{l}");
        assert!(
            l.ends_with(&format!(" haproxy[{}]: msg", std::process::id())),
            "{l}"
        );
    }
}
