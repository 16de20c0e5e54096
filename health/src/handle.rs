//! Starting and stopping the checker.

use std::sync::Arc;

use switchyard_state::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running checker. Dropping it stops every check and resolver task.
#[derive(Debug)]
pub struct HealthHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl HealthHandle {
    /// Stop the checker and wait until its tasks are gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for HealthHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Start the checker on the current tokio runtime (call it from inside
/// one; the binary runs it on its own current-thread runtime so a saturated
/// proxy never delays a check). It checks every server with `check`,
/// spreading the first checks over `inter` as HAProxy does, runs slowstart
/// ramps, passive health and DNS re-resolution, and follows the store:
/// servers added or removed by a publish are picked up or dropped, and live
/// state carried over by identity keeps its task.
///
/// Panics if called outside a tokio runtime (use [`start_on`] otherwise).
pub fn start(store: Arc<Store>) -> HealthHandle {
    start_on(&tokio::runtime::Handle::current(), store)
}

/// [`start`] on a given runtime.
pub fn start_on(rt: &tokio::runtime::Handle, store: Arc<Store>) -> HealthHandle {
    let (tx, rx) = watch::channel(false);
    let task = rt.spawn(crate::scheduler::run(store, rx));
    HealthHandle {
        stop: tx,
        task: Some(task),
    }
}
