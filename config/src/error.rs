use crate::model::Diagnostic;

/// Everything wrong with a configuration. `errors` is never empty.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} error(s) found in configuration", errors.len())]
pub struct ConfigErrors {
    /// Fatal problems, each with `file:line`.
    pub errors: Vec<Diagnostic>,
    /// Warnings seen before the errors stopped the load.
    pub warnings: Vec<Diagnostic>,
    /// Files that took part, for HAProxy's `Error(s) found in configuration file : X`.
    pub files: Vec<String>,
}

impl ConfigErrors {
    /// An error with no location (e.g. a file that cannot be opened).
    pub fn message(msg: impl Into<String>) -> Self {
        ConfigErrors {
            errors: vec![Diagnostic {
                location: Default::default(),
                message: msg.into(),
                bare: false,
            }],
            warnings: Vec::new(),
            files: Vec::new(),
        }
    }
}
