//! Sticky-session cookies (`cookie NAME insert|rewrite|prefix ...` with
//! `server ... cookie VALUE`), following HAProxy's request and response
//! cookie processing and its log flags (`%tsc` chars 3 and 4).

use http::header::{HeaderValue, CACHE_CONTROL, COOKIE, SET_COOKIE};
use http::{HeaderMap, Method};
use switchyard_config::{CookieCfg, CookieMode};
use switchyard_state::{AdminState, BackendRt, OpState, ServerIdx};

/// What the request's cookie said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieReq {
    /// The server the cookie designates and may be used (`V`).
    pub(crate) server: Option<ServerIdx>,
    /// Log flag: `N` none, `I` invalid, `D` down, `V` valid.
    pub(crate) flag: u8,
}

/// Look for the persistence cookie, pick its server if it may take
/// persistent traffic, and strip/rewrite the cookie for the server
/// (`insert indirect` removes it; `prefix` removes the `SRV~` prefix).
pub(crate) fn on_request(
    cfg: &CookieCfg,
    be: &BackendRt,
    headers: &mut HeaderMap,
    persist: bool,
) -> CookieReq {
    let mut found: Option<String> = None;
    let strip = cfg.mode == CookieMode::Insert && cfg.indirect;
    let prefix = cfg.mode == CookieMode::Prefix;
    let values: Vec<HeaderValue> = headers.get_all(COOKIE).iter().cloned().collect();
    if values.is_empty() {
        return CookieReq {
            server: None,
            flag: b'N',
        };
    }
    let mut rewritten: Vec<String> = Vec::with_capacity(values.len());
    for v in &values {
        let Ok(s) = v.to_str() else {
            rewritten.push(String::from_utf8_lossy(v.as_bytes()).into_owned());
            continue;
        };
        let mut parts: Vec<String> = Vec::new();
        for kv in s.split(';') {
            let kv_t = kv.trim();
            if kv_t.is_empty() {
                continue;
            }
            let (k, val) = kv_t.split_once('=').unwrap_or((kv_t, ""));
            if k.trim() == cfg.name && found.is_none() {
                let val = val.trim();
                if prefix {
                    match val.split_once('~') {
                        Some((srv, rest)) => {
                            found = Some(srv.to_string());
                            parts.push(format!("{}={}", cfg.name, rest));
                        }
                        None => {
                            found = Some(val.to_string());
                            parts.push(kv_t.to_string());
                        }
                    }
                    continue;
                }
                found = Some(val.to_string());
                if strip {
                    continue;
                }
            }
            parts.push(kv_t.to_string());
        }
        rewritten.push(parts.join("; "));
    }
    let Some(key) = found else {
        return CookieReq {
            server: None,
            flag: b'N',
        };
    };
    if strip || prefix {
        let lines = rewritten
            .into_iter()
            .filter(|r| !r.is_empty())
            .filter_map(|r| HeaderValue::from_str(&r).ok())
            .collect();
        crate::headers::replace_all(headers, &COOKIE, lines);
    }
    let pos = be
        .servers
        .iter()
        .position(|s| s.cfg.cookie.as_deref() == Some(key.as_str()) && !key.is_empty());
    let Some(i) = pos else {
        return CookieReq {
            server: None,
            flag: b'I',
        };
    };
    let s = &be.servers[i];
    // DRAIN, NOLB and weight 0 keep their cookie users; MAINT and DOWN hand
    // them over, unless `option persist` forces a DOWN (not MAINT) server.
    let down_persist = persist
        && !s.admin.has(AdminState::MAINT_MASK)
        && s.addr.is_some()
        && s.live.op_state() == OpState::Stopped;
    if s.accepts_persistent() || down_persist {
        CookieReq {
            server: Some(ServerIdx(i as u32)),
            flag: b'V',
        }
    } else {
        CookieReq {
            server: None,
            flag: b'D',
        }
    }
}

/// Whether the log shows cookie flags (`%tsc`'s last two): HAProxy
/// writes `--` for a passive cookie without `indirect`.
pub(crate) fn flags_logged(cfg: &CookieCfg) -> bool {
    cfg.mode != CookieMode::Passive || cfg.indirect
}

