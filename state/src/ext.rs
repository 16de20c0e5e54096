//! A per-snapshot slot for data a consumer derives lazily from the snapshot
//! (e.g. the balancer's schedule). Cloning yields an empty slot, so an edited
//! copy of a snapshot never carries a stale derivation.

use std::any::Any;
use std::sync::{Arc, OnceLock};

#[derive(Default)]
pub struct Ext(OnceLock<Arc<dyn Any + Send + Sync>>);

impl Ext {
    /// The derived value, computing it on first use.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Option<&T> {
        self.0
            .get_or_init(|| Arc::new(init()) as Arc<dyn Any + Send + Sync>)
            .downcast_ref::<T>()
    }

    /// The derived value if it was computed already (never computes it).
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get()?.downcast_ref::<T>()
    }
}

impl Clone for Ext {
    fn clone(&self) -> Self {
        Ext::default()
    }
}

impl std::fmt::Debug for Ext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ext")
    }
}
