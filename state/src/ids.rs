//! Index newtypes into a [`crate::Snapshot`]. Indices are stable for the life
//! of a snapshot; across a reload use names.

/// Position of a proxy in `Snapshot::proxies` (config order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProxyIdx(pub u32);

/// Position of a server in its backend's `servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerIdx(pub u32);

/// Position of a map in `Snapshot::maps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapIdx(pub u32);

impl ProxyIdx {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
impl ServerIdx {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
impl MapIdx {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
