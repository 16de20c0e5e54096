//! Passive health (`observe layer4|layer7`): how the proxy reports what live
//! traffic saw on a server. The proxy calls [`ServerLive::observe`] once per
//! connection attempt / response; the health checker watches
//! `observe_errors` and applies `on-error` when it reaches `error-limit`.

use std::sync::atomic::Ordering::Relaxed;

use switchyard_config::Observe;

use crate::live::ServerLive;

/// HAProxy's `HANA_STATUS_*`, numbered as HAProxy does (stored in
/// `ServerLive::observe_last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ObserveEvent {
    /// A connection to the server was established.
    L4Ok = 1,
    /// A connection attempt failed (refused, timed out, reset on connect).
    L4Err = 2,
    /// A valid response with status 100..=499, 501 or 505.
    HttpOk = 3,
    /// Any other status (500, 502, 503, 504, ...).
    HttpSts = 4,
    /// Response headers could not be parsed.
    HttpHdrRsp = 5,
    /// The response was invalid.
    HttpRsp = 6,
    /// Reading the response failed.
    HttpReadError = 7,
    /// No response within `timeout server`.
    HttpReadTimeout = 8,
    /// The server closed before a complete response.
    HttpBrokenPipe = 9,
}

impl ObserveEvent {
    pub fn from_u8(v: u8) -> Option<ObserveEvent> {
        use ObserveEvent::*;
        Some(match v {
            1 => L4Ok,
            2 => L4Err,
            3 => HttpOk,
            4 => HttpSts,
            5 => HttpHdrRsp,
            6 => HttpRsp,
            7 => HttpReadError,
            8 => HttpReadTimeout,
            9 => HttpBrokenPipe,
            _ => return None,
        })
    }

    /// HAProxy's text for the event (`last one was: ...`).
    pub fn desc(self) -> &'static str {
        use ObserveEvent::*;
        match self {
            L4Ok => "L4 successful connection",
            L4Err => "L4 unsuccessful connection",
            HttpOk => "Correct http response",
            HttpSts => "Wrong http response",
            HttpHdrRsp => "Invalid http response (headers)",
            HttpRsp => "Invalid http response",
            HttpReadError => "Read error (http)",
            HttpReadTimeout => "Read timeout (http)",
            HttpBrokenPipe => "Close from server (http)",
        }
    }

    /// HAProxy's `analyze_statuses[].lr`: for an observe mode, `Some(true)`
    /// counts as an error, `Some(false)` clears the error streak, `None` is
    /// ignored.
    pub fn is_error(self, mode: Observe) -> Option<bool> {
        use ObserveEvent::*;
        match (mode, self) {
            (_, L4Err) => Some(true),
            (Observe::Layer4, L4Ok) => Some(false),
            (Observe::Layer4, _) => None,
            (Observe::Layer7, L4Ok) => None,
            (Observe::Layer7, HttpOk) => Some(false),
            (Observe::Layer7, _) => Some(true),
        }
    }

    /// The event for a response status (HAProxy's `http_ana.c` rule).
    pub fn for_status(status: u16) -> ObserveEvent {
        if (100..500).contains(&status) || status == 501 || status == 505 {
            ObserveEvent::HttpOk
        } else {
            ObserveEvent::HttpSts
        }
    }
}

impl ServerLive {
    /// Report one live-traffic event on this server. A no-op unless the
    /// server has `observe` (`mode`), so the proxy may call it
    /// unconditionally with `server.cfg.observe`.
    pub fn observe(&self, mode: Option<Observe>, ev: ObserveEvent) {
        let Some(mode) = mode else { return };
        match ev.is_error(mode) {
            Some(true) => {
                self.observe_last.store(ev as u8, Relaxed);
                self.observe_errors.fetch_add(1, Relaxed);
            }
            // Only write when needed: the usual case is a streak of 0.
            Some(false) if self.observe_errors.load(Relaxed) != 0 => {
                self.observe_errors.store(0, Relaxed)
            }
            Some(false) | None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        use ObserveEvent::*;
        let l4 = Observe::Layer4;
        let l7 = Observe::Layer7;
        assert_eq!(L4Err.is_error(l4), Some(true));
        assert_eq!(L4Ok.is_error(l4), Some(false));
        assert_eq!(HttpSts.is_error(l4), None);
        assert_eq!(L4Err.is_error(l7), Some(true));
        assert_eq!(L4Ok.is_error(l7), None);
        assert_eq!(HttpOk.is_error(l7), Some(false));
        for e in [
            HttpSts,
            HttpHdrRsp,
            HttpRsp,
            HttpReadError,
            HttpReadTimeout,
            HttpBrokenPipe,
        ] {
            assert_eq!(e.is_error(l7), Some(true), "{e:?}");
            assert_eq!(ObserveEvent::from_u8(e as u8), Some(e));
        }
        assert_eq!(ObserveEvent::for_status(404), HttpOk);
        assert_eq!(ObserveEvent::for_status(501), HttpOk);
        assert_eq!(ObserveEvent::for_status(505), HttpOk);
        assert_eq!(ObserveEvent::for_status(500), HttpSts);
        assert_eq!(ObserveEvent::for_status(503), HttpSts);
        assert_eq!(ObserveEvent::for_status(99), HttpSts);
    }

    #[test]
    fn counting() {
        let live = ServerLive::new(true, 2);
        live.observe(None, ObserveEvent::L4Err);
        assert_eq!(live.observe_errors.load(Relaxed), 0);
        let m = Some(Observe::Layer7);
        live.observe(m, ObserveEvent::L4Err);
        live.observe(m, ObserveEvent::HttpSts);
        assert_eq!(live.observe_errors.load(Relaxed), 2);
        assert_eq!(live.observe_last.load(Relaxed), ObserveEvent::HttpSts as u8);
        live.observe(m, ObserveEvent::L4Ok);
        assert_eq!(live.observe_errors.load(Relaxed), 2);
        live.observe(m, ObserveEvent::HttpOk);
        assert_eq!(live.observe_errors.load(Relaxed), 0);
    }
}
