//! SLQ: moments against exact traces, Gauss quadrature per run with its own operator and
//! probe, nodes at the distinct eigenvalues, determinism under parallelism, artifact mapping.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use faer::{Mat, MatRef};
use gates_artifacts::{MinibatchRef, SpectrumMethod};
use gates_spectral::probe::{probe_seed, rademacher};
use gates_spectral::slq::{slq, RunParallelism, SlqParams};
use gates_spectral::{Counting, DenseSymmetric, Diagonal, Error};
use support::{
    operator, random_symmetric, reference_eigenvalues, spectral_norm, with_spectrum, EIGENVALUE,
    QUADRATURE,
};

/// A^k, with A^0 = I.
fn power(a: MatRef<'_, f64>, k: usize) -> Mat<f64> {
    let n = a.nrows();
    let mut p = Mat::<f64>::identity(n, n);
    for _ in 0..k {
        p = &p * a;
    }
    p
}

/// tr(B)/d and the standard deviation of vᵀBv/d for a Rademacher v:
/// Var[vᵀBv] = 2(‖B‖_F² − Σ B_ii²) for symmetric B.
fn trace_and_spread(b: MatRef<'_, f64>) -> (f64, f64) {
    let n = b.nrows();
    let trace: f64 = (0..n).map(|i| b[(i, i)]).sum();
    let diag_sq: f64 = (0..n).map(|i| b[(i, i)].powi(2)).sum();
    let var = 2.0 * (b.squared_norm_l2() - diag_sq);
    (trace / n as f64, var.sqrt() / n as f64)
}

#[test]
fn moments_estimate_normalised_traces_within_their_standard_error() {
    let d = 100;
    let a = random_symmetric(d, 21);
    let op = operator(a.clone());
    let runs = 400;
    let result =
        slq(|_| &op, &SlqParams { runs, steps: 20, seed: 5, ..SlqParams::default() }).unwrap();

    // k = 0: every run's weights sum to 1.
    for run in &result.runs {
        EIGENVALUE.assert_close("Σ ω", run.weights.iter().sum(), 1.0, 1.0);
        assert!(run.weights.iter().all(|&w| w >= 0.0));
        assert_eq!(run.nodes.len(), 20);
    }
    EIGENVALUE.assert_close("moment 0", result.moment(0), 1.0, 1.0);

    // k = 1..3: the quadrature is exact for k < 2m, so the error is Hutchinson's sampling
    // error, whose standard deviation over R runs is known exactly: accept 4 of them.
    for k in 1..=3 {
        let (exact, spread) = trace_and_spread(power(a.as_ref(), k).as_ref());
        let allowed = 4.0 * spread / (runs as f64).sqrt();
        let got = result.moment(k as i32);
        assert!(
            (got - exact).abs() <= allowed,
            "moment {k}: got {got}, tr(A^k)/d = {exact}, allowed ±{allowed}"
        );
        // The empirical standard error agrees with the exact one to sampling accuracy.
        let ratio = result.moment_std_error(k as i32) / (spread / (runs as f64).sqrt());
        assert!((0.8..1.25).contains(&ratio), "moment {k}: standard error ratio {ratio}");
    }
}

#[test]
fn each_run_is_gauss_quadrature_of_its_own_operator_and_probe() {
    let d = 60;
    let m = 6;
    let matrices: Vec<Mat<f64>> = (0..5).map(|i| random_symmetric(d, 100 + i)).collect();
    let built = AtomicUsize::new(0);
    let params = SlqParams { runs: 5, steps: m, seed: 77, ..SlqParams::default() };
    let result = slq(
        |i| {
            built.fetch_add(1, Ordering::Relaxed);
            operator(matrices[i].clone())
        },
        &params,
    )
    .unwrap();
    assert_eq!(built.load(Ordering::Relaxed), 5, "one operator per run");

    for (i, run) in result.runs.iter().enumerate() {
        assert_eq!(run.run, i);
        assert_eq!(run.probe_seed, probe_seed(77, i as u64));
        let a = matrices[i].as_ref();
        let scale = spectral_norm(&reference_eigenvalues(a));
        let v = rademacher(run.probe_seed, d);
        // Σ_ℓ ω θ^k = q₁ᵀ A_i^k q₁ with q₁ = v/√d, for every k < 2m.
        for k in 0..2 * m {
            let ak = power(a, k);
            let exact: f64 =
                (0..d).map(|r| (0..d).map(|c| v[r] * ak[(r, c)] * v[c]).sum::<f64>()).sum::<f64>()
                    / d as f64;
            QUADRATURE.assert_close(
                &format!("run {i}, k = {k}"),
                run.moment(k as i32),
                exact,
                scale.powi(k as i32),
            );
        }
    }
}

/// −2 (×5), 0.5 (×7), 1 (×10), 3 (×4), 7 (×3).
const REPEATED: [(f64, usize); 5] = [(-2.0, 5), (0.5, 7), (1.0, 10), (3.0, 4), (7.0, 3)];

