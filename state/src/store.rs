//! The one place a snapshot lives: many lock-free readers, one publisher at
//! a time. Readers `load()`; writers `update()` a copy and store it once, so
//! no reader ever sees half a change.

use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};

use crate::snapshot::Snapshot;

pub struct Store {
    current: ArcSwap<Snapshot>,
    /// Serialises publishers only; readers never touch it.
    writer: Mutex<()>,
}

impl Store {
    pub fn new(s: Snapshot) -> Store {
        Store {
            current: ArcSwap::from_pointee(s),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot for a short read. Drop it before any `.await`.
    pub fn load(&self) -> Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The current snapshot, owned (for long-lived use).
    pub fn load_full(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Apply an edit to a copy of the current snapshot and publish it if the
    /// edit succeeds. On error nothing is published: routing is unchanged.
    pub fn update<T, E>(&self, edit: impl FnOnce(&mut Snapshot) -> Result<T, E>) -> Result<T, E> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = Snapshot::clone(&self.current.load());
        let out = edit(&mut next)?;
        next.generation += 1;
        self.current.store(Arc::new(next));
        Ok(out)
    }

    /// Replace the snapshot wholesale (a reload). `build` receives the
    /// current one so it can carry live state over.
    pub fn replace<E>(
        &self,
        build: impl FnOnce(&Snapshot) -> Result<Snapshot, E>,
    ) -> Result<(), E> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let cur = self.current.load_full();
        let mut next = build(&cur)?;
        next.generation = cur.generation + 1;
        self.current.store(Arc::new(next));
        Ok(())
    }
}
