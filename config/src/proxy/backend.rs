//! Backend-side keywords: `balance`, `hash-type`, `retries`, `retry-on`,
//! `cookie`, `fullconn`, `http-reuse`, `load-server-state-from-file`.

use super::ProxyDraft;
use crate::ctx::{Ctx, Line};
use crate::global::load_state_arg;
use crate::model::{Balance, CookieCfg, CookieMode, HttpReuse, RetryOn};
use crate::units::{parse_time, parse_u32, TimeError, TimeUnit};

pub(super) fn balance(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "balance", "");
    match parse_balance(l.rest(1)) {
        Ok(b) if !ignored => d.be.balance = b,
        Ok(_) => {}
        Err(e) => ctx.error(l.loc, format!("balance {e}")),
    }
}

fn parse_balance(args: &[String]) -> Result<Balance, String> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let algo = arg(0);
    Ok(match algo {
        "" | "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "first" => Balance::First,
        "leastconn" => Balance::LeastConn,
        "source" => Balance::Source,
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (None, None, false, false);
            let mut i = 1;
            while !arg(i).is_empty() {
                match arg(i) {
                    k @ ("len" | "depth") => {
                        let v = arg(i + 1);
                        let n = parse_u32(v).filter(|n| *n > 0).ok_or_else(|| {
                            format!("{algo} : '{k}' expects a positive integer (got '{v}').")
                        })? as usize;
                        if k == "len" {
                            len = Some(n);
                        } else {
                            depth = Some(n);
                        }
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        return Err(format!(
                            "{algo} only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."
                        ))
                    }
                }
            }
            Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            }
        }
        "url_param" => {
            if arg(1).is_empty() {
                return Err(format!("{algo} requires an URL parameter name."));
            }
            if !arg(2).is_empty() && arg(2) != "check_post" {
                return Err(format!(
                    "{algo} only accepts 'check_post' modifier (got '{}').",
                    arg(2)
                ));
            }
            Balance::UrlParam(arg(1).to_string())
        }
        a if a.starts_with("random") => {
            let rest = &a[6..];
            let draws = if rest.is_empty() || rest == "()" {
                2
            } else if let Some(inner) = rest.strip_prefix('(') {
                let Some(num) = inner.strip_suffix(')') else {
                    return Err("random : missing closing parenthesis.".to_string());
                };
                match num.parse::<i64>() {
                    Ok(n) if n >= 1 && n <= i64::from(u32::MAX) => n as u32,
                    Ok(_) => return Err("random : number of draws must be at least 1.".to_string()),
                    Err(_) => {
                        return Err("random : unexpected character after argument.".to_string())
                    }
                }
            } else {
                return Err(unsupported_algo());
            };
            Balance::Random(draws)
        }
        a if a.starts_with("hdr(") => {
            let inner = &a[4..];
            match inner.find(')') {
                Some(end) if end > 0 => {
                    if !arg(1).is_empty() && arg(1) != "use_domain_only" {
                        return Err(format!(
                            "{a} only accepts 'use_domain_only' modifier (got '{}').",
                            arg(1)
                        ));
                    }
                    Balance::Hdr(inner[..end].to_string())
                }
                _ => return Err("hdr requires an http header field name.".to_string()),
            }
        }
        "hash" | "rdp-cookie" => {
            return Err(format!(
                ": algorithm '{algo}' is not supported by switchyard."
            ))
        }
        a if a.starts_with("rdp-cookie") => {
            return Err(format!(": algorithm '{a}' is not supported by switchyard."));
        }
        _ => return Err(unsupported_algo()),
    })
}

fn unsupported_algo() -> String {
    "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and \
     'rdp-cookie(name)' options."
        .to_string()
}

