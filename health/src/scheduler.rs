pub(crate) async fn run(_store: std::sync::Arc<switchyard_state::Store>, _stop: tokio::sync::watch::Receiver<bool>) {}
