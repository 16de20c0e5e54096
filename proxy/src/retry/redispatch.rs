//! Whether a retry goes back through the balancer (redispatch).

use switchyard_state::{BackendRt, OpState, ProxyRt, ServerIdx, ServerRt};

use super::bump;
use crate::balance::{self};

/// HAProxy's `stream_choose_redispatch`: whether the next attempt goes
/// through the balancer again (true) or retries the same server.
pub(crate) fn choose_redispatch(
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    retries: u32,
    max: u32,
    direct: bool,
) -> bool {
    let Some(interval) = be.cfg.options.redispatch else {
        return false;
    };
    if interval == 0 {
        return false;
    }
    let not_running =
        srv.admin.is_maint() || matches!(srv.live.op_state(), OpState::Stopped | OpState::Starting);
    let at_interval = if interval > 0 {
        retries.is_multiple_of(interval as u32)
    } else {
        let every = i64::from(max) + 1 + i64::from(interval);
        every > 0 && i64::from(retries) % every == 0
    };
    let rr_many = !direct
        && balance::active_count(backend) > 1
        && balance::is_rr_kind(&balance::effective(be));
    not_running || at_interval || rr_many
}

/// After a failed attempt: redispatch (the next pick goes through the
/// balancer, avoiding this server) or retry the same server, counted in
/// `wretr`. Returns whether it redispatched.
#[allow(clippy::too_many_arguments)]
pub(super) fn next_target(
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    idx: ServerIdx,
    retries: u32,
    max: u32,
    target: &mut Option<ServerIdx>,
    direct: &mut Option<ServerIdx>,
    prev: &mut Option<ServerIdx>,
) -> bool {
    if choose_redispatch(be, backend, srv, retries, max, direct.is_some()) {
        *prev = Some(idx);
        *target = None;
        *direct = None;
        true
    } else {
        bump(&srv.live.counters.wretr);
        bump(&be.live.be.wretr);
        *target = Some(idx);
        false
    }
}

/// HAProxy's `do_l7_retry`: count a retry, then redispatch or not.
#[allow(clippy::too_many_arguments)]
pub(super) fn l7_retry(
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    idx: ServerIdx,
    retries: u32,
    max: u32,
    target: &mut Option<ServerIdx>,
    direct: &mut Option<ServerIdx>,
    prev: &mut Option<ServerIdx>,
) -> bool {
    bump(&srv.live.counters.wretr);
    bump(&be.live.be.wretr);
    next_target(be, backend, srv, idx, retries, max, target, direct, prev)
}
