//! One table row of the HTML stats page, a port of HAProxy 2.6's
//! `stats_dump_fields_html`: it reads the same fields as the CSV line, so
//! the page and `;csv` always agree, and it picks the row colour from the
//! status text exactly as HAProxy does.

use std::fmt::Write;

use super::html_fmt::{html_encode, human_time, lim2a, u2h, Fields};
use crate::render::stat_rows::{Row, RowKind};

// Positions in the `show stat` header (HAProxy's ST_F_*).
const PXNAME: usize = 0;
const SVNAME: usize = 1;
const QCUR: usize = 2;
const QMAX: usize = 3;
const SCUR: usize = 4;
const SMAX: usize = 5;
const SLIM: usize = 6;
const STOT: usize = 7;
const BIN: usize = 8;
const BOUT: usize = 9;
const DREQ: usize = 10;
const DRESP: usize = 11;
const EREQ: usize = 12;
const ECON: usize = 13;
const ERESP: usize = 14;
const WRETR: usize = 15;
const WREDIS: usize = 16;
const STATUS: usize = 17;
const WEIGHT: usize = 18;
const ACT: usize = 19;
const BCK: usize = 20;
const CHKFAIL: usize = 21;
const CHKDOWN: usize = 22;
const LASTCHG: usize = 23;
const DOWNTIME: usize = 24;
const QLIMIT: usize = 25;
const SID: usize = 28;
const THROTTLE: usize = 29;
const LBTOT: usize = 30;
const TRACKED: usize = 31;
const RATE: usize = 33;
const RATE_LIM: usize = 34;
const RATE_MAX: usize = 35;
const CHECK_STATUS: usize = 36;
const CHECK_CODE: usize = 37;
const CHECK_DURATION: usize = 38;
const HRSP_1XX: usize = 39;
const HRSP_2XX: usize = 40;
const HRSP_3XX: usize = 41;
const HRSP_4XX: usize = 42;
const HRSP_5XX: usize = 43;
const HRSP_OTHER: usize = 44;
const HANAFAIL: usize = 45;
const REQ_RATE: usize = 46;
const REQ_RATE_MAX: usize = 47;
const REQ_TOT: usize = 48;
const CLI_ABRT: usize = 49;
const SRV_ABRT: usize = 50;
const COMP_IN: usize = 51;
const COMP_OUT: usize = 52;
const COMP_BYP: usize = 53;
const COMP_RSP: usize = 54;
const LASTSESS: usize = 55;
const LAST_CHK: usize = 56;
const LAST_AGT: usize = 57;
const QTIME: usize = 58;
const CTIME: usize = 59;
const RTIME: usize = 60;
const TTIME: usize = 61;
const AGENT_STATUS: usize = 62;
const AGENT_CODE: usize = 63;
const AGENT_DURATION: usize = 64;
const CHECK_DESC: usize = 65;
const AGENT_DESC: usize = 66;
const CHECK_RISE: usize = 67;
const CHECK_FALL: usize = 68;
const CHECK_HEALTH: usize = 69;
const AGENT_HEALTH: usize = 72;
const ADDR: usize = 73;
const COOKIE: usize = 74;
const MODE: usize = 75;
const ALGO: usize = 76;
const CONN_RATE: usize = 77;
const CONN_RATE_MAX: usize = 78;
const CONN_TOT: usize = 79;
const INTERCEPTED: usize = 80;
const WREW: usize = 83;
const CONNECT: usize = 84;
const REUSE: usize = 85;
const CACHE_LOOKUPS: usize = 86;
const CACHE_HITS: usize = 87;
const SRV_ICUR: usize = 88;
const SRV_ILIM: usize = 89;
const QT_MAX: usize = 90;
const CT_MAX: usize = 91;
const RT_MAX: usize = 92;
const TT_MAX: usize = 93;
const EINT: usize = 94;
const IDLE_CONN_CUR: usize = 95;
const SAFE_CONN_CUR: usize = 96;
const USED_CONN_CUR: usize = 97;
const NEED_CONN_EST: usize = 98;
const UWEIGHT: usize = 99;

