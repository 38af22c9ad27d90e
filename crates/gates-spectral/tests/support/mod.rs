//! Shared test helpers: named tolerances, seeded matrices with known spectra, and the exact
//! quantities the estimators are checked against.

#![allow(dead_code, reason = "each test file uses a different subset")]

use faer::{Mat, MatRef, Side};
use gates_spectral::DenseSymmetric;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// An accepted error: `abs + rel · scale`, where `scale` is the size of the problem (‖A‖ for
/// eigenvalues and residuals, since their rounding errors are relative to ‖A‖, not to |λ|).
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Name in failure messages.
    pub name: &'static str,
    /// Absolute part.
    pub abs: f64,
    /// Part relative to the scale.
    pub rel: f64,
}

impl Tolerance {
    /// The bound at a scale.
    pub fn bound(&self, scale: f64) -> f64 {
        self.abs + self.rel * scale
    }

    /// Panics unless |got − expected| ≤ bound(scale).
    #[track_caller]
    pub fn assert_close(&self, what: &str, got: f64, expected: f64, scale: f64) {
        let bound = self.bound(scale);
        assert!(
            (got - expected).abs() <= bound,
            "{what}: got {got:e}, expected {expected:e}, |diff| {:e} > {bound:e} ({} tolerance)",
            (got - expected).abs(),
            self.name
        );
    }

    /// Panics unless |value| ≤ bound(scale).
    #[track_caller]
    pub fn assert_small(&self, what: &str, value: f64, scale: f64) {
        let bound = self.bound(scale);
        assert!(value.abs() <= bound, "{what}: {value:e} > {bound:e} ({} tolerance)", self.name);
    }
}

/// Eigenvalues computed two ways in f64: backward stable solvers agree to a few hundred ulps
/// of ‖A‖.
pub const EIGENVALUE: Tolerance = Tolerance { name: "eigenvalue", abs: 0.0, rel: 1e-12 };
/// Explicit residuals ‖Av − θv‖ of converged Ritz pairs.
pub const RESIDUAL: Tolerance = Tolerance { name: "residual", abs: 0.0, rel: 1e-8 };
/// ‖QᵀQ − I‖_max of a reorthogonalised Lanczos basis.
pub const ORTHOGONALITY: Tolerance = Tolerance { name: "orthogonality", abs: 1e-13, rel: 0.0 };
/// Gauss quadrature identities (sums of a few hundred rounded products).
pub const QUADRATURE: Tolerance = Tolerance { name: "quadrature", abs: 0.0, rel: 1e-11 };

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// (G + Gᵀ)/2 for a standard Gaussian G.
pub fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
    let mut rng = rng(seed);
    let g = Mat::<f64>::from_fn(n, n, |_, _| StandardNormal.sample(&mut rng));
    Mat::from_fn(n, n, |i, j| 0.5 * (g[(i, j)] + g[(j, i)]))
}

/// A Haar-like random orthogonal matrix: the eigenvectors of a random symmetric matrix.
pub fn random_orthogonal(n: usize, seed: u64) -> Mat<f64> {
    random_symmetric(n, seed).self_adjoint_eigen(Side::Lower).unwrap().U().to_owned()
}

/// Q diag(eigenvalues) Qᵀ for a random orthogonal Q, symmetrised exactly.
pub fn with_spectrum(eigenvalues: &[f64], seed: u64) -> Mat<f64> {
    let n = eigenvalues.len();
    let q = random_orthogonal(n, seed);
    let qd = Mat::from_fn(n, n, |i, j| q[(i, j)] * eigenvalues[j]);
    let a = &qd * q.transpose();
    Mat::from_fn(n, n, |i, j| 0.5 * (a[(i, j)] + a[(j, i)]))
}

/// The operator of a matrix that is symmetric by construction.
pub fn operator(a: Mat<f64>) -> DenseSymmetric {
    DenseSymmetric::new(a).unwrap()
}

/// Wilkinson's W⁺_{2k+1}: diagonal |k − i|, off-diagonal 1. Its largest eigenvalues come in
/// pairs that agree to many digits (to 1e-13 at k = 10).
pub fn wilkinson(k: usize) -> Mat<f64> {
    let n = 2 * k + 1;
    Mat::from_fn(n, n, |i, j| {
        if i == j {
            (k as f64 - i as f64).abs()
        } else if i.abs_diff(j) == 1 {
            1.0
        } else {
            0.0
        }
    })
}

/// All eigenvalues, ascending, by faer's standard solver (the reference).
pub fn reference_eigenvalues(a: MatRef<'_, f64>) -> Vec<f64> {
    let mut values = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
    values.sort_by(f64::total_cmp);
    values
}

/// max |λ|.
pub fn spectral_norm(eigenvalues: &[f64]) -> f64 {
    eigenvalues.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// max_ij |(QᵀQ − I)_ij|.
pub fn orthogonality_error(q: MatRef<'_, f64>) -> f64 {
    let g = q.transpose() * q;
    let mut worst = 0.0f64;
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            let target = if i == j { 1.0 } else { 0.0 };
            worst = worst.max((g[(i, j)] - target).abs());
        }
    }
    worst
}

/// ‖Av − θv‖.
pub fn residual(a: MatRef<'_, f64>, theta: f64, v: &[f64]) -> f64 {
    let n = v.len();
    (0..n)
        .map(|i| {
            let av: f64 = (0..n).map(|j| a[(i, j)] * v[j]).sum();
            (av - theta * v[i]).powi(2)
        })
        .sum::<f64>()
        .sqrt()
}

/// Whether the slow checks run (`GATES_SLOW_TESTS=1`).
pub fn slow_tests() -> bool {
    std::env::var("GATES_SLOW_TESTS").is_ok_and(|v| v == "1")
}
