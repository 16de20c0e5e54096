//! In-process reload (SIGUSR2, SIGHUP, the Runtime API's reload hook):
//! read every `-f` file and the map files again, build a new snapshot that
//! carries live health and counters over by identity, apply the server
//! state file, bring the listeners in line (unchanged addresses keep their
//! socket, new ones are bound, removed ones stop accepting while their
//! connections finish) and publish it all at once. If anything fails the
//! running configuration keeps serving untouched, and the errors are
//! printed as HAProxy's master prints them, with `Loading failure!`.

use std::sync::Arc;

use switchyard_admin::ServeOptions;
use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::Store;

use super::admin::{AdminSockets, BoundAdmin};
use super::{sdnotify, statsock};
use crate::console;
use crate::fdpass::FdSource;
use crate::listener_set::ListenerSet;
use crate::load::{self, LoadError, LoadOptions};

pub struct Reloader {
    opts: LoadOptions,
    store: Arc<Store>,
    /// The sockets of the published configuration; shared with the
    /// `_getsocks` server, which hands them to a successor process.
    listeners: Arc<ListenerSet>,
    /// The stats sockets: ours to keep across reloads, the admin thread's
    /// to serve.
    fds: Arc<FdSource>,
    admin: AdminSockets,
    proxy: Proxy,
    systemd: bool,
}

impl Reloader {
    pub fn new(
        opts: LoadOptions,
        store: Arc<Store>,
        (listeners, fds, admin): (Arc<ListenerSet>, Arc<FdSource>, AdminSockets),
        proxy: Proxy,
        systemd: bool,
    ) -> Reloader {
        Reloader {
            opts: LoadOptions {
                silent_warnings: false,
                ..opts
            },
            store,
            listeners,
            fds,
            admin,
            proxy,
            systemd,
        }
    }

    /// Reload now (blocking: file I/O and name resolution). Returns whether
    /// the new configuration is live.
    pub fn reload(&self) -> bool {
        console::begin_reload();
        console::notice("Reloading HAProxy");
        if self.systemd {
            sdnotify::reloading();
        }
        let outcome = self.load_and_publish();
        console::end_startup();
        match outcome {
            Ok(()) => {
                console::notice("Loading success.");
                if self.systemd {
                    sdnotify::ready();
                }
                true
            }
            Err(e) => {
                e.report();
                console::warning("Loading failure!");
                if self.systemd {
                    sdnotify::reload_failed();
                }
                false
            }
        }
    }

    fn load_and_publish(&self) -> Result<(), LoadError> {
        let config = load::parse(&self.opts)?;
        let published = self.listeners.with(|listeners| {
            let mut removed = Listeners::empty();
            let mut stats = Vec::new();
            self.store.replace(|current| {
                let (next, _) = load::build(config.clone(), Some(current), false)?;
                // Stats sockets, then listeners: the last step that can fail
                // comes last, so on error nothing is bound and nothing
                // changes.
                let mut ours = self.fds.stats_sockets().map_err(LoadError::Io)?;
                stats = statsock::bind(&config, &mut ours).map_err(LoadError::Admin)?;
                removed = listeners.update(&next).map_err(LoadError::Bind)?;
                Ok::<_, LoadError>(next)
            })?;
            // New sockets start accepting only now that their frontend is
            // published; removed ones stop accepting, their connections go
            // on.
            self.proxy.set_listeners(listeners.clone());
            drop(removed);
            match statsock::dup_fds(&stats) {
                Ok(dups) => self.fds.set_stats_sockets(dups),
                Err(e) => console::warning(&format!("stats sockets: {e}")),
            }
            self.admin.replace(BoundAdmin {
                sockets: stats,
                opts: ServeOptions::from_config(&config),
            });
            Ok(())
        });
        // `None`: the process began stopping meanwhile; nothing to serve.
        published.unwrap_or(Ok(()))
    }
}
