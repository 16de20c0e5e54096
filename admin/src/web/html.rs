//! The HTML stats page: HAProxy 2.6's layout and stylesheet (state colours
//! included), one table per proxy with its frontend, servers and backend,
//! and the admin form when `stats admin` allows it.

use std::fmt::Write;

use switchyard_state::{OpState, ProxyIdx, Snapshot};

use crate::ctx::AdminCtx;
use crate::render::info::uptime_text;
use crate::render::stat_rows::{Row, RowKind};
use crate::status;

const STYLE: &str = include_str!("stats.css.txt");

/// Options of one page render.
pub struct PageOpts<'a> {
    /// The `stats uri` prefix.
    pub uri: &'a str,
    pub hide_version: bool,
    pub admin: bool,
    /// `;up`: DOWN servers hidden.
    pub hide_down: bool,
    pub refresh: bool,
    /// `;st=...` result of a previous admin action.
    pub status: Option<&'a str>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The CSS class HAProxy gives a server row.
pub fn server_class(snap: &Snapshot, row: &Row) -> &'static str {
    let Some(sv) = row.server.and_then(|s| snap.server(row.px, s)) else {
        return "active_no_check";
    };
    if sv.admin.is_maint() {
        return "maintain";
    }
    let f = status::ServerFacts::of(snap, sv);
    let bk = sv.cfg.backup;
    let pick = |a: &'static str, b: &'static str| if bk { b } else { a };
    if sv.admin.is_drain() || sv.live.op_state() == OpState::Stopping {
        return pick("active_draining", "backup_draining");
    }
    if !f.check_enabled {
        return if sv.live.op_state() == OpState::Stopped {
            pick("active_down", "backup_down")
        } else {
            pick("active_no_check", "backup_no_check")
        };
    }
    let full = f.rise + f.fall - 1;
    match sv.live.op_state() {
        OpState::Stopped if f.health == 0 => pick("active_down", "backup_down"),
        OpState::Stopped => pick("active_going_up", "backup_going_up"),
        _ if f.health < full => pick("active_going_down", "backup_going_down"),
        _ => pick("active_up", "backup_up"),
    }
}

fn td(out: &mut String, v: &str) {
    let _ = write!(out, "<td>{}</td>", esc(v));
}

fn header(out: &mut String) {
    out.push_str("<tr class=\"titre\"><th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n");
    out.push_str("<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>");
}

/// One table row: the same facts as the CSV line.
fn row_html(out: &mut String, snap: &Snapshot, r: &Row, px: &str, admin: bool) {
    let (class, label) = match r.kind {
        RowKind::Frontend => ("frontend", "Frontend".to_string()),
        RowKind::Backend => ("backend", "Backend".to_string()),
        RowKind::Listener => ("socket", r.text(1)),
        RowKind::Server => (server_class(snap, r), r.text(1)),
    };
    let _ = write!(out, "<tr class=\"{class}\">");
    if admin {
        if r.kind == RowKind::Server {
            let _ = write!(
                out,
                "<td><input class={px}-checkbox type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
                esc(&label)
            );
        } else {
            out.push_str("<td></td>");
        }
    }
    let _ = write!(
        out,
        "<td class=ac><a name=\"{p}/{l}\"></a><a class=lfsb href=\"#{p}/{l}\">{l}</a></td>",
        p = esc(px),
        l = esc(&label)
    );
    let t = |i: usize| r.text(i);
    let status = t(17);
    let lastchg = t(23)
        .parse::<u64>()
        .map(|s| format!("{} {}", uptime_short(s), status))
        .unwrap_or(status.clone());
    let lastchk = match (t(36).is_empty(), t(37).is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("{} in {}ms", t(36), t(38)),
        (false, false) => format!("{}/{} in {}ms", t(36), t(37), t(38)),
    };
    let cells: Vec<String> = vec![
        t(2),
        t(3),
        t(25),
        t(33),
        t(35),
        t(34),
        t(4),
        t(5),
        t(6),
        t(7),
        t(30),
        t(55),
        t(8),
        t(9),
        t(10),
        t(11),
        t(12),
        t(13),
        t(14),
        t(15),
        t(16),
        if r.kind == RowKind::Frontend || r.kind == RowKind::Listener {
            status
        } else {
            lastchg
        },
        lastchk,
        t(18),
        t(19),
        t(20),
        t(21),
        t(22),
        t(24),
        t(29),
    ];
    for c in &cells {
        td(out, c);
    }
    out.push_str("</tr>\n");
}

