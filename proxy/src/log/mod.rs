//! Traffic logs (`option httplog` and `log-format`), written off the hot
//! path: request tasks hand a [`LogRecord`] to a bounded channel and a
//! dedicated logger thread renders and writes it. A full channel drops the
//! line (counted) rather than slowing a request down.

mod format;
mod record;
mod sink;

pub(crate) use format::{format_of, log_date, will_log};
pub(crate) use record::{LogRecord, Times};
pub(crate) use sink::Logger;

/// Counts of log lines handed to the logger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Lines written to at least one target.
    pub written: u64,
    /// Lines dropped because the logger was behind.
    pub dropped: u64,
}
