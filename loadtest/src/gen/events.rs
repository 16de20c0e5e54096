//! Events on the timeline (`set map -> green`, `SIGUSR2`, ...): lines `<unix_ms> <label>`
//! that a scenario driver appends to a file while the load runs.

use super::GenError;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub unix_ms: u64,
    pub label: String,
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Event {
    pub fn now(label: impl Into<String>) -> Self {
        Event {
            unix_ms: unix_ms_now(),
            label: label.into(),
        }
    }

    /// Milliseconds after `start_unix_ms` (negative if before the run started).
    pub fn offset_ms(&self, start_unix_ms: u64) -> i64 {
        self.unix_ms as i64 - start_unix_ms as i64
    }
}

/// Parses an event file. Blank lines and `#` comments are skipped; anything else that
/// is not `<unix_ms> <label>` is an error naming the line.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Event>, GenError> {
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: &str| GenError::EventLine {
            path: path.to_owned(),
            line: i + 1,
            reason: reason.to_owned(),
        };
        let (ms, label) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("expected `<unix_ms> <label>`"))?;
        let unix_ms = ms
            .parse::<u64>()
            .map_err(|_| bad("the first field must be milliseconds since the Unix epoch"))?;
        events.push(Event {
            unix_ms,
            label: label.trim().to_owned(),
        });
    }
    events.sort_by_key(|e| e.unix_ms);
    Ok(events)
}

/// Reads an event file; a file that does not exist yet holds no events.
pub fn read(path: &Path) -> Result<Vec<Event>, GenError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(GenError::ReadFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Appends one event as a single write, so concurrent writers do not interleave lines.
pub fn append(path: &Path, event: &Event) -> Result<(), GenError> {
    let label = event.label.replace(['\n', '\r'], " ");
    let line = format!("{} {}\n", event.unix_ms, label);
    let write_err = |source| GenError::WriteFile {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write_err)?;
    file.write_all(line.as_bytes()).map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_sorts() {
        let text = "# driver log\n1700000001000 set map -> green\n\n1700000000500 start\n";
        let events = parse(Path::new("ev"), text).expect("valid");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].label, "start");
        assert_eq!(events[1].label, "set map -> green");
        assert_eq!(events[1].offset_ms(1_700_000_000_000), 1000);
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse(Path::new("ev"), "1 ok\nnot-a-number x\n").expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "ev:2: the first field must be milliseconds since the Unix epoch"
        );
        assert!(parse(Path::new("ev"), "12345").is_err());
    }

    #[test]
    fn append_then_read() {
        let dir = std::env::temp_dir().join(format!("sy-events-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("events");
        let _ = std::fs::remove_file(&path);
        append(
            &path,
            &Event {
                unix_ms: 5,
                label: "a\nb".into(),
            },
        )
        .expect("append");
        append(
            &path,
            &Event {
                unix_ms: 6,
                label: "c".into(),
            },
        )
        .expect("append");
        let events = read(&path).expect("read");
        assert_eq!(events[0].label, "a b");
        assert_eq!(events.len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
