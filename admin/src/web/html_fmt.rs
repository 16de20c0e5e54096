//! HAProxy's small text formatters for the HTML page (`U2H`, `LIM2A`,
//! `human_time`, `chunk_htmlencode`), so cells read exactly as HAProxy's.

use std::fmt::Write;

use crate::render::field::{Field, Val};

/// `ulltoh_r`: decimal digits where every third digit counted from the
/// fourth one (from the right) is wrapped in `<span class="rls">`, whose
/// letter-spacing draws the thousands gap.
pub fn u2h(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 9);
    // Walk from the right like HAProxy: positions 4, 7, 10... are wrapped.
    let mut group = Vec::with_capacity(digits.len());
    let mut count = 0;
    for c in digits.chars().rev() {
        count += 1;
        if count == 4 {
            group.push(format!("<span class=\"rls\">{c}</span>"));
            count = 1;
        } else {
            group.push(c.to_string());
        }
    }
    for g in group.iter().rev() {
        out.push_str(g);
    }
    out
}

/// `LIM2A(n, alt)`: the number, or `alt` when it is 0 (no limit).
pub fn lim2a(n: u64, alt: &str) -> String {
    if n == 0 {
        alt.to_string()
    } else {
        n.to_string()
    }
}

/// `human_time(t, 1)`: at most two units among d/h/m/s, `0s` for zero and
/// `?` for a negative value (never happened).
pub fn human_time(t: i64) -> String {
    if t < 0 {
        return "?".into();
    }
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 86400;
    let mut out = String::new();
    let mut cnt = 2;
    if t >= DAY {
        let _ = write!(out, "{}d", t / DAY);
        cnt -= 1;
    }
    if cnt > 0 && t % DAY / HOUR != 0 {
        let _ = write!(out, "{}h", t % DAY / HOUR);
        cnt -= 1;
    }
    if cnt > 0 && t % HOUR / MINUTE != 0 {
        let _ = write!(out, "{}m", t % HOUR / MINUTE);
        cnt -= 1;
    }
    if (cnt > 0 && t % MINUTE != 0) || t == 0 {
        let _ = write!(out, "{}s", t % MINUTE);
    }
    out
}

/// `chunk_htmlencode`: non-printable, non-ASCII and `&"'<>` bytes become
/// `&#N;`.
pub fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if !(0x20..0x7f).contains(&b) || matches!(b, b'&' | b'"' | b'\'' | b'<' | b'>') {
            let _ = write!(out, "&#{b};");
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Read access to one row's fields the way HAProxy's HTML code reads its
/// `struct field` array: an unset field reads as 0 / "".
#[derive(Clone, Copy)]
pub struct Fields<'a>(pub &'a [Field]);

impl Fields<'_> {
    pub fn set(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(Field::is_set)
    }

    /// The value as an unsigned number (negative reads as 0).
    pub fn u(&self, i: usize) -> u64 {
        match self.0.get(i).map(|f| &f.val) {
            Some(Val::U32(n)) => u64::from(*n),
            Some(Val::U64(n)) => *n,
            Some(Val::S32(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        }
    }

    /// The value as a signed number (for `lastsess`, -1 = never).
    pub fn i(&self, i: usize) -> i64 {
        match self.0.get(i).map(|f| &f.val) {
            Some(Val::S32(n)) => i64::from(*n),
            Some(Val::U32(n)) => i64::from(*n),
            Some(Val::U64(n)) => i64::try_from(*n).unwrap_or(i64::MAX),
            _ => 0,
        }
    }

    pub fn s(&self, i: usize) -> &str {
        match self.0.get(i).map(|f| &f.val) {
            Some(Val::Str(s)) => s,
            _ => "",
        }
    }

    /// `U2H` of the field.
    pub fn h(&self, i: usize) -> String {
        u2h(self.u(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_matches_ulltoh() {
        assert_eq!(u2h(0), "0");
        assert_eq!(u2h(999), "999");
        assert_eq!(u2h(8192), "<span class=\"rls\">8</span>192");
        assert_eq!(
            u2h(1234567),
            "<span class=\"rls\">1</span>23<span class=\"rls\">4</span>567"
        );
    }

    #[test]
    fn human_times() {
        assert_eq!(human_time(0), "0s");
        assert_eq!(human_time(8), "8s");
        assert_eq!(human_time(81), "1m21s");
        assert_eq!(human_time(3600), "1h");
        assert_eq!(human_time(3661), "1h1m");
        assert_eq!(human_time(90061), "1d1h");
        assert_eq!(human_time(-1), "?");
    }

    #[test]
    fn encode() {
        assert_eq!(html_encode("a<b>'\"&"), "a&#60;b&#62;&#39;&#34;&#38;");
    }
}
