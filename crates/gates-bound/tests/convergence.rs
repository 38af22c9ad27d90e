//! Convergence of the SLQ-based SD estimators to the exact SD on a synthetic spectrum.
//!
//! The fast tests check the SLQ simulation itself (tridiagonal solver against a closed form,
//! Lanczos orthogonality, quadrature moments) and one modest `(R, m)` against a stated
//! tolerance. The full study, a table of errors over `(R, m)` and the ablations behind the
//! default parameters, runs with `GATES_SLOW_TESTS=1` (best with `--release`) and prints the
//! tables recorded in the crate README.

mod support;

use gates_bound::estimators::{
    sd_atoms, sd_kde, sd_pseudo_spectrum, sd_slq, Bandwidth, HistogramParams, KdeParams,
    PseudoSpectrumParams, SpectralMeasure,
};
use gates_bound::sd::{log_singular_values, sharpness_dimension};
use support::{
    dot, lanczos_diagonal, slq_runs, synthetic_spectrum, tridiagonal_eigen, Tridiagonal, ETA,
};

/// Dimension of the synthetic operator.
const D: usize = 4_000;

/// Seed of the synthetic spectrum used throughout.
const SPECTRUM_SEED: u64 = 1;

fn exact_sd(alphas: &[f64]) -> f64 {
    sharpness_dimension(&log_singular_values(alphas, ETA).unwrap()).unwrap().sd
}

/// The four estimates with default parameters: atoms, SD-SLQ, SD-KDE, SD-PS.
fn estimates(measure: &SpectralMeasure) -> [f64; 4] {
    [
        sd_atoms(measure, ETA, HistogramParams::default().epsilon).unwrap().sd,
        sd_slq(measure, ETA, &HistogramParams::default()).unwrap().sd,
        sd_kde(measure, ETA, &KdeParams::default()).unwrap().sd,
        sd_pseudo_spectrum(measure, ETA, &PseudoSpectrumParams::default()).unwrap().sd,
    ]
}

#[test]
fn tridiagonal_solver_matches_closed_form() {
    // The n × n tridiagonal Toeplitz matrix with diagonal a and off-diagonal b has eigenvalues
    // a + 2b·cos(kπ/(n+1)) and unit eigenvectors with first component
    // sqrt(2/(n+1))·sin(kπ/(n+1)), k = 1..n.
    let (n, a, b) = (17, 3.0, -1.25);
    let t = Tridiagonal { a: vec![a; n], b: vec![b; n - 1] };
    let (mut values, weights) = tridiagonal_eigen(&t);

    let h = std::f64::consts::PI / (n + 1) as f64;
    let mut expected: Vec<(f64, f64)> = (1..=n)
        .map(|k| {
            let angle = k as f64 * h;
            (a + 2.0 * b * angle.cos(), 2.0 / (n + 1) as f64 * angle.sin().powi(2))
        })
        .collect();
    expected.sort_by(|x, y| x.0.total_cmp(&y.0));

    let mut pairs: Vec<(f64, f64)> = values.iter().copied().zip(weights).collect();
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
    for ((v, w), (ev, ew)) in pairs.iter().zip(&expected) {
        assert!((v - ev).abs() < 1e-12, "eigenvalue {v} vs {ev}");
        assert!((w - ew).abs() < 1e-12, "weight {w} vs {ew}");
    }

    // A matrix that splits (zero off-diagonal) and a 1 × 1 matrix.
    let split = Tridiagonal { a: vec![1.0, 5.0, 2.0], b: vec![0.0, 0.0] };
    values = tridiagonal_eigen(&split).0;
    values.sort_by(f64::total_cmp);
    assert_eq!(values, vec![1.0, 2.0, 5.0]);
    let (one, w) = tridiagonal_eigen(&Tridiagonal { a: vec![4.0], b: vec![] });
    assert_eq!((one, w), (vec![4.0], vec![1.0]));
}

