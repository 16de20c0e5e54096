//! The HTML stats page, a port of HAProxy 2.6's `stats_dump_html_head`,
//! `stats_dump_html_info`, `stats_dump_html_px_hdr/end`: same markup,
//! stylesheet and state colours, one table per proxy with its frontend,
//! listeners, servers and backend, and the admin form when `stats admin`
//! allows it. Rows come from [`super::html_row`].

use std::fmt::Write;

use switchyard_config::{Mode, ProxyKind};
use switchyard_state::{ProxyRt, Snapshot};

use super::html_row;
use crate::ctx::AdminCtx;
use crate::render::field::Val;
use crate::render::fields_table::INFO_FIELDS;
use crate::render::info::info_values;
use crate::render::stat_rows::Row;

const STYLE: &str = include_str!("stats.css.txt");

/// `STAT_SCOPE_TXT_MAXLEN`.
pub const SCOPE_MAXLEN: usize = 20;

/// Options of one page render (HAProxy's `STAT_*` flags and `st_code`).
#[derive(Debug, Default)]
pub struct PageOpts<'a> {
    /// The `stats uri` prefix.
    pub uri: &'a str,
    pub hide_version: bool,
    /// `stats show-node`: the node name shown in the title.
    pub node: Option<&'a str>,
    /// `stats show-legends`: tooltips with addresses, ids, algorithms.
    pub legends: bool,
    /// `stats admin` matched: checkboxes and the action form.
    pub admin: bool,
    /// `;up`.
    pub hide_down: bool,
    /// `;norefresh` (only honoured when `stats refresh` is set).
    pub no_refresh: bool,
    /// `stats refresh` is configured.
    pub refresh_configured: bool,
    /// `;st=XXXX`: the result code of a previous admin action.
    pub status: Option<&'a str>,
    /// `scope=<text>`: only proxies whose name contains it.
    pub scope: Option<&'a str>,
}

impl PageOpts<'_> {
    fn up(&self) -> &'static str {
        if self.hide_down {
            ";up"
        } else {
            ""
        }
    }
    fn norefresh(&self) -> &'static str {
        if self.no_refresh {
            ";norefresh"
        } else {
            ""
        }
    }
    /// `STAT_SCOPE_PATTERN` + the scope, or nothing.
    pub fn scope_suffix(&self) -> String {
        self.scope
            .map(|s| format!("?scope={s}"))
            .unwrap_or_default()
    }
}

/// Whether a proxy name matches the page's scope (`strnistr`).
fn in_scope(name: &str, scope: Option<&str>) -> bool {
    match scope {
        None => true,
        Some(s) => name.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
    }
}

/// Render the whole page.
pub fn render(ctx: &AdminCtx, snap: &Snapshot, rows: &[Row], o: &PageOpts<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, o);
    info(&mut out, ctx, snap, o);
    for (i, px) in snap.proxies.iter().enumerate() {
        if px.cfg.disabled || !in_scope(&px.name, o.scope) {
            continue;
        }
        let mine: Vec<&Row> = rows.iter().filter(|r| r.px.0 as usize == i).collect();
        proxy_hdr(&mut out, px, o);
        for r in mine {
            html_row::row(&mut out, r, o.admin, o.legends);
        }
        proxy_end(&mut out, px, o);
    }
    out.push_str("</body></html>\n");
    out
}

fn head(out: &mut String, o: &PageOpts<'_>) {
    let _ = write!(
        out,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n<html><head><title>Statistics Report for HAProxy{}{}</title>\n<link rel=\"icon\" href=\"data:,\">\n<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n",
        if o.node.is_some() { " on " } else { "" },
        o.node.unwrap_or("")
    );
    out.push_str(STYLE);
}