pub(super) fn hash_type(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "hash-type", "");
    match l.arg(1) {
        "consistent" | "map-based" => {
            let ok_fn = matches!(
                l.arg(2),
                "" | "sdbm" | "djb2" | "wt6" | "crc32" | "avalanche"
            );
            let ok_mod = matches!(l.arg(3), "" | "avalanche");
            if !ok_fn || !ok_mod {
                ctx.error(
                    l.loc,
                    format!(
                        "'{}' only supports 'sdbm', 'djb2', 'wt6' or 'crc32' hash functions and 'avalanche' modifier.",
                        l.kw()
                    ),
                );
                return;
            }
            if !ignored {
                d.be.hash_type = Some(l.rest(1).join(" "));
            }
        }
        _ => ctx.error(
            l.loc,
            format!(
                "'{}' expects 'map-based' or 'consistent' as argument.",
                l.kw()
            ),
        ),
    }
}

pub(super) fn retries(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "retries", "");
    if l.too_many(ctx, 0, 1) {
        return;
    }
    if l.arg(1).is_empty() {
        ctx.error(
            l.loc,
            "'retries' expects an integer argument (dispatch counts for one).",
        );
        return;
    }
    match parse_u32(l.arg(1)) {
        Some(n) if !ignored => d.be.retries = n,
        Some(_) => {}
        None => ctx.error(
            l.loc,
            format!(
                "'retries' expects an integer argument (dispatch counts for one), got '{}'.",
                l.arg(1)
            ),
        ),
    }
}

pub(super) fn retry_on(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if !(d.is_defaults || d.kind.has_backend()) {
        ctx.error(
            l.loc,
            "'retry-on' only available in backend or listen section",
        );
        return;
    }
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'retry-on' needs at least one keyword to look for");
        return;
    }
    // The list replaces the previous one (HAProxy semantics).
    let mut bits = 0u32;
    for w in l.rest(1) {
        let bit = match w.as_str() {
            "none" => {
                if l.words.len() > 2 {
                    ctx.error(l.loc, "'retry-on' 'none' keyword is only allowed alone");
                    return;
                }
                0
            }
            "conn-failure" => RetryOn::CONN_FAILURE,
            "empty-response" => RetryOn::EMPTY_RESPONSE,
            "junk-response" => RetryOn::JUNK_RESPONSE,
            "response-timeout" => RetryOn::RESPONSE_TIMEOUT,
            "0rtt-rejected" => RetryOn::ZERO_RTT_REJECTED,
            "all-retryable-errors" => RetryOn::ALL_RETRYABLE,
            s => match s.parse::<u16>().ok().and_then(RetryOn::status_bit) {
                Some(b) => b,
                None => {
                    ctx.error(l.loc, format!("'retry-on': unknown keyword '{s}'"));
                    return;
                }
            },
        };
        bits |= bit;
    }
    d.be.retry_on = RetryOn(bits);
}

fn cookie_time(arg: &str, what: &str) -> Result<std::time::Duration, String> {
    match parse_time(arg, TimeUnit::S) {
        Ok(t) => Ok(TimeUnit::S.to_duration(t.value)),
        Err(TimeError::Overflow) => Err(format!(
            "timer overflow in argument <{arg}> to <{what}>, maximum value is 2147483647 s (~68 years)."
        )),
        Err(TimeError::Underflow) => Err(format!(
            "timer underflow in argument <{arg}> to <{what}>, minimum non-null value is 1 s."
        )),
        Err(TimeError::BadChar(c)) => Err(format!("unexpected character '{c}' in argument to <{what}>.")),
        Err(TimeError::Empty) => Err(format!("'{what}' expects <time> in seconds as argument.")),
    }
}

