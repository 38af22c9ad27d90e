//! Lanczos against dense eigenvalues: random, clustered, repeated and Wilkinson spectra; Ritz
//! residuals, orthogonality of the basis, breakdown and restarts, warm starts, step caps.

mod support;

use faer::Mat;
use gates_spectral::lanczos::{
    extreme_eigenpairs, tridiagonal_eigen, Lanczos, LanczosParams, OnBreakdown, RitzPair,
    StepOutcome, Which,
};
use gates_spectral::{Counting, DenseSymmetric, Diagonal, Error};
use support::{
    operator, orthogonality_error, random_symmetric, reference_eigenvalues, residual,
    spectral_norm, wilkinson, with_spectrum, Tolerance, EIGENVALUE, ORTHOGONALITY, RESIDUAL,
};

/// Converged Ritz values against dense eigenvalues: with residual r ≤ 1e-10‖A‖, a Ritz value is
/// within r of an eigenvalue (and within r²/gap for separated ones).
const RITZ_VALUE: Tolerance = Tolerance { name: "ritz value", abs: 0.0, rel: 1e-9 };

fn tight() -> LanczosParams {
    LanczosParams { tolerance: 1e-10, ..LanczosParams::default() }
}

/// Checks the returned pairs against the dense spectrum, and their residuals explicitly.
#[track_caller]
fn check_ends(
    a: &Mat<f64>,
    found: &gates_spectral::lanczos::ExtremeEigen,
    top: usize,
    bottom: usize,
) {
    let exact = reference_eigenvalues(a.as_ref());
    let scale = spectral_norm(&exact);
    assert!(found.converged, "not converged after {} steps", found.steps);
    assert_eq!(found.largest.len(), top);
    assert_eq!(found.smallest.len(), bottom);
    for (k, pair) in found.largest.iter().enumerate() {
        RITZ_VALUE.assert_close(
            &format!("largest[{k}]"),
            pair.value,
            exact[exact.len() - 1 - k],
            scale,
        );
        check_pair(a, pair, scale);
    }
    for (k, pair) in found.smallest.iter().enumerate() {
        RITZ_VALUE.assert_close(&format!("smallest[{k}]"), pair.value, exact[k], scale);
        check_pair(a, pair, scale);
    }
}

#[track_caller]
fn check_pair(a: &Mat<f64>, pair: &RitzPair, scale: f64) {
    let norm: f64 = pair.vector.iter().map(|x| x * x).sum::<f64>().sqrt();
    EIGENVALUE.assert_close("ritz vector norm", norm, 1.0, 1.0);
    let explicit = residual(a.as_ref(), pair.value, &pair.vector);
    RESIDUAL.assert_small("explicit residual", explicit, scale);
    // The reported residual is the explicit one.
    EIGENVALUE.assert_close("reported residual", pair.residual, explicit, scale);
    // The Lanczos estimate agrees with it up to rounding.
    RESIDUAL.assert_close("residual estimate", pair.estimate, explicit, scale);
}

#[test]
fn extreme_pairs_of_random_symmetric_matrices_match_dense() {
    for seed in 0..4 {
        let a = random_symmetric(200, seed);
        let op = operator(a.clone());
        let found =
            extreme_eigenpairs(&op, Which::BothEnds { largest: 4, smallest: 3 }, None, &tight())
                .unwrap();
        check_ends(&a, &found, 4, 3);
        assert!(found.steps < 200, "should converge before exhausting the space");
    }
}

#[test]
fn largest_and_smallest_alone() {
    let a = random_symmetric(150, 11);
    let op = operator(a.clone());
    check_ends(&a, &extreme_eigenpairs(&op, Which::Largest(3), None, &tight()).unwrap(), 3, 0);
    check_ends(&a, &extreme_eigenpairs(&op, Which::Smallest(3), None, &tight()).unwrap(), 0, 3);
}

