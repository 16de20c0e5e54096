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
        headers.remove(COOKIE);
        for r in rewritten.into_iter().filter(|r| !r.is_empty()) {
            if let Ok(v) = HeaderValue::from_str(&r) {
                headers.append(COOKIE, v);
            }
        }
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

/// Response-side processing; returns the response log flag (`N`, `I`, `R`).
/// `direct` is true when the request went to the server its valid cookie
/// named (then `insert` sets nothing).
pub(crate) fn on_response(
    cfg: &CookieCfg,
    server_cookie: Option<&str>,
    direct: bool,
    method: &Method,
    status: u16,
    headers: &mut HeaderMap,
) -> u8 {
    match cfg.mode {
        CookieMode::Insert => {
            if direct || (cfg.postonly && method != Method::POST) {
                return b'N';
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
            }
            if cfg.nocache && cacheable {
                headers.append(CACHE_CONTROL, HeaderValue::from_static("private"));
            }
            b'I'
        }
        CookieMode::Passive => b'N',
        CookieMode::Rewrite | CookieMode::Prefix => {
            let Some(sc) = server_cookie else { return b'N' };
            let mut flag = b'N';
            let vals: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
            if vals.is_empty() {
                return flag;
            }
            headers.remove(SET_COOKIE);
            for v in vals {
                let out = match v.to_str().ok().and_then(|s| rewrite_set_cookie(s, cfg, sc)) {
                    Some(n) => {
                        flag = b'R';
                        HeaderValue::from_str(&n).unwrap_or(v)
                    }
                    None => v,
                };
                headers.append(SET_COOKIE, out);
            }
            flag
        }
    }
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
