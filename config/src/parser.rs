//! The reader: splits files into lines and words, tracks the current
//! section and hands each line to that section's parser, collecting every
//! error it can in one pass (as HAProxy does).

use crate::ctx::{Ctx, Kwm, Line};
use crate::global::{parse_global_line, DefaultPath, GlobalExtra};
use crate::lexer::{split_line, LexEnv};
use crate::model::{Global, Location, ProxyKind, Resolvers};
use crate::preproc::{CondStack, Directive};
use crate::proxy::{builtin_defaults, new_draft, parse_proxy_line, ProxyDraft};
use crate::resolvers::{finish_resolvers, parse_resolvers_line, start_resolvers};
use std::path::{Path, PathBuf};

/// HAProxy sections switchyard does not support; their bodies are skipped.
const UNSUPPORTED_SECTIONS: &[&str] = &[
    "peers",
    "userlist",
    "mailers",
    "http-errors",
    "ring",
    "program",
    "cache",
    "fcgi-app",
    "log-forward",
    "dynamic-update",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Global,
    Resolvers(usize),
    Defaults(usize),
    Proxy(usize),
    /// Unusable header or unsupported section: lines are ignored.
    Skipped,
}

pub(crate) struct Parser {
    pub ctx: Ctx,
    pub global: Global,
    pub global_extra: GlobalExtra,
    pub resolvers: Vec<Resolvers>,
    /// Every defaults section; index 0 is HAProxy's built-in one.
    pub defaults: Vec<ProxyDraft>,
    /// The defaults regular proxies inherit from (the last one seen).
    last_defaults: usize,
    pub proxies: Vec<ProxyDraft>,
    section: Section,
    section_name: String,
}

impl Parser {
    pub(crate) fn new() -> Self {
        Parser {
            ctx: Ctx::default(),
            global: Global::default(),
            global_extra: GlobalExtra::default(),
            resolvers: Vec::new(),
            defaults: vec![builtin_defaults()],
            last_defaults: 0,
            proxies: Vec::new(),
            section: Section::None,
            section_name: String::new(),
        }
    }

