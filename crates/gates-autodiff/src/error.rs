//! Errors of building minibatch losses and applying their Hessians.

/// What can go wrong when building a [`crate::MinibatchLoss`] or applying its Hessian.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A vector or block has the wrong length.
    #[error("{what}: expected length {expected}, got {got}")]
    Length {
        /// Which vector.
        what: &'static str,
        /// The length needed.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The data does not fit the model.
    #[error("{what}: expected {expected}, got {got}")]
    Mismatch {
        /// Which size.
        what: &'static str,
        /// What the model needs.
        expected: usize,
        /// What the data has.
        got: usize,
    },
    /// A sample index lies outside the data set.
    #[error("sample index {index} out of range for a data set of {len} samples")]
    Index {
        /// The offending index.
        index: usize,
        /// Number of samples.
        len: usize,
    },
    /// The minibatch has no samples.
    #[error("empty minibatch: a loss needs at least one sample")]
    EmptyBatch,
    /// A tuning knob is out of range.
    #[error("invalid {key}: expected {expected}, got {got}")]
    Param {
        /// The knob.
        key: &'static str,
        /// What is allowed.
        expected: &'static str,
        /// What was given.
        got: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
