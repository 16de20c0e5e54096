//! What every keyword parser may touch besides its own section: the
//! diagnostics, the map files, the path rules; and the words of the line.

use crate::diag::Diags;
use crate::maps::{MapStore, PathCtx};
use crate::model::Location;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub diags: Diags,
    pub maps: MapStore,
    pub paths: PathCtx,
    /// `crt-base` / `ca-base` from `global`, prefixed to relative file names.
    pub crt_base: Option<String>,
    pub ca_base: Option<String>,
    /// `setenv`/`unsetenv`/... seen so far, for later `"$VAR"` expansion.
    pub env: EnvOverlay,
}

/// The process environment as the config sees it: `setenv` and friends
/// change this view only, never the real process environment.
#[derive(Debug, Default, Clone)]
pub(crate) struct EnvOverlay {
    vars: HashMap<String, Option<String>>,
    /// After `resetenv`: only these real variables stay visible.
    keep: Option<HashSet<String>>,
}

impl EnvOverlay {
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.get(name) {
            return v.clone();
        }
        if self.keep.as_ref().is_some_and(|k| !k.contains(name)) {
            return None;
        }
        std::env::var(name).ok()
    }
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), Some(value.to_string()));
    }
    pub(crate) fn unset(&mut self, name: &str) {
        self.vars.insert(name.to_string(), None);
    }
    pub(crate) fn reset_keeping(&mut self, names: &[String]) {
        let keep: HashSet<String> = names.iter().cloned().collect();
        self.vars.retain(|k, _| keep.contains(k));
        self.keep = Some(keep);
    }
}

impl Ctx {
    pub(crate) fn error(&mut self, loc: &Location, msg: impl Into<String>) {
        self.diags.error(loc, msg);
    }
    pub(crate) fn warn(&mut self, loc: &Location, msg: impl Into<String>) {
        self.diags.warn(loc, msg);
    }
    pub(crate) fn error_bare(&mut self, loc: &Location, msg: impl Into<String>) {
        self.diags.error_bare(loc, msg);
    }
}

/// HAProxy's keyword modifiers: `no option x`, `default option x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kwm {
    Std,
    No,
    Default,
}

/// One parsed line: its words (keyword first) and where it came from.
/// `arg(i)` returns "" past the end, like HAProxy's `args[]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub words: &'a [String],
    pub loc: &'a Location,
    pub kwm: Kwm,
}

impl<'a> Line<'a> {
    pub(crate) fn arg(&self, i: usize) -> &'a str {
        self.words.get(i).map(String::as_str).unwrap_or("")
    }

    pub(crate) fn kw(&self) -> &'a str {
        self.arg(0)
    }

    /// Words from `i` on.
    pub(crate) fn rest(&self, i: usize) -> &'a [String] {
        self.words.get(i..).unwrap_or(&[])
    }

    /// HAProxy's `alertif_too_many_args_idx`: more than `max` arguments after
    /// the `idx`+1 keyword words is an error. Returns true (and reports) then.
    pub(crate) fn too_many(&self, ctx: &mut Ctx, idx: usize, max: usize) -> bool {
        let extra = self.arg(idx + max + 1);
        if extra.is_empty() {
            return false;
        }
        let n = (idx + 1).min(self.words.len());
        let kw = self.words[..n].join(" ");
        ctx.error(
            self.loc,
            format!("'{kw}' cannot handle unexpected argument '{extra}'."),
        );
        true
    }
}
