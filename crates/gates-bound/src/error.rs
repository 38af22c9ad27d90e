//! The one error type of `gates-bound`: every fallible function of the crate returns it.
//!
//! Variants carry the context a reader needs to find the bad input (`what`, `expected`,
//! `got`, an index or a run number); messages are lowercase without a trailing period.

/// Shorthand for results of this crate.
pub type Result<T, E = BoundError> = std::result::Result<T, E>;

/// What can go wrong when computing the sharpness dimension, its estimators, the bound or the
/// baseline measures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoundError {
    /// An input that needs at least one element has none.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },

    /// A scalar lies outside the range the mathematics allows.
    #[error("{what} must be {expected}, got {got}")]
    OutOfRange {
        /// Which input.
        what: &'static str,
        /// The allowed range in words, e.g. "in (0, 1)".
        expected: &'static str,
        /// The value supplied.
        got: f64,
    },

    /// Two inputs that must agree in length do not.
    #[error("{what} has length {got}, expected {expected}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length supplied.
        got: usize,
    },

    /// An element of an input is NaN or infinite where only finite numbers make sense.
    #[error("{what} holds {got} at index {index}, expected a finite number")]
    NotFinite {
        /// Which input.
        what: &'static str,
        /// Position of the bad element.
        index: usize,
        /// The bad element.
        got: f64,
    },

    /// The Lanczos weights of one SLQ run do not form a probability vector.
    #[error("weights of slq run {run} sum to {got}, expected 1 within {tolerance}")]
    WeightsNotNormalised {
        /// Index of the run.
        run: usize,
        /// Sum of its weights.
        got: f64,
        /// Accepted distance from 1.
        tolerance: f64,
    },

    /// Runs of a correlation study do not share one set of hyperparameter names.
    #[error("run {run} has hyperparameters {got:?}, expected {expected:?}")]
    HyperparameterMismatch {
        /// Index of the offending run.
        run: usize,
        /// Names of the first run.
        expected: Vec<String>,
        /// Names of this run.
        got: Vec<String>,
    },

    /// A fit has no meaningful answer, e.g. a PH-dim slope of 1 or more.
    #[error("{what} is degenerate: {reason}")]
    Degenerate {
        /// Which estimate.
        what: &'static str,
        /// Why, in words, with the offending numbers.
        reason: String,
    },

    /// An artifact file could not be read.
    #[error(transparent)]
    Artifact(Box<gates_artifacts::Error>),
    /// A [`PointSource`](crate::topology::PointSource) failed to deliver rows.
    #[error("reading rows {start}..{end} of the point source")]
    PointSource {
        /// First row requested.
        start: usize,
        /// One past the last row requested.
        end: usize,
        /// What the source reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// Checks that every element of `values` is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(BoundError::NotFinite { what, index, got: values[index] }),
        None => Ok(()),
    }
}

/// Checks that `values` is not empty.
pub(crate) fn check_non_empty<T>(what: &'static str, values: &[T]) -> Result<()> {
    if values.is_empty() {
        return Err(BoundError::Empty { what });
    }
    Ok(())
}
