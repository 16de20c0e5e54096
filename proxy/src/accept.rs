//! Accept loops.
use std::sync::Arc;

use crate::proxy::Shared;

#[derive(Debug, Default)]
pub(crate) struct Limits {}

pub(crate) async fn supervise(shared: Arc<Shared>) {
    shared.shutdown.stop_requested().await;
}
