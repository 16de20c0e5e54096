//! TLS to servers: the parts of `server` options that need more than a
//! word (the `sni` expression, `alpn`), kept apart from the option table.

use crate::ctx::Ctx;
use crate::model::{Fetch, Location, SampleExpr};
use crate::sample::parse_sample_word;

/// Parse `sni <expr>`. switchyard evaluates a constant (`str(name)`) or a
/// request header (`req.hdr(host)`); anything else is refused rather than
/// sent wrong.
pub(crate) fn sni_expr(ctx: &mut Ctx, loc: &Location, text: &str) -> Result<SampleExpr, String> {
    let e = parse_sample_word(ctx, loc, text)
        .map_err(|e| format!("error detected while parsing sni expression : {e}"))?;
    let ok = e.converters.is_empty() && matches!(e.fetch, Fetch::Str(_) | Fetch::ReqHdr { .. });
    if !ok {
        return Err(format!(
            "sni expression '{text}' is not supported by switchyard (only str(<name>) and req.hdr(<name>))."
        ));
    }
    Ok(e)
}

/// switchyard speaks HTTP/1.1 to servers, so only `http/1.1` is offered
/// whatever `alpn` lists (HAProxy would negotiate h2).
pub(crate) fn alpn_warning(srv: &str, list: &str) -> String {
    format!(
        "server '{srv}' : 'alpn {list}' : switchyard speaks HTTP/1.1 to servers; only 'http/1.1' is offered."
    )
}

/// `strerror(errno)`: the OS text without Rust's ` (os error N)` suffix.
pub(crate) fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