/// `100 * a / b` as HAProxy's `(int)` percentages, 0 when `b` is 0.
fn pct(a: u64, b: u64) -> u64 {
    a.saturating_mul(100).checked_div(b).unwrap_or(0)
}

/// The CSS class of a server row (`maintain`, `active_up`,
/// `backup_draining`, ...), from its status text as HAProxy decides it.
pub fn server_class(f: Fields<'_>) -> String {
    let st = f.s(STATUS);
    if st.starts_with("MAINT") {
        return "maintain".into();
    }
    let style = if st == "DOWN" || st == "DOWN (agent)" {
        "down"
    } else if st.starts_with("DOWN ") {
        "going_up"
    } else if st == "DRAIN" {
        "draining"
    } else if st.starts_with("NOLB ") {
        "going_down"
    } else if st == "NOLB" {
        "nolb"
    } else if st == "no check" {
        "no_check"
    } else if !f.set(CHKFAIL) || f.u(CHECK_HEALTH) + 1 == f.u(CHECK_RISE) + f.u(CHECK_FALL) {
        if f.u(WEIGHT) != 0 {
            "up"
        } else {
            "draining"
        }
    } else {
        "going_down"
    };
    let side = if f.u(BCK) != 0 { "backup" } else { "active" };
    format!("{side}_{style}")
}

/// The address part of a legend tooltip.
fn addr_legend(out: &mut String, addr: &str) {
    match addr.as_bytes().first() {
        Some(c) if c.is_ascii_digit() => {
            let _ = write!(out, "IPv4: {addr}, ");
        }
        Some(b'[') => {
            let _ = write!(out, "IPv6: {addr}, ");
        }
        Some(_) => {
            let _ = write!(out, "{addr}, ");
        }
        None => {}
    }
}

/// Append the `<tr>` of one row.
pub fn row(out: &mut String, r: &Row, admin: bool, legends: bool) {
    let f = Fields(&r.fields);
    match r.kind {
        RowKind::Frontend => frontend(out, f, admin),
        RowKind::Listener => listener(out, f, admin, legends),
        RowKind::Server => server(out, f, admin, legends),
        RowKind::Backend => backend(out, f, admin, legends),
    }
}

/// The "Cum. HTTP requests" block of frontend and backend tooltips.
fn http_totals(out: &mut String, f: Fields<'_>, intercepted: bool) {
    let _ = write!(
        out,
        "<tr><th>Cum. HTTP requests:</th><td>{}</td></tr><tr><th>- HTTP 1xx responses:</th><td>{}</td></tr><tr><th>- HTTP 2xx responses:</th><td>{}</td></tr><tr><th>&nbsp;&nbsp;Compressed 2xx:</th><td>{}</td><td>({}%)</td></tr><tr><th>- HTTP 3xx responses:</th><td>{}</td></tr><tr><th>- HTTP 4xx responses:</th><td>{}</td></tr><tr><th>- HTTP 5xx responses:</th><td>{}</td></tr><tr><th>- other responses:</th><td>{}</td></tr>",
        f.h(REQ_TOT),
        f.h(HRSP_1XX),
        f.h(HRSP_2XX),
        f.h(COMP_RSP),
        pct(f.u(COMP_RSP), f.u(HRSP_2XX)),
        f.h(HRSP_3XX),
        f.h(HRSP_4XX),
        f.h(HRSP_5XX),
        f.h(HRSP_OTHER),
    );
    if intercepted {
        let _ = write!(
            out,
            "<tr><th>Intercepted requests:</th><td>{}</td></tr>",
            f.h(INTERCEPTED)
        );
    }
    let _ = write!(
        out,
        "<tr><th>Cache lookups:</th><td>{}</td></tr><tr><th>Cache hits:</th><td>{}</td><td>({}%)</td></tr><tr><th>Failed hdr rewrites:</th><td>{}</td></tr><tr><th>Internal errors:</th><td>{}</td></tr>",
        f.h(CACHE_LOOKUPS),
        f.h(CACHE_HITS),
        pct(f.u(CACHE_HITS), f.u(CACHE_LOOKUPS)),
        f.h(WREW),
        f.h(EINT),
    );
}

