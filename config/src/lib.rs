//! haproxy.cfg → validated [`Config`] model, with HAProxy-style diagnostics
//! (`parsing [file:line] : ...`). Pure: no sockets, no async.
//!
//! The pipeline: [`lexer`] splits lines into words with HAProxy's quoting
//! rules, [`parser`] tracks sections and hands lines to the section parsers
//! ([`global`], [`resolvers`], [`proxy`], which use [`server`], [`bind`],
//! [`acl`], [`condition`], [`sample`], [`logformat`], [`http_rules`]),
//! map files are read at first use ([`maps`]), then [`validate`] checks what
//! needs the whole configuration.

pub mod model;
pub use model::*;

mod error;
pub use error::ConfigErrors;

mod acl;
mod addr;
mod bind;
mod certs;
pub mod cnum;
mod condition;
mod ctx;
mod diag;
mod global;
mod http_rules;
mod lexer;
mod log;
mod logformat;
mod maps;
mod names;
mod parser;
mod preproc;
mod proxy;
mod resolvers;
mod sample;
mod server;
mod server_kw;
mod server_tls;
mod units;
mod validate;

pub use bind::HARMLESS_BIND_OPTIONS;
pub use global::HARMLESS_GLOBAL_KEYWORDS;
pub use proxy::options::HARMLESS_OPTIONS;
pub use proxy::HARMLESS_PROXY_KEYWORDS;
pub use server_kw::HARMLESS_SERVER_KEYWORDS;

use parser::{expand_paths, read_config_file, Parser};
use std::path::{Path, PathBuf};

/// Load and validate every `-f` path (a directory loads its `*.cfg` files in
/// name order, as HAProxy does), then read every map file the config names.
pub fn load(paths: &[PathBuf]) -> Result<Config, ConfigErrors> {
    let files = expand_paths(paths).map_err(ConfigErrors::message)?;
    if files.is_empty() {
        return Err(ConfigErrors::message("No configuration file specified."));
    }
    let mut p = Parser::new();
    for f in &files {
        let name = f.display().to_string();
        match read_config_file(f) {
            Ok(text) => p.parse_text(&name, &text, true),
            Err(e) => p.ctx.diags.errors.push(Diagnostic {
                location: Location::default(),
                message: format!(
                    "Cannot open configuration file/directory {name} : {}",
                    io_reason(&e)
                ),
                bare: false,
            }),
        }
    }
    finish(p, files)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Parse one config text (named `file` in diagnostics). Map files named in it
/// are read from disk, relative to the current directory (or as
/// `default-path` says). Unlike [`load`], a missing final newline is
/// accepted.
pub fn parse_str(file: &str, text: &str) -> Result<Config, ConfigErrors> {
    let mut p = Parser::new();
    p.parse_text(file, text, false);
    finish(p, Vec::new())
}

fn finish(mut p: Parser, files: Vec<PathBuf>) -> Result<Config, ConfigErrors> {
    if !p.ctx.diags.errors.is_empty() {
        // HAProxy stops once a file fails to parse ("Fatal errors found in
        // configuration."): the whole-config checks never run, so they add
        // no alerts or warnings. "Error(s) found in configuration file"
        // names the files that failed.
        let diags = p.ctx.diags;
        let mut err_files: Vec<String> = Vec::new();
        for e in &diags.errors {
            if !e.location.file.is_empty() && !err_files.contains(&e.location.file) {
                err_files.push(e.location.file.clone());
            }
        }
        return Err(ConfigErrors {
            errors: diags.errors,
            warnings: diags.warnings,
            files: err_files,
        });
    }
    validate::validate(&mut p.ctx, &mut p.proxies, &p.resolvers);
    let global = p.global;
    let mut ctx = p.ctx;
    let mut proxies: Vec<Proxy> = p
        .proxies
        .into_iter()
        .map(|d| proxy::finish_draft(&mut ctx, d, &global))
        .collect();
    validate::assign_proxy_ids(&mut ctx, &mut proxies);
    let diags = ctx.diags;
    if !diags.errors.is_empty() {
        return Err(ConfigErrors {
            errors: diags.errors,
            warnings: diags.warnings,
            files: Vec::new(),
        });
    }
    Ok(Config {
        global,
        proxies,
        resolvers: p.resolvers,
        maps: ctx.maps.maps,
        warnings: diags.warnings,
        files,
    })
}

impl Config {
    /// The backend (or listen section) named `name`.
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.kind.has_backend())
    }

    /// The frontend (or listen section) named `name`.
    pub fn frontend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.kind.has_frontend())
    }

    /// Whether any enabled proxy listens somewhere (HAProxy exits with 2 and
    /// "no listener" otherwise).
    pub fn has_listener(&self) -> bool {
        self.proxies
            .iter()
            .any(|p| !p.disabled && p.frontend.as_ref().is_some_and(|f| !f.binds.is_empty()))
    }
}

/// Read a map file: one `key value` per line, `#` comments, blank lines.
/// The key is the first word; the value is the rest of the line, trimmed.
pub fn read_map_file(path: &Path) -> std::io::Result<Vec<MapEntry>> {
    let bytes = std::fs::read(path)?;
    Ok(parse_map_text(&String::from_utf8_lossy(&bytes)))
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
