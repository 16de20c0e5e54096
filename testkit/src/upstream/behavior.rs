//! What a fake upstream does with a request (changeable while it runs).

use std::time::Duration;

/// How a [`super::FakeUpstream`] answers requests other than its health path.
/// Every behaviour first reads the whole request (head and body) and records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Behavior {
    /// 200 with a JSON echo naming the server (and `X-Served-By: <name>`).
    #[default]
    Echo,
    /// The echo, with this status code.
    Status(u16),
    /// Waits, then echoes (a slow server; for timeouts and drain tests).
    Delay(Duration),
    /// 503 Service Unavailable with a short text body.
    Unavailable,
    /// Writes a partial status line (`HTTP/1.1 20`) and closes: an invalid response.
    CloseMidHeader,
    /// Writes bytes that are not HTTP, then closes.
    Junk,
    /// Never answers; holds the connection until the client or a stop closes it.
    Silent,
    /// Closes with a TCP RST (SO_LINGER 0) instead of answering.
    Reset,
}
