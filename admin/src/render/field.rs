//! One typed stats value with HAProxy's tags, and its three encodings
//! (CSV cell, `typed` value, JSON value).

use std::fmt::Write;

/// A value; `Empty` is HAProxy's "field not set" (empty CSV cell, absent
/// from `typed`/`json`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Val {
    #[default]
    Empty,
    U32(u32),
    U64(u64),
    S32(i32),
    Str(String),
}

/// A field: its value and its 3-letter tag (origin, nature, scope), e.g.
/// `MCP` for a process-wide counter metric.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field {
    pub tags: &'static str,
    pub val: Val,
}

impl Field {
    pub fn u32(tags: &'static str, v: u32) -> Field {
        Field {
            tags,
            val: Val::U32(v),
        }
    }
    pub fn u64(tags: &'static str, v: u64) -> Field {
        Field {
            tags,
            val: Val::U64(v),
        }
    }
    pub fn s32(tags: &'static str, v: i32) -> Field {
        Field {
            tags,
            val: Val::S32(v),
        }
    }
    pub fn str(tags: &'static str, v: impl Into<String>) -> Field {
        Field {
            tags,
            val: Val::Str(v.into()),
        }
    }
    pub fn is_set(&self) -> bool {
        self.val != Val::Empty
    }
}

/// CSV: numbers as is, strings quoted only when they hold `,`, `"`, CR or
/// LF (embedded `"` doubled), as HAProxy's `csv_enc_append`.
pub fn csv_cell(out: &mut String, v: &Val) {
    match v {
        Val::Empty => {}
        Val::U32(n) => {
            let _ = write!(out, "{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::S32(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Str(s) => {
            if s.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
    }
}

/// `typed`: `u32:5`, `str:UP`.
pub fn typed_value(out: &mut String, v: &Val) {
    match v {
        Val::Empty => {}
        Val::U32(n) => {
            let _ = write!(out, "u32:{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "u64:{n}");
        }
        Val::S32(n) => {
            let _ = write!(out, "s32:{n}");
        }
        Val::Str(s) => {
            let _ = write!(out, "str:{s}");
        }
    }
}

/// JSON tags object, e.g. `"tags":{"origin":"Metric",...}`.
pub fn json_tags(out: &mut String, tags: &str) {
    let b = tags.as_bytes();
    let origin = match b.first() {
        Some(b'M') => "Metric",
        Some(b'S') => "Status",
        Some(b'K') => "Key",
        Some(b'C') => "Config",
        Some(b'P') => "Product",
        _ => "Unknown",
    };
    let nature = match b.get(1) {
        Some(b'G') => "Gauge",
        Some(b'L') => "Limit",
        Some(b'm') => "Min",
        Some(b'M') => "Max",
        Some(b'R') => "Rate",
        Some(b'C') => "Counter",
        Some(b'D') => "Duration",
        Some(b'A') => "Age",
        Some(b'T') => "Time",
        Some(b'N') => "Name",
        Some(b'O') => "Output",
        Some(b'a') => "Avg",
        _ => "Unknown",
    };
    let scope = match b.get(2) {
        Some(b'P') => "Process",
        Some(b'S') => "Service",
        Some(b's') => "System",
        Some(b'C') => "Cluster",
        _ => "Unknown",
    };
    let _ = write!(
        out,
        "\"tags\":{{\"origin\":\"{origin}\",\"nature\":\"{nature}\",\"scope\":\"{scope}\"}}"
    );
}

/// JSON value object, e.g. `,"value":{"type":"u32","value":5}`. Like
/// HAProxy 2.6, strings are not escaped.
pub fn json_value(out: &mut String, v: &Val) {
    match v {
        Val::Empty => {}
        Val::U32(n) => {
            let _ = write!(out, ",\"value\":{{\"type\":\"u32\",\"value\":{n}}}");
        }
        Val::U64(n) => {
            let _ = write!(out, ",\"value\":{{\"type\":\"u64\",\"value\":{n}}}");
        }
        Val::S32(n) => {
            let _ = write!(out, ",\"value\":{{\"type\":\"s32\",\"value\":{n}}}");
        }
        Val::Str(s) => {
            let _ = write!(out, ",\"value\":{{\"type\":\"str\",\"value\":\"{s}\"}}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let mut s = String::new();
        csv_cell(&mut s, &Val::Str("a,b\"c".into()));
        assert_eq!(s, "\"a,b\"\"c\"");
        let mut s = String::new();
        csv_cell(&mut s, &Val::Str("Layer7 check passed".into()));
        assert_eq!(s, "Layer7 check passed");
    }

    #[test]
    fn tags_json() {
        let mut s = String::new();
        json_tags(&mut s, "MaP");
        assert_eq!(
            s,
            "\"tags\":{\"origin\":\"Metric\",\"nature\":\"Avg\",\"scope\":\"Process\"}"
        );
    }
}