#[test]
fn clustered_top_eigenvalues_are_all_resolved() {
    // Five eigenvalues within 4e-6 of 10, the rest in [0, 1].
    let mut spectrum: Vec<f64> = (0..295).map(|i| i as f64 / 295.0).collect();
    spectrum.extend((0..5).map(|i| 10.0 + 1e-6 * i as f64));
    let a = with_spectrum(&spectrum, 12);
    let found =
        extreme_eigenpairs(&operator(a.clone()), Which::Largest(5), None, &tight()).unwrap();
    check_ends(&a, &found, 5, 0);
    for (k, pair) in found.largest.iter().enumerate() {
        let expected = 10.0 + 1e-6 * (4 - k) as f64;
        EIGENVALUE.assert_close("cluster member", pair.value, expected, 10.0 * 1e3);
    }
}

/// −2 (×5), 0.5 (×7), 1 (×10), 3 (×4), 7 (×3): five distinct values, d = 29.
fn repeated() -> (Mat<f64>, Vec<f64>) {
    let mut spectrum = Vec::new();
    for (value, count) in [(-2.0, 5), (0.5, 7), (1.0, 10), (3.0, 4), (7.0, 3)] {
        spectrum.extend(std::iter::repeat_n(value, count));
    }
    (with_spectrum(&spectrum, 13), vec![7.0, 3.0, 1.0, 0.5, -2.0])
}

#[test]
fn one_start_vector_finds_each_distinct_eigenvalue_once() {
    let (a, distinct) = repeated();
    let params = LanczosParams { on_breakdown: OnBreakdown::Stop, ..tight() };
    // Asking for 8 gives only the 5 values the Krylov space holds, after exactly 5 steps.
    let found = extreme_eigenpairs(&operator(a.clone()), Which::Largest(8), None, &params).unwrap();
    assert_eq!(found.steps, 5, "the Krylov space of 5 distinct eigenvalues has dimension 5");
    assert_eq!(found.restarts, 0);
    assert!(found.converged);
    let values: Vec<f64> = found.largest.iter().map(|p| p.value).collect();
    assert_eq!(values.len(), 5, "each distinct value once: {values:?}");
    for (got, expected) in values.iter().zip(&distinct) {
        EIGENVALUE.assert_close("distinct eigenvalue", *got, *expected, 7.0 * 100.0);
    }
    for pair in &found.largest {
        check_pair(&a, pair, 7.0);
    }
}

#[test]
fn restarts_find_the_multiplicity_of_a_repeated_top_eigenvalue() {
    let (a, _) = repeated();
    let found =
        extreme_eigenpairs(&operator(a.clone()), Which::Largest(4), None, &tight()).unwrap();
    let values: Vec<f64> = found.largest.iter().map(|p| p.value).collect();
    assert!(found.converged);
    assert!(found.restarts >= 2, "the 3-fold eigenvalue 7 needs 3 blocks: {found:?}");
    for (got, expected) in values.iter().zip([7.0, 7.0, 7.0, 3.0]) {
        EIGENVALUE.assert_close("eigenvalue with multiplicity", *got, expected, 7.0 * 100.0);
    }
    // The three Ritz vectors of 7 span its eigenspace: they are orthonormal.
    let y = Mat::from_fn(29, 3, |i, j| found.largest[j].vector[i]);
    ORTHOGONALITY.assert_small(
        "ritz vectors of the triple eigenvalue",
        orthogonality_error(y.as_ref()),
        1.0,
    );
    for pair in &found.largest {
        check_pair(&a, pair, 7.0);
    }
}

#[test]
fn restart_rescues_a_start_vector_in_a_small_invariant_subspace() {
    // e₁ is an eigenvector of a diagonal matrix: the first block holds only the eigenvalue 1.
    let op = Diagonal::new((1..=40).map(f64::from).collect());
    let mut start = vec![0.0; 40];
    start[0] = 1.0;
    let found = extreme_eigenpairs(&op, Which::Largest(2), Some(&start), &tight()).unwrap();
    assert_eq!(found.restarts, 1);
    assert!(found.converged);
    EIGENVALUE.assert_close("top", found.largest[0].value, 40.0, 40.0);
    EIGENVALUE.assert_close("second", found.largest[1].value, 39.0, 40.0);

    // Without restarts the answer is the invariant subspace's only eigenvalue.
    let stop = LanczosParams { on_breakdown: OnBreakdown::Stop, ..tight() };
    let found = extreme_eigenpairs(&op, Which::Largest(2), Some(&start), &stop).unwrap();
    assert_eq!(found.steps, 1);
    assert_eq!(found.largest.len(), 1);
    assert_eq!(found.largest[0].value, 1.0);
}

