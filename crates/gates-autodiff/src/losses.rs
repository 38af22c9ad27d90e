//! Directional derivatives of the losses: given the logits z and their tangent ż, the scalar
//! s = ∇_z L·ż, on the tape. Running the tape backwards from s yields the Hessian product.
//!
//! Both losses average over the b samples of the batch (as in gates-models) and sum over the
//! stacked copies, so s = Σ_j ∇L(w_j)·v_j:
//! - cross-entropy L = (1/b)Σ_i −log softmax(z_i)_{y_i}: s = (1/b)Σ_i (softmax(z_i) − e_{y_i})·ż_i;
//! - squared error L = (1/b)Σ_i ½‖z_i − e_{y_i}‖²: s = (1/b)Σ_i (z_i − e_{y_i})·ż_i.

use dfdx::prelude::*;
use gates_models::{Backend, Batch, LossKind, Scalar};

use crate::dual::{Dual, Stacked, Traced};

/// s = ∇_z L·ż for the given loss; `onehot` is `[rows, classes]`, shared by all copies.
pub fn loss_tangent<E: Scalar, D: Backend<E>>(
    kind: LossKind,
    logits: Dual<Stacked, E, D>,
    onehot: &Batch<E, D>,
) -> Traced<Rank0, E, D> {
    match kind {
        LossKind::CrossEntropy => cross_entropy_tangent(logits, onehot),
        LossKind::Mse => mse_tangent(logits, onehot),
    }
}

/// Cross-entropy: s = (1/b)Σ_i (softmax(z_i) − e_{y_i})·ż_i.
pub fn cross_entropy_tangent<E: Scalar, D: Backend<E>>(
    logits: Dual<Stacked, E, D>,
    onehot: &Batch<E, D>,
) -> Traced<Rank0, E, D> {
    let shape = *logits.primal.shape();
    let targets = onehot.clone().broadcast_like::<_, Axis<0>>(&shape);
    // dfdx 0.13's softmax differentiates wrongly through a non-contiguous input, so insist on
    // a contiguous one (free when it already is).
    let residual = logits.primal.contiguous().softmax::<Axis<2>>() - targets;
    contract(residual, logits.tangent)
}

/// Squared error: s = (1/b)Σ_i (z_i − e_{y_i})·ż_i.
pub fn mse_tangent<E: Scalar, D: Backend<E>>(
    logits: Dual<Stacked, E, D>,
    onehot: &Batch<E, D>,
) -> Traced<Rank0, E, D> {
    let shape = *logits.primal.shape();
    let targets = onehot.clone().broadcast_like::<_, Axis<0>>(&shape);
    contract(logits.primal - targets, logits.tangent)
}

/// (1/b)·Σ r ⊙ ż over copies, samples and classes.
fn contract<E: Scalar, D: Backend<E>>(
    residual: Traced<Stacked, E, D>,
    tangent: Traced<Stacked, E, D>,
) -> Traced<Rank0, E, D> {
    let rows = residual.shape().1;
    (residual * tangent).sum::<Rank0, _>() * E::of(1.0 / rows as f64)
}
