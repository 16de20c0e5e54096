//! Durations, sizes and integers the way HAProxy reads them.
//!
//! A duration is digits plus an optional unit (`us`, `ms`, `s`, `m`, `h`,
//! `d`); a bare number is in the keyword's default unit (usually ms). The
//! result must fit below 2^31 in that unit, as in `parse_time_err`.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Ms,
    S,
}

impl TimeUnit {
    fn per_second(self) -> u64 {
        match self {
            TimeUnit::Ms => 1000,
            TimeUnit::S => 1,
        }
    }
    pub(crate) fn to_duration(self, v: u32) -> Duration {
        match self {
            TimeUnit::Ms => Duration::from_millis(u64::from(v)),
            TimeUnit::S => Duration::from_secs(u64::from(v)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeError {
    /// First character that is not part of a number or unit.
    BadChar(char),
    /// Empty text.
    Empty,
    /// At least 2^31 in the target unit.
    Overflow,
    /// Non-zero input that rounds to 0 in the target unit.
    Underflow,
}

/// A parsed timer, plus the stray character HAProxy 2.6 only warns about
/// (`2sx` is read as `2s` with a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timer {
    pub value: u32,
    pub trailing: Option<char>,
}

/// `parse_time_err`: `text` in `unit`.
pub(crate) fn parse_time(text: &str, unit: TimeUnit) -> Result<Timer, TimeError> {
    let b = text.as_bytes();
    let Some(&first) = b.first() else {
        return Err(TimeError::Empty);
    };
    if !first.is_ascii_digit() {
        return Err(TimeError::BadChar(first_char(text)));
    }
    let mut i = 0;
    let mut value: u128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        // Saturate: anything this large overflows the 2^31 limit anyway.
        value = (value * 10 + u128::from(b[i] - b'0')).min(u128::from(u64::MAX));
        i += 1;
    }
    // (numerator, denominator) converting the input unit to microseconds.
    let (in_us, consumed): (u128, usize) = match &b[i..] {
        [] => {
            let v = value;
            return finish(v, v, None);
        }
        [b'u', b's', ..] => (1, 2),
        [b'm', b's', ..] => (1_000, 2),
        [b's', ..] => (1_000_000, 1),
        [b'm', ..] => (60_000_000, 1),
        [b'h', ..] => (3_600_000_000, 1),
        [b'd', ..] => (86_400_000_000, 1),
        _ => return Err(TimeError::BadChar(first_char(&text[i..]))),
    };
    let rest = &text[i + consumed..];
    let trailing = rest.chars().next();
    let us = value * in_us;
    let per_unit_us = 1_000_000 / u128::from(unit.per_second());
    // Round up, as HAProxy does.
    let result = us.div_ceil(per_unit_us);
    finish(result, value, trailing)
}

fn finish(result: u128, input: u128, trailing: Option<char>) -> Result<Timer, TimeError> {
    if result >= 0x8000_0000 {
        return Err(TimeError::Overflow);
    }
    if result == 0 && input != 0 {
        return Err(TimeError::Underflow);
    }
    Ok(Timer {
        value: result as u32,
        trailing,
    })
}

fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or('\0')
}

/// HAProxy's warning for `2sx`.
pub(crate) fn trailing_warning(c: char, text: &str) -> String {
    format!(
        "unexpected character '{c}' after the timer value '{text}', only \
         (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. \
         This will be reported as an error in next versions."
    )
}

/// A size with an optional `k`/`m`/`g` suffix (powers of 1024).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = text[..digits].parse().ok()?;
    let mult: u64 = match &text[digits..] {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A plain unsigned decimal integer (`+` sign allowed).
pub(crate) fn parse_u32(text: &str) -> Option<u32> {
    let t = text.strip_prefix('+').unwrap_or(text);
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// A signed decimal integer.
pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i64 = t.parse().ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Result<u32, TimeError> {
        parse_time(s, TimeUnit::Ms).map(|t| t.value)
    }

    #[test]
    fn durations() {
        assert_eq!(ms("5000"), Ok(5000));
        assert_eq!(ms("2s"), Ok(2000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("10m"), Ok(600_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1500us"), Ok(2));
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("1us"), Ok(1));
        assert_eq!(ms("25d"), Err(TimeError::Overflow));
        assert_eq!(
            ms("99999999999999999999999999999999"),
            Err(TimeError::Overflow)
        );
        assert_eq!(ms("x"), Err(TimeError::BadChar('x')));
        assert_eq!(ms("2x"), Err(TimeError::BadChar('x')));
        assert_eq!(ms(""), Err(TimeError::Empty));
        assert_eq!(
            parse_time("1ms", TimeUnit::S),
            Ok(Timer {
                value: 1,
                trailing: None
            })
        );
        assert_eq!(parse_time("5s", TimeUnit::S).map(|t| t.value), Ok(5));
        assert_eq!(
            parse_time("2mresolvers", TimeUnit::Ms),
            Ok(Timer {
                value: 120_000,
                trailing: Some('r')
            })
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_size("16k"), Some(16384));
        assert_eq!(parse_size("16384"), Some(16384));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_u32("42"), Some(42));
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_i64("-1"), Some(-1));
    }
}
