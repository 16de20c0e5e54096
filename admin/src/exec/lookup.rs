//! Name lookups with HAProxy's CLI error texts (`cli_find_server`,
//! `cli_find_frontend`, `proxy_be_by_name`, `pat_ref_lookup_ref`).

use switchyard_state::{MapIdx, ProxyIdx, ServerIdx, Snapshot};

use super::Outcome;
use switchyard_config::cnum::atoi;

/// A backend by name or `#<id>`.
pub(crate) fn backend(snap: &Snapshot, name: &str) -> Option<ProxyIdx> {
    if let Some(id) = name.strip_prefix('#') {
        let id = atoi(id);
        return snap
            .proxies
            .iter()
            .position(|p| p.kind.has_backend() && p.id as i32 == id)
            .map(|i| ProxyIdx(i as u32));
    }
    snap.backend_names.get(name).copied()
}

/// A frontend by name or `#<id>`.
pub(crate) fn frontend(snap: &Snapshot, name: &str) -> Option<ProxyIdx> {
    let id = name.strip_prefix('#').map(atoi);
    snap.proxies
        .iter()
        .position(|p| p.kind.has_frontend() && id.map_or(&*p.name == name, |id| p.id as i32 == id))
        .map(|i| ProxyIdx(i as u32))
}

/// Any proxy by name or `#<id>` (`show stat <proxy> ...`).
pub(crate) fn any_proxy(snap: &Snapshot, name: &str) -> Option<u32> {
    if let Some(id) = name.strip_prefix('#') {
        let id = atoi(id);
        return snap
            .proxies
            .iter()
            .find(|p| p.id as i32 == id)
            .map(|p| p.id);
    }
    snap.proxy_idx(name)
        .and_then(|i| snap.proxy(i))
        .map(|p| p.id)
}

/// `get_backend_server`: `Err(true)` = no such backend, `Err(false)` = no
/// such server.
pub(crate) fn backend_server(
    snap: &Snapshot,
    be: &str,
    sv: &str,
) -> Result<(ProxyIdx, ServerIdx), bool> {
    let p = backend(snap, be).ok_or(true)?;
    let servers = &snap
        .proxy(p)
        .and_then(|x| x.backend.as_ref())
        .ok_or(true)?
        .servers;
    let sid = sv.strip_prefix('#').map(atoi);
    let i = servers
        .iter()
        .position(|s| match sid {
            Some(id) if id >= 0 => s.id as i32 == id,
            _ => &*s.name == sv,
        })
        .ok_or(false)?;
    Ok((p, ServerIdx(i as u32)))
}

/// `cli_find_server`: `backend/server` with its error texts.
pub(crate) fn server(snap: &Snapshot, arg: &str) -> Result<(ProxyIdx, ServerIdx), Outcome> {
    let (be, sv) = arg.split_once('/').unwrap_or((arg, ""));
    if sv.is_empty() || be.is_empty() {
        return Err(Outcome::err("Require 'backend/server'.\n"));
    }
    let found = backend_server(snap, be, sv).map_err(|no_be| {
        Outcome::err(if no_be {
            "No such backend.\n"
        } else {
            "No such server.\n"
        })
    })?;
    if snap.proxy(found.0).is_some_and(|p| p.cfg.disabled) {
        return Err(Outcome::err("Proxy is disabled.\n"));
    }
    Ok(found)
}

/// `cli_find_frontend`.
pub(crate) fn frontend_arg(snap: &Snapshot, arg: &str) -> Result<ProxyIdx, Outcome> {
    if arg.is_empty() {
        return Err(Outcome::err("A frontend name is expected.\n"));
    }
    frontend(snap, arg).ok_or_else(|| Outcome::err("No such frontend.\n"))
}

pub(crate) const UNKNOWN_MAP: &str = "Unknown map identifier. Please use #<id> or <file>.\n";

/// `pat_ref_lookup_ref`: the config path string or `#<id>`.
pub(crate) fn map(snap: &Snapshot, arg: &str) -> Option<MapIdx> {
    if let Some(id) = arg.strip_prefix('#') {
        let id: u32 = id.parse().ok()?;
        return snap
            .maps
            .iter()
            .position(|m| m.uid == id)
            .map(|i| MapIdx(i as u32));
    }
    snap.map_idx(arg)
}

/// `str2uic`: the leading digits as an unsigned int, wrapping as C's
/// does on overflow; 0 on garbage.
pub(crate) fn str2uic(s: &str) -> u32 {
    s.bytes().take_while(u8::is_ascii_digit).fold(0u32, |v, b| {
        v.wrapping_mul(10).wrapping_add(u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str2uic_wraps_like_c() {
        assert_eq!(str2uic("4294967296"), 0);
        assert_eq!(str2uic("4294967297x"), 1);
        assert_eq!(str2uic("-1"), 0);
        assert_ne!(str2uic("99999999999999999999"), 0);
    }
}