#[test]
fn wilkinson_matrix_near_degenerate_pairs() {
    // W⁺₂₁: its top eigenvalues come in pairs equal to ~1e-13 (10.746194182903…, twice).
    let a = wilkinson(10);
    let op = operator(a.clone());
    let found =
        extreme_eigenpairs(&op, Which::BothEnds { largest: 4, smallest: 2 }, None, &tight())
            .unwrap();
    let exact = reference_eigenvalues(a.as_ref());
    let scale = spectral_norm(&exact);
    assert!(found.converged);
    for pair in found.largest.iter().chain(&found.smallest) {
        check_pair(&a, pair, scale);
        let nearest = exact.iter().map(|e| (e - pair.value).abs()).fold(f64::INFINITY, f64::min);
        RITZ_VALUE.assert_small("distance to the nearest eigenvalue", nearest, scale);
    }
    RITZ_VALUE.assert_close("λ_max", found.largest[0].value, exact[20], scale);
    RITZ_VALUE.assert_close("λ_min", found.smallest[0].value, exact[0], scale);
    // Both members of the top pair are found (they are distinct in floating point, and Lanczos
    // with full reorthogonalisation separates them once it has spanned the space).
    let wide = Tolerance { name: "wilkinson pair", abs: 1e-8, rel: 0.0 };
    wide.assert_close("second of the top pair", found.largest[1].value, exact[19], scale);
    wide.assert_close("third (second pair)", found.largest[2].value, exact[18], scale);
}

#[test]
fn larger_wilkinson_matrix_top_eigenvalue() {
    let a = wilkinson(50);
    let exact = reference_eigenvalues(a.as_ref());
    let found =
        extreme_eigenpairs(&operator(a.clone()), Which::Largest(1), None, &tight()).unwrap();
    assert!(found.converged);
    RITZ_VALUE.assert_close("λ_max of W⁺₁₀₁", found.largest[0].value, exact[100], 50.0);
    check_pair(&a, &found.largest[0], 50.0);
}

#[test]
fn basis_is_orthonormal_and_satisfies_the_lanczos_relation() {
    let a = random_symmetric(120, 14);
    let op = DenseSymmetric::new(a.clone()).unwrap();
    let start: Vec<f64> = (0..120).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
    let mut lanczos = Lanczos::new(&op, &start, &LanczosParams::default()).unwrap();
    for _ in 0..80 {
        assert_eq!(lanczos.step().unwrap(), StepOutcome::Continued);
    }
    let q = lanczos.basis();
    assert_eq!((q.nrows(), q.ncols()), (120, 80));
    ORTHOGONALITY.assert_small("‖QᵀQ − I‖_max", orthogonality_error(q), 1.0);

    // Qᵀ A Q = T: the tridiagonal matrix is the projection of A on the basis.
    let projected = q.transpose() * &a * q;
    let scale = spectral_norm(&reference_eigenvalues(a.as_ref()));
    let (alpha, beta) = (lanczos.alpha(), lanczos.beta());
    for j in 0..80usize {
        for i in 0..80usize {
            let t = match i.abs_diff(j) {
                0 => alpha[i],
                1 => beta[i.min(j)],
                _ => 0.0,
            };
            ORTHOGONALITY.assert_close("(QᵀAQ − T)_ij", projected[(i, j)], t, scale);
        }
    }
}

