//! The logger thread: renders records and writes them to the targets
//! (stdout, stderr, UDP syslog, unix datagram socket) with the syslog header
//! of each target's format.

use std::io::Write;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Local};
use switchyard_config::{LogDest, LogFormatKind, LogLevel, LogTarget};

use super::format::{format_of, render, will_log};
use super::record::LogRecord;
use super::LogStats;

/// Lines that may wait for the logger thread before new ones are dropped.
const DEPTH: usize = 16 * 1024;

enum Msg {
    Record(Box<LogRecord>),
    Text {
        targets: Arc<Vec<LogTarget>>,
        level: LogLevel,
        text: String,
        date: SystemTime,
    },
    Flush(tokio::sync::oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Stats {
    written: AtomicU64,
    dropped: AtomicU64,
}

pub(crate) struct Logger {
    tx: Option<SyncSender<Msg>>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("stats", &self.stats)
            .finish()
    }
}

impl Logger {
    /// Start the logger thread; `tag` is the syslog program name.
    pub(crate) fn new(tag: &str) -> Logger {
        let (tx, rx) = sync_channel(DEPTH);
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let tag = tag.to_string();
        let spawned = std::thread::Builder::new()
            .name("switchyard-log".into())
            .spawn(move || run(rx, &tag, &st));
        Logger {
            tx: spawned.ok().map(|_| tx),
            stats,
        }
    }

    fn send(&self, m: Msg) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(m) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Queue a request's log line.
    pub(crate) fn record(&self, r: LogRecord) {
        let Some(p) = &r.proxy else { return };
        if r.level == LogLevel::Silent || !will_log(p) {
            return;
        }
        self.send(Msg::Record(Box::new(r)));
    }

    /// Queue a preformatted line (e.g. `Connect from ...`).
    pub(crate) fn text(&self, targets: Arc<Vec<LogTarget>>, level: LogLevel, text: String) {
        if targets.is_empty() {
            return;
        }
        self.send(Msg::Text {
            targets,
            level,
            text,
            date: SystemTime::now(),
        });
    }

    /// Wait until everything queued so far is written.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Some(s) = &self.tx {
            if s.try_send(Msg::Flush(tx)).is_ok() {
                let _ = rx.await;
            }
        }
    }

    pub(crate) fn stats(&self) -> LogStats {
        LogStats {
            written: self.stats.written.load(Relaxed),
            dropped: self.stats.dropped.load(Relaxed),
        }
    }
}

struct Outputs {
    udp4: Option<UdpSocket>,
    udp6: Option<UdpSocket>,
    unix: Option<UnixDatagram>,
}

fn run(rx: Receiver<Msg>, tag: &str, stats: &Stats) {
    let mut out = Outputs {
        udp4: None,
        udp6: None,
        unix: None,
    };
    let pid = std::process::id();
    while let Ok(m) = rx.recv() {
        match m {
            Msg::Record(r) => {
                let Some(p) = r.proxy.clone() else { continue };
                let Some(fmt) = format_of(&p) else { continue };
                let text = render(fmt, &r);
                if write_all(
                    &mut out,
                    &p.logs,
                    r.level,
                    &text,
                    SystemTime::now(),
                    tag,
                    pid,
                ) {
                    stats.written.fetch_add(1, Relaxed);
                }
            }
            Msg::Text {
                targets,
                level,
                text,
                date,
            } => {
                if write_all(&mut out, &targets, level, &text, date, tag, pid) {
                    stats.written.fetch_add(1, Relaxed);
                }
            }
            Msg::Flush(done) => {
                let _ = std::io::stdout().flush();
                let _ = done.send(());
            }
        }
    }
}

