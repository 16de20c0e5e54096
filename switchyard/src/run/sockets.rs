//! Binding every socket — frontend listeners and stats sockets — before
//! privileges are dropped, adopting the ones an old process handed over
//! (`-x`). A failure is reported as HAProxy does and nothing stays bound.

use std::os::fd::OwnedFd;

use switchyard_admin::ServeOptions;
use switchyard_config::{Config, ListenAddr};
use switchyard_proxy::Listeners;
use switchyard_state::Store;

use super::admin::BoundAdmin;
use super::statsock;
use crate::console;

/// `None` after reporting the failure.
pub fn bind_all(
    store: &Store,
    config: &Config,
    mut inherited: Vec<(ListenAddr, OwnedFd)>,
) -> Option<(Listeners, BoundAdmin)> {
    let failed = |msg: String| {
        console::alert(&msg);
        console::alert("[haproxy.main()] Some protocols failed to start their listeners! Exiting.");
    };
    // Stats sockets first: they take their inherited sockets out, the
    // frontends adopt the rest (sockets no longer wanted are closed).
    let stats = match statsock::bind(config, &mut inherited) {
        Ok(s) => s,
        Err(e) => {
            failed(e.to_string());
            return None;
        }
    };
    let listeners = match Listeners::from_fds(&store.load(), inherited) {
        Ok(l) => l,
        Err(e) => {
            failed(e.to_string());
            return None;
        }
    };
    Some((
        listeners,
        BoundAdmin {
            sockets: stats,
            opts: ServeOptions::from_config(config),
        },
    ))
}
