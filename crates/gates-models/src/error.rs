//! Errors of model construction and data loading.

use std::path::PathBuf;

use crate::data::idx::IdxError;

/// What can go wrong when building a model or loading data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An IDX file could not be read or decoded.
    #[error(transparent)]
    Idx(#[from] IdxError),
    /// A data file or folder is missing.
    #[error("{what} not found: expected {expected} in {dir}")]
    MissingData {
        /// Which data.
        what: String,
        /// The file names that were tried.
        expected: String,
        /// The folder searched.
        dir: PathBuf,
    },
    /// A data file decodes but does not hold what it should.
    #[error("{file}: expected {expected}, found {found}")]
    Data {
        /// The file (or embedded source) concerned.
        file: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A data folder does not exist.
    #[error("{what} {dir} does not exist")]
    MissingDir {
        /// Which folder.
        what: String,
        /// The path given.
        dir: PathBuf,
    },
    /// A configuration value is impossible.
    #[error("invalid {key}: expected {expected}, found {found}")]
    Config {
        /// The configuration key, for example `model.widths`.
        key: String,
        /// What is allowed.
        expected: String,
        /// What was given.
        found: String,
    },
    /// Stored parameters do not fit the model.
    #[error("parameter {name}: expected {expected}, found {found}")]
    Params {
        /// The parameter name.
        name: String,
        /// What the model needs.
        expected: String,
        /// What was given.
        found: String,
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
