//! Shared helpers of the integration tests: small data, every MLP variant, seeded directions,
//! finite differences and named tolerances.

#![allow(dead_code)]

use gates_autodiff::{Engine, HvpParams, MinibatchLoss};
use gates_models::data::synthetic::GaussianSpec;
use gates_models::data::Dataset;
use gates_models::{Activation, Backend, LossKind, Mlp, MlpConfig, Scalar};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// How close two computations of one vector must be: ‖got − want‖ ≤ rel·‖want‖ + abs.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    /// Relative part, against the norm of the reference.
    pub rel: f64,
    /// Absolute floor, for references near zero.
    pub abs: f64,
}

impl Tol {
    /// Panics with context unless `got` is within tolerance of `want` (NaN never is).
    pub fn assert_close(&self, what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}: lengths differ");
        let err = norm(&sub(got, want));
        let bound = self.rel * norm(want) + self.abs;
        assert!(
            err <= bound,
            "{what}: ‖got − want‖ = {err:e} > {bound:e} (‖want‖ = {:e}, tol {self:?})",
            norm(want)
        );
    }

    /// Panics with context unless the scalars are within tolerance, relative to `scale`.
    pub fn assert_scalar(&self, what: &str, got: f64, want: f64, scale: f64) {
        let err = (got - want).abs();
        let bound = self.rel * scale + self.abs;
        assert!(err <= bound, "{what}: |{got:e} − {want:e}| = {err:e} > {bound:e} (tol {self:?})");
    }
}

/// Two exact computations of the same f64 quantity in different orders (block vs single,
/// closed form vs autodiff, algebraic laws): rounding only.
pub const F64_EXACT: Tol = Tol { rel: 1e-10, abs: 1e-13 };

/// f64 Hessian products against central differences of gradients with step [`FD_STEP_F64`]:
/// truncation O(ε²) ≈ 1e-10 and rounding O(u/ε) ≈ 1e-11, so 1e-6 has a wide margin while any
/// missing second-order term (errors of order 1) fails.
pub const F64_VS_FD: Tol = Tol { rel: 1e-6, abs: 1e-10 };

/// Step of f64 central differences, for a unit-norm direction.
pub const FD_STEP_F64: f64 = 1e-5;

/// f32 products against f32 central differences with step [`FD_STEP_F32`]: rounding of f32
/// gradients (≈ 1e-7) divided by the step dominates.
pub const F32_VS_FD: Tol = Tol { rel: 2e-2, abs: 1e-4 };

/// Step of f32 central differences, for a unit-norm direction.
pub const FD_STEP_F32: f64 = 3e-3;

/// f32 products against f64 products at the same (f32) weights.
pub const F32_VS_F64: Tol = Tol { rel: 1e-4, abs: 1e-6 };

/// Two exact f32 computations in different orders.
pub const F32_EXACT: Tol = Tol { rel: 1e-5, abs: 1e-6 };

/// A 3-class Gaussian mixture with 5 features, 12 training samples.
pub fn small_data() -> Dataset {
    GaussianSpec { classes: 3, dim: 5, n_train: 12, n_test: 3, separation: 1.0, seed: 4 }
        .generate()
        .unwrap()
        .train
}

/// All samples of a set.
pub fn all(data: &Dataset) -> Vec<usize> {
    (0..data.len()).collect()
}

/// Every activation with and without bias, 5-7-4-3.
pub fn configs() -> Vec<MlpConfig> {
    let mut out = Vec::new();
    for activation in [Activation::Relu, Activation::Gelu, Activation::Tanh] {
        for bias in [false, true] {
            out.push(MlpConfig { widths: vec![5, 7, 4, 3], activation, bias, init_seed: 11 });
        }
    }
    out
}

/// Both implementations; every check runs on each.
pub const ENGINES: [Engine; 2] = [Engine::Tape, Engine::Host];

/// The minibatch loss of `model` on `indices`, computing products with `engine`.
pub fn batch_loss<'a, E: Scalar, D: Backend<E>>(
    model: &'a Mlp<E, D>,
    data: &'a Dataset,
    indices: &[usize],
    loss: LossKind,
    engine: Engine,
) -> MinibatchLoss<'a, E, D> {
    MinibatchLoss::new(model, data, indices, loss)
        .unwrap()
        .with_params(HvpParams { engine, ..HvpParams::default() })
        .unwrap()
}

/// Both losses.
pub const LOSSES: [LossKind; 2] = [LossKind::CrossEntropy, LossKind::Mse];

/// A unit-norm Gaussian direction from `seed`.
pub fn direction(d: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
    let n = norm(&v);
    v.into_iter().map(|x| x / n).collect()
}

/// Converts to the model's precision.
pub fn cast<E: Scalar>(v: &[f64]) -> Vec<E> {
    v.iter().map(|&x| E::of(x)).collect()
}

/// Widens to f64.
pub fn widen<E: Scalar>(v: &[E]) -> Vec<f64> {
    v.iter().map(|&x| x.f64()).collect()
}

/// (∇L(w + εv) − ∇L(w − εv)) / 2ε, in the model's precision, widened.
pub fn fd_hvp<E: Scalar, D: Backend<E>>(
    model: &Mlp<E, D>,
    data: &Dataset,
    indices: &[usize],
    loss: LossKind,
    v: &[f64],
    eps: f64,
) -> Vec<f64> {
    let grad_at = |sign: f64| {
        let mut shifted = model.clone();
        let w: Vec<E> =
            model.flat().iter().zip(v).map(|(&w, &vi)| E::of(w.f64() + sign * eps * vi)).collect();
        shifted.set_flat(&w);
        widen(&MinibatchLoss::new(&shifted, data, indices, loss).unwrap().gradient())
    };
    let (plus, minus) = (grad_at(1.0), grad_at(-1.0));
    plus.iter().zip(&minus).map(|(p, m)| (p - m) / (2.0 * eps)).collect()
}

/// Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// Inner product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// a − b.
pub fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// Whether the slow checks were asked for.
pub fn slow_tests() -> bool {
    std::env::var("GATES_SLOW_TESTS").is_ok_and(|v| v == "1")
}