/// Bytes out with the compression tooltip (frontend and backend).
fn bytes_out(out: &mut String, f: Fields<'_>) {
    let comp = f.u(COMP_IN) != 0 || f.u(COMP_BYP) != 0;
    let saved = f.u(COMP_IN).wrapping_sub(f.u(COMP_OUT));
    let _ = write!(
        out,
        "<td>{}{}<div class=tips><table class=det><tr><th>Response bytes in:</th><td>{}</td></tr><tr><th>Compression in:</th><td>{}</td></tr><tr><th>Compression out:</th><td>{}</td><td>({}%)</td></tr><tr><th>Compression bypass:</th><td>{}</td></tr><tr><th>Total bytes saved:</th><td>{}</td><td>({}%)</td></tr></table></div>{}</td>",
        if comp { "<u>" } else { "" },
        f.h(BOUT),
        f.h(BOUT),
        f.h(COMP_IN),
        f.h(COMP_OUT),
        pct(f.u(COMP_OUT), f.u(COMP_IN)),
        f.h(COMP_BYP),
        u2h(saved),
        pct(saved, f.u(BOUT)),
        if comp { "</u>" } else { "" },
    );
}

/// The "Max / Avg" timing lines of server and backend tooltips.
fn timings(out: &mut String, f: Fields<'_>, http: bool) {
    out.push_str("<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>");
    let _ = write!(
        out,
        "<tr><th>- Queue time:</th><td>{} / {}</td><td>ms</td></tr>",
        f.h(QT_MAX),
        f.h(QTIME)
    );
    let _ = write!(
        out,
        "<tr><th>- Connect time:</th><td>{} / {}</td><td>ms</td></tr>",
        f.h(CT_MAX),
        f.h(CTIME)
    );
    if http {
        let _ = write!(
            out,
            "<tr><th>- Responses time:</th><td>{} / {}</td><td>ms</td></tr>",
            f.h(RT_MAX),
            f.h(RTIME)
        );
    }
    let _ = write!(
        out,
        "<tr><th>- Total time:</th><td>{} / {}</td><td>ms</td></tr>",
        f.h(TT_MAX),
        f.h(TTIME)
    );
}

fn frontend(out: &mut String, f: Fields<'_>, admin: bool) {
    let http = f.s(MODE) == "http";
    let px = f.s(PXNAME);
    out.push_str("<tr class=\"frontend\">");
    if admin {
        out.push_str("<td></td>");
    }
    let _ = write!(
        out,
        "<td class=ac><a name=\"{px}/Frontend\"></a><a class=lfsb href=\"#{px}/Frontend\">Frontend</a></td><td colspan=3></td>"
    );
    let _ = write!(
        out,
        "<td><u>{}<div class=tips><table class=det><tr><th>Current connection rate:</th><td>{}/s</td></tr><tr><th>Current session rate:</th><td>{}/s</td></tr>",
        f.h(RATE),
        f.h(CONN_RATE),
        f.h(RATE)
    );
    if http {
        let _ = write!(
            out,
            "<tr><th>Current request rate:</th><td>{}/s</td></tr>",
            f.h(REQ_RATE)
        );
    }
    let _ = write!(
        out,
        "</table></div></u></td><td><u>{}<div class=tips><table class=det><tr><th>Max connection rate:</th><td>{}/s</td></tr><tr><th>Max session rate:</th><td>{}/s</td></tr>",
        f.h(RATE_MAX),
        f.h(CONN_RATE_MAX),
        f.h(RATE_MAX)
    );
    if http {
        let _ = write!(
            out,
            "<tr><th>Max request rate:</th><td>{}/s</td></tr>",
            f.h(REQ_RATE_MAX)
        );
    }
    let _ = write!(
        out,
        "</table></div></u></td><td>{}</td>",
        lim2a(f.u(RATE_LIM), "-")
    );
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td><u>{}<div class=tips><table class=det><tr><th>Cum. connections:</th><td>{}</td></tr><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        f.h(SCUR),
        f.h(SMAX),
        f.h(SLIM),
        f.h(STOT),
        f.h(CONN_TOT),
        f.h(STOT)
    );
    if http {
        http_totals(out, f, true);
    }
    let _ = write!(
        out,
        "</table></div></u></td><td></td><td></td><td>{}</td>",
        f.h(BIN)
    );
    bytes_out(out, f);
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td><td class=ac>{}</td><td class=ac colspan=8></td>",
        f.h(DREQ),
        f.h(DRESP),
        f.h(EREQ),
        f.s(STATUS)
    );
    out.push_str("</tr>");
}

