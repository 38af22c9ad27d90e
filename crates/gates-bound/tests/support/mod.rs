//! Test support: a synthetic Hessian spectrum with known exact SD, and stochastic Lanczos
//! quadrature on it written from scratch (Lanczos with full reorthogonalisation and an
//! implicit-QL solver for the tridiagonal matrix), so that the estimators are checked without
//! any Hessian-vector-product library.
//!
//! The operator is the diagonal matrix `D = diag(α)`. A Rademacher probe on `D` itself would be
//! useless here: its spectral measure puts weight exactly `1/d` on every eigenvalue whatever the
//! signs, so every run would produce the same tridiagonal matrix and averaging runs would add
//! nothing. A real Hessian is `Q D Qᵀ` with eigenvectors `Q` unrelated to the probe; SLQ on it
//! with probe `v` equals SLQ on `D` with probe `Qᵀv`. For Haar-random `Q`, `Qᵀv/‖v‖` is uniform
//! on the sphere, which is exactly a normalised Gaussian vector: so the runs here use normalised
//! Gaussian probes on `D`, which is SLQ with Rademacher probes on a randomly rotated `D`.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use gates_bound::estimators::SlqRun;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Learning rate of the synthetic study: `1/η = 100`, `2/η = 200`.
pub const ETA: f64 = 0.01;

/// A spectrum shaped like a trained network's Hessian, with a fraction of `d` in each part:
///
/// - 60% bulk, uniform in `(−0.05, 0.05)`: neutral, `|z| < 5e-4`;
/// - 38.75% contracting, log-uniform in `(0.5, 195)`, i.e. `0 < α < 2/η`, `z < 0`;
/// - 1% past the edge of stability, uniform in `(205, 500)`: `z ∈ (0.05, 1.39)`;
/// - 0.25% negative curvature, uniform in `(−40, −2)`: `z ∈ (0.02, 0.34)`.
///
/// With `d = 4000` and seed 1 the exact SD is 3,339.67: the expanding directions carry an
/// exponent sum of about 35, which the contracting tail uses up at `z ≈ −0.13` (`α ≈ 12` or
/// `α ≈ 188`), well away from the bulk.
pub fn synthetic_spectrum(d: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let expanding = d / 100;
    let negative = d / 400;
    let bulk = d * 3 / 5;
    let contracting = d - expanding - negative - bulk;

    let mut alphas = Vec::with_capacity(d);
    alphas.extend((0..bulk).map(|_| rng.gen_range(-0.05..0.05)));
    alphas.extend((0..contracting).map(|_| rng.gen_range(0.5_f64.ln()..195.0_f64.ln()).exp()));
    alphas.extend((0..expanding).map(|_| rng.gen_range(205.0..500.0)));
    alphas.extend((0..negative).map(|_| rng.gen_range(-40.0..-2.0)));
    alphas
}

/// The Lanczos tridiagonal matrix: diagonal `a` and off-diagonal `b` (`b.len() = a.len() − 1`).
pub struct Tridiagonal {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

/// Lanczos iteration with full reorthogonalisation on `diag(alphas)` from the starting vector
/// `probe` (normalised here), for at most `steps` steps. Stops early on an invariant subspace
/// (`β < 1e-10·‖A‖`). Returns the tridiagonal matrix and the Lanczos basis (one vector a row).
pub fn lanczos_diagonal(
    alphas: &[f64],
    probe: &[f64],
    steps: usize,
) -> (Tridiagonal, Vec<Vec<f64>>) {
    let d = alphas.len();
    let scale = alphas.iter().fold(0.0_f64, |m, a| m.max(a.abs()));
    let norm = dot(probe, probe).sqrt();
    let mut basis: Vec<Vec<f64>> = vec![probe.iter().map(|v| v / norm).collect()];
    let (mut a, mut b) = (Vec::new(), Vec::new());

    for j in 0..steps.min(d) {
        let q = &basis[j];
        let mut w: Vec<f64> = q.iter().zip(alphas).map(|(q, alpha)| alpha * q).collect();
        let alpha_j = dot(&w, q);
        a.push(alpha_j);

        // Classical Gram–Schmidt against the whole basis, twice ("twice is enough"): this
        // subsumes the three-term recurrence and keeps the basis orthogonal to rounding.
        for _ in 0..2 {
            for q_k in &basis {
                let c = dot(&w, q_k);
                w.iter_mut().zip(q_k).for_each(|(w, q)| *w -= c * q);
            }
        }

        if j + 1 == steps.min(d) {
            break;
        }
        let beta = dot(&w, &w).sqrt();
        if beta < 1e-10 * scale {
            break;
        }
        b.push(beta);
        basis.push(w.into_iter().map(|v| v / beta).collect());
    }
    (Tridiagonal { a, b }, basis)
}

/// Eigenvalues of a symmetric tridiagonal matrix and the squared first component of each
/// (unit) eigenvector, by the implicit QL algorithm with Wilkinson-type shifts. Only the first
/// row of the eigenvector matrix is accumulated, since rotations act on rows independently.
pub fn tridiagonal_eigen(t: &Tridiagonal) -> (Vec<f64>, Vec<f64>) {
    let n = t.a.len();
    let mut d = t.a.clone();
    let mut e: Vec<f64> = t.b.iter().copied().chain(std::iter::once(0.0)).collect();
    e.truncate(n);
    let mut z = vec![0.0_f64; n];
    if n > 0 {
        z[0] = 1.0;
    }

    for l in 0..n {
        let mut iterations = 0;
        loop {
            // Find a negligible off-diagonal element to split the matrix at.
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            assert!(iterations < 60, "implicit QL did not converge");

            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                let f = z[i + 1];
                z[i + 1] = s * z[i] + c * f;
                z[i] = c * z[i] - s * f;
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }

    let weights = z.iter().map(|v| v * v).collect();
    (d, weights)
}

/// One SLQ run on `diag(alphas)` with a normalised Gaussian probe (see the module docs).
pub fn slq_run(alphas: &[f64], steps: usize, seed: u64) -> SlqRun {
    let mut rng = StdRng::seed_from_u64(seed);
    let probe: Vec<f64> = (0..alphas.len()).map(|_| rng.sample(StandardNormal)).collect();
    let (t, _) = lanczos_diagonal(alphas, &probe, steps);
    let (nodes, weights) = tridiagonal_eigen(&t);
    SlqRun { nodes, weights }
}

/// `runs` independent SLQ runs, in parallel, seeded `seed, seed + 1, …`.
pub fn slq_runs(alphas: &[f64], runs: usize, steps: usize, seed: u64) -> Vec<SlqRun> {
    (0..runs as u64).into_par_iter().map(|r| slq_run(alphas, steps, seed + r)).collect()
}

pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}
