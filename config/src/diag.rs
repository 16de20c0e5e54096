//! Collecting errors and warnings while parsing, and HAProxy's
//! "did you mean ... maybe ?" keyword suggestions.

use crate::model::{Diagnostic, Location};

#[derive(Debug, Default)]
pub(crate) struct Diags {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Diags {
    pub(crate) fn error(&mut self, loc: &Location, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            location: loc.clone(),
            message: message.into(),
            bare: false,
        });
    }

    /// An error HAProxy prints without the `parsing ` prefix.
    pub(crate) fn error_bare(&mut self, loc: &Location, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            location: loc.clone(),
            message: message.into(),
            bare: true,
        });
    }

    pub(crate) fn warn(&mut self, loc: &Location, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            location: loc.clone(),
            message: message.into(),
            bare: false,
        });
    }
}

/// A keyword's character-transition fingerprint (`make_word_fingerprint`):
/// 32*from+to counts over classes 1..=26 letters, 27 digit, 28 other/edge.
fn fingerprint(word: &str) -> [u8; 1024] {
    let mut fp = [0u8; 1024];
    let mut from = 28usize;
    for c in word.bytes() {
        let to = match c.to_ascii_lowercase() {
            l @ b'a'..=b'z' => usize::from(l - b'a') + 1,
            b'0'..=b'9' => 27,
            _ => 28,
        };
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].saturating_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].saturating_add(1);
    fp
}

/// The closest candidate to `word`, if close enough (`cfg_find_best_match`).
pub(crate) fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wfp = fingerprint(word);
    let mut best: Option<(&str, usize)> = None;
    for cand in candidates {
        let cfp = fingerprint(cand);
        let dist: usize = wfp
            .iter()
            .zip(cfp.iter())
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum();
        if best.is_none_or(|(_, d)| dist < d) {
            best = Some((cand, dist));
        }
    }
    let (cand, dist) = best?;
    if dist > 2 * word.len() || dist > 2 * cand.len() {
        return None;
    }
    Some(cand)
}

/// `unknown keyword 'x' in 'y' section[; did you mean 'z' maybe ?]`
pub(crate) fn unknown_keyword<'a>(
    kw: &str,
    section: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut msg = format!("unknown keyword '{kw}' in '{section}' section");
    if let Some(s) = best_match(kw, candidates) {
        msg.push_str(&format!("; did you mean '{s}' maybe ?"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_like_haproxy() {
        let kws = ["retries", "default_backend", "option", "maxconn", "balance"];
        assert_eq!(best_match("retires", kws), Some("retries"));
        assert_eq!(best_match("defualt_backend", kws), Some("default_backend"));
        assert_eq!(best_match("optoin", kws), Some("option"));
        assert_eq!(best_match("zzzzzzzzzzzzzzzzzzzzz", kws), None);
    }
}