/// The general process information block, legend and display options.
fn info(out: &mut String, ctx: &AdminCtx, snap: &Snapshot, o: &PageOpts<'_>) {
    let vals = info_values(ctx, snap);
    let get = |name: &str| -> u64 {
        match INFO_FIELDS
            .iter()
            .position(|f| f.0 == name)
            .and_then(|i| vals.get(i))
        {
            Some(Val::U32(n)) => u64::from(*n),
            Some(Val::U64(n)) => *n,
            _ => 0,
        }
    };
    let up = ctx.uptime_secs();
    // Bytes/s to bits/s on the wire (Ethernet framing), as HAProxy shows it.
    let bps = get("BytesOutRate") * 8 * 1538 / 1448;
    let (rate, unit) = if bps >= 1_000_000_000 {
        (bps as f64 / 1e9, 'G')
    } else if bps >= 1_000_000 {
        (bps as f64 / 1e6, 'M')
    } else {
        (bps as f64 / 1e3, 'k')
    };
    let memmax = get("Memmax_MB");
    let version = if o.hide_version {
        String::new()
    } else {
        format!(" version {}, released {}", ctx.version, ctx.release_date)
    };
    let _ = write!(
        out,
        "<body><h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy{version}</a></h1>\n<h2>Statistics Report for pid {pid}{on}{node}</h2>\n<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n<p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = {nbt})<br>\n<b>uptime = </b> {d}d {h}h{m:02}m{s:02}s<br>\n<b>system limits:</b> memmax = {mm}{mmu}; ulimit-n = {ulim}<br>\n<b>maxsock = </b> {maxsock}; <b>maxconn = </b> {maxconn}; <b>maxpipes = </b> {maxpipes}<br>\ncurrent conns = {cur}; current pipes = {pu}/{pt}; conn rate = {cr}/sec; bit rate = {rate:.3} {unit}bps<br>\nRunning tasks: {rq}/{tasks}; idle = {idle} %<br>\n</td><td align=\"center\" nowrap>\n",
        pid = ctx.pid,
        on = if o.node.is_some() { " on " } else { "" },
        node = o.node.unwrap_or(""),
        nbt = ctx.nbthread,
        d = up / 86400,
        h = (up % 86400) / 3600,
        m = (up % 3600) / 60,
        s = up % 60,
        mm = if memmax == 0 {
            "unlimited".to_string()
        } else {
            memmax.to_string()
        },
        mmu = if memmax == 0 { "" } else { " MB" },
        ulim = get("Ulimit-n"),
        maxsock = get("Maxsock"),
        maxconn = get("Maxconn"),
        maxpipes = get("Maxpipes"),
        cur = get("CurrConns"),
        pu = get("PipesUsed"),
        pt = get("PipesUsed") + get("PipesFree"),
        cr = get("ConnRate"),
        rq = get("Run_queue"),
        tasks = get("Tasks"),
        idle = get("Idle_pct"),
    );
    out.push_str("<table class=\"lgd\"><tr>\n<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\nNote: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">");
    display_options(out, o);
    out.push_str("</ul></td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n<li><a href=\"http://www.haproxy.org/\">Primary site</a><br>\n<li><a href=\"http://www.haproxy.org/#down\">Updates (v2.6)</a><br>\n<li><a href=\"http://www.haproxy.org/#docs\">Online manual</a><br>\n</ul></td></tr></table>\n");
    if let Some(st) = o.status {
        status_message(out, st, o);
    }
}

fn display_options(out: &mut String, o: &PageOpts<'_>) {
    let u = o.uri;
    let sc = o.scope_suffix();
    let _ = writeln!(
        out,
        "<li><form method=\"GET\">Scope : <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"{SCOPE_MAXLEN}\" tabindex=\"1\"/></form>",
        o.scope.unwrap_or("")
    );
    if o.hide_down {
        let _ = writeln!(
            out,
            "<li><a href=\"{u}{}{sc}\">Show all servers</a><br>",
            o.norefresh()
        );
    } else {
        let _ = writeln!(
            out,
            "<li><a href=\"{u};up{}{sc}\">Hide 'DOWN' servers</a><br>",
            o.norefresh()
        );
    }
    if o.refresh_configured {
        if o.no_refresh {
            let _ = writeln!(
                out,
                "<li><a href=\"{u}{}{sc}\">Enable refresh</a><br>",
                o.up()
            );
        } else {
            let _ = writeln!(
                out,
                "<li><a href=\"{u}{};norefresh{sc}\">Disable refresh</a><br>",
                o.up()
            );
        }
    }
    let _ = writeln!(
        out,
        "<li><a href=\"{u}{}{}{sc}\">Refresh now</a><br>",
        o.up(),
        o.norefresh()
    );
    let nr = if o.refresh_configured {
        ";norefresh"
    } else {
        ""
    };
    let _ = writeln!(out, "<li><a href=\"{u};csv{nr}{sc}\">CSV export</a><br>");
    let _ = writeln!(
        out,
        "<li><a href=\"{u};json{nr}{sc}\">JSON export</a> (<a href=\"{u};json-schema\">schema</a>)<br>"
    );
}

/// The banner after an admin action (`;st=XXXX`).
fn status_message(out: &mut String, st: &str, o: &PageOpts<'_>) {
    let (class, text) = match st {
        "DONE" => ("active_up", "Action processed successfully."),
        "NONE" => ("active_going_down", "Nothing has changed."),
        "PART" => (
            "active_going_down",
            "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).",
        ),
        "ERRP" => (
            "active_down",
            "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
        ),
        "EXCD" => (
            "active_down",
            "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>",
        ),
        "DENY" => ("active_down", "<b>Action denied.</b>"),
        "IVAL" => (
            "active_down",
            "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
        ),
        _ => ("active_no_check", "Unexpected result."),
    };
    let _ = writeln!(
        out,
        "<p><div class={class}><a class=lfsb href=\"{}{}{}{}\" title=\"Remove this message\">[X]</a> {text}</div>",
        o.uri,
        o.up(),
        o.norefresh(),
        o.scope_suffix()
    );
    out.push_str("<p>\n");
}

fn cap_str(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Listen => "listen",
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
    }
}