fn write_all(
    out: &mut Outputs,
    targets: &[LogTarget],
    level: LogLevel,
    text: &str,
    date: SystemTime,
    tag: &str,
    pid: u32,
) -> bool {
    let mut any = false;
    for t in targets {
        let max = t.level.unwrap_or(LogLevel::Debug);
        if level > max || level == LogLevel::Silent {
            continue;
        }
        let lvl = match t.min_level {
            Some(min) if min > level => min,
            _ => level,
        };
        let line = with_header(t, lvl, text, date, tag, pid);
        any |= emit(out, &t.dest, line.as_bytes());
    }
    any
}

fn level_num(l: LogLevel) -> u32 {
    match l {
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

/// Syslog facility number by name (HAProxy's list).
pub(crate) fn facility_num(name: &str) -> u32 {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
        "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
        "local5", "local6", "local7",
    ];
    NAMES
        .iter()
        .position(|n| *n == name)
        .map(|p| p as u32)
        .unwrap_or(16)
}

/// The line as sent to `t`, header included, newline-terminated.
fn with_header(
    t: &LogTarget,
    level: LogLevel,
    text: &str,
    date: SystemTime,
    tag: &str,
    pid: u32,
) -> String {
    let lvl = level_num(level);
    let pri = facility_num(&t.facility) * 8 + lvl;
    let local: DateTime<Local> = date.into();
    match t.format {
        LogFormatKind::Raw => format!("{text}\n"),
        LogFormatKind::Short => format!("<{lvl}>{text}\n"),
        LogFormatKind::Rfc3164 => {
            format!(
                "<{pri}>{} {tag}[{pid}]: {text}\n",
                local.format("%b %e %H:%M:%S")
            )
        }
        LogFormatKind::Rfc5424 => {
            format!(
                "<{pri}>1 {} - {tag} {pid} - - {text}\n",
                local.format("%Y-%m-%dT%H:%M:%S%.6f%:z")
            )
        }
    }
}

fn emit(out: &mut Outputs, dest: &LogDest, line: &[u8]) -> bool {
    match dest {
        LogDest::Stdout => {
            let mut o = std::io::stdout().lock();
            o.write_all(line).is_ok() && o.flush().is_ok()
        }
        LogDest::Stderr => std::io::stderr().lock().write_all(line).is_ok(),
        LogDest::Udp(addr) => {
            let slot = if addr.is_ipv4() {
                &mut out.udp4
            } else {
                &mut out.udp6
            };
            if slot.is_none() {
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                *slot = UdpSocket::bind(bind).ok();
            }
            slot.as_ref()
                .map(|s| s.send_to(line, addr).is_ok())
                .unwrap_or(false)
        }
        LogDest::Unix(path) => {
            if out.unix.is_none() {
                out.unix = UnixDatagram::unbound().ok();
            }
            out.unix
                .as_ref()
                .map(|s| s.send_to(line, path).is_ok())
                .unwrap_or(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_per_format() {
        let t = |format| LogTarget {
            dest: LogDest::Stdout,
            format,
            facility: "local0".into(),
            level: None,
            min_level: None,
        };
        let d = SystemTime::now();
        assert_eq!(
            with_header(&t(LogFormatKind::Raw), LogLevel::Info, "m", d, "haproxy", 7),
            "m\n"
        );
        assert_eq!(
            with_header(
                &t(LogFormatKind::Short),
                LogLevel::Info,
                "m",
                d,
                "haproxy",
                7
            ),
            "<6>m\n"
        );
        let l = with_header(
            &t(LogFormatKind::Rfc3164),
            LogLevel::Info,
            "m",
            d,
            "haproxy",
            7,
        );
        assert!(
            l.starts_with("<134>") && l.ends_with(" haproxy[7]: m\n"),
            "{l}"
        );
        let l = with_header(
            &t(LogFormatKind::Rfc5424),
            LogLevel::Err,
            "m",
            d,
            "haproxy",
            7,
        );
        assert!(
            l.starts_with("<131>1 ") && l.ends_with(" - haproxy 7 - - m\n"),
            "{l}"
        );
    }
}
