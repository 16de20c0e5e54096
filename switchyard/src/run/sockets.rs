//! Binding every socket — frontend listeners and stats sockets — before
//! privileges are dropped. A failure is reported as HAProxy does and
//! nothing stays bound.

use switchyard_config::Config;
use switchyard_proxy::Listeners;
use switchyard_state::Store;

use super::admin::{self, BoundAdmin};
use crate::console;

/// `None` after reporting the failure.
pub fn bind_all(store: &Store, config: &Config) -> Option<(Listeners, BoundAdmin)> {
    let failed = |msg: String| {
        console::alert(&msg);
        console::alert("[haproxy.main()] Some protocols failed to start their listeners! Exiting.");
    };
    let listeners = match Listeners::bind(&store.load()) {
        Ok(l) => l,
        Err(e) => {
            failed(e.to_string());
            return None;
        }
    };
    match admin::bind(config) {
        Ok(a) => Some((listeners, a)),
        Err(e) => {
            failed(e.to_string());
            None
        }
    }
}
