//! `show stat` CSV → rows. The header line starts with `# `; every line ends with a
//! trailing comma; values are quoted only when they hold `,` or `"` (2.6 `stats.c`).

use serde::Serialize;
use std::collections::HashMap;

/// What a row describes (column `type`: 0 frontend, 1 backend, 2 server, 3 listener).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Frontend,
    Backend,
    Server,
    Listener,
}

/// The columns `ctl` uses from one `show stat` row. Numbers that HAProxy leaves empty
/// for this kind of row are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatRow {
    pub proxy: String,
    pub name: String,
    pub kind: RowKind,
    pub status: String,
    pub weight: Option<u64>,
    /// Current sessions (`scur`).
    pub scur: Option<u64>,
    /// Total sessions (`stot`).
    pub stot: Option<u64>,
    /// Queued requests (`qcur`).
    pub qcur: Option<u64>,
    pub check_status: Option<String>,
    pub check_code: Option<String>,
    /// Milliseconds (`check_duration`).
    pub check_duration: Option<u64>,
    /// Seconds since the last state change (`lastchg`).
    pub lastchg: Option<u64>,
    pub active: Option<u64>,
    pub backup: Option<u64>,
    pub addr: Option<String>,
    /// `used_conn_cur`, when the proxy reports it.
    pub used_conn_cur: Option<u64>,
}

impl StatRow {
    pub fn is_server(&self) -> bool {
        self.kind == RowKind::Server
    }

    /// Exactly `UP`: not `UP 1/3` (a failing check in progress), not DRAIN/NOLB/MAINT/DOWN,
    /// not `no check` (nothing proves it healthy) — and checked at least once: with
    /// `fall 1` a server starts as `UP` with check status `INI` before any check ran.
    pub fn is_strictly_up(&self) -> bool {
        self.status == "UP" && !self.never_checked()
    }

    /// The first health check has not completed (`INI`, or `* INI` while it runs).
    pub fn never_checked(&self) -> bool {
        self.check_status
            .as_deref()
            .is_some_and(|c| c.trim_start_matches("* ") == "INI")
    }

    /// In-flight work on this row: sessions (or used connections, whichever is higher)
    /// plus queued requests.
    pub fn in_flight(&self) -> u64 {
        let sessions = self.scur.unwrap_or(0).max(self.used_conn_cur.unwrap_or(0));
        sessions + self.qcur.unwrap_or(0)
    }
}

/// Parses a whole `show stat` reply. An error reply (e.g. `No such proxy.`) or a CSV
/// without the columns this client needs is an `Err` carrying a reason.
pub fn parse_show_stat(reply: &str) -> Result<Vec<StatRow>, String> {
    let body = reply.trim_start_matches('\n');
    let Some(rest) = body.strip_prefix("# ") else {
        return Err(first_line(body));
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(rest.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("bad show stat header: {e}"))?
        .clone();
    let index: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let col = |name: &str| -> Result<usize, String> {
        index
            .get(name)
            .copied()
            .ok_or_else(|| format!("show stat header has no `{name}` column"))
    };
    let (px, sv, status, kind) = (col("pxname")?, col("svname")?, col("status")?, col("type")?);
    let opt = |name: &str| index.get(name).copied();
    let (weight, scur, stot, qcur) = (opt("weight"), opt("scur"), opt("stot"), opt("qcur"));
    let (chk, code, dur, lastchg) = (
        opt("check_status"),
        opt("check_code"),
        opt("check_duration"),
        opt("lastchg"),
    );
    let (act, bck, addr, used) = (opt("act"), opt("bck"), opt("addr"), opt("used_conn_cur"));

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("bad show stat line: {e}"))?;
        if record.len() <= 1 && record.get(0).is_none_or(str::is_empty) {
            continue;
        }
        let text = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let num = |i: Option<usize>| text(i).and_then(|v| v.parse::<u64>().ok());
        let kind = match record.get(kind).unwrap_or("") {
            "0" => RowKind::Frontend,
            "1" => RowKind::Backend,
            "2" => RowKind::Server,
            "3" => RowKind::Listener,
            other => return Err(format!("show stat row has unknown type {other:?}")),
        };
        rows.push(StatRow {
            proxy: text(Some(px)).unwrap_or_default(),
            name: text(Some(sv)).unwrap_or_default(),
            kind,
            status: text(Some(status)).unwrap_or_default(),
            weight: num(weight),
            scur: num(scur),
            stot: num(stot),
            qcur: num(qcur),
            check_status: text(chk),
            check_code: text(code),
            check_duration: num(dur),
            lastchg: num(lastchg),
            active: num(act),
            backup: num(bck),
            addr: text(addr),
            used_conn_cur: num(used),
        });
    }
    Ok(rows)
}

fn first_line(reply: &str) -> String {
    let line = reply.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        "empty reply".into()
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from HAProxy 2.6.12 (reference §2.6), trimmed to the first 40 columns.
    const SAMPLE: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,\n\
fe_web,FRONTEND,,,0,1,9985,3,246,465,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,3,0,3,,,,\n\
be_web,web1,0,0,0,1,,3,246,465,,0,,0,0,0,0,UP,1,1,0,0,0,3,0,,1,3,1,,3,,2,3,,3,L7OK,200,1,\n\
be_web,web2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,2,2,,1,3,2,,0,,2,0,,0,L4CON,,0,\n\
be_web,web3,0,0,2,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1,1,0,1,1,2,2,,1,3,2,,0,,2,0,,0,\"* L7OK\",,0,\n\
be_web,BACKEND,0,0,0,1,999,3,246,465,0,0,,0,0,0,0,UP,1,1,0,,0,3,0,,1,3,0,,3,,1,3,,3,,,,\n\n";

    #[test]
    fn parses_rows_by_header_name() {
        let rows = parse_show_stat(SAMPLE).expect("parses");
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].kind, RowKind::Frontend);
        assert_eq!(rows[0].status, "OPEN");
        assert_eq!(rows[0].stot, Some(3));
        let web1 = &rows[1];
        assert_eq!(
            (web1.proxy.as_str(), web1.name.as_str()),
            ("be_web", "web1")
        );
        assert!(web1.is_strictly_up());
        assert_eq!(web1.check_status.as_deref(), Some("L7OK"));
        assert_eq!(web1.check_code.as_deref(), Some("200"));
        assert_eq!(web1.check_duration, Some(1));
        assert_eq!(web1.lastchg, Some(3));
        assert!(!rows[2].is_strictly_up());
        assert!(!rows[3].is_strictly_up(), "UP 1/3 is transitional");
        let mut unchecked = rows[1].clone();
        unchecked.check_status = Some("INI".into());
        assert!(!unchecked.is_strictly_up(), "UP before the first check");
        assert_eq!(rows[3].check_status.as_deref(), Some("* L7OK"));
        assert_eq!(rows[3].in_flight(), 2);
        assert_eq!(rows[4].kind, RowKind::Backend);
        assert_eq!(rows[4].weight, Some(1));
    }

    #[test]
    fn error_replies_are_errors() {
        assert_eq!(
            parse_show_stat("No such proxy.\n"),
            Err("No such proxy.".into())
        );
        assert!(parse_show_stat("").is_err());
        assert!(parse_show_stat("# a,b,c\n1,2,3\n").is_err());
    }
}