    fn apply_default_path(&mut self, file: &str) {
        let dir = Path::new(file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.ctx.paths.base = match self.global_extra.default_path.clone().unwrap_or_default() {
            DefaultPath::Current => None,
            DefaultPath::Config => Some(dir),
            DefaultPath::Parent => Some(dir.parent().map(Path::to_path_buf).unwrap_or(dir)),
            DefaultPath::Origin(p) => Some(p),
        };
    }

    /// Parse one file's text. `require_final_lf` reproduces HAProxy's
    /// "Missing LF on last line" error for real files.
    pub(crate) fn parse_text(&mut self, file: &str, text: &str, require_final_lf: bool) {
        self.apply_default_path(file);
        let mut conds = CondStack::default();
        let mut fatal = 0usize;
        let mut line_no = 0usize;
        let mut rest = text;
        while !rest.is_empty() {
            let (raw, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            let truncated = next.is_empty() && !rest.ends_with('\n');
            rest = next;
            line_no += 1;
            let loc = Location {
                file: file.to_string(),
                line: line_no,
            };
            if fatal >= 50 {
                self.ctx.error(
                    &loc,
                    format!("too many fatal errors ({fatal}), stopping now."),
                );
                return;
            }
            let errors_before = self.ctx.diags.errors.len();
            let stop = self.parse_raw_line(raw, &loc, &mut conds);
            if self.ctx.diags.errors.len() > errors_before {
                fatal += 1;
            }
            if stop {
                return;
            }
            if truncated && require_final_lf {
                self.ctx.error(
                    &loc,
                    format!(
                        "Missing LF on last line, file might have been truncated at position {}.",
                        raw.len() + 1
                    ),
                );
            }
        }
        self.end_section();
        if conds.depth() > 0 {
            let loc = Location {
                file: file.to_string(),
                line: line_no,
            };
            self.ctx.error(&loc, "non-terminated '.if' block.");
        }
        self.section = Section::None;
    }

    /// Returns true when reading must stop (a fatal directive).
    fn parse_raw_line(&mut self, raw: &str, loc: &Location, conds: &mut CondStack) -> bool {
        let env = LexEnv {
            file: &loc.file,
            line: loc.line,
            section: &self.section_name,
            vars: &self.ctx.env,
        };
        let words = match split_line(raw, &env) {
            Ok(w) => w,
            Err(e) => {
                if !conds.skipping() {
                    self.ctx.error(loc, e.message(raw));
                }
                return false;
            }
        };
        if words.is_empty() {
            return false;
        }
        if words[0].starts_with('.') {
            let env = self.ctx.env.clone();
            match conds.directive(&words, &env) {
                Some(Directive::Done) => return false,
                Some(Directive::Warn(m)) => {
                    self.ctx.warn(loc, m);
                    return false;
                }
                Some(Directive::Error(m, stop)) => {
                    self.ctx.error(loc, m);
                    return stop;
                }
                None => {}
            }
        }
        if conds.skipping() {
            return false;
        }
        self.parse_words(&words, loc);
        false
    }

    fn parse_words(&mut self, words: &[String], loc: &Location) {
        let (kwm, words) = match words[0].as_str() {
            "no" if words.len() > 1 => (Kwm::No, &words[1..]),
            "default" if words.len() > 1 => (Kwm::Default, &words[1..]),
            _ => (Kwm::Std, words),
        };
        let line = Line { words, loc, kwm };
        let kw = line.kw();
        if matches!(
            kw,
            "global" | "defaults" | "frontend" | "backend" | "listen" | "resolvers"
        ) || UNSUPPORTED_SECTIONS.contains(&kw)
        {
            self.end_section();
            self.section_name = if line.arg(1).is_empty() {
                kw.to_string()
            } else {
                line.arg(1).to_string()
            };
            self.start_section(&line);
            return;
        }
        match self.section {
            Section::None => {
                self.ctx
                    .error(loc, format!("unknown keyword '{kw}' out of section."));
            }
            Section::Skipped => {}
            Section::Global => {
                parse_global_line(
                    &mut self.ctx,
                    &mut self.global,
                    &mut self.global_extra,
                    &line,
                );
                if kw == "default-path" {
                    self.apply_default_path(&loc.file);
                }
            }
            Section::Resolvers(i) => {
                if let Some(r) = self.resolvers.get_mut(i) {
                    parse_resolvers_line(&mut self.ctx, r, &line);
                }
            }
            Section::Defaults(i) => {
                if let Some(d) = self.defaults.get_mut(i) {
                    parse_proxy_line(&mut self.ctx, &self.global, d, &line);
                }
            }
            Section::Proxy(i) => {
                if let Some(d) = self.proxies.get_mut(i) {
                    parse_proxy_line(&mut self.ctx, &self.global, d, &line);
                }
            }
        }
    }

    fn end_section(&mut self) {
        if let Section::Resolvers(i) = self.section {
            if let Some(r) = self.resolvers.get(i) {
                let r = r.clone();
                finish_resolvers(&mut self.ctx, &r);
            }
        }
        self.section = Section::None;
    }

    fn start_section(&mut self, l: &Line<'_>) {
        let kw = l.kw();
        match kw {
            "global" => {
                if l.too_many(&mut self.ctx, 0, 0) {
                    self.section = Section::Skipped;
                    return;
                }
                self.section = Section::Global;
            }
            "resolvers" => match start_resolvers(&mut self.ctx, &self.resolvers, l) {
                Some(r) => {
                    self.resolvers.push(r);
                    self.section = Section::Resolvers(self.resolvers.len() - 1);
                }
                None => self.section = Section::Skipped,
            },
            "defaults" | "frontend" | "backend" | "listen" => self.start_proxy(l),
            other => {
                self.ctx.error(
                    l.loc,
                    format!("'{other}' sections are not supported by switchyard; the section is ignored."),
                );
                self.section = Section::Skipped;
            }
        }
    }

    fn start_proxy(&mut self, l: &Line<'_>) {
        let kw = l.kw();
        let is_defaults = kw == "defaults";
        let kind = match kw {
            "frontend" => ProxyKind::Frontend,
            "backend" => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        // `defaults [name] [from <defaults>]`, `<kind> <name> [from <defaults>]`
        let (name, from) = if is_defaults {
            match (l.arg(1), l.arg(2), l.arg(3)) {
                ("from", f, "") if !f.is_empty() => ("", Some(f)),
                (n, "from", f) if !f.is_empty() && l.arg(4).is_empty() => (n, Some(f)),
                (n, "", _) => (n, None),
                _ => {
                    self.ctx.error(
                        l.loc,
                        format!(
                            "'defaults' cannot handle unexpected argument '{}'.",
                            l.arg(2)
                        ),
                    );
                    self.section = Section::Skipped;
                    return;
                }
            }
        } else {
            let name = l.arg(1);
            if name.is_empty() {
                self.ctx
                    .error(l.loc, format!("'{kw}' expects an <id> argument"));
                self.section = Section::Skipped;
                return;
            }
            match (l.arg(2), l.arg(3)) {
                ("", _) => (name, None),
                ("from", f) if !f.is_empty() && l.arg(4).is_empty() => (name, Some(f)),
                _ => {
                    if kind == ProxyKind::Frontend || kind == ProxyKind::Listen {
                        self.ctx.error(
                            l.loc,
                            "please use the 'bind' keyword for listening addresses.",
                        );
                    } else {
                        self.ctx.error(
                            l.loc,
                            format!("'{kw}' cannot handle unexpected argument '{}'.", l.arg(2)),
                        );
                    }
                    self.section = Section::Skipped;
                    return;
                }
            }
        };
        if let Some(c) = crate::acl::invalid_name_char(name) {
            self.ctx.error(
                l.loc,
                format!("character '{c}' is not permitted in '{kw}' name '{name}'."),
            );
        }
        let base = match from {
            // A defaults section without `from` starts from scratch.
            None if is_defaults => 0,
            None => self.last_defaults,
            Some(f) => {
                let found: Vec<usize> = (1..self.defaults.len())
                    .filter(|i| self.defaults[*i].name == f)
                    .collect();
                match found.last() {
                    Some(i) => {
                        if found.len() > 1 {
                            let a = &self.defaults[found[0]].location;
                            let b = &self.defaults[found[1]].location;
                            self.ctx.error(
                                l.loc,
                                format!(
                                    "ambiguous defaults section name '{f}' referenced by {kw} '{name}' exists at least at {a} and {b}."
                                ),
                            );
                        }
                        *i
                    }
                    None => {
                        self.ctx.error(
                            l.loc,
                            format!("defaults section '{f}' not found for {kw} '{name}'."),
                        );
                        self.section = Section::Skipped;
                        return;
                    }
                }
            }
        };
        let Some(parent) = self.defaults.get(base) else {
            self.section = Section::Skipped;
            return;
        };
        if !parent.http_request.is_empty() || !parent.http_response.is_empty() {
            if is_defaults {
                self.ctx.error(
                    l.loc,
                    format!(
                        "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {}).",
                        parent.location
                    ),
                );
            } else if kind == ProxyKind::Listen {
                self.ctx.error(
                    l.loc,
                    "a listen section cannot inherit from a defaults section defining TCP/HTTP rules.",
                );
            }
        }
        let draft = new_draft(parent, name, kind, is_defaults, l.loc);
        if is_defaults {
            self.defaults.push(draft);
            self.last_defaults = self.defaults.len() - 1;
            self.section = Section::Defaults(self.last_defaults);
            return;
        }
        let same_side = |p: &ProxyDraft| {
            p.name == name
                && match kind {
                    ProxyKind::Frontend => p.kind.has_frontend(),
                    ProxyKind::Backend => p.kind.has_backend(),
                    ProxyKind::Listen => true,
                }
        };
        if let Some(prev) = self.proxies.iter().find(|p| same_side(p)) {
            self.ctx.error(
                l.loc,
                format!(
                    "{kw} '{name}' has the same name as {} '{name}' declared at {}.",
                    prev.type_str(),
                    prev.location
                ),
            );
        }
        self.proxies.push(draft);
        self.section = Section::Proxy(self.proxies.len() - 1);
    }
}

/// Read a config file as HAProxy does (bytes, lossy UTF-8).
pub(crate) fn read_config_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The `-f` arguments expanded: a directory gives its `*.cfg` files in name
/// order.
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| {
                format!("Cannot open configuration directory {} : {e}", p.display())
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "cfg") && f.is_file())
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