fn listener(out: &mut String, f: Fields<'_>, admin: bool, legends: bool) {
    let (px, sv) = (f.s(PXNAME), f.s(SVNAME));
    out.push_str("<tr class=socket>");
    if admin {
        out.push_str("<td></td>");
    }
    let _ = write!(
        out,
        "<td class=ac><a name=\"{px}/+{sv}\"></a>{}<a class=lfsb href=\"#{px}/+{sv}\">{sv}</a>",
        if legends { "<u>" } else { "" }
    );
    if legends {
        out.push_str("<div class=tips>");
        addr_legend(out, f.s(ADDR));
        let _ = write!(out, "id: {}</div>", f.u(SID));
    }
    let _ = write!(
        out,
        "{}</td><td colspan=3></td><td colspan=3>&nbsp;</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>&nbsp;</td><td>&nbsp;</td><td>{}</td><td>{}</td>",
        if legends { "</u>" } else { "" },
        f.h(SCUR),
        f.h(SMAX),
        f.h(SLIM),
        f.h(STOT),
        f.h(BIN),
        f.h(BOUT)
    );
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td><td class=ac>{}</td><td class=ac colspan=8></td>",
        f.h(DREQ),
        f.h(DRESP),
        f.h(EREQ),
        f.s(STATUS)
    );
    out.push_str("</tr>");
}

