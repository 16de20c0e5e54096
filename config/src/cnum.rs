//! C's `atol`/`atoi` as glibc does them. HAProxy reads most numeric server
//! options this way, so `weight x` is weight 0 and `maxconn 10x` is 10:
//! a config HAProxy accepts must mean the same thing here. The Runtime
//! API (admin) reads its numbers with the same functions.

/// `strtol(s, &end, 10)`: leading whitespace, an optional sign, then as
/// many digits as there are; anything else ends the number. The value
/// (`None` when no digit was read) and the unparsed rest (all of `s` then).
/// Out of range saturates at `i64::MIN`/`i64::MAX` (glibc's
/// `LONG_MIN`/`LONG_MAX`).
pub fn strtol(s: &str) -> (Option<i64>, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = body.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return (None, s);
    }
    let mut v: i64 = 0;
    for b in body[..n].bytes() {
        let d = i64::from(b - b'0');
        v = match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => x,
            None => {
                v = if neg { i64::MIN } else { i64::MAX };
                break;
            }
        };
    }
    (Some(v), &body[n..])
}

/// `strtol(s, NULL, 10)`: 0 when no digit was read.
pub fn atol(s: &str) -> i64 {
    strtol(s).0.unwrap_or(0)
}

/// `(int)atol(s)`: glibc's `atoi`, and what HAProxy gets when it stores an
/// `atol` result in an `int` field: the low 32 bits.
pub fn atoi(s: &str) -> i32 {
    atol(s) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_signed() {
        assert_eq!(atol("42"), 42);
        assert_eq!(atol("-7"), -7);
        assert_eq!(atol("+5"), 5);
        assert_eq!(atol("  \t12"), 12);
    }

    #[test]
    fn junk_ends_the_number() {
        assert_eq!(atol("x"), 0);
        assert_eq!(atol(""), 0);
        assert_eq!(atol("10x"), 10);
        assert_eq!(atol("1s"), 1);
        assert_eq!(atol("0x10"), 0);
        assert_eq!(atol("1e3"), 1);
        assert_eq!(atol("-"), 0);
        assert_eq!(atol("+-3"), 0);
        assert_eq!(atol("3 4"), 3);
    }

    #[test]
    fn overflow_saturates_like_strtol() {
        assert_eq!(atol("99999999999999999999"), i64::MAX);
        assert_eq!(atol("-99999999999999999999"), i64::MIN);
        assert_eq!(atol("9223372036854775807"), i64::MAX);
        assert_eq!(atol("-9223372036854775808"), i64::MIN);
    }

    #[test]
    fn strtol_gives_the_rest() {
        assert_eq!(strtol("5x"), (Some(5), "x"));
        assert_eq!(strtol("abc").0, None);
        assert_eq!(strtol("-3"), (Some(-3), ""));
        assert_eq!(strtol("50%"), (Some(50), "%"));
        assert_eq!(strtol("-99999999999999999999x"), (Some(i64::MIN), "x"));
    }

    #[test]
    fn atoi_keeps_the_low_32_bits() {
        assert_eq!(atoi("4294967297"), 1);
        assert_eq!(atoi("2147483648"), i32::MIN);
        assert_eq!(atoi("-1"), -1);
        assert_eq!(atoi("99999999999999999999"), -1);
        assert_eq!(atoi("99999999999"), 1_215_752_191);
        assert_eq!(atoi(" 42x"), 42);
        assert_eq!(atoi("x"), 0);
    }
}
