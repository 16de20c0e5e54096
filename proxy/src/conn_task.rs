//! The task of one client connection: its serving future, cut short by a
//! hard stop. A hand-written future rather than an `async` block so the
//! connection's state is held once: an `async` block keeps its captured
//! values beside the future they are moved into, and every idle
//! keep-alive connection would pay for both.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

pin_project_lite::pin_project! {
    pub(crate) struct ConnTask<S, H, G> {
        #[pin]
        serve: S,
        #[pin]
        hard: H,
        hard_seen: bool,
        // Boxed: only a hard stop needs it.
        cut: Option<Pin<Box<Sleep>>>,
        // Dropped with the task (connection counts).
        guards: G,
    }
}

impl<S, H, G> ConnTask<S, H, G> {
    pub(crate) fn new(serve: S, hard: H, guards: G) -> Self {
        ConnTask {
            serve,
            hard,
            hard_seen: false,
            cut: None,
            guards,
        }
    }
}

/// On a hard stop, a request waiting for its server answers 502 (`KH--`)
/// first; whatever is left after this long is cut.
const CUT_AFTER: Duration = Duration::from_millis(200);

impl<S: Future<Output = ()>, H: Future<Output = ()>, G> Future for ConnTask<S, H, G> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // One clock reading serves the whole poll (see `clock`).
        let _clock = switchyard_state::clock::PollScope::enter();
        let this = self.project();
        if this.serve.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if !*this.hard_seen {
            if this.hard.poll(cx).is_pending() {
                return Poll::Pending;
            }
            *this.hard_seen = true;
        }
        let cut = this
            .cut
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_AFTER)));
        cut.as_mut().poll(cx)
    }
}
