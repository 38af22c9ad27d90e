//! Errors of configuration, training and recording.

use std::path::PathBuf;

/// What can go wrong while configuring, running or resuming training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is impossible or a key is unknown.
    #[error("invalid {key}: expected {expected}, found {found}")]
    Config {
        /// The key, for example `optimizer.lr`.
        key: String,
        /// What is allowed.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A config file could not be parsed.
    #[error("{path}: {message}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The parser's explanation, naming the key.
        message: String,
    },
    /// The output folder already holds a run.
    #[error("{path} already exists: choose another output folder, pass --force to overwrite it, or --resume to continue it")]
    OutputExists {
        /// The file that would be overwritten.
        path: PathBuf,
    },
    /// A checkpoint does not belong to this run.
    #[error("cannot resume from {path}: {reason}")]
    Resume {
        /// The checkpoint.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Models or data.
    #[error(transparent)]
    Models(#[from] gates_models::Error),
    /// Artifact files.
    #[error(transparent)]
    Artifacts(#[from] gates_artifacts::Error),
    /// Other file-system errors.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A configuration error.
    pub fn config(key: &str, expected: impl Into<String>, found: impl std::fmt::Display) -> Self {
        Self::Config { key: key.into(), expected: expected.into(), found: found.to_string() }
    }
}
