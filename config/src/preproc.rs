//! Conditional blocks: `.if` / `.elif` / `.else` / `.endif` with HAProxy
//! 2.6's expressions (`defined(X)`, `feature(X)`, `streq(a,b)`,
//! `strneq(a,b)`, `version_atleast(v)`, `version_before(v)`, numbers, `!`,
//! `&&`, `||`, parentheses), plus `.diag`, `.notice`, `.warning`, `.alert`.

use crate::ctx::EnvOverlay;

/// The HAProxy version switchyard presents to `version_atleast()`.
pub(crate) const COMPAT_VERSION: [u32; 3] = [2, 6, 12];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// This branch is taken.
    Take,
    /// Not taken yet; a later `.elif`/`.else` may be.
    Drop,
    /// A branch was already taken, or the parent block is skipped.
    Skip,
}

#[derive(Debug, Default)]
pub(crate) struct CondStack {
    blocks: Vec<(Block, bool)>, // (state, `.else` seen)
}

/// What the reader does with a line that starts with `.`.
pub(crate) enum Directive {
    /// Handled; go to the next line.
    Done,
    /// `.warning` text to report.
    Warn(String),
    /// An error to report (with `fatal`: stop reading the file).
    Error(String, bool),
}

impl CondStack {
    /// Lines are currently skipped.
    pub(crate) fn skipping(&self) -> bool {
        self.blocks.iter().any(|(b, _)| *b != Block::Take)
    }

    pub(crate) fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// Handle a `.xxx` line; `None` if `words[0]` is not a block directive
    /// and lines are skipped (the caller then ignores it).
    pub(crate) fn directive(&mut self, words: &[String], env: &EnvOverlay) -> Option<Directive> {
        let kw = words[0].as_str();
        let expr = words[1..].join(" ");
        match kw {
            ".if" => {
                if self.skipping() {
                    self.blocks.push((Block::Skip, false));
                    return Some(Directive::Done);
                }
                Some(match eval(&expr, env) {
                    Ok(v) => {
                        self.blocks
                            .push((if v { Block::Take } else { Block::Drop }, false));
                        Directive::Done
                    }
                    Err(e) => {
                        Directive::Error(format!("{e} in '.if' at position 1:\n  .if {expr}"), true)
                    }
                })
            }
            ".elif" => {
                let outer_skip = self.blocks.len() > 1
                    && self.blocks[..self.blocks.len() - 1]
                        .iter()
                        .any(|(b, _)| *b != Block::Take);
                let Some(top) = self.blocks.last_mut() else {
                    return Some(Directive::Error(
                        "lone '.elif' with no matching '.if'.".to_string(),
                        true,
                    ));
                };
                if top.1 {
                    return Some(Directive::Error(
                        "'.elif' after '.else' is not permitted.".to_string(),
                        true,
                    ));
                }
                if top.0 != Block::Drop || outer_skip {
                    top.0 = Block::Skip;
                    return Some(Directive::Done);
                }
                Some(match eval(&expr, env) {
                    Ok(v) => {
                        top.0 = if v { Block::Take } else { Block::Drop };
                        Directive::Done
                    }
                    Err(e) => Directive::Error(
                        format!("{e} in '.elif' at position 1:\n  .elif {expr}"),
                        true,
                    ),
                })
            }
            ".else" | ".endif" => {
                if words.len() > 1 {
                    return Some(Directive::Error(
                        format!("Unexpected argument '{}' for '{kw}'.", words[1]),
                        true,
                    ));
                }
                if kw == ".endif" {
                    if self.blocks.pop().is_none() {
                        return Some(Directive::Error(
                            "lone '.endif' with no matching '.if'.".to_string(),
                            true,
                        ));
                    }
                    return Some(Directive::Done);
                }
                let Some(top) = self.blocks.last_mut() else {
                    return Some(Directive::Error(
                        "lone '.else' with no matching '.if'.".to_string(),
                        true,
                    ));
                };
                if top.1 {
                    return Some(Directive::Error(
                        "'.else' after '.else' is not permitted.".to_string(),
                        true,
                    ));
                }
                top.1 = true;
                top.0 = if top.0 == Block::Drop {
                    Block::Take
                } else {
                    Block::Skip
                };
                Some(Directive::Done)
            }
            _ if self.skipping() => None,
            ".diag" | ".notice" | ".warning" | ".alert" => {
                if words.len() > 2 {
                    return Some(Directive::Error(
                        format!(
                            "Unexpected argument '{}' for '{kw}'. Use quotes if the message should contain spaces.",
                            words[2]
                        ),
                        false,
                    ));
                }
                let msg = words.get(1).cloned().unwrap_or_default();
                Some(match kw {
                    ".warning" => Directive::Warn(format!("'{msg}'.")),
                    ".alert" => Directive::Error(format!("'{msg}'."), true),
                    _ => Directive::Done,
                })
            }
            _ => Some(Directive::Error(
                format!("unknown directive '{kw}'."),
                false,
            )),
        }
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    env: &'a EnvOverlay,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t') {
            self.i += 1;
        }
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(self.s).into_owned()
    }
    fn expr(&mut self, depth: usize) -> Result<bool, String> {
        let mut v = self.and(depth)?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let r = self.and(depth)?;
                v = v || r;
            } else {
                return Ok(v);
            }
        }
    }
    fn and(&mut self, depth: usize) -> Result<bool, String> {
        let mut v = self.term(depth)?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let r = self.term(depth)?;
                v = v && r;
            } else {
                return Ok(v);
            }
        }
    }
    fn term(&mut self, depth: usize) -> Result<bool, String> {
        if depth > 20 {
            return Err(format!(
                "unparsable conditional expression '{}'",
                self.text()
            ));
        }
        self.ws();
        let mut neg = false;
        while self.s.get(self.i) == Some(&b'!') {
            neg = !neg;
            self.i += 1;
            self.ws();
        }
        let v = if self.s.get(self.i) == Some(&b'(') {
            self.i += 1;
            let v = self.expr(depth + 1)?;
            self.ws();
            if self.s.get(self.i) != Some(&b')') {
                return Err(format!(
                    "expected ')' after conditional expression '{}'",
                    self.text()
                ));
            }
            self.i += 1;
            v
        } else if self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
        {
            let start = self.i;
            self.i += 1;
            while self
                .s
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                self.i += 1;
            }
            let t = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            let n = if let Some(h) = t.strip_prefix("0x") {
                i64::from_str_radix(h, 16).ok()
            } else {
                t.parse::<i64>().ok()
            };
            n.ok_or_else(|| format!("unparsable conditional expression '{}'", self.text()))? != 0
        } else {
            self.predicate()?
        };
        Ok(v != neg)
    }
    fn predicate(&mut self) -> Result<bool, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        let text = self.text();
        let unparsable = || format!("unparsable conditional expression '{text}'");
        if self.s.get(self.i) != Some(&b'(') {
            return Err(unparsable());
        }
        let close = self.s[self.i..]
            .iter()
            .position(|c| *c == b')')
            .ok_or_else(unparsable)?;
        let inner = String::from_utf8_lossy(&self.s[self.i + 1..self.i + close]).into_owned();
        self.i += close + 1;
        let args: Vec<String> = inner
            .split(',')
            .map(|a| a.trim().trim_matches('"').trim_matches('\'').to_string())
            .collect();
        let need = |n: usize| -> Result<(), String> {
            if args.len() != n
                || args.iter().any(String::is_empty) && n > 0 && name != "streq" && name != "strneq"
            {
                Err(format!(
                    "missing arguments in predicate '{name}' used in conditional expression"
                ))
            } else {
                Ok(())
            }
        };
        match name.as_str() {
            "defined" => {
                need(1)?;
                Ok(self.env.get(&args[0]).is_some())
            }
            // switchyard has none of HAProxy's build options to test for.
            "feature" => {
                need(1)?;
                Ok(false)
            }
            "streq" => {
                need(2)?;
                Ok(args[0] == args[1])
            }
            "strneq" => {
                need(2)?;
                Ok(args[0] != args[1])
            }
            "version_atleast" => {
                need(1)?;
                Ok(version_cmp(&args[0]) != std::cmp::Ordering::Greater)
            }
            "version_before" => {
                need(1)?;
                Ok(version_cmp(&args[0]) == std::cmp::Ordering::Greater)
            }
            "openssl_version_atleast" | "openssl_version_before" | "ssllib_name_startswith" => {
                Ok(false)
            }
            _ => Err(unparsable()),
        }
    }
}