/// Response-side processing; returns the response log flag (`N`, `P`,
/// `D`, `I`, `R`). `direct` is true when the request went to the server
/// its valid cookie named (then `insert` sets nothing).
pub(crate) fn on_response(
    cfg: &CookieCfg,
    server_cookie: Option<&str>,
    direct: bool,
    method: &Method,
    status: u16,
    headers: &mut HeaderMap,
) -> u8 {
    let (found, mut flag) = server_set_cookies(cfg, server_cookie, direct, headers);
    if cfg.mode != CookieMode::Insert
        || direct
        || (found && cfg.preserve)
        || (cfg.postonly && method != Method::POST)
    {
        return flag;
    }
    let cacheable = is_cacheable(method, status, headers);
    let mut c = match server_cookie {
        Some(v) => format!("{}={}; path=/", cfg.name, v),
        None => format!(
            "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
            cfg.name
        ),
    };
    for d in &cfg.domain {
        c.push_str("; domain=");
        c.push_str(d);
    }
    if cfg.httponly {
        c.push_str("; HttpOnly");
    }
    if cfg.secure {
        c.push_str("; Secure");
    }
    for a in &cfg.attr {
        c.push_str("; ");
        c.push_str(a);
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        headers.append(SET_COOKIE, v);
        flag = b'I';
    }
    if cfg.nocache && cacheable {
        headers.append(CACHE_CONTROL, HeaderValue::from_static("private"));
    }
    flag
}

/// The server's own `Set-Cookie` of the persistence cookie, as HAProxy
/// handles it: noted (`P`), left alone with `preserve`, deleted (`D`)
/// where HAProxy inserts its own (insert mode) or on a direct access with
/// `indirect`, else rewritten (`R`) in rewrite and prefix modes. Whether
/// the server set it, and the log flag so far.
fn server_set_cookies(
    cfg: &CookieCfg,
    server_cookie: Option<&str>,
    direct: bool,
    headers: &mut HeaderMap,
) -> (bool, u8) {
    let named = |v: &HeaderValue| {
        v.to_str().ok().is_some_and(|s| {
            let first = s.split(';').next().unwrap_or("");
            first
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == cfg.name)
        })
    };
    if !headers.get_all(SET_COOKIE).iter().any(named) {
        return (false, b'N');
    }
    if cfg.preserve {
        return (true, b'P');
    }
    let delete = cfg.mode == CookieMode::Insert || (direct && cfg.indirect);
    let mut flag = b'P';
    let lines = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| {
            if !named(v) {
                return Some(v.clone());
            }
            if delete {
                flag = b'D';
                return None;
            }
            let new = match (cfg.mode, server_cookie) {
                (CookieMode::Rewrite | CookieMode::Prefix, Some(sc)) => v
                    .to_str()
                    .ok()
                    .and_then(|s| rewrite_set_cookie(s, cfg, sc))
                    .and_then(|n| HeaderValue::from_str(&n).ok()),
                _ => None,
            };
            match new {
                Some(n) => {
                    flag = b'R';
                    Some(n)
                }
                None => Some(v.clone()),
            }
        })
        .collect();
    crate::headers::replace_all(headers, &SET_COOKIE, lines);
    (true, flag)
}

fn rewrite_set_cookie(s: &str, cfg: &CookieCfg, server_cookie: &str) -> Option<String> {
    let (first, rest) = match s.find(';') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let (k, v) = first.split_once('=')?;
    if k.trim() != cfg.name {
        return None;
    }
    let nv = match cfg.mode {
        CookieMode::Rewrite => server_cookie.to_string(),
        _ => format!("{}~{}", server_cookie, v.trim()),
    };
    Some(format!("{}={}{}", k.trim(), nv, rest))
}

/// HAProxy's idea of a cacheable response (`TX_CACHEABLE`): a cacheable
/// method and status, and no cache-control forbidding it.
fn is_cacheable(method: &Method, status: u16, h: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    if !matches!(
        status,
        200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
    ) {
        return false;
    }
    if h.contains_key(SET_COOKIE) {
        return false;
    }
    !h.get_all(CACHE_CONTROL).iter().any(|v| {
        let s = v.to_str().unwrap_or("").to_ascii_lowercase();
        s.contains("private") || s.contains("no-cache") || s.contains("no-store")
    })
}
