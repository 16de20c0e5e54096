//! The `ctl status` table: one block per target, proxies in config order, each
//! frontend/backend row followed by its servers (indented).

use crate::parse::{RowKind, StatRow};
use crate::render::color::Palette;

const HEADERS: [&str; 9] = [
    "NAME", "TYPE", "STATUS", "WEIGHT", "CUR", "TOT", "QUEUE", "CHECK", "LASTCHG",
];
/// Columns aligned to the right (numbers).
const RIGHT: [bool; 9] = [false, false, false, true, true, true, true, false, true];
const STATUS_COL: usize = 2;

/// Renders the rows of one target as aligned text (ending with a newline).
pub fn render(rows: &[StatRow], palette: Palette) -> String {
    let cells: Vec<[String; 9]> = ordered(rows).into_iter().map(cells_of).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = HEADERS
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i], RIGHT[i]))
        .collect();
    out.push_str(&palette.bold(header.join("  ").trim_end()));
    out.push('\n');
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == STATUS_COL {
                    palette.status(cell, widths[i])
                } else {
                    pad(cell, widths[i], RIGHT[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn pad(text: &str, width: usize, right: bool) -> String {
    if right {
        format!("{text:>width$}")
    } else {
        format!("{text:<width$}")
    }
}

/// Proxies in order of first appearance; inside one: frontend, backend, listeners, servers.
fn ordered(rows: &[StatRow]) -> Vec<&StatRow> {
    let mut proxies: Vec<&str> = Vec::new();
    for r in rows {
        if !proxies.contains(&r.proxy.as_str()) {
            proxies.push(&r.proxy);
        }
    }
    let rank = |k: RowKind| match k {
        RowKind::Frontend => 0,
        RowKind::Backend => 1,
        RowKind::Listener => 2,
        RowKind::Server => 3,
    };
    let mut out = Vec::with_capacity(rows.len());
    for p in proxies {
        let mut mine: Vec<&StatRow> = rows.iter().filter(|r| r.proxy == p).collect();
        mine.sort_by_key(|r| rank(r.kind)); // stable: servers keep config order
        out.extend(mine);
    }
    out
}

fn cells_of(r: &StatRow) -> [String; 9] {
    let num = |v: Option<u64>| v.map_or("-".to_owned(), |n| n.to_string());
    let (name, kind) = match r.kind {
        RowKind::Frontend => (r.proxy.clone(), "frontend"),
        RowKind::Backend => (r.proxy.clone(), "backend"),
        RowKind::Server => (format!("  {}", r.name), "server"),
        RowKind::Listener => (format!("  {}", r.name), "listener"),
    };
    let check = match &r.check_status {
        Some(status) => {
            let mut text = status.clone();
            if let Some(code) = &r.check_code {
                text.push(' ');
                text.push_str(code);
            }
            if let Some(ms) = r.check_duration {
                text.push_str(&format!(" {ms}ms"));
            }
            text
        }
        None => "-".to_owned(),
    };
    [
        name,
        kind.to_owned(),
        if r.status.is_empty() {
            "-".to_owned()
        } else {
            r.status.clone()
        },
        num(r.weight),
        num(r.scur),
        num(r.stot),
        num(r.qcur),
        check,
        r.lastchg.map_or("-".to_owned(), human_secs),
    ]
}

/// `3d4h`, `2h5m`, `4m10s`, `12s`.
pub fn human_secs(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_show_stat;

    const SAMPLE: &str = "# pxname,svname,qcur,scur,stot,status,weight,type,check_status,check_code,check_duration,lastchg,\n\
fe,FRONTEND,,1,3,OPEN,,0,,,,,\n\
be,s1,0,0,2,UP,1,2,L7OK,200,1,65,\n\
be,s2,0,0,1,DOWN,1,2,L4CON,,0,3,\n\
be,BACKEND,0,0,3,UP,1,1,,,,65,\n";

    #[test]
    fn renders_grouped_plain_table() {
        let rows = parse_show_stat(SAMPLE).expect("parses");
        let text = render(&rows, Palette::plain());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME"), "{text}");
        assert!(
            lines[1].starts_with("fe ") && lines[1].contains("OPEN"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("be ") && lines[2].contains("backend"),
            "{text}"
        );
        assert!(
            lines[3].starts_with("  s1") && lines[3].contains("L7OK 200 1ms"),
            "{text}"
        );
        assert!(lines[3].ends_with("1m5s"), "{text}");
        assert!(
            lines[4].contains("DOWN") && lines[4].contains("L4CON 0ms"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn humanizes_seconds() {
        assert_eq!(human_secs(5), "5s");
        assert_eq!(human_secs(65), "1m5s");
        assert_eq!(human_secs(7300), "2h1m");
        assert_eq!(human_secs(90_000), "1d1h");
    }
}
