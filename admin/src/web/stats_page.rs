//! The stats page behind `stats uri` (HAProxy 2.6's `http_handle_stats`
//! and `http_stats_io_handler`): Basic auth (`stats auth`, `stats realm`),
//! the `;csv`, `;typed`, `;json`, `;json-schema`, `;up`, `;no-maint`,
//! `;norefresh`, `;st=` and `scope=` options, the `refresh:` header, and
//! the admin actions posted by the page when `stats admin if <cond>`
//! holds (answered with a 303 to the page, as HAProxy does).

use base64::Engine;
use switchyard_config::StatsPage;
use switchyard_state::{ProxyIdx, ServiceRequest, SimpleResponse, Snapshot, Store};

use super::html::{self, PageOpts, SCOPE_MAXLEN};
use super::stats_post;
use crate::command::Format;
use crate::ctx::AdminCtx;
use crate::render::stat::render as render_stat;
use crate::render::stat_rows::{collect, Row, RowCtx, RowFilter};

const UNAUTHORIZED_BODY: &str =
    "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";

const SCHEMA: &str = include_str!("../render/schema.json.txt");

/// Result codes of admin actions (`stat_status_codes`), all 4 letters.
const ST_CODES: [&str; 8] = [
    "DENY", "DONE", "ERRP", "EXCD", "NONE", "PART", "UNKN", "IVAL",
];

#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
enum Output {
    #[default]
    Html,
    Csv,
    Typed,
    Json,
    JsonSchema,
}

/// Options found after the `stats uri` prefix. HAProxy looks for each
/// `;word` anywhere in the rest of the request target, in this order of
/// precedence (later formats win).
#[derive(Debug, Default, PartialEq, Eq)]
struct UriOpts {
    output: Output,
    up: bool,
    no_maint: bool,
    norefresh: bool,
    status: Option<&'static str>,
    scope: Option<String>,
}

fn uri_opts(rest: &str, refresh_configured: bool) -> UriOpts {
    let mut o = UriOpts {
        up: rest.contains(";up"),
        no_maint: rest.contains(";no-maint"),
        norefresh: refresh_configured && rest.contains(";norefresh"),
        ..UriOpts::default()
    };
    if rest.contains(";csv") {
        o.output = Output::Csv;
    }
    if rest.contains(";typed") {
        o.output = Output::Typed;
    }
    if rest.contains(";json") {
        o.output = Output::Json;
    }
    if rest.contains(";json-schema") {
        o.output = Output::JsonSchema;
    }
    if let Some(i) = rest.find(";st=") {
        let code = rest.get(i + 4..i + 8).unwrap_or("");
        if code.len() == 4 {
            o.status = Some(
                ST_CODES
                    .iter()
                    .find(|c| **c == code)
                    .copied()
                    .unwrap_or("UNKN"),
            );
        }
    }
    if let Some(i) = rest.find("scope=") {
        let v: String = rest[i + 6..]
            .chars()
            .take_while(|c| !matches!(c, ';' | '&' | ' '))
            .take(SCOPE_MAXLEN)
            .collect();
        // `invalid_char`: a bad character (or nothing) clears the scope.
        if !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-'))
        {
            o.scope = Some(v);
        }
    }
    o
}

fn authorized(page: &StatsPage, header: Option<&str>) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(h) = header else { return false };
    let Some((scheme, b64)) = h.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
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

fn default_page() -> StatsPage {
    StatsPage {
        uri: "/haproxy?stats".into(),
        realm: "HAProxy Statistics".into(),
        auth: Vec::new(),
        refresh: None,
        hide_version: false,
        show_legends: false,
        show_node: false,
        admin: None,
    }
}

fn unauthorized(page: &StatsPage) -> SimpleResponse {
    SimpleResponse {
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
    }
}

/// The 303 HAProxy answers a POST with, so a reload never re-posts.
fn redirect(page: &StatsPage, st: &str, o: &UriOpts) -> SimpleResponse {
    let location = format!(
        "{};st={st}{}{}{}",
        page.uri,
        if o.up { ";up" } else { "" },
        if o.norefresh { ";norefresh" } else { "" },
        o.scope
            .as_deref()
            .map(|s| format!("?scope={s}"))
            .unwrap_or_default()
    );
    SimpleResponse {
        status: 303,
        headers: vec![
            ("cache-control".into(), "no-cache".into()),
            ("content-type".into(), "text/plain".into()),
            ("content-length".into(), "0".into()),
            ("location".into(), location),
        ],
        body: Vec::new(),
    }
}

