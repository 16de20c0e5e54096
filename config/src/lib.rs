//! haproxy.cfg → validated [`Config`] model, with HAProxy-style diagnostics
//! (`parsing [file:line] : ...`). Pure: no sockets, no async.

pub mod model;
pub use model::*;

mod error;
pub use error::ConfigErrors;

use std::path::{Path, PathBuf};

/// Load and validate every `-f` path (a directory loads its `*.cfg` files in
/// name order, as HAProxy does), then read every map file the config names.
pub fn load(paths: &[PathBuf]) -> Result<Config, ConfigErrors> {
    let _ = paths;
    Err(ConfigErrors::message("config parser not implemented yet"))
}

/// Parse one config text (named `file` in diagnostics). Map files named in it
/// are read from disk, relative to the current directory.
pub fn parse_str(file: &str, text: &str) -> Result<Config, ConfigErrors> {
    let _ = (file, text);
    Err(ConfigErrors::message("config parser not implemented yet"))
}

/// Read a map file: one `key value` per line, `#` comments, blank lines.
/// The key is the first word; the value is the rest of the line, trimmed.
pub fn read_map_file(path: &Path) -> std::io::Result<Vec<MapEntry>> {
    let text = std::fs::read_to_string(path)?;
    Ok(parse_map_text(&text))
}

/// Parse map text (see [`read_map_file`]).
pub fn parse_map_text(text: &str) -> Vec<MapEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.find([' ', '\t']) {
            Some(i) => (&line[..i], line[i..].trim()),
            None => (line, ""),
        };
        out.push(MapEntry {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    out
}
