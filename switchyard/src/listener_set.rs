//! The listening sockets of the configuration being served, shared by the
//! reloader (which brings them in line with each new configuration) and the
//! `_getsocks` server (which hands them to a successor). A stopping process
//! closes its copy for good: a socket kept open without an accept loop
//! would take connections nobody serves (SO_REUSEPORT spreads new
//! connections over every open socket of a port).

use std::sync::Mutex;

use switchyard_proxy::Listeners;

pub struct ListenerSet {
    /// `None` once closed.
    inner: Mutex<Option<Listeners>>,
}

impl ListenerSet {
    pub fn new(listeners: Listeners) -> ListenerSet {
        ListenerSet {
            inner: Mutex::new(Some(listeners)),
        }
    }

    /// Run `f` on the sockets; `None` once closed.
    pub fn with<R>(&self, f: impl FnOnce(&mut Listeners) -> R) -> Option<R> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_mut().map(f)
    }

    /// Close for good, returning the sockets held until now (`None` if
    /// already closed).
    pub fn take(&self) -> Option<Listeners> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_for_good() {
        let set = ListenerSet::new(Listeners::empty());
        assert_eq!(set.with(|l| l.len()), Some(0));
        assert!(set.take().is_some());
        assert_eq!(set.with(|l| l.len()), None);
        assert!(set.take().is_none());
    }
}
