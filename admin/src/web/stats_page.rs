//! The stats page behind `stats uri`: Basic auth (`stats auth`, `stats
//! realm`), `;csv`, `;json`, `;up`, `;norefresh`, the `refresh:` header,
//! `stats hide-version`, and the admin actions posted by the page when
//! `stats admin if <cond>` holds.

use std::sync::atomic::Ordering::Relaxed;

use base64::Engine;
use switchyard_config::StatsPage;
use switchyard_health::{admin_state_changed, force_health, set_checks_enabled, Forced};
use switchyard_state::{AdminState, ProxyIdx, ServiceRequest, SimpleResponse, Snapshot, Store};

use super::html::{self, PageOpts};
use crate::command::Format;
use crate::ctx::AdminCtx;
use crate::render::stat::render as render_stat;
use crate::render::stat_rows::{collect, RowCtx, RowFilter};

const UNAUTHORIZED_BODY: &str =
    "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";

/// Options found after the `stats uri` prefix.
#[derive(Debug, Default, PartialEq, Eq)]
struct UriOpts {
    csv: bool,
    json: bool,
    up: bool,
    no_maint: bool,
    norefresh: bool,
    status: Option<String>,
}

fn uri_opts(uri: &str) -> UriOpts {
    let mut o = UriOpts::default();
    for part in uri.split([';', '?', '&']) {
        match part {
            "csv" => o.csv = true,
            "json" => o.json = true,
            "up" => o.up = true,
            "no-maint" => o.no_maint = true,
            "norefresh" => o.norefresh = true,
            p => {
                if let Some(st) = p.strip_prefix("st=") {
                    o.status = Some(st.to_string());
                }
            }
        }
    }
    o
}

fn authorized(page: &StatsPage, header: Option<&str>) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(h) = header else { return false };
    let Some(b64) = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(raw) else {
        return false;
    };
    let Some((u, p)) = text.split_once(':') else {
        return false;
    };
    page.auth.iter().any(|(au, ap)| au == u && ap == p)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Render the page (or its CSV/JSON form), or apply a posted admin action.
pub fn stats_page(
    ctx: &AdminCtx,
    store: &Store,
    snap: &Snapshot,
    fe: ProxyIdx,
    req: &ServiceRequest<'_>,
) -> SimpleResponse {
    let page = snap
        .proxy(fe)
        .and_then(|p| p.cfg.frontend.as_ref())
        .and_then(|f| f.stats.clone())
        .unwrap_or_else(|| StatsPage {
            uri: "/haproxy?stats".into(),
            realm: "HAProxy Statistics".into(),
            auth: Vec::new(),
            refresh: None,
            hide_version: false,
            show_legends: false,
            show_node: false,
            admin: None,
        });
    if !authorized(&page, req.authorization) {
        return SimpleResponse {
            status: 401,
            headers: vec![
                ("content-length".into(), UNAUTHORIZED_BODY.len().to_string()),
                ("cache-control".into(), "no-cache".into()),
                ("content-type".into(), "text/html".into()),
                (
                    "www-authenticate".into(),
                    format!("Basic realm=\"{}\"", page.realm),
                ),
            ],
            body: UNAUTHORIZED_BODY.as_bytes().to_vec(),
        };
    }
    let rest = req.uri.strip_prefix(page.uri.as_str()).unwrap_or(req.uri);
    let opts = uri_opts(rest);
    if req.method == "POST" {
        let st = if req.admin_allowed {
            apply_form(store, req.body)
        } else {
            "DENY"
        };
        return SimpleResponse {
            status: 303,
            headers: vec![
                ("cache-control".into(), "no-cache".into()),
                ("content-type".into(), "text/plain".into()),
                ("location".into(), format!("{};st={st}", page.uri)),
            ],
            body: Vec::new(),
        };
    }
    let rctx = RowCtx {
        now_ms: switchyard_state::now_ms(),
        show_legends: true,
    };
    let rows = collect(
        snap,
        rctx,
        RowFilter {
            bound: None,
            hide_down: opts.up,
            hide_maint: opts.no_maint,
        },
    );
    let mut headers = vec![("cache-control".to_string(), "no-cache".to_string())];
    let (ctype, body) = if opts.csv {
        ("text/plain", render_stat(&rows, Format::Csv, false))
    } else if opts.json {
        ("application/json", render_stat(&rows, Format::Json, false))
    } else {
        let o = PageOpts {
            uri: &page.uri,
            hide_version: page.hide_version,
            admin: req.admin_allowed,
            hide_down: opts.up,
            refresh: page.refresh.is_some() && !opts.norefresh,
            status: opts.status.as_deref(),
        };
        ("text/html", html::render(ctx, snap, &rows, &o))
    };
    headers.push(("content-type".into(), ctype.into()));
    if let Some(r) = page.refresh.filter(|_| !opts.norefresh) {
        headers.push(("refresh".into(), r.as_secs().to_string()));
    }
    SimpleResponse {
        status: 200,
        headers,
        body: body.into_bytes(),
    }
}