fn server(out: &mut String, f: Fields<'_>, admin: bool, legends: bool) {
    let http = f.s(MODE) == "http";
    let (px, sv) = (f.s(PXNAME), f.s(SVNAME));
    let status = f.s(STATUS);
    let _ = write!(out, "<tr class=\"{}\">", server_class(f));
    if admin {
        let _ = write!(
            out,
            "<td><input class='{px}-checkbox' type=\"checkbox\" name=\"s\" value=\"{sv}\"></td>"
        );
    }
    let _ = write!(
        out,
        "<td class=ac><a name=\"{px}/{sv}\"></a>{}<a class=lfsb href=\"#{px}/{sv}\">{sv}</a>",
        if legends { "<u>" } else { "" }
    );
    if legends {
        out.push_str("<div class=tips>");
        addr_legend(out, f.s(ADDR));
        let _ = write!(out, "id: {}", f.u(SID));
        if f.set(COOKIE) {
            let _ = write!(out, ", cookie: '{}'", html_encode(f.s(COOKIE)));
        }
        out.push_str("</div>");
    }
    let _ = write!(
        out,
        "{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td>",
        if legends { "</u>" } else { "" },
        f.h(QCUR),
        f.h(QMAX),
        lim2a(f.u(QLIMIT), "-"),
        f.h(RATE),
        f.h(RATE_MAX)
    );
    let _ = write!(
        out,
        "<td><u>{}<div class=tips><table class=det><tr><th>Current active connections:</th><td>{}</td></tr><tr><th>Current used connections:</th><td>{}</td></tr><tr><th>Current idle connections:</th><td>{}</td></tr><tr><th>- unsafe:</th><td>{}</td></tr><tr><th>- safe:</th><td>{}</td></tr><tr><th>Estimated need of connections:</th><td>{}</td></tr><tr><th>Active connections limit:</th><td>{}</td></tr><tr><th>Idle connections limit:</th><td>{}</td></tr></table></div></u></td><td>{}</td><td>{}</td><td><u>{}<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        f.h(SCUR),
        f.h(SCUR),
        f.h(USED_CONN_CUR),
        f.h(SRV_ICUR),
        f.h(IDLE_CONN_CUR),
        f.h(SAFE_CONN_CUR),
        f.h(NEED_CONN_EST),
        lim2a(f.u(SLIM), "-"),
        if f.set(SRV_ILIM) { f.h(SRV_ILIM) } else { "-".into() },
        f.h(SMAX),
        lim2a(f.u(SLIM), "-"),
        f.h(STOT),
        f.h(STOT)
    );
    if http {
        let req = f.u(REQ_TOT);
        let _ = write!(
            out,
            "<tr><th>New connections:</th><td>{}</td></tr><tr><th>Reused connections:</th><td>{}</td><td>({}%)</td></tr><tr><th>Cum. HTTP requests:</th><td>{}</td></tr>",
            f.h(CONNECT),
            f.h(REUSE),
            pct(f.u(REUSE), f.u(CONNECT) + f.u(REUSE)),
            f.h(REQ_TOT)
        );
        for (label, i) in [
            ("1xx", HRSP_1XX),
            ("2xx", HRSP_2XX),
            ("3xx", HRSP_3XX),
            ("4xx", HRSP_4XX),
            ("5xx", HRSP_5XX),
        ] {
            let _ = write!(
                out,
                "<tr><th>- HTTP {label} responses:</th><td>{}</td><td>({}%)</td></tr>",
                f.h(i),
                pct(f.u(i), req)
            );
        }
        let _ = write!(
            out,
            "<tr><th>- other responses:</th><td>{}</td><td>({}%)</td></tr><tr><th>Failed hdr rewrites:</th><td>{}</td></tr><tr><th>Internal error:</th><td>{}</td></tr>",
            f.h(HRSP_OTHER),
            pct(f.u(HRSP_OTHER), req),
            f.h(WREW),
            f.h(EINT)
        );
    }
    timings(out, f, http);
    let _ = write!(
        out,
        "</table></div></u></td><td>{}</td><td>{}</td>",
        f.h(LBTOT),
        human_time(f.i(LASTSESS))
    );
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td></td><td>{}</td><td></td><td>{}</td><td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td><td>{}</td><td>{}</td>",
        f.h(BIN),
        f.h(BOUT),
        f.h(DRESP),
        f.h(ECON),
        f.h(ERESP),
        f.u(CLI_ABRT),
        f.u(SRV_ABRT),
        f.u(WRETR),
        f.u(WREDIS)
    );
    out.push_str("<td class=ac>");
    let full = f.u(CHECK_RISE) + f.u(CHECK_FALL);
    if status.starts_with("MAINT") {
        let _ = write!(out, "{} MAINT", human_time(f.i(LASTCHG)));
    } else if status == "no check" {
        out.push_str("<i>no check</i>");
    } else {
        let _ = write!(out, "{} {}", human_time(f.i(LASTCHG)), status);
        if status.starts_with("DOWN") {
            if f.u(CHECK_HEALTH) != 0 {
                out.push_str(" &uarr;");
            }
        } else if f.u(CHECK_HEALTH) + 1 < full {
            out.push_str(" &darr;");
        }
    }
    if status.starts_with("DOWN") && f.set(AGENT_STATUS) && f.u(AGENT_HEALTH) == 0 {
        last_check(
            out,
            f,
            AGENT_STATUS,
            AGENT_CODE,
            AGENT_DURATION,
            AGENT_DESC,
            LAST_AGT,
        );
    } else if f.set(CHECK_STATUS) {
        last_check(
            out,
            f,
            CHECK_STATUS,
            CHECK_CODE,
            CHECK_DURATION,
            CHECK_DESC,
            LAST_CHK,
        );
    } else {
        out.push_str("</td><td>");
    }
    let bck = f.u(BCK) != 0;
    let _ = write!(
        out,
        "</td><td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        f.u(WEIGHT),
        f.u(UWEIGHT),
        if bck { "-" } else { "Y" },
        if bck { "Y" } else { "-" }
    );
    if status == "MAINT (resolution)" {
        out.push_str("<td class=ac colspan=3>resolution</td>");
    } else if f.set(CHKFAIL) {
        let _ = write!(out, "<td><u>{}", f.u(CHKFAIL));
        if f.set(HANAFAIL) {
            let _ = write!(out, "/{}", f.u(HANAFAIL));
        }
        let _ = write!(
            out,
            "<div class=tips>Failed Health Checks{}</div></u></td><td>{}</td><td>{}</td>",
            if f.set(HANAFAIL) {
                "/Health Analyses"
            } else {
                ""
            },
            f.u(CHKDOWN),
            human_time(f.i(DOWNTIME))
        );
    } else if status != "MAINT" && f.set(TRACKED) {
        let t = f.s(TRACKED);
        let _ = write!(
            out,
            "<td class=ac colspan=3><a class=lfsb href=\"#{t}\">via {t}</a></td>"
        );
    } else {
        out.push_str("<td colspan=3></td>");
    }
    if f.set(THROTTLE) {
        let _ = writeln!(out, "<td class=ac>{} %</td>", f.u(THROTTLE));
    } else {
        out.push_str("<td class=ac>-</td>");
    }
    out.push_str("</tr>\n");
}

