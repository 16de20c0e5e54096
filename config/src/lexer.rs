//! Splits one config line into words with HAProxy's rules (`parse_line` in
//! 2.6 `src/tools.c`): blanks separate words, `#` starts a comment, `'...'`
//! is literal, `"..."` keeps blanks and expands `$VAR` / `${VAR}` /
//! `${VAR-default}` / `${VAR[*]}`, and backslash escapes `\ `, `\\`, `\#`,
//! `\'`, `\"`, `\t`, `\n`, `\r`, `\xHH` work outside single quotes.

/// Why a line could not be split. Positions are 1-based byte offsets in the
/// raw line, as HAProxy prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexError {
    UnmatchedQuote(usize),
    UnmatchedBrace(usize),
    VarName(usize),
    Hex(usize),
    WordExpand(usize),
}

impl LexError {
    /// HAProxy's alert text (without the `parsing [f:l]:` prefix).
    pub(crate) fn message(&self, line: &str) -> String {
        let (what, pos) = match self {
            LexError::UnmatchedQuote(p) => ("unmatched quote", *p),
            LexError::UnmatchedBrace(p) => ("unmatched brace in environment variable name", *p),
            LexError::VarName(p) => ("forbidden first char in environment variable name", *p),
            LexError::Hex(p) => ("truncated or invalid hexadecimal sequence", *p),
            LexError::WordExpand(p) => ("truncated or invalid word expansion sequence", *p),
        };
        let trimmed = line.trim_start();
        let shift = line.len() - trimmed.len();
        let caret = pos.saturating_sub(shift).max(1);
        let shown: String = trimmed
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        format!("{what} at position {pos}:\n  {shown}\n  {:>caret$}", "^")
    }
}

/// Values for `$VAR` expansion, including HAProxy's pseudo-variables.
pub(crate) struct LexEnv<'a> {
    pub file: &'a str,
    pub line: usize,
    pub section: &'a str,
    pub vars: &'a crate::ctx::EnvOverlay,
}

impl LexEnv<'_> {
    fn lookup(&self, name: &str) -> Result<Option<String>, ()> {
        match name {
            ".LINE" => Ok(Some(self.line.to_string())),
            ".FILE" => Ok(Some(self.file.to_string())),
            ".SECTION" => Ok(Some(self.section.to_string())),
            n if n.starts_with('.') => Err(()),
            n => Ok(self.vars.get(n)),
        }
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

struct Out {
    words: Vec<Vec<u8>>,
    /// Whether the current (last) word used quotes: `""` is a real, empty word.
    quoted: bool,
}

impl Out {
    fn push(&mut self, c: u8) {
        if let Some(w) = self.words.last_mut() {
            w.push(c);
        }
    }
    fn next_word(&mut self) {
        self.words.push(Vec::new());
        self.quoted = false;
    }
}

/// Split `line` into words. A trailing blank does not make an empty word; a
/// line whose first word is empty (blank or comment only) gives no words.
pub(crate) fn split_line(line: &str, env: &LexEnv<'_>) -> Result<Vec<String>, LexError> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && (is_blank(b[i]) || b[i] == b'\r' || b[i] == b'\n') {
        i += 1;
    }
    let mut out = Out {
        words: vec![Vec::new()],
        quoted: false,
    };
    let mut squote = false;
    let mut dquote = false;
    let mut quote_pos = 0usize;

    while i < b.len() {
        let c = b[i];
        if c == b'\n' || c == b'\r' || c == 0 {
            break;
        }
        if c == b'#' && !squote && !dquote {
            break;
        }
        if c == b'"' && !squote {
            dquote = !dquote;
            quote_pos = i;
            out.quoted = true;
            i += 1;
            continue;
        }
        if c == b'\'' && !dquote {
            squote = !squote;
            quote_pos = i;
            out.quoted = true;
            i += 1;
            continue;
        }
        if c == b'\\' && !squote {
            let next = b.get(i + 1).copied();
            match next {
                Some(n @ (b' ' | b'\\' | b'#' | b'\'' | b'"')) => {
                    out.push(n);
                    i += 2;
                }
                Some(b't') => {
                    out.push(b'\t');
                    i += 2;
                }
                Some(b'n') => {
                    out.push(b'\n');
                    i += 2;
                }
                Some(b'r') => {
                    out.push(b'\r');
                    i += 2;
                }
                Some(b'$') if dquote => {
                    out.push(b'$');
                    i += 2;
                }
                Some(b'x') => {
                    let h1 = b.get(i + 2).copied().and_then(hex_val);
                    let h2 = b.get(i + 3).copied().and_then(hex_val);
                    match (h1, h2) {
                        (Some(h1), Some(h2)) => {
                            out.push((h1 << 4) | h2);
                            i += 4;
                        }
                        _ => return Err(LexError::Hex(i + 1)),
                    }
                }
                _ => {
                    out.push(b'\\');
                    i += 1;
                }
            }
            continue;
        }
        if is_blank(c) && !squote && !dquote {
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            out.next_word();
            continue;
        }
        if c == b'$' && dquote {
            i = expand_var(b, i, env, &mut out)?;
            continue;
        }
        out.push(c);
        i += 1;
    }

    if squote || dquote {
        return Err(LexError::UnmatchedQuote(quote_pos + 1));
    }
    if out.words.len() > 1 && !out.quoted && out.words.last().is_some_and(|w| w.is_empty()) {
        out.words.pop();
    }
    if out.words.first().is_none_or(|w| w.is_empty()) {
        return Ok(Vec::new());
    }
    Ok(out
        .words
        .into_iter()
        .map(|w| String::from_utf8_lossy(&w).into_owned())
        .collect())
}