/// Compare a version string with [`COMPAT_VERSION`]: Greater when `v` is newer.
fn version_cmp(v: &str) -> std::cmp::Ordering {
    let nums: Vec<u32> = v
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    for (i, mine) in COMPAT_VERSION.iter().enumerate() {
        let theirs = nums.get(i).copied().unwrap_or(0);
        match theirs.cmp(mine) {
            std::cmp::Ordering::Equal => continue,
            o => return o,
        }
    }
    std::cmp::Ordering::Equal
}

/// Evaluate a `.if` expression (empty is false).
pub(crate) fn eval(expr: &str, env: &EnvOverlay) -> Result<bool, String> {
    if expr.trim().is_empty() {
        return Ok(false);
    }
    let mut p = P {
        s: expr.as_bytes(),
        i: 0,
        env,
    };
    let v = p.expr(0)?;
    p.ws();
    if let Some(&c) = p.s.get(p.i) {
        return Err(format!(
            "unexpected character '{}' at the end of conditional expression '{expr}'",
            c as char
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        let env = EnvOverlay::default();
        assert_eq!(eval("1", &env), Ok(true));
        assert_eq!(eval("0", &env), Ok(false));
        assert_eq!(eval("", &env), Ok(false));
        assert_eq!(eval("!0 && 1", &env), Ok(true));
        assert_eq!(eval("0 || (1 && !0)", &env), Ok(true));
        assert_eq!(eval("streq(a,a)", &env), Ok(true));
        assert_eq!(eval("strneq(a,a)", &env), Ok(false));
        assert_eq!(eval("version_atleast(2.4)", &env), Ok(true));
        assert_eq!(eval("version_atleast(2.7)", &env), Ok(false));
        assert_eq!(eval("version_before(3.0)", &env), Ok(true));
        assert_eq!(
            eval("defined(SWITCHYARD_SURELY_NOT_SET_X)", &env),
            Ok(false)
        );
        assert!(eval("bogus", &env).is_err());
        assert!(eval("1 x", &env).is_err());
    }

    #[test]
    fn blocks() {
        let env = EnvOverlay::default();
        let w = |s: &str| -> Vec<String> { s.split(' ').map(str::to_string).collect() };
        let mut c = CondStack::default();
        c.directive(&w(".if 0"), &env);
        assert!(c.skipping());
        c.directive(&w(".elif 1"), &env);
        assert!(!c.skipping());
        c.directive(&w(".else"), &env);
        assert!(c.skipping());
        c.directive(&w(".endif"), &env);
        assert!(!c.skipping());
        assert!(matches!(
            c.directive(&w(".endif"), &env),
            Some(Directive::Error(_, _))
        ));
    }
}
