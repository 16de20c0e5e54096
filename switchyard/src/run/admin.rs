//! The admin side — Runtime API sockets and health checks — on its own
//! thread with a current-thread runtime, so a saturated proxy cannot delay
//! `show stat` or make a check time out.

use std::sync::Arc;

use anyhow::Context;
use switchyard_admin::{
    bind_sockets, serve_on, AdminCtx, AdminError, AdminListeners, AdminServices, ServeOptions,
};
use switchyard_config::Config;
use switchyard_state::{Services, Store};

/// Stats sockets bound before privileges are dropped.
pub struct BoundAdmin {
    listeners: AdminListeners,
    opts: ServeOptions,
}

/// Bind every `stats socket` synchronously.
pub fn bind(config: &Config) -> Result<BoundAdmin, AdminError> {
    Ok(BoundAdmin {
        listeners: bind_sockets(config)?,
        opts: ServeOptions::from_config(config),
    })
}

/// What the proxy calls for the stats page and `http-request use-service`.
pub fn services(ctx: Arc<AdminCtx>) -> Arc<dyn Services> {
    Arc::new(AdminServices::new(ctx))
}

/// Start health checks and the Runtime API on a dedicated thread. The thread
/// lives as long as the process.
pub fn spawn_thread(
    bound: BoundAdmin,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the admin runtime")?;
    std::thread::Builder::new()
        .name("switchyard-admin".into())
        .spawn(move || {
            runtime.block_on(async move {
                let _health = switchyard_health::start(store.clone());
                if let Err(e) = serve_on(bound.listeners, store, ctx, bound.opts).await {
                    switchyard_state::events::alert(&format!("Runtime API stopped: {e}"));
                }
                // Keep checking even if the CLI failed.
                std::future::pending::<()>().await;
            });
        })
        .context("starting the admin thread")?;
    Ok(())
}
