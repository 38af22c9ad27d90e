//! The toy loss of PAPER.md figure 6, L(x) = ½‖x‖² − 2·cos(4x₁)·cos(4x₂), differentiated the way
//! the networks are: forward-mode tangents in traced dfdx ops, then dfdx's reverse pass.
//!
//! Its Hessian is known in closed form (`gates_models::toy::hessian`), ranges from negative
//! curvature (about −31) to far past the edge of stability (about 33 against 2/η ≈ 13 at the
//! figure's η = 0.15), and involves functions (sin, cos) that no network layer uses. That makes
//! it an exact reference for the reverse-over-forward construction itself, with no network and
//! no data in the way.

use dfdx::prelude::*;
use gates_models::{Backend, Scalar};

use crate::block::Block;
use crate::dual::Traced;
use crate::error::{Error, Result};
use crate::operator::SymmetricOperator;

/// Dimension of the toy problem.
const DIM: usize = 2;

/// k points or k directions, one per row.
type Rows<E, D> = Tensor<(usize, usize), E, D>;

/// Frequency of the cosine ripples.
const FREQUENCY: f64 = 4.0;

/// The toy loss at a fixed point x, with its exact Hessian products.
pub struct ToyLoss<E: Scalar, D: Backend<E>> {
    point: [E; DIM],
    dev: D,
}

impl<E: Scalar, D: Backend<E>> ToyLoss<E, D> {
    /// The loss at `point`, on `dev`.
    pub fn new(point: [E; DIM], dev: &D) -> Self {
        Self { point, dev: dev.clone() }
    }

    /// The point x.
    pub fn point(&self) -> [E; DIM] {
        self.point
    }

    /// Number of parameters, 2.
    pub fn dim(&self) -> usize {
        DIM
    }

    /// L(x), computed in the scalar type on the device.
    pub fn loss(&self) -> E {
        let x = self.dev.tensor_from_vec(self.point.to_vec(), (DIM,));
        let quadratic = x.clone().square().sum::<Rank0, _>() * E::of(0.5);
        let cosines = (x * E::of(FREQUENCY)).cos().as_vec();
        quadratic.as_vec()[0] - E::of(2.0) * cosines[0] * cosines[1]
    }

    /// ∇L(x)·v from the tangent pass alone: the first-order half of a Hessian product.
    pub fn directional_derivative(&self, v: &[E]) -> Result<E> {
        check_len("direction", v)?;
        let (x, direction) = self.stacked(&[v]);
        Ok(tangent(&x, direction).as_vec()[0])
    }

    /// ∇²L(x)·v.
    pub fn hvp(&self, v: &[E]) -> Result<Vec<E>> {
        check_len("direction", v)?;
        Ok(self.products(&[v]))
    }

    /// ∇²L(x)·V for the columns of V, in one stacked pass.
    pub fn hvp_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        if vs.dim() != DIM {
            return Err(Error::Length { what: "block columns", expected: DIM, got: vs.dim() });
        }
        let columns: Vec<&[E]> = vs.columns().collect();
        if columns.is_empty() {
            return Ok(vs.clone());
        }
        Block::from_col_major(DIM, self.products(&columns))
    }

    /// k copies of the point as one leaf `[k, 2]` and the k directions beside it.
    fn stacked(&self, directions: &[&[E]]) -> (Rows<E, D>, Rows<E, D>) {
        let k = directions.len();
        let points = self.point.repeat(k);
        let flat: Vec<E> = directions.iter().flat_map(|v| v.iter().copied()).collect();
        (self.dev.tensor_from_vec(points, (k, DIM)), self.dev.tensor_from_vec(flat, (k, DIM)))
    }

    /// The products of every direction, concatenated: the gradient of s = Σ_j ∇L(x_j)·v_j
    /// with respect to the copies x_j, since copy j's term depends on x_j alone.
    fn products(&self, directions: &[&[E]]) -> Vec<E> {
        let (x, direction) = self.stacked(directions);
        let grads = tangent(&x, direction).backward();
        grads.get(&x).as_vec()
    }
}

/// s = Σ_j ∇L(x_j)·v_j on the tape, for copies `x` of the point (the leaf, `[k, 2]`) and their
/// constant directions `v`.
///
/// With u = 4x, ∇L(x)·v = x·v + 8·Σ_i sin(u_i)·cos(u_ī)·v_i, where ī is the other coordinate.
/// The exchange i ↔ ī is a product with the constant matrix [[0, 1], [1, 0]] on the right, so
/// the traced operand stays on the left as dfdx's tape needs.
fn tangent<E: Scalar, D: Backend<E>>(x: &Rows<E, D>, v: Rows<E, D>) -> Traced<Rank0, E, D> {
    let dev = x.device();
    let exchange = dev.tensor_from_vec(vec![E::zero(), E::one(), E::one(), E::zero()], (DIM, DIM));
    let traced = || x.retaped::<OwnedTape<E, D>>();

    let quadratic = traced() * v.clone();
    let sines = (traced() * E::of(FREQUENCY)).sin();
    let exchanged_cosines = (traced() * E::of(FREQUENCY)).cos().matmul(exchange);
    let ripples = sines * exchanged_cosines * v * E::of(2.0 * FREQUENCY);
    (quadratic + ripples).sum::<Rank0, _>()
}

fn check_len<E>(what: &'static str, v: &[E]) -> Result<()> {
    if v.len() != DIM {
        return Err(Error::Length { what, expected: DIM, got: v.len() });
    }
    Ok(())
}

impl<E: Scalar, D: Backend<E>> SymmetricOperator<E> for ToyLoss<E, D> {
    fn dim(&self) -> usize {
        DIM
    }

    fn apply(&self, v: &[E]) -> Result<Vec<E>> {
        self.hvp(v)
    }

    fn apply_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        self.hvp_block(vs)
    }
}
