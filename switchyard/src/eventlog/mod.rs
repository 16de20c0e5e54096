//! Operational events (server UP/DOWN, proxy stopped, ...) copied to the
//! global `log` targets, as HAProxy sends them to its loggers besides stderr.
//! Events are rare, so each is formatted and written synchronously.

mod clock;
mod format;
mod writer;

use switchyard_config::{LogLevel, LogTarget};

pub use format::format_line;
use writer::Writers;

/// Route `state::events` to `targets` (the `global` section's `log` lines).
pub fn install(targets: Vec<LogTarget>) {
    if targets.is_empty() {
        return;
    }
    let writers = Writers::new(&targets);
    switchyard_state::events::set_sink(move |level, msg| {
        for (i, t) in targets.iter().enumerate() {
            if accepts(t, level) {
                writers.write(i, t, &format_line(t, level, msg));
            }
        }
    });
}

/// A target's `level` is the most verbose level it keeps, `min_level` the
/// least verbose; `silent` never logs.
fn accepts(t: &LogTarget, level: LogLevel) -> bool {
    level != LogLevel::Silent
        && t.level.is_none_or(|max| level <= max)
        && t.min_level.is_none_or(|min| level >= min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_config::{LogDest, LogFormatKind};

    fn target(level: Option<LogLevel>) -> LogTarget {
        LogTarget {
            dest: LogDest::Stdout,
            format: LogFormatKind::Raw,
            facility: "daemon".into(),
            level,
            min_level: None,
        }
    }

    #[test]
    fn level_filter() {
        assert!(accepts(&target(None), LogLevel::Debug));
        assert!(accepts(&target(Some(LogLevel::Warning)), LogLevel::Alert));
        assert!(!accepts(&target(Some(LogLevel::Warning)), LogLevel::Notice));
        assert!(!accepts(&target(None), LogLevel::Silent));
    }
}