#[test]
fn running_to_dimension_d_gives_every_eigenvalue() {
    let a = random_symmetric(40, 15);
    let op = operator(a.clone());
    let start = vec![1.0; 40];
    let mut lanczos = Lanczos::new(&op, &start, &LanczosParams::default()).unwrap();
    let mut outcome = StepOutcome::Continued;
    while lanczos.can_continue() {
        outcome = lanczos.step().unwrap();
    }
    assert_eq!(outcome, StepOutcome::Exhausted);
    assert_eq!(lanczos.steps(), 40);
    let eig = lanczos.tridiagonal_eigen().unwrap();
    let exact = reference_eigenvalues(a.as_ref());
    let scale = spectral_norm(&exact);
    for (g, e) in eig.values.iter().zip(&exact) {
        Tolerance { name: "full lanczos", abs: 0.0, rel: 1e-11 }.assert_close(
            "eigenvalue",
            *g,
            *e,
            scale,
        );
    }
    // Further steps do nothing.
    assert_eq!(lanczos.step().unwrap(), StepOutcome::Exhausted);
    assert_eq!(lanczos.steps(), 40);
}

#[test]
fn a_warm_start_at_an_eigenvector_converges_at_once() {
    let a = random_symmetric(100, 16);
    let op = Counting::new(operator(a.clone()));
    let cold = extreme_eigenpairs(&op, Which::Largest(1), None, &tight()).unwrap();
    let cold_products = op.vectors();

    let warm_start = cold.largest[0].vector.clone();
    let params = LanczosParams { check_every: 1, ..tight() };
    let warm = extreme_eigenpairs(&op, Which::Largest(1), Some(&warm_start), &params).unwrap();
    let warm_products = op.vectors() - cold_products;
    assert!(warm.converged);
    assert!(warm.steps <= 2, "warm start took {} steps", warm.steps);
    assert!(warm_products < cold_products / 4, "warm {warm_products} vs cold {cold_products}");
    EIGENVALUE.assert_close("warm λ_max", warm.largest[0].value, cold.largest[0].value, 100.0);
}

#[test]
fn max_steps_caps_the_work_and_reports_non_convergence() {
    let a = random_symmetric(300, 17);
    let op = Counting::new(operator(a));
    let params = LanczosParams { max_steps: 10, tolerance: 1e-12, ..LanczosParams::default() };
    let found = extreme_eigenpairs(&op, Which::Largest(3), None, &params).unwrap();
    assert_eq!(found.steps, 10);
    assert!(!found.converged);
    assert_eq!(found.largest.len(), 3);
    // 10 steps plus one block of 3 for the explicit residuals.
    assert_eq!(op.vectors(), 13);
    assert_eq!(op.block_calls(), 1);
}

#[test]
fn tridiagonal_eigen_first_components_and_orthogonality() {
    let diag = [2.0, -1.0, 0.5, 3.0, 1.0];
    let off = [1.0, 0.25, -0.75, 2.0];
    let eig = tridiagonal_eigen(&diag, &off).unwrap();
    let t = Mat::from_fn(5, 5, |i, j| match i.abs_diff(j) {
        0 => diag[i],
        1 => off[i.min(j)],
        _ => 0.0,
    });
    let exact = reference_eigenvalues(t.as_ref());
    for (g, e) in eig.values.iter().zip(&exact) {
        EIGENVALUE.assert_close("tridiagonal eigenvalue", *g, *e, 4.0);
    }
    ORTHOGONALITY.assert_small("UᵀU − I", orthogonality_error(eig.vectors.as_ref()), 1.0);
    let squares: f64 = eig.first_components().iter().map(|u| u * u).sum();
    EIGENVALUE.assert_close("Σ U₁ℓ²", squares, 1.0, 1.0);
    assert!(matches!(tridiagonal_eigen(&diag, &off[..2]), Err(Error::DimensionMismatch { .. })));
}

