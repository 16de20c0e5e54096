//! What `ctl rollback` needs after the process that did the cutover has exited: the
//! value each target had before the last change of one map key. Stored as JSON in
//! `$XDG_STATE_HOME/switchyard/ctl-<crc32 of map and key>.json` (falling back to
//! `~/.local/state/switchyard/`), or in `--state-file`.

use crate::error::CtlError;
use crate::ops::persist::write_atomically;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchRecord {
    pub version: u32,
    pub map: String,
    pub key: String,
    /// `cutover` or `rollback`: the command that made the change.
    pub command: String,
    /// Value per target (as written with `--socket`) before the change.
    pub previous: BTreeMap<String, String>,
    /// Value per target after the change.
    pub current: BTreeMap<String, String>,
    pub changed_at_unix: u64,
}

impl SwitchRecord {
    pub fn new(
        map: &str,
        key: &str,
        command: &str,
        previous: BTreeMap<String, String>,
        current: BTreeMap<String, String>,
    ) -> SwitchRecord {
        SwitchRecord {
            version: FORMAT_VERSION,
            map: map.to_owned(),
            key: key.to_owned(),
            command: command.to_owned(),
            previous,
            current,
            changed_at_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// The value to roll `target` back to: its own recorded value, or — for a target
    /// that was not part of the cutover — the one value all recorded targets shared.
    pub fn previous_for(&self, target: &str) -> Option<&str> {
        if let Some(v) = self.previous.get(target) {
            return Some(v);
        }
        let mut values = self.previous.values();
        let first = values.next()?;
        values.all(|v| v == first).then_some(first.as_str())
    }
}

/// The default state file for one map key.
pub fn default_path(map: &str, key: &str) -> Result<PathBuf, CtlError> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local").join("state"),
            None => {
                return Err(CtlError::Usage(
                    "neither XDG_STATE_HOME nor HOME is set: give --state-file".into(),
                ))
            }
        },
    };
    Ok(base.join("switchyard").join(file_name(map, key)))
}

fn file_name(map: &str, key: &str) -> String {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(map.as_bytes());
    hasher.update(&[0]);
    hasher.update(key.as_bytes());
    format!("ctl-{:08x}.json", hasher.finalize())
}

/// The raw bytes of the state file, if it exists (to put it back after an aborted cutover).
pub fn snapshot(path: &Path) -> Result<Option<Vec<u8>>, CtlError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CtlError::LocalFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Puts back what [`snapshot`] returned (removing the file if there was none).
pub fn restore(path: &Path, bytes: Option<&[u8]>) -> Result<(), CtlError> {
    let result = match bytes {
        Some(bytes) => write(path, bytes),
        None => match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    };
    result.map_err(|source| CtlError::LocalFile {
        path: path.to_owned(),
        source,
    })
}

/// Reads the record for `map`/`key`; `None` when there is none.
pub fn load(path: &Path, map: &str, key: &str) -> Result<Option<SwitchRecord>, CtlError> {
    let Some(bytes) = snapshot(path)? else {
        return Ok(None);
    };
    let bad = |detail: String| CtlError::BadLocalFile {
        path: path.to_owned(),
        detail,
    };
    let record: SwitchRecord =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a ctl state file: {e}")))?;
    if record.version != FORMAT_VERSION {
        return Err(bad(format!(
            "unknown state file version {}",
            record.version
        )));
    }
    if record.map != map || record.key != key {
        return Err(bad(format!(
            "records map {} key {:?}, not map {map} key {key:?}",
            record.map, record.key
        )));
    }
    Ok(Some(record))
}

pub fn save(path: &Path, record: &SwitchRecord) -> Result<(), CtlError> {
    let mut json = serde_json::to_vec_pretty(record).map_err(|e| CtlError::BadLocalFile {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    json.push(b'\n');
    write(path, &json).map_err(|source| CtlError::LocalFile {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    write_atomically(path, bytes, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn round_trip_and_checks_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("s.json");
        assert_eq!(load(&path, "m", "k").expect("load"), None);
        let rec = SwitchRecord::new(
            "m",
            "k",
            "cutover",
            values(&[("a:1", "blue")]),
            values(&[("a:1", "green")]),
        );
        save(&path, &rec).expect("save");
        assert_eq!(load(&path, "m", "k").expect("load"), Some(rec));
        assert!(load(&path, "m", "other").is_err());
        fs::write(&path, "junk").expect("write");
        assert!(load(&path, "m", "k").is_err());
    }

    #[test]
    fn previous_for_unknown_target_needs_agreement() {
        let rec = SwitchRecord::new(
            "m",
            "k",
            "cutover",
            values(&[("a", "b1"), ("b", "b1")]),
            values(&[]),
        );
        assert_eq!(rec.previous_for("a"), Some("b1"));
        assert_eq!(rec.previous_for("c"), Some("b1"));
        let split = SwitchRecord::new(
            "m",
            "k",
            "cutover",
            values(&[("a", "x"), ("b", "y")]),
            values(&[]),
        );
        assert_eq!(split.previous_for("c"), None);
        assert_eq!(split.previous_for("b"), Some("y"));
    }

    #[test]
    fn names_differ_per_key() {
        assert_ne!(file_name("m", "a"), file_name("m", "b"));
        assert_ne!(file_name("ma", ""), file_name("m", "a"));
        let p = default_path("/etc/m.map", "active").expect("path");
        assert!(p.to_string_lossy().contains("switchyard/ctl-"));
    }
}