fn mode_str(mode: Mode) -> &'static str {
    match mode {
        Mode::Http => "http",
        Mode::Tcp => "tcp",
    }
}

/// A backend with servers gets the admin form.
fn has_servers(px: &ProxyRt) -> bool {
    px.kind.has_backend() && px.backend.as_ref().is_some_and(|b| !b.servers.is_empty())
}

fn proxy_hdr(out: &mut String, px: &ProxyRt, o: &PageOpts<'_>) {
    let name = &*px.name;
    let form = o.admin && has_servers(px);
    if form {
        out.push_str("<form method=\"post\">");
    }
    let _ = write!(
        out,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a>{}<a class=px href=\"#{name}\">{name}</a>",
        if o.legends { "<u>" } else { "" }
    );
    if o.legends {
        let _ = write!(
            out,
            "<div class=tips>cap: {}, mode: {}, id: {}</div>",
            cap_str(px.kind),
            mode_str(px.cfg.mode),
            px.id
        );
    }
    let _ = write!(
        out,
        "{}</th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">",
        if o.legends { "</u>" } else { "" }
    );
    if o.admin {
        if has_servers(px) {
            let _ = write!(
                out,
                "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{name}-checkbox')) document.getElementsByClassName('{name}-checkbox').item(c).checked = this.checked\"></th>"
            );
        } else {
            out.push_str("<th rowspan=2></th>");
        }
    }
    out.push_str("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>");
}

fn proxy_end(out: &mut String, px: &ProxyRt, o: &PageOpts<'_>) {
    out.push_str("</table>");
    if o.admin && has_servers(px) {
        let _ = write!(
            out,
            "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option><option value=\"dagent\">Agent: disable checks</option><option value=\"eagent\">Agent: enable checks</option><option value=\"arunn\">Agent: force UP</option><option value=\"adown\">Agent: force DOWN</option><option value=\"shutdown\">Kill Sessions</option></select><input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
            px.id
        );
    }
    out.push_str("<p>\n");
}
