//! A server's interim (1xx) responses. HAProxy relays each to the client
//! as it comes, and a client that sent `Expect: 100-continue` waits for
//! one before it sends the body; for such a request they go on at once
//! (through a channel to the task writing to the client). Otherwise they
//! are kept and written just before the final response, the same bytes
//! with no per-request channel. Either way they never end the upload of a
//! request body: only a final answer does.

use bytes::Bytes;
use http::HeaderMap;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::head::{HeadError, RespHead};

/// Where the encoded interim responses of an `Expect: 100-continue`
/// request go.
pub(crate) type InterimTx = UnboundedSender<Bytes>;
/// Where the client's side takes them from.
pub(crate) type InterimRx = UnboundedReceiver<Bytes>;

pub(crate) fn channel() -> (InterimTx, InterimRx) {
    unbounded_channel()
}

/// The next interim response to relay; never, without a channel.
pub(crate) async fn next(rx: &mut Option<InterimRx>) -> Bytes {
    if let Some(rx) = rx {
        if let Some(b) = rx.recv().await {
            return b;
        }
    }
    std::future::pending().await
}

/// Those sent just before the final response was read.
pub(crate) fn rest(rx: &mut Option<InterimRx>) -> impl Iterator<Item = Bytes> + '_ {
    std::iter::from_fn(move || rx.as_mut()?.try_recv().ok())
}

pub(crate) struct Interim<'a> {
    forward: Option<&'a InterimTx>,
    kept: Vec<u8>,
    /// The most a response head may take (`tune.bufsize - maxrewrite`).
    pub(super) limit: usize,
    /// The final answer (or why it is invalid), when it came while the
    /// request was still going out.
    pub(super) early: Option<Result<Box<RespHead>, HeadError>>,
}

impl<'a> Interim<'a> {
    pub(crate) fn new(forward: Option<&'a InterimTx>, limit: usize) -> Interim<'a> {
        Interim {
            forward,
            kept: Vec::new(),
            limit,
            early: None,
        }
    }

    /// One interim response, HTTP/1-encoded as the client gets it.
    pub(super) fn push(&mut self, status: u16, reason: &str, headers: &HeaderMap) {
        let encode = |out: &mut Vec<u8>| {
            crate::h1::encode_head(out, false, status, reason, headers, b"");
        };
        match self.forward {
            Some(tx) => {
                let mut enc = Vec::new();
                encode(&mut enc);
                // The client's side is gone if this fails: nothing to do.
                drop(tx.send(Bytes::from(enc)));
            }
            None => encode(&mut self.kept),
        }
    }

    /// The kept responses, to go before the final one.
    pub(super) fn take_kept(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.kept)
    }
}
