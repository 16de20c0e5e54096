//! Errors of the load generator's setup and reports (never of a single request: those
//! are counted as [`crate::gen::ErrorKind`] outcomes, not returned).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("invalid option: {0}")]
    Usage(String),
    #[error("could not parse the provided input; input = {0}")]
    BadInput(String),
    #[error("invalid header {input:?}")]
    Header {
        input: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid --backend-body-regex")]
    Regex(#[from] regex::Error),
    #[error("reading {path}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    EventLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("drawing the plot {path}: {reason}")]
    Plot { path: PathBuf, reason: String },
    #[error("encoding the JSON report")]
    Json(#[from] serde_json::Error),
    #[error("the result collector thread panicked")]
    CollectorPanicked,
    #[error("spawning the result collector thread")]
    Spawn(#[source] std::io::Error),
}