#[test]
fn bad_inputs_are_errors() {
    let op = Diagonal::new(vec![1.0, 2.0, 3.0]);
    let params = LanczosParams::default();
    let err = extreme_eigenpairs(&op, Which::Largest(1), Some(&[1.0, 2.0]), &params).unwrap_err();
    assert!(
        matches!(err, Error::DimensionMismatch { what: "start vector", expected: 3, got: 2 }),
        "{err}"
    );
    let err = extreme_eigenpairs(&op, Which::Largest(1), Some(&[0.0; 3]), &params).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "start vector", .. }), "{err}");
    let bad = LanczosParams { max_steps: 0, ..params };
    assert!(extreme_eigenpairs(&op, Which::Largest(1), None, &bad).is_err());
    let bad = LanczosParams { tolerance: f64::NAN, ..params };
    assert!(extreme_eigenpairs(&op, Which::Largest(1), None, &bad).is_err());
}

#[test]
fn slow_lanczos_on_a_larger_matrix() {
    if !support::slow_tests() {
        return;
    }
    let a = random_symmetric(1500, 18);
    let found = extreme_eigenpairs(
        &operator(a.clone()),
        Which::BothEnds { largest: 10, smallest: 10 },
        None,
        &tight(),
    )
    .unwrap();
    check_ends(&a, &found, 10, 10);
}

#[test]
fn orthogonality_survives_converged_ritz_values() {
    // A few well separated outliers converge in the first steps; without (enough)
    // reorthogonalisation the basis then loses orthogonality in their directions and T grows
    // ghost copies of them.
    let mut spectrum: Vec<f64> = (0..150).map(|i| 1e-3 * i as f64 / 150.0).collect();
    spectrum[149] = 100.0;
    spectrum[148] = 50.0;
    spectrum[147] = 20.0;
    let a = with_spectrum(&spectrum, 19);
    let op = operator(a.clone());
    let mut lanczos = Lanczos::new(&op, &vec![1.0; 150], &LanczosParams::default()).unwrap();
    while lanczos.steps() < 120 && lanczos.can_continue() {
        lanczos.step().unwrap();
    }
    ORTHOGONALITY.assert_small("‖QᵀQ − I‖_max", orthogonality_error(lanczos.basis()), 1.0);
    let eig = lanczos.tridiagonal_eigen().unwrap();
    let near_top = eig.values.iter().filter(|&&t| (t - 100.0).abs() < 1e-6).count();
    assert_eq!(near_top, 1, "no ghost copies of λ_max: {:?}", &eig.values[eig.values.len() - 5..]);
}

#[test]
fn basis_stays_orthonormal_over_many_steps_on_clustered_eigenvalues() {
    // Four tight clusters of 1,500 eigenvalues (relative width 1e-4) and two outliers, with d
    // large enough for the reorthogonalisation to split the basis into many blocks of rows.
    // The outliers converge within a few steps and the clusters make β small relative to ‖Aq‖,
    // so every Gram–Schmidt pass removes large components: orthogonality is lost within tens
    // of steps without full reorthogonalisation.
    let d = 6002;
    let mut spectrum: Vec<f64> = (0..d - 2)
        .map(|i| {
            let centre = [1.0, 2.0, 5.0, 10.0][i % 4];
            centre * (1.0 + 1e-4 * ((i * 7919) % 1500) as f64 / 1500.0)
        })
        .collect();
    spectrum.extend([100.0, 200.0]);
    let op = Diagonal::new(spectrum);
    let start: Vec<f64> = (0..d).map(|i| if (i * 31) % 7 < 3 { -1.0 } else { 1.0 }).collect();

    let run = |parallelism| {
        let params = LanczosParams { parallelism, ..LanczosParams::default() };
        let mut lanczos = Lanczos::new(&op, &start, &params).unwrap();
        for _ in 0..150 {
            assert_eq!(lanczos.step().unwrap(), StepOutcome::Continued);
        }
        let q = lanczos.basis();
        assert_eq!((q.nrows(), q.ncols()), (d, 150));
        ORTHOGONALITY.assert_small("‖QᵀQ − I‖_max after 150 steps", orthogonality_error(q), 1.0);
        (lanczos.alpha().to_vec(), lanczos.beta().to_vec())
    };
    let sequential = run(gates_spectral::Par::Seq);
    let parallel = run(gates_spectral::Par::rayon(0));
    assert_eq!(sequential, parallel, "the thread count changed T");
}
