//! Errors of the health crate. Displayed texts are the Runtime API's.

/// Why a health operation could not be applied (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    /// The (proxy, server) indices do not name a server of this snapshot.
    #[error("No such server.")]
    NoSuchServer,
    /// `set server health` on a server that tracks another one.
    #[error("cannot change health on a tracking server.")]
    Tracking,
    /// `enable/disable health` on a server without `check`.
    #[error("Health checks are not configured on this server, cannot enable.")]
    NotChecked,
}
