//! Laws on random small symmetric matrices: dense eigenvalues sum to the trace, and the
//! Lanczos top eigenvalue never exceeds the dense one and converges to it.

mod support;

use faer::Mat;
use gates_spectral::dense::{self, DenseParams};
use gates_spectral::lanczos::{extreme_eigenpairs, LanczosParams, Which};
use gates_spectral::slq::{slq, SlqParams};
use gates_spectral::DenseSymmetric;
use proptest::prelude::*;
use support::{spectral_norm, Tolerance};

/// Sums and extreme values of spectra of matrices with entries up to 10 in size.
const LAW: Tolerance = Tolerance { name: "law", abs: 1e-10, rel: 1e-11 };

fn symmetric(max_dim: usize) -> impl Strategy<Value = Mat<f64>> {
    (1..=max_dim).prop_flat_map(|n| {
        proptest::collection::vec(-10.0f64..10.0, n * n).prop_map(move |entries| {
            Mat::from_fn(n, n, |i, j| 0.5 * (entries[i * n + j] + entries[j * n + i]))
        })
    })
}

fn budget() -> DenseParams {
    DenseParams { memory_budget: Some(1 << 30), ..DenseParams::default() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dense_eigenvalues_sum_to_the_trace(a in symmetric(30)) {
        let n = a.nrows();
        let trace: f64 = (0..n).map(|i| a[(i, i)]).sum();
        let eig = dense::eigenvalues(&DenseSymmetric::new(a).unwrap(), &budget()).unwrap();
        let scale = spectral_norm(&eig.eigenvalues) * n as f64;
        let sum: f64 = eig.eigenvalues.iter().sum();
        prop_assert!((sum - trace).abs() <= LAW.bound(scale), "Σλ = {sum}, tr = {trace}");
    }

    #[test]
    fn lanczos_top_eigenvalue_is_at_most_and_close_to_dense(a in symmetric(30), seed in 0u64..1000) {
        let op = DenseSymmetric::new(a).unwrap();
        let exact = dense::eigenvalues(&op, &budget()).unwrap().eigenvalues;
        let top = exact[exact.len() - 1];
        let scale = spectral_norm(&exact).max(1e-300);
        let params = LanczosParams { tolerance: 1e-10, seed, ..LanczosParams::default() };
        let found = extreme_eigenpairs(&op, Which::Largest(1), None, &params).unwrap();
        let theta = found.largest[0].value;
        // Interlacing: a Ritz value never exceeds λ_max.
        prop_assert!(theta <= top + LAW.bound(scale), "θ = {theta} > λ_max = {top}");
        prop_assert!(found.converged);
        prop_assert!((theta - top).abs() <= 1e-8 * scale, "θ = {theta}, λ_max = {top}");
    }

    #[test]
    fn slq_weights_are_a_probability_and_nodes_lie_in_the_spectrum(a in symmetric(20), seed in 0u64..1000) {
        let op = DenseSymmetric::new(a).unwrap();
        let exact = dense::eigenvalues(&op, &budget()).unwrap().eigenvalues;
        let scale = spectral_norm(&exact);
        let result = slq(|_| &op, &SlqParams { runs: 2, steps: 8, seed, ..SlqParams::default() }).unwrap();
        for run in &result.runs {
            let total: f64 = run.weights.iter().sum();
            prop_assert!((total - 1.0).abs() <= 1e-12);
            prop_assert!(run.weights.iter().all(|&w| w >= 0.0));
            for &node in &run.nodes {
                prop_assert!(node >= exact[0] - LAW.bound(scale) && node <= exact[exact.len() - 1] + LAW.bound(scale));
            }
        }
    }
}
