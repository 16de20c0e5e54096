//! In-process reload (SIGUSR2, SIGHUP, the Runtime API's reload hook):
//! read every `-f` file and the map files again, build a new snapshot that
//! carries live health and counters over by identity, apply the server
//! state file, bring the listeners in line (unchanged addresses keep their
//! socket, new ones are bound, removed ones stop accepting while their
//! connections finish) and publish it all at once. If anything fails the
//! running configuration keeps serving untouched, and the errors are
//! printed as HAProxy's master prints them, with `Loading failure!`.

use std::sync::Arc;

use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::Store;

use super::sdnotify;
use crate::console;
use crate::listener_set::ListenerSet;
use crate::load::{self, LoadError, LoadOptions};

pub struct Reloader {
    opts: LoadOptions,
    store: Arc<Store>,
    /// The sockets of the published configuration; shared with the
    /// `_getsocks` server, which hands them to a successor process.
    listeners: Arc<ListenerSet>,
    proxy: Proxy,
    systemd: bool,
}

impl Reloader {
    pub fn new(
        opts: LoadOptions,
        store: Arc<Store>,
        listeners: Arc<ListenerSet>,
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
            self.store.replace(|current| {
                let next = load::build(config, Some(current))?;
                // Last step before publishing: on error nothing is bound
                // and nothing changes.
                removed = listeners.update(&next).map_err(LoadError::Bind)?;
                Ok::<_, LoadError>(next)
            })?;
            // New sockets start accepting only now that their frontend is
            // published; removed ones stop accepting, their connections go
            // on.
            self.proxy.set_listeners(listeners.clone());
            drop(removed);
            Ok(())
        });
        // `None`: the process began stopping meanwhile; nothing to serve.
        published.unwrap_or(Ok(()))
    }
}