pub(super) fn cookie(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "cookie", "");
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'cookie' expects <cookie_name> as argument.");
        return;
    }
    let mut c = CookieCfg {
        name: l.arg(1).to_string(),
        mode: CookieMode::Passive,
        indirect: false,
        nocache: false,
        postonly: false,
        preserve: false,
        httponly: false,
        secure: false,
        domain: Vec::new(),
        maxidle: None,
        maxlife: None,
        attr: Vec::new(),
    };
    let (mut rw, mut ins, mut pfx) = (false, false, false);
    let mut i = 2;
    while !l.arg(i).is_empty() {
        let opt = l.arg(i);
        match opt {
            "rewrite" => rw = true,
            "insert" => ins = true,
            "prefix" => pfx = true,
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "domain" => {
                let v = l.arg(i + 1);
                if v.is_empty() {
                    ctx.error(l.loc, "'domain' expects <domain> as argument.");
                    return;
                }
                if !v.contains('.') {
                    ctx.warn(
                        l.loc,
                        format!(
                            "domain '{v}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."
                        ),
                    );
                }
                if let Some(bad) = v
                    .chars()
                    .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-')))
                {
                    ctx.error(
                        l.loc,
                        format!("character '{bad}' is not permitted in domain name '{v}'."),
                    );
                    return;
                }
                c.domain.push(v.to_string());
                i += 1;
            }
            "maxidle" | "maxlife" => {
                let v = l.arg(i + 1);
                if v.is_empty() {
                    let what = if opt == "maxidle" {
                        "idletime"
                    } else {
                        "lifetime"
                    };
                    ctx.error(
                        l.loc,
                        format!("'{opt}' expects <{what}> in seconds as argument."),
                    );
                    return;
                }
                match cookie_time(v, opt) {
                    Ok(t) if opt == "maxidle" => c.maxidle = Some(t),
                    Ok(t) => c.maxlife = Some(t),
                    Err(e) => {
                        ctx.error(l.loc, e);
                        return;
                    }
                }
                i += 1;
            }
            "attr" => {
                let v = l.arg(i + 1);
                if v.is_empty() {
                    ctx.error(l.loc, "'attr' expects <value> as argument.");
                    return;
                }
                if let Some(bad) = v.chars().find(|ch| ch.is_control() || *ch == ';') {
                    ctx.error(
                        l.loc,
                        format!(
                            "character '%x{:02X}' is not permitted in attribute value.",
                            bad as u32
                        ),
                    );
                    return;
                }
                c.attr.push(v.to_string());
                i += 1;
            }
            "dynamic" => {
                ctx.error(l.loc, "'cookie dynamic' is not supported by switchyard.");
                return;
            }
            _ => {
                ctx.error(
                    l.loc,
                    "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', \
                     'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.",
                );
                return;
            }
        }
        i += 1;
    }
    if rw && c.indirect {
        ctx.error(
            l.loc,
            "cookie 'rewrite' and 'indirect' modes are incompatible.",
        );
        return;
    }
    if [rw, ins, pfx].iter().filter(|b| **b).count() > 1 {
        ctx.error(
            l.loc,
            "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
        );
        return;
    }
    if c.preserve && !ins && !c.indirect {
        ctx.error(
            l.loc,
            "cookie 'preserve' requires at least 'insert' or 'indirect'.",
        );
        return;
    }
    c.mode = if ins {
        CookieMode::Insert
    } else if pfx {
        CookieMode::Prefix
    } else if rw {
        CookieMode::Rewrite
    } else {
        CookieMode::Passive
    };
    if !ignored {
        d.be.cookie = Some(c);
    }
}

pub(super) fn fullconn(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(
        ctx,
        l.loc,
        "fullconn",
        " Maybe you want 'maxconn' instead ?",
    );
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'fullconn' expects an integer argument.");
        return;
    }
    if l.too_many(ctx, 0, 1) {
        return;
    }
    match parse_u32(l.arg(1)) {
        Some(n) if !ignored => d.be.fullconn = Some(n),
        Some(_) => {}
        None => ctx.error(
            l.loc,
            format!(
                "'fullconn' expects an integer argument (got '{}').",
                l.arg(1)
            ),
        ),
    }
}

pub(super) fn http_reuse(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "http-reuse", "");
    let mode = match l.arg(1) {
        "never" => HttpReuse::Never,
        "safe" => HttpReuse::Safe,
        "aggressive" => HttpReuse::Aggressive,
        "always" => HttpReuse::Always,
        _ => {
            ctx.error(
                l.loc,
                "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.",
            );
            return;
        }
    };
    if l.too_many(ctx, 1, 0) {
        return;
    }
    if !ignored {
        d.be.http_reuse = mode;
    }
}

pub(super) fn load_state(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_be(ctx, l.loc, "load-server-state-from-file", "");
    if let Some(v) = load_state_arg(ctx, l) {
        if !ignored {
            d.load_server_state = Some(v);
        }
    }
}
