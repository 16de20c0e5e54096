//! switchyard's hot request path: listeners and accept limits, an HTTP/1.1
//! front end, routing through the [`switchyard_state::Store`] snapshot,
//! balancing, a pooled upstream client, retries/redispatch, queueing, sticky
//! cookies, HAProxy-exact error pages and `option httplog` logging; `mode
//! tcp` streams (module `tcp`, `option tcplog`); passive health reports
//! (`observe`) to each server's `ServerLive`; and killing a server's streams
//! on `shutdown sessions server` or `on-marked-down shutdown-sessions`
//! (module `kill`).
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
//! proxy.set_listeners(listeners.clone());            // accept loops follow
//! drop(removed);                                     // closes the old sockets
//! // SIGUSR1 / old worker: stop accepting, finish in-flight requests, then
//! // drop (or hand over) the binary's own `Listeners` so the sockets close.
//! stop.soft_stop().await;
//! // hard-stop-after expired:
//! stop.hard_stop();
//! ```
//!
//! Design notes:
//! - Everything a request needs comes from one `store.load_full()` after its
//!   head is read; no guard is held across an `.await` and no lock is taken
//!   on the request path (atomics, `ArcSwap`, lock-free queues).
//! - The client side speaks HTTP/1 through our own small codec (module
//!   `h1`): HAProxy's exact 400/408 pages, its request and keep-alive
//!   timeouts and its byte counts need control hyper's server does not
//!   give. HTTP/2 (module `http2`, on the `h2` crate) turns each stream
//!   into a request through the same pipeline. The upstream side (module
//!   `upstream`) is the HTTP/1 codec run as a client over a per-server
//!   pool, in the request's own task (hyper's client needed a task per
//!   connection and two task switches per request).
//! - One deliberate difference from HAProxy 2.6: hop-by-hop request headers
//!   (RFC 9110 §7.6.1) are removed before forwarding; HAProxy forwards most
//!   of them.

mod accept;
mod balance;
mod conn;
mod conn_task;
mod cookie;
mod error;
mod h1;
mod headers;
mod http2;
mod kill;
mod listeners;
mod log;
mod pages;
mod proxy;
mod queue;
mod release;
mod request;
mod retry;
mod rules;
mod shutdown;
mod tcp;
mod timing;
mod tls;
mod tunnel;
mod upstream;
mod view;

pub use error::ProxyError;

/// The balancer's entry point, exported for the benchmarks (not a stable API).
#[doc(hidden)]
pub mod bench_api {
    pub use crate::balance::{pick, LbInput, PickError};
}
pub use listeners::{BoundListener, Listeners};
pub use log::LogStats;
pub use proxy::Proxy;
pub use release::Release;
pub use shutdown::ShutdownHandle;
