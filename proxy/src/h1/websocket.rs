//! HAProxy 2.6's WebSocket handshake checks: a request asking to upgrade
//! to `websocket` (a `Connection: upgrade` token and `websocket` in
//! `Upgrade`) must carry `Sec-WebSocket-Key` (else 400), and a 101
//! response switching to `websocket` must carry `Sec-WebSocket-Accept`
//! (else the response is invalid: 502). Checked against haproxy 2.6.

use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::HeaderMap;

use crate::headers::has_token;

/// Whether `h` asks to switch to (or switches to) WebSocket.
fn websocket(h: &HeaderMap, need_connection: bool) -> bool {
    has_token(h, &UPGRADE, "websocket")
        && (!need_connection || has_token(h, &CONNECTION, "upgrade"))
}

/// A request's WebSocket handshake is acceptable.
pub(crate) fn request_ok(h: &HeaderMap) -> bool {
    !websocket(h, true) || h.contains_key(SEC_WEBSOCKET_KEY)
}

/// A request with a body asking to upgrade: it goes on as a plain request,
/// without its `Upgrade` header, as HAProxy forwards it.
pub(crate) fn drop_upgrade(h: &mut HeaderMap) {
    if has_token(h, &CONNECTION, "upgrade") {
        crate::headers::remove_ordered(h, &UPGRADE);
    }
}

/// A 101 response's WebSocket handshake is acceptable.
pub(crate) fn response_ok(status: u16, h: &HeaderMap) -> bool {
    status != 101 || !websocket(h, false) || h.contains_key(SEC_WEBSOCKET_ACCEPT)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::headers::header_map as map;

    #[test]
    fn handshakes() {
        assert!(!request_ok(&map(&[
            ("connection", "upgrade"),
            ("upgrade", "WebSocket, foo")
        ])));
        assert!(request_ok(&map(&[("upgrade", "websocket")])));
        assert!(request_ok(&map(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "x")
        ])));
        assert!(request_ok(&map(&[
            ("connection", "upgrade"),
            ("upgrade", "h2c")
        ])));
        assert!(!response_ok(101, &map(&[("upgrade", "websocket")])));
        assert!(response_ok(
            101,
            &map(&[("upgrade", "websocket"), ("sec-websocket-accept", "y")])
        ));
        assert!(response_ok(200, &map(&[("upgrade", "websocket")])));
    }
}