fn uptime_short(s: u64) -> String {
    if s >= 86400 {
        format!("{}d{}h", s / 86400, (s % 86400) / 3600)
    } else if s >= 3600 {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Render the whole page.
pub fn render(ctx: &AdminCtx, snap: &Snapshot, rows: &[Row], o: &PageOpts<'_>) -> String {
    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n<html><head><title>Statistics Report for HAProxy</title>\n<link rel=\"icon\" href=\"data:,\">\n<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n");
    out.push_str(STYLE);
    out.push_str("<body>");
    if o.hide_version {
        out.push_str("<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy</a></h1>\n");
    } else {
        let _ = writeln!(
            out,
            "<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy version {}, released {}</a></h1>",
            esc(&ctx.version),
            esc(&ctx.release_date)
        );
    }
    let _ = writeln!(out, "<h2>Statistics Report for pid {}</h2>", ctx.pid);
    out.push_str("<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n");
    let maxconn = ctx.maxconn.load(std::sync::atomic::Ordering::Relaxed);
    let _ = write!(
        out,
        "<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n<p><b>pid = </b> {} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}<br>\n<b>system limits:</b> memmax = unlimited; ulimit-n = {}<br>\n<b>maxsock = </b> {}; <b>maxconn = </b> {}; <b>maxpipes = </b> 0<br>\n</td>",
        ctx.pid,
        ctx.nbthread,
        uptime_text(ctx.uptime_secs()),
        ctx.ulimit_n,
        ctx.ulimit_n,
        maxconn
    );
    out.push_str("<td align=\"center\" nowrap>\n<table class=\"lgd\"><tr>\n<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\nNote: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>");
    let u = esc(o.uri);
    let _ = write!(
        out,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">\n<li><a href=\"{u}{}\">{}</a><br>\n<li><a href=\"{u}{}\">{}</a><br>\n<li><a href=\"{u}\">Refresh now</a><br>\n<li><a href=\"{u};csv;norefresh\">CSV export</a><br>\n<li><a href=\"{u};json;norefresh\">JSON export</a><br>\n</ul></td></tr></table>\n",
        if o.hide_down { "" } else { ";up" },
        if o.hide_down { "Show all servers" } else { "Hide 'DOWN' servers" },
        if o.refresh { ";norefresh" } else { "" },
        if o.refresh { "Disable refresh" } else { "Enable refresh" },
    );
    if let Some(st) = o.status {
        let msg = match st {
            "DONE" => "Action processed successfully.",
            "NONE" => "Nothing has changed.",
            "PART" => "Action not processed for every selected server.",
            "DENY" => "Action denied.",
            _ => "Unexpected result.",
        };
        let _ = writeln!(out, "<p><div class=active_up><b>{msg}</b></div>");
    }
    let mut i = 0;
    while i < rows.len() {
        let px = rows[i].px;
        let end = rows[i..]
            .iter()
            .position(|r| r.px != px)
            .map(|n| i + n)
            .unwrap_or(rows.len());
        proxy_table(&mut out, snap, px, &rows[i..end], o);
        i = end;
    }
    out.push_str("</body></html>\n");
    out
}

fn proxy_table(out: &mut String, snap: &Snapshot, px: ProxyIdx, rows: &[Row], o: &PageOpts<'_>) {
    let Some(p) = snap.proxy(px) else { return };
    let name = esc(&p.name);
    let has_servers = rows.iter().any(|r| r.kind == RowKind::Server);
    let admin = o.admin && has_servers;
    if admin {
        let _ = writeln!(out, "<form method=\"post\">");
    }
    let _ = write!(
        out,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a><a class=px href=\"#{name}\">{name}</a></th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n"
    );
    if admin {
        out.push_str("<tr class=\"titre\"><th rowspan=2 width=1></th>");
        let mut h = String::new();
        header(&mut h);
        out.push_str(h.trim_start_matches("<tr class=\"titre\">"));
    } else {
        header(out);
    }
    for r in rows {
        row_html(out, snap, r, &p.name, admin);
    }
    out.push_str("</table>\n");
    if admin {
        let _ = write!(
            out,
            "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option><option value=\"shutdown\">Kill Sessions</option></select><input type=\"hidden\" name=\"b\" value=\"#{}\"><input type=\"submit\" value=\"Apply\"></form>",
            p.id
        );
    }
    out.push_str("<p>\n");
}
