//! Dual tensors: a primal value and its tangent pushed through the network together, both on the
//! dfdx tape, and parameters paired with the direction they are probed along.
//!
//! Forward mode is written by hand (each layer has a function that maps a [`Dual`] to a
//! [`Dual`]); reverse mode is dfdx's tape. The tangent is built from ordinary traced dfdx ops, so
//! running the tape backwards differentiates it a second time.
//!
//! Every activation tensor is `[copies, rows, features]` ([`Stacked`]): copy j of the network
//! carries its own traced parameters and its own direction v_j, which is how one backward pass
//! returns k Hessian products. A single product is the case `copies = 1`.
//!
//! Tape rules (dfdx 0.13), which every layer function obeys:
//! - a binary op takes its tape from the left operand and merges the right one's, so a traced
//!   tensor sits on the left of any op whose other operand is untraced;
//! - each traced tensor is consumed with its tape exactly once; every other use takes an
//!   [`again`] copy (same id, empty tape), so no backward op is recorded twice and gradients of
//!   all uses accumulate on the same id.

use dfdx::prelude::*;
use gates_models::{Backend, Scalar};

/// A tensor that records its backward operations on an owned tape.
pub type Traced<S, E, D> = Tensor<S, E, D, OwnedTape<E, D>>;

/// Shape of activations: `[copies, rows, features]`, with `rows` the samples of the batch.
pub type Stacked = (usize, usize, usize);

/// A value x and its tangent ẋ = Dx·v along the probe direction, both traced.
pub struct Dual<S: Shape, E: Scalar, D: Backend<E>> {
    /// The value.
    pub primal: Traced<S, E, D>,
    /// Its derivative along the direction.
    pub tangent: Traced<S, E, D>,
}

/// Another use of a traced tensor: same id and data, empty tape (see the module's tape rules).
pub fn again<S: Shape, E: Scalar, D: Backend<E>>(t: &Traced<S, E, D>) -> Traced<S, E, D> {
    t.retaped()
}

/// One parameter tensor of the stacked network: k copies of its values (the leaf that gradients
/// land on) and the k directions it is probed along, both `[copies, len]`.
pub struct ParamDual<E: Scalar, D: Backend<E>> {
    value: Tensor<(usize, usize), E, D>,
    direction: Tensor<(usize, usize), E, D>,
}

impl<E: Scalar, D: Backend<E>> ParamDual<E, D> {
    /// Pairs stacked values with stacked directions of the same shape.
    pub fn new(
        value: Tensor<(usize, usize), E, D>,
        direction: Tensor<(usize, usize), E, D>,
    ) -> Self {
        assert_eq!(value.shape(), direction.shape(), "parameter and direction shapes differ");
        Self { value, direction }
    }

    /// Number of copies k.
    pub fn copies(&self) -> usize {
        self.value.shape().0
    }

    /// Number of values in one copy.
    pub fn len(&self) -> usize {
        self.value.shape().1
    }

    /// Whether a copy holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf tensor `[copies, len]` whose gradient is the product for this parameter.
    pub fn leaf(&self) -> &Tensor<(usize, usize), E, D> {
        &self.value
    }

    /// The values, traced for one more use and viewed as `shape` (same number of elements,
    /// copies leading). Reshaping a contiguous tensor keeps its id, so gradients reach the leaf.
    pub fn traced<S: Shape>(&self, shape: S) -> Traced<S, E, D> {
        self.value.retaped::<OwnedTape<E, D>>().reshape_like(&shape)
    }

    /// The directions viewed as `shape`; constants, so untraced.
    pub fn direction<S: Shape>(&self, shape: S) -> Tensor<S, E, D> {
        self.direction.clone().reshape_like(&shape)
    }
}
