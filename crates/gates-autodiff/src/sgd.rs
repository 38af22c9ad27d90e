//! The Jacobian of one SGD step, the linearisation that RDS sharpness and the sharpness dimension
//! are built from (PAPER.md §1).

use gates_models::{Backend, Scalar};

use crate::block::Block;
use crate::error::Result;
use crate::minibatch::MinibatchLoss;
use crate::operator::SymmetricOperator;

/// Dϕ(w) = I − η·H_B(w), the Jacobian of the SGD map ϕ(w) = w − η∇L_B(w) on a fixed minibatch B.
///
/// H_B is symmetric, so Dϕ is too: its Jacobian-vector and vector-Jacobian products coincide,
/// and its singular values are |1 − ηα| over the eigenvalues α of H_B.
pub struct SgdJacobian<'l, 'a, E: Scalar, D: Backend<E>> {
    loss: &'l MinibatchLoss<'a, E, D>,
    lr: E,
}

impl<'l, 'a, E: Scalar, D: Backend<E>> SgdJacobian<'l, 'a, E, D> {
    /// The Jacobian of an SGD step with learning rate `lr` on `loss`'s minibatch.
    pub fn new(loss: &'l MinibatchLoss<'a, E, D>, lr: E) -> Self {
        Self { loss, lr }
    }

    /// The learning rate η.
    pub fn lr(&self) -> E {
        self.lr
    }

    /// The minibatch loss whose Hessian enters.
    pub fn loss(&self) -> &MinibatchLoss<'a, E, D> {
        self.loss
    }

    /// Dϕ·v = v − η·H_B·v.
    pub fn jvp(&self, v: &[E]) -> Result<Vec<E>> {
        let mut hv = self.loss.hvp(v)?;
        step(&mut hv, v, self.lr);
        Ok(hv)
    }

    /// Dϕ·V = V − η·H_B·V, column by column.
    pub fn jvp_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        let mut hv = self.loss.hvp_block(vs)?;
        for (out, v) in hv.columns_mut().zip(vs.columns()) {
            step(out, v, self.lr);
        }
        Ok(hv)
    }
}

/// Overwrites `hv` with v − η·hv.
fn step<E: Scalar>(hv: &mut [E], v: &[E], lr: E) {
    for (h, &x) in hv.iter_mut().zip(v) {
        *h = x - lr * *h;
    }
}

impl<E: Scalar, D: Backend<E>> SymmetricOperator<E> for SgdJacobian<'_, '_, E, D> {
    fn dim(&self) -> usize {
        self.loss.dim()
    }

    fn apply(&self, v: &[E]) -> Result<Vec<E>> {
        self.jvp(v)
    }

    fn apply_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        self.jvp_block(vs)
    }
}
