//! switchyard-health: active health checks, slowstart, passive health
//! (`observe`) and DNS re-resolution of servers, with HAProxy 2.6's exact
//! rise/fall arithmetic and log lines.
//!
//! Two halves:
//! - **Transitions** ([`force_health`], [`admin_state_changed`],
//!   [`weight_changed`], [`set_checks_enabled`], [`record_check`],
//!   [`apply_observe_errors`]): apply one health or admin event to a
//!   server's [`ServerLive`] atomics (and its backend's `ProxyLive`) and emit
//!   HAProxy's state-change lines through `state::events`. The admin crate
//!   calls them right after it publishes a change; the checker calls them
//!   with probe results. They never publish a snapshot.
//! - **The checker** ([`start`]): one task per checked server, a slowstart
//!   ticker and one DNS task per resolved name, following the [`Store`]
//!   (servers added or removed by a publish are picked up or dropped; live
//!   state carried over by identity keeps its task). DNS answers are the
//!   only thing it publishes (`Store::update` of that server's address and
//!   RMAINT flag).
//!
//! # Passive health: the proxy's side
//!
//! For every server with `observe layer4|layer7`, the proxy reports what
//! live traffic saw by calling
//! `server.live.observe(server.cfg.observe, event)` (a no-op when `observe`
//! is not set, so it may be called unconditionally):
//! - each connection attempt: `ObserveEvent::L4Ok` once connected,
//!   `ObserveEvent::L4Err` when it failed (refused, timeout, reset);
//! - each response (layer7): `ObserveEvent::for_status(code)` (100–499, 501
//!   and 505 are `HttpOk`, anything else `HttpSts`); an unparsable response
//!   `HttpRsp`/`HttpHdrRsp`, a read error `HttpReadError`, `timeout server`
//!   `HttpReadTimeout`, a close before the response `HttpBrokenPipe`.
//!
//! That increments `ServerLive::observe_errors` (and records the event in
//! `observe_last`) on an error and resets it to 0 on a success, following
//! HAProxy's table for the mode. The checker looks at the counter every
//! 100 ms and, at `error-limit`, applies `on-error` ([`apply_observe_errors`]).
//!
//! [`ServerLive`]: switchyard_state::ServerLive
//! [`Store`]: switchyard_state::Store

mod check_task;
mod counter;
mod dns;
mod error;
mod handle;
mod http;
mod interval;
mod live_ops;
mod message;
mod observe;
mod outcome;
mod probe;
mod scheduler;
mod send_state;
mod slowstart;
mod spread;
mod transition;

pub use counter::RiseFall;
pub use error::HealthError;
pub use handle::{start, start_on, HealthHandle};
pub use http::request::build_request;
pub use http::response::{
    evaluate_response, parse_response, ExpectRules, ParsedResponse, ReadState, ResponseVerdict,
};
pub use interval::{check_deadlines, next_interval, CheckDeadlines};
pub use observe::{classify_http_status, ObserveEvent, OnErrorAction};
pub use outcome::{CheckOutcome, CheckResult};
pub use slowstart::{slowstart_step, SLOWSTART_SCALE};
pub use spread::first_check_delays;
pub use transition::{
    admin_state_changed, apply_observe_errors, force_health, record_check, set_checks_enabled,
    weight_changed, Forced,
};

#[cfg(test)]
mod test_support;
