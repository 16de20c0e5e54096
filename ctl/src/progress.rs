//! A live progress line on stderr while waiting (UP servers, connections left).
//! On a terminal one line is redrawn in place; otherwise a line is printed when the
//! text changes, at most every few seconds, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    enabled: bool,
    tty: bool,
    drawn: bool,
    last_text: String,
    last_print: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            tty: std::io::stderr().is_terminal(),
            drawn: false,
            last_text: String::new(),
            last_print: None,
        }
    }

    pub fn update(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
            self.drawn = true;
        } else {
            let due = self.last_print.is_none_or(|at| at.elapsed() >= PLAIN_EVERY);
            if due || text_changed_meaningfully(&self.last_text, text) {
                let _ = writeln!(err, "{text}");
                self.last_print = Some(Instant::now());
            }
        }
        self.last_text = text.to_owned();
    }

    /// Ends the live line (a newline on a terminal) so normal output can follow.
    pub fn finish(&mut self) {
        if self.enabled && self.tty && self.drawn {
            let _ = writeln!(std::io::stderr());
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Ignores changes that are only the running clock (digits after "elapsed"), so a
/// plain log gets a line when the state changes, not every poll.
fn text_changed_meaningfully(old: &str, new: &str) -> bool {
    strip_clock(old) != strip_clock(new)
}

fn strip_clock(text: &str) -> &str {
    text.split(" [").next().unwrap_or(text)
}

/// `12.3s` style, for progress lines.
pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_changes_are_not_news() {
        assert!(!text_changed_meaningfully(
            "3 left [1.0s / 10s]",
            "3 left [1.5s / 10s]"
        ));
        assert!(text_changed_meaningfully("3 left [1.0s]", "2 left [1.5s]"));
    }
}