/// The "last check" cell (check or agent columns).
fn last_check(
    out: &mut String,
    f: Fields<'_>,
    status: usize,
    code: usize,
    duration: usize,
    desc: usize,
    last: usize,
) {
    let _ = write!(out, "</td><td class=ac><u> {}", f.s(status));
    if f.set(code) {
        let _ = write!(out, "/{}", f.u(code));
    }
    if f.set(duration) {
        let _ = write!(out, " in {}ms", f.u(duration));
    }
    let _ = write!(out, "<div class=tips>{}", f.s(desc));
    if !f.s(last).is_empty() {
        let _ = write!(out, ": {}", html_encode(f.s(last)));
    }
    out.push_str("</div></u>");
}

fn backend(out: &mut String, f: Fields<'_>, admin: bool, legends: bool) {
    let http = f.s(MODE) == "http";
    let px = f.s(PXNAME);
    out.push_str("<tr class=\"backend\">");
    if admin {
        out.push_str("<td></td>");
    }
    let _ = write!(
        out,
        "<td class=ac>{}<a name=\"{px}/Backend\"></a><a class=lfsb href=\"#{px}/Backend\">Backend</a>",
        if legends { "<u>" } else { "" }
    );
    if legends {
        let _ = write!(out, "<div class=tips>balancing: {}", f.s(ALGO));
        if f.set(COOKIE) {
            let _ = write!(out, ", cookie: '{}'", html_encode(f.s(COOKIE)));
        }
        out.push_str("</div>");
    }
    let _ = write!(
        out,
        "{}</td><td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td><td></td>",
        if legends { "</u>" } else { "" },
        f.h(QCUR),
        f.h(QMAX),
        f.h(RATE),
        f.h(RATE_MAX)
    );
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td><u>{}<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        f.h(SCUR),
        f.h(SMAX),
        f.h(SLIM),
        f.h(STOT),
        f.h(STOT)
    );
    if http {
        let _ = write!(
            out,
            "<tr><th>New connections:</th><td>{}</td></tr><tr><th>Reused connections:</th><td>{}</td><td>({}%)</td></tr>",
            f.h(CONNECT),
            f.h(REUSE),
            pct(f.u(REUSE), f.u(CONNECT) + f.u(REUSE))
        );
        http_totals(out, f, false);
    }
    timings(out, f, http);
    let _ = write!(
        out,
        "</table></div></u></td><td>{}</td><td>{}</td><td>{}</td>",
        f.h(LBTOT),
        human_time(f.i(LASTSESS)),
        f.h(BIN)
    );
    bytes_out(out, f);
    let status = f.s(STATUS);
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td></td><td>{}</td><td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td><td>{}</td><td>{}</td><td class=ac>{} {}</td><td class=ac>&nbsp;</td><td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        f.h(DREQ),
        f.h(DRESP),
        f.h(ECON),
        f.h(ERESP),
        f.u(CLI_ABRT),
        f.u(SRV_ABRT),
        f.u(WRETR),
        f.u(WREDIS),
        human_time(f.i(LASTCHG)),
        if status == "DOWN" {
            "<font color=\"red\"><b>DOWN</b></font>"
        } else {
            status
        },
        f.u(WEIGHT),
        f.u(UWEIGHT),
        f.u(ACT),
        f.u(BCK)
    );
    let _ = write!(
        out,
        "<td class=ac>&nbsp;</td><td>{}</td><td>{}</td><td></td>",
        f.u(CHKDOWN),
        if f.set(DOWNTIME) {
            human_time(f.i(DOWNTIME))
        } else {
            "&nbsp;".into()
        }
    );
    out.push_str("</tr>");
}
