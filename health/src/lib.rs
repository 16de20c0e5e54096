//! switchyard-health: active health checks, slowstart, passive health
//! (`observe`) and DNS re-resolution of servers, with HAProxy 2.6's exact
//! rise/fall arithmetic and log lines.
//!
//! Two halves:
//! - **Pure transitions** ([`force_health`], [`admin_state_changed`],
//!   [`set_checks_enabled`], [`record_check`], [`apply_observe_errors`]):
//!   apply one health or admin event to a server's [`ServerLive`] atomics and
//!   emit HAProxy's state-change lines through `state::events`. The admin
//!   crate calls these after the Runtime API changes something; the checker
//!   calls them with probe results. They write only `ServerLive`/`ProxyLive`.
//! - **The async checker** ([`start`]): one task per checked server (plus a
//!   slowstart ticker, a passive-health watcher and one task per `resolvers`
//!   section), re-scanning the [`Store`] whenever its generation changes.
//!
//! [`ServerLive`]: switchyard_state::ServerLive

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
pub use slowstart::{slowstart_factor, SLOWSTART_SCALE};
pub use spread::first_check_delays;
pub use transition::{
    admin_state_changed, apply_observe_errors, force_health, record_check, set_checks_enabled,
    weight_changed, Forced,
};

#[cfg(test)]
mod test_support;