#[test]
fn lanczos_is_orthogonal_and_quadrature_matches_moments() {
    let alphas = synthetic_spectrum(600, 3);
    let probe: Vec<f64> = (0..alphas.len()).map(|i| if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
    let steps = 25;
    let (t, basis) = lanczos_diagonal(&alphas, &probe, steps);
    assert_eq!(t.a.len(), steps);

    // Orthonormal basis to rounding, thanks to full reorthogonalisation.
    for (i, qi) in basis.iter().enumerate() {
        for (j, qj) in basis.iter().enumerate() {
            let target = if i == j { 1.0 } else { 0.0 };
            assert!((dot(qi, qj) - target).abs() < 1e-12, "q{i}·q{j} = {}", dot(qi, qj));
        }
    }

    // Gauss quadrature with m nodes is exact for polynomials of degree < 2m:
    // Σ_ℓ ω_ℓ θ_ℓ^k = q₁ᵀ A^k q₁ = Σ_i q₁ᵢ² α_i^k. Scaled by max|α| to keep powers in range.
    let (nodes, weights) = tridiagonal_eigen(&t);
    let scale = alphas.iter().fold(0.0_f64, |m, a| m.max(a.abs()));
    let q1 = &basis[0];
    for k in 0..2 * steps {
        let quadrature: f64 =
            nodes.iter().zip(&weights).map(|(x, w)| w * (x / scale).powi(k as i32)).sum();
        let exact: f64 =
            alphas.iter().zip(q1).map(|(a, q)| q * q * (a / scale).powi(k as i32)).sum();
        let size: f64 =
            alphas.iter().zip(q1).map(|(a, q)| q * q * (a / scale).abs().powi(k as i32)).sum();
        assert!((quadrature - exact).abs() <= 1e-10 * size, "moment {k}: {quadrature} vs {exact}");
    }
}

/// Tolerance of the fast check: 0.5% of `d` (20 directions) at `R = 30`, `m = 100`. The slow
/// study measures a mean absolute error of about 6 directions in that cell over 8 seeds
/// (crate README), so 20 leaves room for the seed while still catching a broken estimator: a
/// histogram whose lattice put the neutral bulk half a bin off zero, for instance, would be
/// off by tens to hundreds of directions.
const FAST_TOLERANCE: f64 = 0.005 * D as f64;

#[test]
fn estimators_approach_exact_sd_at_modest_runs_and_steps() {
    let alphas = synthetic_spectrum(D, SPECTRUM_SEED);
    let exact = exact_sd(&alphas);
    assert!(exact > 0.5 * D as f64 && exact < 0.95 * D as f64, "exact SD {exact}");

    let runs = slq_runs(&alphas, 30, 100, 10_000);
    let measure = SpectralMeasure::from_runs(&runs, D).unwrap();
    let trace: f64 = alphas.iter().sum();
    assert!((measure.trace() / trace - 1.0).abs() < 0.02, "trace {} vs {trace}", measure.trace());

    let names = ["atoms", "sd-slq", "sd-kde", "sd-ps"];
    for (name, sd) in names.iter().zip(estimates(&measure)) {
        assert!(
            (sd - exact).abs() < FAST_TOLERANCE,
            "{name}: {sd} vs exact {exact} (tolerance {FAST_TOLERANCE})"
        );
    }
}

fn slow_tests_enabled() -> bool {
    std::env::var("GATES_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Independent probe seeds per table cell; errors are averaged over them.
const STUDY_SEEDS: u64 = 8;

/// The spectral measures of [`STUDY_SEEDS`] independent sets of `runs` SLQ runs of `steps`.
fn measures(alphas: &[f64], runs: usize, steps: usize) -> Vec<SpectralMeasure> {
    (0..STUDY_SEEDS)
        .map(|seed| {
            let slq = slq_runs(alphas, runs, steps, 1_000_000 * (seed + 1));
            SpectralMeasure::from_runs(&slq, alphas.len()).unwrap()
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    values.iter().sum::<f64>() / values.len() as f64
}

/// One row of the ablation table: for a setting, the mean absolute error against the exact SD
/// and the mean absolute difference from the setting's own limit (finer bins, vanishing
/// bandwidth, more quantiles) on the same measure, which isolates the discretisation error of
/// the setting from the SLQ sampling error shared by all settings.
#[allow(clippy::print_stdout, reason = "the study prints the tables recorded in the README")]
fn ablation_row(
    name: &str,
    measures: &[SpectralMeasure],
    exact: f64,
    estimate: impl Fn(&SpectralMeasure) -> (f64, f64),
) {
    let pairs: Vec<(f64, f64)> = measures.iter().map(estimate).collect();
    let error = mean(pairs.iter().map(|(e, _)| (e - exact).abs()));
    let discretisation = mean(pairs.iter().map(|(e, limit)| (e - limit).abs()));
    println!("| {name} | {error:.1} | {discretisation:.2} |");
}

#[test]
#[allow(clippy::print_stdout, reason = "the study prints the tables recorded in the README")]
fn convergence_study() {
    if !slow_tests_enabled() {
        return;
    }
    let alphas = synthetic_spectrum(D, SPECTRUM_SEED);
    let exact = exact_sd(&alphas);
    println!("exact SD = {exact:.2} of d = {D}");

    // Table 1: error against (R, m) with default parameters.
    println!("\nMean |estimate − exact| over {STUDY_SEEDS} seeds; last column: mean signed error of SD-SLQ.");
    println!("\n| R | m | atoms | SD-SLQ | SD-KDE | SD-PS | SD-SLQ bias |");
    println!("|---|---|---|---|---|---|---|");
    let mut by_cell = Vec::new();
    let mut largest = Vec::new();
    for steps in [10, 30, 100] {
        for runs in [10, 30, 100, 300] {
            let cell = measures(&alphas, runs, steps);
            let values: Vec<[f64; 4]> = cell.iter().map(estimates).collect();
            let errors: Vec<f64> =
                (0..4).map(|k| mean(values.iter().map(|v| (v[k] - exact).abs()))).collect();
            let bias = mean(values.iter().map(|v| v[1] - exact));
            println!(
                "| {runs} | {steps} | {:.1} | {:.1} | {:.1} | {:.1} | {bias:+.1} |",
                errors[0], errors[1], errors[2], errors[3]
            );
            by_cell.push(errors);
            largest = cell;
        }
    }

    // Convergence: at the largest (R, m) every estimator beats the smallest by a wide margin
    // and lies within 0.25% of d.
    let first = by_cell.first().unwrap();
    let last = by_cell.last().unwrap();
    for k in 0..4 {
        assert!(last[k] < 0.25 * first[k], "estimator {k}: {} then {}", first[k], last[k]);
        assert!(last[k] < 0.0025 * D as f64, "estimator {k}: error {}", last[k]);
    }

    // Table 2: the knobs, at R = 300, m = 100 (the measures of the last cell).
    let measures = largest;
    println!("\nAt R = 300, m = 100: mean |estimate − exact| and mean |estimate − limit of the setting|.");
    println!("\n| setting | error vs exact | vs own limit |\n|---|---|---|");
    let atoms = |m: &SpectralMeasure| sd_atoms(m, ETA, 1e-6).unwrap().sd;

    for bins in [100, 500, 2_000, 10_000] {
        ablation_row(&format!("SD-SLQ bins = {bins}"), &measures, exact, |m| {
            let params = HistogramParams { bins, ..Default::default() };
            (sd_slq(m, ETA, &params).unwrap().sd, atoms(m))
        });
    }
    for epsilon in [1e-3, 1e-6, 1e-9] {
        ablation_row(&format!("SD-SLQ ε = {epsilon:e}"), &measures, exact, |m| {
            let params = HistogramParams { epsilon, ..Default::default() };
            (sd_slq(m, ETA, &params).unwrap().sd, atoms(m))
        });
    }

    let kde_rules = [
        ("Silverman", Bandwidth::Silverman),
        ("Scott", Bandwidth::Scott),
        ("fixed 0.002", Bandwidth::Fixed(0.002)),
        ("fixed 0.05", Bandwidth::Fixed(0.05)),
    ];
    for (name, bandwidth) in kde_rules {
        ablation_row(&format!("SD-KDE bandwidth {name}"), &measures, exact, |m| {
            let params = KdeParams { bandwidth, ..Default::default() };
            (sd_kde(m, ETA, &params).unwrap().sd, atoms(m))
        });
    }

    let ps_limit = |m: &SpectralMeasure, bandwidth| {
        let params = PseudoSpectrumParams { quantiles: 1_000_000, bandwidth, ..Default::default() };
        sd_pseudo_spectrum(m, ETA, &params).unwrap().sd
    };
    for quantiles in [100, 1_000, 10_000, 100_000] {
        ablation_row(&format!("SD-PS M = {quantiles}"), &measures, exact, |m| {
            let params = PseudoSpectrumParams { quantiles, ..Default::default() };
            (sd_pseudo_spectrum(m, ETA, &params).unwrap().sd, ps_limit(m, Bandwidth::Silverman))
        });
    }
    let ps_rules = [
        ("Silverman", Bandwidth::Silverman),
        ("Scott", Bandwidth::Scott),
        ("fixed 0.1", Bandwidth::Fixed(0.1)),
        ("fixed 5", Bandwidth::Fixed(5.0)),
    ];
    for (name, bandwidth) in ps_rules {
        ablation_row(&format!("SD-PS bandwidth {name}"), &measures, exact, |m| {
            let params = PseudoSpectrumParams { bandwidth, ..Default::default() };
            (sd_pseudo_spectrum(m, ETA, &params).unwrap().sd, atoms(m))
        });
    }
}
