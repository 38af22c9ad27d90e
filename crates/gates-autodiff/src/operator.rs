//! The interface spectral code programs against: a symmetric linear operator on ℝ^d, applied to
//! one vector or to a block of them.

use crate::block::Block;
use crate::error::Result;

/// A symmetric linear map A: ℝ^d → ℝ^d (a minibatch Hessian H_B, or the SGD Jacobian I − ηH_B).
///
/// Implementors guarantee, up to rounding, A(αu + βv) = αAu + βAv and uᵀAv = vᵀAu, and that
/// `apply_block` returns the same columns as `apply` on each column, usually faster.
pub trait SymmetricOperator<E> {
    /// The dimension d.
    fn dim(&self) -> usize;

    /// A·v.
    fn apply(&self, v: &[E]) -> Result<Vec<E>>;

    /// A·V, column by column.
    fn apply_block(&self, vs: &Block<E>) -> Result<Block<E>>;
}
