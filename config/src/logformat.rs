//! Log-format strings (`log-format`, header values, dynamic `use_backend`):
//! literal text, `%[sample]` expressions, `%var` log variables with optional
//! `%{flags}` and `%%` for a literal percent (HAProxy's
//! `parse_logformat_string`).

use crate::ctx::Ctx;
use crate::model::{FmtPart, Location, LogFormat};
use crate::sample::parse_sample;

/// Log variables HAProxy 2.6 knows (`logformat_keywords`).
const LOG_VARS: &[&str] = &[
    "o", "B", "CC", "CS", "H", "ID", "ST", "T", "Ta", "Tc", "Th", "Ti", "Tl", "Tq", "Tr", "TR",
    "Td", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp", "bq", "ci", "cp", "f", "fc",
    "fi", "fp", "ft", "hr", "hrl", "hs", "hsl", "HM", "HP", "HPO", "HQ", "HU", "HV", "lc", "ms",
    "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq", "sslc", "sslv", "t", "tr", "trg", "trl",
    "ts", "tsc",
];

fn push_lit(parts: &mut Vec<FmtPart>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(FmtPart::Lit(prev)) = parts.last_mut() {
        prev.push_str(s);
    } else {
        parts.push(FmtPart::Lit(s.to_string()));
    }
}

/// Parse `fmt`; the error is HAProxy's text.
pub(crate) fn parse_log_format(
    ctx: &mut Ctx,
    loc: &Location,
    fmt: &str,
) -> Result<LogFormat, String> {
    let mut parts = Vec::new();
    let b = fmt.as_bytes();
    let mut i = 0;
    let mut lit_start = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        push_lit(&mut parts, &fmt[lit_start..i]);
        i += 1;
        // Optional `{+Q,-X}` flags.
        let mut flags: Option<&str> = None;
        if b.get(i) == Some(&b'{') {
            let Some(close) = fmt[i..].find('}') else {
                return Err(format!("truncated line after '{}'", &fmt[i + 1..]));
            };
            flags = Some(&fmt[i + 1..i + close]);
            i += close + 1;
        }
        match b.get(i) {
            None => {
                return Err(match flags {
                    Some(f) => {
                        format!("parse argument modifier without variable name near '%{{{f}}}'")
                    }
                    None => "truncated line after '%'".to_string(),
                });
            }
            Some(b'%') if flags.is_none() => {
                push_lit(&mut parts, "%");
                i += 1;
            }
            Some(b'[') => {
                let start = i + 1;
                let (expr, used) = parse_sample(ctx, loc, &fmt[start..], true).map_err(|e| {
                    format!(
                        "failed to parse sample expression <{}> : {e}",
                        &fmt[start..]
                    )
                })?;
                let end = start + used;
                match b.get(end) {
                    Some(b']') => {
                        parts.push(FmtPart::Sample(expr));
                        i = end + 1;
                    }
                    Some(&c) if c.is_ascii_graphic() => {
                        return Err(format!(
                            "expected ']' after '{}', but found '{}'",
                            &fmt[start..end],
                            c as char
                        ));
                    }
                    _ => return Err(format!("missing ']' after '{}'", &fmt[start..end])),
                }
            }
            Some(c)
                if c.is_ascii_alphabetic() || (flags.is_some() && c.is_ascii_alphanumeric()) =>
            {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let var = &fmt[start..i];
                if !LOG_VARS.contains(&var) {
                    return Err(format!(
                        "no such format variable '{var}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
                    ));
                }
                let name = match flags {
                    Some(f) => format!("{{{f}}}{var}"),
                    None => var.to_string(),
                };
                parts.push(FmtPart::Var(name));
            }
            Some(_) if flags.is_some() => {
                return Err(format!(
                    "parse argument modifier without variable name near '%{{{}}}'",
                    flags.unwrap_or_default()
                ));
            }
            Some(&c) if c.is_ascii_digit() || c == b' ' || c == b'\t' => {
                return Err(format!(
                    "unexpected variable name near '{}' at position {} line : '{fmt}'. Maybe you want to write a single '%', use the syntax '%%'",
                    c as char,
                    i
                ));
            }
            Some(_) => {
                // Any other character after '%' is kept literally with it.
                push_lit(&mut parts, "%");
            }
        }
        lit_start = i;
    }
    push_lit(&mut parts, &fmt[lit_start..]);
    Ok(LogFormat {
        parts,
        source: fmt.to_string(),
    })
}

impl LogFormat {
    /// The text when the format has no dynamic part.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                FmtPart::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fetch, SampleExpr};

    fn parse(s: &str) -> Result<LogFormat, String> {
        parse_log_format(&mut Ctx::default(), &Location::default(), s)
    }

    #[test]
    fn parts() {
        let f = parse("%[str(a)] x%%y %ci:%cp %{+Q}r").expect("ok");
        assert_eq!(
            f.parts,
            vec![
                FmtPart::Sample(SampleExpr {
                    fetch: Fetch::Str("a".into()),
                    converters: vec![]
                }),
                FmtPart::Lit(" x%y ".into()),
                FmtPart::Var("ci".into()),
                FmtPart::Lit(":".into()),
                FmtPart::Var("cp".into()),
                FmtPart::Lit(" ".into()),
                FmtPart::Var("{+Q}r".into()),
            ]
        );
        assert_eq!(
            parse("plain").expect("ok").as_literal().as_deref(),
            Some("plain")
        );
        assert_eq!(parse("").expect("ok").parts, vec![]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("%[str(a)").err(),
            Some("missing ']' after 'str(a)'".into())
        );
        assert_eq!(
            parse("%[foo]").err(),
            Some("failed to parse sample expression <foo]> : unknown fetch method 'foo'".into())
        );
        assert!(parse("%cip").is_err());
        assert!(parse("50% off").is_err());
        assert!(parse("%").is_err());
        assert!(parse("%{+Q}").is_err());
        assert!(parse("%[foo]").is_err());
    }
}
