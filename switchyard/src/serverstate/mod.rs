//! Server state across reloads and upgrades, as HAProxy does it: an operator
//! dumps `show servers state` into the `server-state-file` before a reload,
//! and each backend with `load-server-state-from-file global|local` gets
//! its servers' admin state (drain/maint), user weight and address back
//! from it when the new configuration is loaded. Without the file a reload
//! resets admin state and weights to the configuration's, as in HAProxy
//! (live health and counters are carried over in-process regardless).
//!
//! Files: `global` reads `server-state-file` (relative to
//! `server-state-base` when that is set); `local` reads
//! `<server-state-base>/<backend name>`.

mod apply;
mod parse;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchyard_config::LoadServerState;
use switchyard_state::{now_ms, Snapshot};

use crate::console;
use parse::{FileError, Line};

/// Apply the state files to a snapshot just built (before it is
/// published). `prev` is the snapshot it replaces, if any: servers that
/// were in it keep their live health. Returns how many warnings were
/// printed (`-c` says "Warnings were found." for them, as HAProxy does);
/// `silent` when they were printed already (a daemon's foreground half).
pub fn apply(snap: &mut Snapshot, prev: Option<&Snapshot>, silent: bool) -> usize {
    let mut warnings = Warnings::default();
    apply_files(snap, prev, &mut warnings);
    if !silent {
        for w in &warnings.0 {
            console::warning(&format!("config : {w}"));
        }
    }
    warnings.0.len()
}

/// What went wrong, in HAProxy's words, printed once the files are applied.
#[derive(Default)]
struct Warnings(Vec<String>);

impl Warnings {
    fn push(&mut self, msg: String) {
        self.0.push(msg);
    }
}

fn apply_files(snap: &mut Snapshot, prev: Option<&Snapshot>, warn: &mut Warnings) {
    let global = &snap.config.global;
    let base = global.server_state_base.clone();
    let global_lines = global
        .server_state_file
        .as_ref()
        .map(|f| read_global(&path_in(base.as_deref(), f), warn))
        .unwrap_or_default();
    let now = now_ms();
    for i in 0..snap.proxies.len() {
        let px = &snap.proxies[i];
        let mode = px
            .cfg
            .backend
            .as_ref()
            .map_or(LoadServerState::None, |b| b.load_server_state);
        let has_servers = px.backend.as_ref().is_some_and(|b| !b.servers.is_empty());
        if !px.kind.has_backend() || px.cfg.disabled || !has_servers {
            continue;
        }
        let name = px.name.clone();
        let lines = match mode {
            LoadServerState::None => continue,
            LoadServerState::Global => global_lines
                .iter()
                .filter(|((be, _), _)| *be == *name)
                .map(|((_, sv), l)| (sv.clone(), l.clone()))
                .collect(),
            LoadServerState::Local => {
                let file = path_in(base.as_deref(), Path::new(&*name));
                read_local(&file, &name, px.id, warn)
            }
        };
        let px = Arc::make_mut(&mut snap.proxies[i]);
        let Some(be) = px.backend.as_mut() else {
            continue;
        };
        let mut unused: HashMap<String, Line> = lines;
        for sv in &mut be.servers {
            let Some(line) = unused.remove(&*sv.name) else {
                continue;
            };
            match line.values() {
                Ok(v) => {
                    let fresh = prev.and_then(|p| p.find_server(&name, &sv.name)).is_none();
                    apply::apply(sv, &v, fresh, now);
                }
                Err(msg) => warn.push(format!(
                    "server-state application failed for server '{name}/{}'{msg}",
                    sv.name
                )),
            }
        }
        if mode == LoadServerState::Local {
            for srv in unused.keys() {
                warn.push(format!(
                    "Proxy '{name}': can't find server '{srv}' in backend '{name}'"
                ));
            }
        }
    }
}

/// HAProxy's `srv_state_get_filepath`: absolute paths as they are, others
/// under the base directory when one is set.
fn path_in(base: Option<&Path>, file: &Path) -> PathBuf {
    match base {
        Some(b) if !file.is_absolute() => b.join(file),
        _ => file.to_path_buf(),
    }
}

/// The global file, keyed by (backend name, server name); the first line
/// for a server wins, as HAProxy drops duplicates.
fn read_global(file: &Path, warn: &mut Warnings) -> HashMap<(String, String), Line> {
    let shown = file.display();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            warn.push(format!(
                "config: Can't open global server state file '{shown}': {}",
                strerror(&e)
            ));
            return HashMap::new();
        }
    };
    match parse::parse_file(&text) {
        Ok(lines) => {
            let mut out = HashMap::new();
            for l in lines {
                out.entry((l.be_name.clone(), l.srv_name.clone()))
                    .or_insert(l);
            }
            out
        }
        Err(FileError::Empty | FileError::BadVersion) => {
            warn.push(format!(
                "config: Can't get version of the global server state file '{shown}'."
            ));
            HashMap::new()
        }
        Err(FileError::Corrupted { line }) => {
            warn.push(format!(
                "config: corrupted global server state file '{shown}' at line {line}."
            ));
            HashMap::new()
        }
    }
}

/// A backend's own file, keyed by server name; lines for another backend
/// are skipped (a name mismatch is kept only if the backend id was forced).
fn read_local(
    file: &Path,
    backend: &str,
    backend_id: u32,
    warn: &mut Warnings,
) -> HashMap<String, Line> {
    let shown = file.display();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            warn.push(format!(
                "Proxy '{backend}': Can't open server state file '{shown}': {}.",
                strerror(&e)
            ));
            return HashMap::new();
        }
    };
    let lines = match parse::parse_file(&text) {
        Ok(l) => l,
        Err(FileError::Empty | FileError::BadVersion) => {
            warn.push(format!(
                "Proxy '{backend}': Can't get version of the server state file '{shown}'."
            ));
            return HashMap::new();
        }
        Err(FileError::Corrupted { line }) => {
            warn.push(format!(
                "Proxy '{backend}': corrupted server state file '{shown}' at line {line}."
            ));
            return HashMap::new();
        }
    };
    let mut out = HashMap::new();
    for l in lines {
        let id_ok = l.be_id == backend_id.to_string();
        let name_ok = l.be_name == backend;
        if !id_ok && !name_ok {
            continue;
        }
        if !id_ok {
            warn.push(format!(
                "Proxy '{backend}': backend ID mismatch: from server state file: '{}', from running config '{backend_id}'",
                l.be_id
            ));
        } else if !name_ok {
            warn.push(format!(
                "Proxy '{backend}': backend name mismatch: from server state file: '{}', from running config '{backend}'",
                l.be_name
            ));
            if !l.be_forced_id {
                continue;
            }
        }
        out.entry(l.srv_name.clone()).or_insert(l);
    }
    out
}

/// `strerror` text of an I/O error (Rust adds ` (os error N)`).
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            path_in(Some(Path::new("/var/lib/h")), Path::new("state")),
            PathBuf::from("/var/lib/h/state")
        );
        assert_eq!(
            path_in(Some(Path::new("/var/lib/h")), Path::new("/tmp/s")),
            PathBuf::from("/tmp/s")
        );
        assert_eq!(path_in(None, Path::new("s")), PathBuf::from("s"));
    }

    #[test]
    fn strerror_drops_the_os_error_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
