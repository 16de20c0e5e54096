//! Map files named by `map*` converters: read once, at the first use, and
//! kept by the literal path string from the config (the map's CLI identity).

use crate::model::{Location, MapFile, MapMatch};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How relative file names are resolved (`default-path` in `global`).
#[derive(Debug, Clone, Default)]
pub(crate) struct PathCtx {
    /// Directory relative names resolve against; `None` is the process cwd.
    pub base: Option<PathBuf>,
}

impl PathCtx {
    pub(crate) fn resolve(&self, name: &str) -> PathBuf {
        let p = Path::new(name);
        match &self.base {
            Some(base) if p.is_relative() => base.join(p),
            _ => p.to_path_buf(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct MapStore {
    pub maps: BTreeMap<String, MapFile>,
    /// Names that failed to open, with HAProxy's reason.
    failed: BTreeMap<String, String>,
}

impl MapStore {
    /// Make sure map `name` is loaded; the error is HAProxy's text.
    pub(crate) fn load(
        &mut self,
        name: &str,
        kind: MapMatch,
        loc: &Location,
        paths: &PathCtx,
    ) -> Result<(), String> {
        if self.maps.contains_key(name) {
            return Ok(());
        }
        if let Some(e) = self.failed.get(name) {
            return Err(e.clone());
        }
        let path = paths.resolve(name);
        match crate::read_map_file(&path) {
            Ok(entries) => {
                self.maps.insert(
                    name.to_string(),
                    MapFile {
                        name: name.to_string(),
                        path,
                        kind,
                        entries,
                        first_use: loc.clone(),
                    },
                );
                Ok(())
            }
            Err(_) => {
                let msg = format!("failed to open pattern file <{name}>");
                self.failed.insert(name.to_string(), msg.clone());
                Err(msg)
            }
        }
    }
}

/// Read a pattern file for `acl ... -f file`: one pattern per line, blank
/// lines and `#` comments skipped, surrounding blanks trimmed.
pub(crate) fn read_pattern_file(name: &str, paths: &PathCtx) -> Result<Vec<String>, String> {
    let path = paths.resolve(name);
    let bytes =
        std::fs::read(&path).map_err(|_| format!("failed to open pattern file <{name}>"))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}