/// Expand the variable starting at `b[start] == '$'`; returns the index
/// after it.
fn expand_var(b: &[u8], start: usize, env: &LexEnv<'_>, out: &mut Out) -> Result<usize, LexError> {
    let mut i = start + 1;
    let brace = if b.get(i) == Some(&b'{') {
        i += 1;
        Some(i - 1)
    } else {
        None
    };
    let first = b.get(i).copied().unwrap_or(0);
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
        return Err(LexError::VarName(i + 1));
    }
    let name_start = i;
    if first == b'.' {
        i += 1;
    }
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    let name = String::from_utf8_lossy(&b[name_start..i]).into_owned();
    let mut value = env
        .lookup(&name)
        .map_err(|_| LexError::VarName(name_start + 1))?;

    let mut word_expand = false;
    if brace.is_some() && b.get(i) == Some(&b'[') {
        let at = i;
        if b.get(i + 1) != Some(&b'*') || b.get(i + 2) != Some(&b']') {
            return Err(LexError::WordExpand(at + 1));
        }
        word_expand = true;
        i += 3;
    }
    if let Some(bpos) = brace {
        if b.get(i) == Some(&b'-') {
            let dstart = i + 1;
            let mut j = dstart;
            while j < b.len() && b[j] != b'}' {
                j += 1;
            }
            if j >= b.len() {
                return Err(LexError::UnmatchedBrace(bpos + 1));
            }
            if value.is_none() {
                value = Some(String::from_utf8_lossy(&b[dstart..j]).into_owned());
            }
            i = j;
        } else if b.get(i) != Some(&b'}') {
            return Err(LexError::UnmatchedBrace(bpos + 1));
        }
        i += 1;
    }
    if let Some(v) = value {
        let vb = v.as_bytes();
        let mut k = 0;
        while k < vb.len() {
            if word_expand && vb[k].is_ascii_whitespace() {
                out.next_word();
                while k < vb.len() && vb[k].is_ascii_whitespace() {
                    k += 1;
                }
            } else {
                out.push(vb[k]);
                k += 1;
            }
        }
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    static VARS: std::sync::LazyLock<crate::ctx::EnvOverlay> =
        std::sync::LazyLock::new(Default::default);

    fn env() -> LexEnv<'static> {
        LexEnv {
            file: "t.cfg",
            line: 7,
            section: "global",
            vars: &VARS,
        }
    }

    fn split(s: &str) -> Vec<String> {
        split_line(s, &env()).expect("split")
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(split("  bind *:80   # comment"), vec!["bind", "*:80"]);
        assert_eq!(split("# only a comment"), Vec::<String>::new());
        assert_eq!(split("   "), Vec::<String>::new());
        assert_eq!(split("a\tb  c "), vec!["a", "b", "c"]);
        assert_eq!(split("a b\r"), vec!["a", "b"]);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            split(r#"x "a b" 'c $d' e\ f"#),
            vec!["x", "a b", "c $d", "e f"]
        );
        assert_eq!(split(r#"x "" y"#), vec!["x", "", "y"]);
        assert_eq!(
            split(r#"x \# \\ \x41 \"q\""#),
            vec!["x", "#", "\\", "A", "\"q\""]
        );
        assert_eq!(split(r#"x a"b"c"#), vec!["x", "abc"]);
        assert_eq!(split(r"x \1"), vec!["x", "\\1"]);
        assert_eq!(split(r#"x "a#b""#), vec!["x", "a#b"]);
    }

    #[test]
    fn env_vars() {
        assert_eq!(split(r#"x "${.LINE}" "$.FILE""#), vec!["x", "7", "t.cfg"]);
        assert_eq!(
            split(r#"x "${SWITCHYARD_SURELY_UNSET-def ault}""#),
            vec!["x", "def ault"]
        );
        assert_eq!(split(r#"x $HOME"#), vec!["x", "$HOME"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            split_line(r#"x "abc"#, &env()),
            Err(LexError::UnmatchedQuote(3))
        );
        assert_eq!(split_line(r#"x \x4"#, &env()), Err(LexError::Hex(3)));
        assert_eq!(
            split_line(r#"x "${A""#, &env()),
            Err(LexError::UnmatchedBrace(5))
        );
        assert_eq!(split_line(r#"x "$1""#, &env()), Err(LexError::VarName(5)));
        let m = LexError::UnmatchedQuote(3).message(r#"x "abc"#);
        assert!(m.starts_with("unmatched quote at position 3:"), "{m}");
    }
}
