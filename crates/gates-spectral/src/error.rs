//! The error type of `gates-spectral`: every failure names what was being computed and the
//! numbers involved.

/// What can go wrong while computing a spectrum.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two sizes that must agree do not.
    #[error("{what}: expected length {expected}, got {got}")]
    DimensionMismatch {
        /// Which input, for example `start vector`.
        what: &'static str,
        /// The length the operator needs.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A parameter is outside its allowed range.
    #[error("invalid {name}: expected {expected}, got {got}")]
    InvalidParameter {
        /// The field, for example `LanczosParams::max_steps`.
        name: &'static str,
        /// What is allowed.
        expected: &'static str,
        /// What was given.
        got: String,
    },
    /// A dense computation would need more memory than may be used.
    #[error(
        "dense eigenvalues of a {dim}x{dim} operator need {needed_bytes} bytes ({needed_gib:.2} GiB) \
         but only {available_bytes} bytes ({available_gib:.2} GiB) are available ({limit})"
    )]
    OutOfMemory {
        /// Dimension d of the operator.
        dim: usize,
        /// Bytes the computation would allocate (matrix and eigensolver workspace).
        needed_bytes: u64,
        /// `needed_bytes` in GiB, for the message.
        needed_gib: f64,
        /// Bytes that may be used.
        available_bytes: u64,
        /// `available_bytes` in GiB, for the message.
        available_gib: f64,
        /// Where the limit came from: the explicit budget or `MemAvailable` of /proc/meminfo.
        limit: &'static str,
    },
    /// The memory limit could not be determined and no explicit budget was given.
    #[error(
        "cannot read MemAvailable from /proc/meminfo ({reason}); set DenseParams::memory_budget"
    )]
    MemoryUnknown {
        /// Why reading failed.
        reason: String,
    },
    /// A matrix said to be symmetric is not.
    #[error(
        "matrix is not symmetric: ‖A − Aᵀ‖_F / ‖A‖_F = {relative_asymmetry:e} > {tolerance:e}"
    )]
    NotSymmetric {
        /// Relative Frobenius norm of the antisymmetric part.
        relative_asymmetry: f64,
        /// The largest accepted value.
        tolerance: f64,
    },
    /// A matrix that must be square is not.
    #[error("matrix is not square: {rows}x{cols}")]
    NotSquare {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// The operator produced NaN or infinity.
    #[error("non-finite value in {what} at step {step}")]
    NonFinite {
        /// Where it appeared, for example `lanczos: alpha`.
        what: &'static str,
        /// Lanczos step, or block index in dense assembly.
        step: usize,
    },
    /// The operator failed to compute a product.
    #[error("operator failed during {what} (step {step})")]
    Operator {
        /// The computation, for example `lanczos`.
        what: &'static str,
        /// Lanczos step, block or probe index.
        step: usize,
        /// The operator's error.
        #[source]
        source: crate::operator::OperatorError,
    },
    /// faer's eigensolver did not converge.
    #[error("{what}: eigensolver did not converge (dimension {dim})")]
    NoConvergence {
        /// Which decomposition.
        what: &'static str,
        /// Its dimension.
        dim: usize,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
