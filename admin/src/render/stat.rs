//! `show stat` output: CSV (with the 2.6.12 header), `typed` and `json`.

use std::fmt::Write;

use super::field::{csv_cell, json_tags, json_value, typed_value};
use super::fields_table::STAT_FIELDS;
use super::stat_rows::{Row, LAST_STATIC};
use crate::command::Format;

/// The CSV header line, `# pxname,...,-,ssl_sess,...,` with its LF.
pub fn csv_header() -> String {
    let mut s = String::from("# ");
    for (i, (name, _)) in STAT_FIELDS.iter().enumerate() {
        s.push_str(name);
        s.push(',');
        if i == LAST_STATIC {
            s.push_str("-,");
        }
    }
    s.push('\n');
    s
}

/// One CSV data line (trailing comma, LF).
pub fn csv_row(out: &mut String, row: &Row) {
    for (i, f) in row.fields.iter().enumerate() {
        csv_cell(out, &f.val);
        out.push(',');
        if i == LAST_STATIC {
            out.push_str("-,");
        }
    }
    out.push('\n');
}

/// Render rows in the requested format.
pub fn render(rows: &[Row], format: Format, desc: bool) -> String {
    let mut out = String::new();
    match format {
        Format::Csv => {
            out.push_str(&csv_header());
            for r in rows {
                csv_row(&mut out, r);
            }
        }
        Format::Typed => {
            for r in rows {
                typed_row(&mut out, r, desc);
            }
        }
        Format::Json => {
            out.push('[');
            for (n, r) in rows.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                json_row(&mut out, r);
            }
            out.push_str("]\n");
        }
    }
    out
}

fn typed_row(out: &mut String, r: &Row, desc: bool) {
    for (i, f) in r.fields.iter().enumerate() {
        if !f.is_set() {
            continue;
        }
        let (name, d) = STAT_FIELDS[i];
        let _ = write!(
            out,
            "{}.{}.{}.{}.{}.1:{}:",
            r.kind.letter(),
            r.iid,
            r.sid,
            i,
            name,
            f.tags
        );
        typed_value(out, &f.val);
        if desc {
            let _ = write!(out, ":\"{d}\"");
        }
        out.push('\n');
    }
}

fn json_row(out: &mut String, r: &Row) {
    out.push('[');
    let mut started = false;
    for (i, f) in r.fields.iter().enumerate() {
        if !f.is_set() {
            continue;
        }
        if started {
            out.push(',');
        }
        started = true;
        let _ = write!(
            out,
            "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,",
            r.kind.json_name(),
            r.iid,
            r.sid,
            i,
            STAT_FIELDS[i].0
        );
        json_tags(out, f.tags);
        json_value(out, &f.val);
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_capture() {
        let cap = include_str!("../../tests/data/show-stat-settled.csv");
        assert_eq!(
            csv_header(),
            format!("{}\n", cap.lines().next().unwrap_or(""))
        );
    }
}
