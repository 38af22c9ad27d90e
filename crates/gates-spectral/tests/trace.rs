//! Hutchinson's trace against exact traces, and the top eigenvalue against dense.

mod support;

use gates_spectral::lanczos::LanczosParams;
use gates_spectral::slq::{slq, SlqParams};
use gates_spectral::trace::{hutchinson, top_eigenvalue, TraceParams};
use gates_spectral::{Counting, Diagonal, Scaled, Shifted};
use support::{operator, random_symmetric, reference_eigenvalues, spectral_norm, EIGENVALUE};

#[test]
fn hutchinson_is_within_a_few_standard_errors_of_the_trace() {
    for seed in 0..3 {
        let a = random_symmetric(200, 30 + seed);
        let exact: f64 = (0..200).map(|i| a[(i, i)]).sum();
        let estimate = hutchinson(
            &operator(a.clone()),
            &TraceParams { samples: 300, seed, ..TraceParams::default() },
        )
        .unwrap();
        assert_eq!(estimate.samples, 300);
        assert!(
            (estimate.value - exact).abs() <= 4.0 * estimate.std_error,
            "trace {exact}, estimate {} ± {}",
            estimate.value,
            estimate.std_error
        );
        // The standard error matches the exact one, sqrt(2(‖A‖_F² − Σ A_ii²) / n).
        let diag_sq: f64 = (0..200).map(|i| a[(i, i)].powi(2)).sum();
        let exact_se = (2.0 * (a.squared_norm_l2() - diag_sq) / 300.0).sqrt();
        let ratio = estimate.std_error / exact_se;
        assert!((0.8..1.25).contains(&ratio), "standard error ratio {ratio}");
    }
}

#[test]
fn hutchinson_is_exact_for_a_diagonal_operator() {
    let op = Diagonal::new((0..50).map(|i| i as f64 - 10.0).collect());
    let estimate = hutchinson(&op, &TraceParams::default()).unwrap();
    assert_eq!(estimate.value, (0..50).map(|i| i as f64 - 10.0).sum::<f64>());
    assert_eq!(estimate.std_error, 0.0);
}

#[test]
fn hutchinson_uses_block_products_and_does_not_depend_on_the_block_size() {
    let op = Counting::new(operator(random_symmetric(40, 33)));
    let one = hutchinson(&op, &TraceParams { samples: 50, block_size: 1, seed: 2 }).unwrap();
    assert_eq!(op.block_calls(), 50);
    let blocked = hutchinson(&op, &TraceParams { samples: 50, block_size: 16, seed: 2 }).unwrap();
    assert_eq!(op.block_calls(), 50 + 4);
    assert_eq!(op.vectors(), 100);
    EIGENVALUE.assert_close("blocked estimate", blocked.value, one.value, 100.0);
}

#[test]
fn hutchinson_equals_d_times_slq_first_moment_under_the_same_seed() {
    // SLQ's first node-weight sum is α₀ = q₁ᵀAq₁ = vᵀAv/d for the same probe v.
    let d = 64;
    let op = operator(random_symmetric(d, 34));
    let trace =
        hutchinson(&op, &TraceParams { samples: 20, seed: 8, ..TraceParams::default() }).unwrap();
    let spectral =
        slq(|_| &op, &SlqParams { runs: 20, steps: 10, seed: 8, ..SlqParams::default() }).unwrap();
    EIGENVALUE.assert_close("d · moment 1", d as f64 * spectral.moment(1), trace.value, 100.0);
}

#[test]
fn top_eigenvalue_matches_dense() {
    let a = random_symmetric(150, 35);
    let exact = reference_eigenvalues(a.as_ref());
    let top = top_eigenvalue(
        &operator(a),
        &LanczosParams { tolerance: 1e-10, ..LanczosParams::default() },
    )
    .unwrap();
    assert!(top.converged);
    EIGENVALUE.assert_close("λ_max", top.value, exact[149], spectral_norm(&exact) * 1e3);
}

#[test]
fn jacobian_adapters_map_eigenvalues() {
    // I − ηH has eigenvalues 1 − ηα; its top one comes from the smallest α.
    let eta = 0.1;
    let h = Diagonal::new(vec![-1.0, 2.0, 5.0, 30.0]);
    let jacobian = Shifted { inner: Scaled { inner: h, scale: -eta }, shift: 1.0 };
    let top = top_eigenvalue(&jacobian, &LanczosParams::default()).unwrap();
    EIGENVALUE.assert_close("top of I − ηH", top.value, 1.1, 3.0);
    let trace = hutchinson(&jacobian, &TraceParams::default()).unwrap();
    EIGENVALUE.assert_close("trace of I − ηH", trace.value, 4.0 - eta * 36.0, 3.0);
}