/// Apply `s=<server>&...&action=<a>&b=#<iid>` from the page's form.
/// Returns HAProxy's `st=` code.
fn apply_form(store: &Store, body: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(body);
    let mut servers = Vec::new();
    let mut action = String::new();
    let mut backend = String::new();
    for kv in text.split('&') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "s" => servers.push(percent_decode(v)),
            "action" => action = percent_decode(v),
            "b" => backend = percent_decode(v),
            _ => {}
        }
    }
    let snap = store.load_full();
    let Some(p) = crate::exec::lookup::backend(&snap, &backend) else {
        return "UNKN";
    };
    if servers.is_empty() || action.is_empty() {
        return "NONE";
    }
    let mut done = 0;
    for name in &servers {
        let Some(si) = snap
            .proxy(p)
            .and_then(|x| x.backend.as_ref())
            .and_then(|b| b.servers.iter().position(|s| &*s.name == name))
        else {
            continue;
        };
        let s = switchyard_state::ServerIdx(si as u32);
        let ok = match action.as_str() {
            "ready" => set_admin(store, p, s, 0, AdminState::FMAINT | AdminState::FDRAIN),
            "drain" => set_admin(store, p, s, AdminState::FDRAIN, AdminState::FMAINT),
            "maint" => set_admin(store, p, s, AdminState::FMAINT, AdminState::FDRAIN),
            "dhlth" => set_checks_enabled(&snap, p, s, false).is_ok(),
            "ehlth" => set_checks_enabled(&snap, p, s, true).is_ok(),
            "hrunn" => force_health(&snap, p, s, Forced::Up).is_ok(),
            "hnolb" => force_health(&snap, p, s, Forced::Stopping).is_ok(),
            "hdown" => force_health(&snap, p, s, Forced::Down).is_ok(),
            "shutdown" => snap
                .server(p, s)
                .map(|sv| sv.live.shutdown_gen.fetch_add(1, Relaxed))
                .is_some(),
            _ => return "UNKN",
        };
        if ok {
            done += 1;
        }
    }
    match done {
        0 => "NONE",
        n if n == servers.len() => "DONE",
        _ => "PART",
    }
}

fn set_admin(
    store: &Store,
    p: ProxyIdx,
    s: switchyard_state::ServerIdx,
    set: u8,
    clear: u8,
) -> bool {
    let r: Result<(Snapshot, Snapshot), ()> = store.update(|snap| {
        let before = snap.clone();
        let sv = snap.server_mut(p, s).ok_or(())?;
        sv.admin.clear(clear);
        sv.admin.set(set);
        Ok((before, snap.clone()))
    });
    match r {
        Ok((b, a)) => admin_state_changed(&b, &a, p, s).is_ok(),
        Err(()) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = uri_opts(";csv;norefresh");
        assert!(o.csv && o.norefresh && !o.up);
        assert_eq!(uri_opts(";st=DONE").status.as_deref(), Some("DONE"));
        assert_eq!(percent_decode("%23a+b"), "#a b");
    }
}