#[test]
fn enough_steps_reproduce_the_distinct_eigenvalues_as_nodes() {
    let spectrum: Vec<f64> =
        REPEATED.iter().flat_map(|&(v, c)| std::iter::repeat_n(v, c)).collect();
    let d = spectrum.len();
    let op = operator(with_spectrum(&spectrum, 22));
    let runs = 300;
    let op = Counting::new(op);
    let result =
        slq(|_| &op, &SlqParams { runs, steps: 8, seed: 1, ..SlqParams::default() }).unwrap();

    for run in &result.runs {
        assert!(run.invariant, "5 distinct eigenvalues: the Krylov space closes after 5 steps");
        assert_eq!(run.nodes.len(), 5);
        for (node, (value, _)) in run.nodes.iter().zip(REPEATED) {
            EIGENVALUE.assert_close("node", *node, value, 7.0 * 100.0);
        }
    }
    assert_eq!(op.vectors(), 5 * runs, "each run stops at the breakdown");

    // ν gives each eigenvalue its multiplicity on average: E[ω_λ] = mult(λ)/d.
    let measure = result.measure();
    EIGENVALUE.assert_close("total mass", measure.masses.iter().sum(), d as f64, d as f64);
    for (l, (value, count)) in REPEATED.iter().enumerate() {
        let masses: Vec<f64> = result.runs.iter().map(|r| d as f64 * r.weights[l]).collect();
        let mean = masses.iter().sum::<f64>() / runs as f64;
        let sd =
            (masses.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (runs - 1) as f64).sqrt();
        let allowed = 4.0 * sd / (runs as f64).sqrt();
        assert!(
            (mean - *count as f64).abs() <= allowed,
            "mass at {value}: {mean} vs {count} ± {allowed}"
        );
    }
}

#[test]
fn parallel_and_sequential_runs_give_identical_results() {
    let op = operator(random_symmetric(80, 23));
    let base = SlqParams { runs: 12, steps: 15, seed: 9, ..SlqParams::default() };
    let sequential =
        slq(|_| &op, &SlqParams { parallelism: RunParallelism::Sequential, ..base }).unwrap();
    let parallel =
        slq(|_| &op, &SlqParams { parallelism: RunParallelism::Parallel, ..base }).unwrap();
    let auto = slq(|_| &op, &SlqParams { parallelism: RunParallelism::Auto, ..base }).unwrap();
    assert_eq!(sequential, parallel);
    assert_eq!(sequential, auto);
    // Another seed gives other probes.
    let other = slq(|_| &op, &SlqParams { seed: 10, ..base }).unwrap();
    assert_ne!(sequential.runs[0].nodes, other.runs[0].nodes);
}

#[test]
fn steps_are_capped_at_the_dimension() {
    let op = Diagonal::new((1..=6).map(f64::from).collect());
    let result = slq(|_| &op, &SlqParams { runs: 3, steps: 50, ..SlqParams::default() }).unwrap();
    for run in &result.runs {
        assert_eq!(run.nodes.len(), 6);
        for (node, exact) in run.nodes.iter().zip(1..=6) {
            EIGENVALUE.assert_close("node", *node, exact as f64, 6.0 * 100.0);
        }
    }
}

#[test]
fn artifact_form_keeps_raw_nodes_weights_and_seeds() {
    let op = operator(random_symmetric(30, 24));
    let result =
        slq(|_| &op, &SlqParams { runs: 4, steps: 7, seed: 3, ..SlqParams::default() }).unwrap();
    let method =
        result.to_artifact(|i| MinibatchRef::Indices { seed: 42, indices: vec![i as u32] });
    let SpectrumMethod::Slq { steps, runs } = method else { panic!("expected the Slq variant") };
    assert_eq!(steps, 7);
    assert_eq!(runs.len(), 4);
    for (artifact, raw) in runs.iter().zip(&result.runs) {
        assert_eq!(
            artifact.batch,
            MinibatchRef::Indices { seed: 42, indices: vec![raw.run as u32] }
        );
        assert_eq!(artifact.probe_seed, raw.probe_seed);
        assert_eq!(artifact.nodes, raw.nodes);
        assert_eq!(artifact.weights, raw.weights);
    }
}

#[test]
fn bad_parameters_and_inconsistent_operators_are_errors() {
    let op = Diagonal::new(vec![1.0; 4]);
    let err = slq(|_| &op, &SlqParams { runs: 1, ..SlqParams::default() }).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "SlqParams::runs", .. }), "{err}");
    let err = slq(|_| &op, &SlqParams { steps: 0, ..SlqParams::default() }).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "SlqParams::steps", .. }), "{err}");
    let err = slq(
        |i| Diagonal::new(vec![1.0; 4 + i]),
        &SlqParams { runs: 3, steps: 2, ..SlqParams::default() },
    )
    .unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { expected: 4, got: 5, .. }), "{err}");
}

#[test]
fn slow_slq_moments_at_a_larger_dimension() {
    if !support::slow_tests() {
        return;
    }
    let d = 1000;
    let a = random_symmetric(d, 25);
    let op = DenseSymmetric::new(a.clone()).unwrap();
    let runs = 200;
    let result = slq(|_| &op, &SlqParams { runs, steps: 60, ..SlqParams::default() }).unwrap();
    for k in 1..=3 {
        let (exact, spread) = trace_and_spread(power(a.as_ref(), k).as_ref());
        let allowed = 4.0 * spread / (runs as f64).sqrt();
        assert!((result.moment(k as i32) - exact).abs() <= allowed, "moment {k}");
    }
}