/// Render the page (or its CSV/typed/JSON form), or apply a posted admin
/// action.
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
        .unwrap_or_else(default_page);
    if !authorized(&page, req.authorization) {
        return unauthorized(&page);
    }
    let rest = req.uri.strip_prefix(page.uri.as_str()).unwrap_or(req.uri);
    let opts = uri_opts(rest, page.refresh.is_some());
    if req.method == "POST" {
        let st = if req.admin_allowed {
            stats_post::apply(store, req.body)
        } else {
            "DENY"
        };
        return redirect(&page, st, &opts);
    }
    let rows: Vec<Row> = collect(
        snap,
        RowCtx {
            now_ms: switchyard_state::now_ms(),
            // Over HTTP, `addr`, `cookie` and `algo` need `stats show-legends`.
            show_legends: page.show_legends,
        },
        RowFilter {
            bound: None,
            hide_down: opts.up,
            hide_maint: opts.no_maint,
        },
    );
    let scoped = |rows: Vec<Row>| -> Vec<Row> {
        match &opts.scope {
            None => rows,
            Some(s) => {
                let s = s.to_ascii_lowercase();
                rows.into_iter()
                    .filter(|r| {
                        snap.proxy(r.px)
                            .is_some_and(|p| p.name.to_ascii_lowercase().contains(&s))
                    })
                    .collect()
            }
        }
    };
    let (ctype, body) = match opts.output {
        Output::Csv => ("text/plain", render_stat(&scoped(rows), Format::Csv, false)),
        Output::Typed => (
            "text/plain",
            render_stat(&scoped(rows), Format::Typed, false),
        ),
        Output::Json => (
            "application/json",
            render_stat(&scoped(rows), Format::Json, false),
        ),
        Output::JsonSchema => (
            "application/json",
            SCHEMA
                .strip_suffix("\n\n")
                .map_or(SCHEMA.to_string(), |s| format!("{s}\n")),
        ),
        Output::Html => {
            let o = PageOpts {
                uri: &page.uri,
                hide_version: page.hide_version,
                node: page.show_node.then_some(ctx.node.as_str()),
                legends: page.show_legends,
                admin: req.admin_allowed,
                hide_down: opts.up,
                no_refresh: opts.norefresh,
                refresh_configured: page.refresh.is_some(),
                status: opts.status,
                scope: opts.scope.as_deref(),
            };
            ("text/html", html::render(ctx, snap, &rows, &o))
        }
    };
    let mut headers = vec![
        ("cache-control".to_string(), "no-cache".to_string()),
        ("content-type".to_string(), ctype.to_string()),
    ];
    if let Some(r) = page.refresh.filter(|_| !opts.norefresh) {
        headers.push(("refresh".into(), r.as_secs().to_string()));
    }
    SimpleResponse {
        status: 200,
        headers,
        // HEAD: the proxy sends the headers only.
        body: body.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = uri_opts(";csv;norefresh", true);
        assert!(o.output == Output::Csv && o.norefresh && !o.up);
        assert!(!uri_opts(";norefresh", false).norefresh);
        assert_eq!(uri_opts(";st=DONE", false).status, Some("DONE"));
        assert_eq!(uri_opts(";st=XYZW", false).status, Some("UNKN"));
        assert_eq!(uri_opts(";json-schema", false).output, Output::JsonSchema);
        assert_eq!(uri_opts(";csv;json", false).output, Output::Json);
        assert_eq!(uri_opts("?scope=blu", false).scope.as_deref(), Some("blu"));
        assert_eq!(uri_opts("?scope=b<x", false).scope, None);
    }

    #[test]
    fn basic_auth() {
        let mut p = default_page();
        p.auth = vec![("admin".into(), "admin".into())];
        assert!(authorized(&p, Some("Basic YWRtaW46YWRtaW4=")));
        assert!(authorized(&p, Some("basic YWRtaW46YWRtaW4=")));
        assert!(!authorized(&p, Some("Basic YWRtaW46eA==")));
        assert!(!authorized(&p, Some("Basic !!!")));
        assert!(!authorized(&p, None));
    }
}
