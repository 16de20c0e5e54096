//! switchyard's hot request path: listeners and accept limits, an HTTP/1.1
//! front end, routing through the [`switchyard_state::Store`] snapshot,
//! balancing, a pooled upstream client, retries/redispatch, queueing, sticky
//! cookies, HAProxy-exact error pages and `option httplog` logging.
//!
//! The binary drives it like this:
//!
//! ```ignore
//! // Before dropping privileges (synchronous, no runtime needed):
//! let mut listeners = Listeners::bind(&store.load())?;
//! // On a tokio multi-thread runtime:
//! let proxy = Proxy::new(store.clone(), services);
//! let stop = proxy.shutdown_handle();
//! tokio::spawn({ let p = proxy.clone(); let l = listeners.clone(); async move { p.serve(l).await } });
//! // After a reload published a new snapshot:
//! let removed = listeners.update(&store.load())?;   // keep unchanged, bind new
//! proxy.set_listeners(listeners.clone());            // stop accepting on removed ones
//! drop(removed);
//! // SIGUSR1 / old worker: stop accepting, finish in-flight requests.
//! stop.soft_stop().await;
//! // hard-stop-after expired:
//! stop.hard_stop();
//! ```
//!
//! Everything a request needs comes from one `store.load()` per request; the
//! guard is dropped before any `.await`. Live counters go to the
//! `ServerLive`/`ProxyLive` atomics; no lock is taken on the request path.

mod accept;
mod balance;
mod conn;
mod cookie;
mod error;
mod h1;
mod headers;
mod listeners;
mod log;
mod pages;
mod proxy;
mod queue;
mod request;
mod retry;
mod rules;
mod shutdown;
mod timing;
mod tunnel;
mod upstream;
mod view;

pub use error::ProxyError;
pub use listeners::{BoundListener, Listeners};
pub use log::LogStats;
pub use proxy::Proxy;
pub use shutdown::ShutdownHandle;
