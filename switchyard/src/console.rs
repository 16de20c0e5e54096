//! Process messages on stderr in HAProxy's shape:
//! `[ALERT]    (pid) : config : parsing [f:2] : ...`. During startup the
//! first warning or alert is preceded by the two `[NOTICE]` lines naming the
//! version and executable, as HAProxy does (and again during each reload);
//! `-q` silences everything.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::cli::VERSION;

static QUIET: AtomicBool = AtomicBool::new(false);
static STARTING: AtomicBool = AtomicBool::new(true);
static HEADER_DONE: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Notice,
    Warning,
    Alert,
}

impl Level {
    /// The tag padded to HAProxy's width (11 columns).
    fn tag(self) -> &'static str {
        match self {
            Level::Notice => "[NOTICE]   ",
            Level::Warning => "[WARNING]  ",
            Level::Alert => "[ALERT]    ",
        }
    }
}

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Relaxed)
}

/// Startup is over: later warnings are runtime events, without the header.
pub fn end_startup() {
    STARTING.store(false, Relaxed);
}

/// A reload loads the configuration again: like HAProxy's re-executed
/// master, its first warning or alert is preceded by the header again.
pub fn begin_reload() {
    HEADER_DONE.store(false, Relaxed);
    STARTING.store(true, Relaxed);
}

pub fn notice(msg: &str) {
    print(Level::Notice, msg);
}

pub fn warning(msg: &str) {
    print(Level::Warning, msg);
}

pub fn alert(msg: &str) {
    print(Level::Alert, msg);
}

/// One message; `msg` may span lines (HAProxy's `   | ...` continuations).
pub fn print(level: Level, msg: &str) {
    if is_quiet() {
        return;
    }
    let pid = std::process::id();
    let mut err = std::io::stderr().lock();
    if level != Level::Notice && STARTING.load(Relaxed) && !HEADER_DONE.swap(true, Relaxed) {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "switchyard".to_owned());
        let tag = Level::Notice.tag();
        let _ = writeln!(err, "{tag}({pid}) : switchyard version is {VERSION}");
        let _ = writeln!(err, "{tag}({pid}) : path to executable is {exe}");
    }
    let _ = writeln!(err, "{}({pid}) : {msg}", level.tag());
}
