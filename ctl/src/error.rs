//! The library's error type. Each variant maps to exactly one [`Exit`] code.

use crate::exit::Exit;
use crate::target::Target;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{0}")]
    Usage(String),

    #[error("{target}: cannot reach the Runtime API: {source}")]
    Unreachable {
        target: Target,
        #[source]
        source: io::Error,
    },

    #[error("{target}: `{command}` was refused: {reply}")]
    Refused {
        target: Target,
        command: String,
        reply: String,
    },

    #[error("{target}: `{command}` was refused: {reply}")]
    UnknownObject {
        target: Target,
        command: String,
        reply: String,
    },

    #[error("{target}: unexpected reply to `{command}`: {detail}")]
    Protocol {
        target: Target,
        command: String,
        detail: String,
    },

    #[error("precondition not met: {0}")]
    Precondition(String),

    #[error("{detail}; every target was rolled back")]
    RolledBack { detail: String },

    #[error("{detail}; ROLLBACK FAILED: {rollback}")]
    RollbackFailed { detail: String, rollback: String },

    #[error("drain deadline missed: {0}")]
    DrainDeadline(String),

    #[error("{}: {source}", path.display())]
    LocalFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{}: {detail}", path.display())]
    BadLocalFile { path: PathBuf, detail: String },
}

impl CtlError {
    pub fn exit(&self) -> Exit {
        match self {
            CtlError::Usage(_) => Exit::Usage,
            CtlError::Unreachable { .. } => Exit::Unreachable,
            CtlError::Refused { .. } | CtlError::Protocol { .. } => Exit::Refused,
            CtlError::UnknownObject { .. } | CtlError::Precondition(_) => Exit::Precondition,
            CtlError::RolledBack { .. } => Exit::RolledBack,
            CtlError::RollbackFailed { .. } => Exit::RollbackFailed,
            CtlError::DrainDeadline(_) => Exit::DrainDeadline,
            CtlError::LocalFile { .. } | CtlError::BadLocalFile { .. } => Exit::LocalFile,
        }
    }

    /// True when the failure says nothing about the proxies' state (bad input, no route
    /// to them): nothing can have been changed by the command that failed.
    pub fn is_before_change(&self) -> bool {
        matches!(
            self.exit(),
            Exit::Usage | Exit::Unreachable | Exit::Precondition
        )
    }
}
