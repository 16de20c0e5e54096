//! Operational events (server UP/DOWN, map changes, reloads) in HAProxy's
//! words. Printed on stderr as HAProxy does (`[WARNING]  (pid) : msg`) and
//! handed to a sink the binary installs (to copy them to `log` targets).

use std::sync::OnceLock;

use switchyard_config::LogLevel;

type Sink = Box<dyn Fn(LogLevel, &str) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();
static QUIET: OnceLock<bool> = OnceLock::new();

/// Install the sink once (later calls are ignored).
pub fn set_sink(f: impl Fn(LogLevel, &str) + Send + Sync + 'static) {
    let _ = SINK.set(Box::new(f));
}

/// `-q`: no event lines on stderr.
pub fn set_quiet(q: bool) {
    let _ = QUIET.set(q);
}

fn tag(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Emerg | LogLevel::Alert | LogLevel::Crit | LogLevel::Err => "[ALERT]   ",
        LogLevel::Warning => "[WARNING] ",
        LogLevel::Notice => "[NOTICE]  ",
        LogLevel::Info | LogLevel::Debug | LogLevel::Silent => "[INFO]    ",
    }
}

/// Emit one event line.
pub fn emit(level: LogLevel, msg: &str) {
    emit_split(level, msg, level, msg);
}

/// Emit an event whose stderr line and log line differ, as HAProxy's
/// `ha_warning()`/`ha_alert()` + `send_log()` pairs do: a server going DOWN
/// is a WARNING on stderr but an ALERT in the logs, and the stderr line
/// `backend 'b' has no server available!` is logged without the quotes.
pub fn emit_split(stderr_level: LogLevel, stderr_msg: &str, log_level: LogLevel, log_msg: &str) {
    if !QUIET.get().copied().unwrap_or(false) {
        eprintln!(
            "{} ({}) : {}",
            tag(stderr_level),
            std::process::id(),
            stderr_msg
        );
    }
    if let Some(s) = SINK.get() {
        s(log_level, log_msg);
    }
}

pub fn warning(msg: &str) {
    emit(LogLevel::Warning, msg);
}

pub fn alert(msg: &str) {
    emit(LogLevel::Alert, msg);
}

pub fn notice(msg: &str) {
    emit(LogLevel::Notice, msg);
}
