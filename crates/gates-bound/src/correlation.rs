//! Rank correlation of a complexity measure with the generalization gap (PAPER.md §5).
//!
//! # Kendall's τ-b
//!
//! Over the `n(n−1)/2` pairs of observations `(x_i, y_i)`, with `n_c` concordant pairs
//! (`x` and `y` ordered alike), `n_d` discordant pairs, `n_x` pairs tied in `x` and `n_y`
//! pairs tied in `y` (a pair tied in both counts in both),
//!
//! ```text
//! τ_b = (n_c − n_d) / sqrt((n_0 − n_x)(n_0 − n_y)),   n_0 = n(n−1)/2
//! ```
//!
//! τ_b is undefined when fewer than two observations are given or when every pair is tied in
//! `x` or every pair is tied in `y` (the denominator is 0). [`kendall_tau_b`] returns `None`
//! then, never NaN.
//!
//! # Granulated Kendall (Jiang et al. 2019)
//!
//! For a grid of runs over hyperparameters `θ_1, …, θ_K`, the coefficient of `θ_k` is
//!
//! ```text
//! ψ_k = (1/|G_k|) Σ_{g ∈ G_k} τ_b(measure, target over the runs of group g)
//! ```
//!
//! where `G_k` groups the runs by the values of every hyperparameter except `θ_k`: inside a
//! group only `θ_k` varies. (With two hyperparameters, learning rate and batch size, `ψ_LR` is
//! the mean over batch sizes of τ across learning rates.) The average granulated Kendall is
//! `Ψ = (1/K) Σ_k ψ_k`.
//!
//! Rule for undefined values: a group whose τ_b is undefined (a single run, or all its measure
//! or target values tied) is skipped and counted in [`PsiEntry::groups_undefined`]; `ψ_k` is
//! the mean over the remaining groups and is `None` if none remain; `Ψ` is the mean of the
//! defined `ψ_k` and is `None` if none is defined.

use std::collections::BTreeMap;

use crate::error::{BoundError, Result};

/// Kendall's τ-b of paired observations, `None` when undefined (see the module docs).
///
/// `O(n²)`, fine for the few hundred trained models of a study.
///
/// # Errors
///
/// [`BoundError::LengthMismatch`] when `x` and `y` differ in length, [`BoundError::NotFinite`]
/// for a NaN or infinite value.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    if x.len() != y.len() {
        return Err(BoundError::LengthMismatch { what: "y", expected: x.len(), got: y.len() });
    }
    crate::error::check_finite("x", x)?;
    crate::error::check_finite("y", y)?;

    let n = x.len();
    let mut score = 0_i64;
    let mut untied_x = 0_u64;
    let mut untied_y = 0_u64;
    for i in 0..n {
        for j in i + 1..n {
            let sx = sign(x[i] - x[j]);
            let sy = sign(y[i] - y[j]);
            score += sx * sy;
            untied_x += u64::from(sx != 0);
            untied_y += u64::from(sy != 0);
        }
    }

    // n_0 − n_x is the number of pairs not tied in x, and likewise for y.
    if untied_x == 0 || untied_y == 0 {
        return Ok(None);
    }
    Ok(Some(score as f64 / ((untied_x as f64) * (untied_y as f64)).sqrt()))
}

fn sign(v: f64) -> i64 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// One trained model of a correlation study.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Run {
    /// Hyperparameter name to value, e.g. `{"lr": 0.01, "batch_size": 64}`.
    pub hyperparameters: BTreeMap<String, f64>,
    /// The complexity measure (SD, PH-dim, sharpness, …).
    pub measure: f64,
    /// The target, e.g. the accuracy gap.
    pub target: f64,
}

/// The granulated coefficient of one hyperparameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PsiEntry {
    /// The hyperparameter that varies inside each group.
    pub hyperparameter: String,
    /// `ψ`, the mean τ_b over the groups where it is defined; `None` if it is nowhere defined.
    pub psi: Option<f64>,
    /// Number of groups (settings of the other hyperparameters).
    pub groups: usize,
    /// Groups skipped because τ_b was undefined there.
    pub groups_undefined: usize,
}

/// Kendall's τ over all runs and the granulated coefficients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GranulatedKendall {
    /// τ_b of measure against target over every run.
    pub overall: Option<f64>,
    /// One entry per hyperparameter, in name order.
    pub per_hyperparameter: Vec<PsiEntry>,
    /// The average granulated Kendall `Ψ`: the mean of the defined `ψ`.
    pub average: Option<f64>,
}

/// Kendall's τ-b over all runs and the granulated Kendall coefficients of Jiang et al.
///
/// # Errors
///
/// [`BoundError::Empty`] for no runs or runs without hyperparameters,
/// [`BoundError::HyperparameterMismatch`] when runs name different hyperparameters,
/// [`BoundError::NotFinite`] for a NaN or infinite value anywhere.
pub fn granulated_kendall(runs: &[Run]) -> Result<GranulatedKendall> {
    crate::error::check_non_empty("runs", runs)?;
    let names: Vec<String> = runs[0].hyperparameters.keys().cloned().collect();
    if names.is_empty() {
        return Err(BoundError::Empty { what: "hyperparameters" });
    }
    for (index, run) in runs.iter().enumerate() {
        let got: Vec<String> = run.hyperparameters.keys().cloned().collect();
        if got != names {
            return Err(BoundError::HyperparameterMismatch {
                run: index,
                expected: names.clone(),
                got,
            });
        }
        let values: Vec<f64> = run.hyperparameters.values().copied().collect();
        crate::error::check_finite("hyperparameter values", &values)?;
    }

    let measures: Vec<f64> = runs.iter().map(|r| r.measure).collect();
    let targets: Vec<f64> = runs.iter().map(|r| r.target).collect();
    let overall = kendall_tau_b(&measures, &targets)?;

    let mut per_hyperparameter = Vec::with_capacity(names.len());
    for name in &names {
        per_hyperparameter.push(psi_of(runs, name)?);
    }

    let defined: Vec<f64> = per_hyperparameter.iter().filter_map(|e| e.psi).collect();
    let average = mean(&defined);
    Ok(GranulatedKendall { overall, per_hyperparameter, average })
}

/// `ψ` of one hyperparameter: group the runs by every other hyperparameter's value, take τ_b
/// in each group, average the defined ones.
fn psi_of(runs: &[Run], varying: &str) -> Result<PsiEntry> {
    // Group key: the bit patterns of the other values in name order (-0.0 folded into 0.0).
    let mut groups: BTreeMap<Vec<u64>, Vec<usize>> = BTreeMap::new();
    for (index, run) in runs.iter().enumerate() {
        let key = run
            .hyperparameters
            .iter()
            .filter(|(name, _)| name.as_str() != varying)
            .map(|(_, &v)| (v + 0.0).to_bits())
            .collect();
        groups.entry(key).or_default().push(index);
    }

    let mut taus = Vec::new();
    let mut undefined = 0;
    for members in groups.values() {
        let x: Vec<f64> = members.iter().map(|&i| runs[i].measure).collect();
        let y: Vec<f64> = members.iter().map(|&i| runs[i].target).collect();
        match kendall_tau_b(&x, &y)? {
            Some(tau) => taus.push(tau),
            None => undefined += 1,
        }
    }
    tracing::debug!(varying, groups = groups.len(), undefined, "granulated kendall");

    Ok(PsiEntry {
        hyperparameter: varying.to_owned(),
        psi: mean(&taus),
        groups: groups.len(),
        groups_undefined: undefined,
    })
}

fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// τ values are ratios of small integers and square roots; 1e-12 is far above rounding.
    const TOL: f64 = 1e-12;

    fn tau(x: &[f64], y: &[f64]) -> Option<f64> {
        kendall_tau_b(x, y).unwrap()
    }

    /// An independent reference: explicit concordant/discordant counts, and the tie
    /// corrections from tie groups, `n_x = Σ_groups t(t−1)/2`.
    fn reference_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
        let n = x.len();
        let (mut concordant, mut discordant) = (0.0, 0.0);
        for i in 0..n {
            for j in 0..n {
                if i < j {
                    let p = (x[i] - x[j]) * (y[i] - y[j]);
                    if p > 0.0 {
                        concordant += 1.0;
                    } else if p < 0.0 {
                        discordant += 1.0;
                    }
                }
            }
        }
        let tied_pairs = |v: &[f64]| {
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            let mut total = 0.0;
            let mut run = 1.0;
            for w in sorted.windows(2) {
                if w[0] == w[1] {
                    run += 1.0;
                } else {
                    total += run * (run - 1.0) / 2.0;
                    run = 1.0;
                }
            }
            total + run * (run - 1.0) / 2.0
        };
        let n0 = (n * n.saturating_sub(1)) as f64 / 2.0;
        let denominator = ((n0 - tied_pairs(x)) * (n0 - tied_pairs(y))).sqrt();
        (denominator > 0.0).then(|| (concordant - discordant) / denominator)
    }

    #[test]
    fn hand_computed_values() {
        // Perfect agreement and reversal.
        assert_eq!(tau(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(tau(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));

        // x = 1,2,3,4; y = 1,3,2,4. Pairs: (1,2)+ (1,3)+ (1,4)+ (2,3)− (2,4)+ (3,4)+
        // → n_c = 5, n_d = 1, no ties: τ = 4/6 = 2/3.
        assert!(
            (tau(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap() - 2.0 / 3.0).abs() < TOL
        );

        // With ties: x = 1,1,2,3; y = 1,2,2,3. Pairs (i<j):
        //   (0,1): x tie            (0,2): + (1 vs 2, 1 vs 2)   (0,3): +
        //   (1,2): y tie            (1,3): +                    (2,3): +
        // n_c = 4, n_d = 0, n_0 = 6, n_x = 1, n_y = 1 → τ_b = 4 / sqrt(5·5) = 0.8.
        assert!((tau(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 2.0, 3.0]).unwrap() - 0.8).abs() < TOL);
    }

    #[test]
    fn undefined_cases_are_none() {
        assert_eq!(tau(&[], &[]), None);
        assert_eq!(tau(&[1.0], &[2.0]), None);
        assert_eq!(tau(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(tau(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), None);
        assert!(kendall_tau_b(&[1.0, 2.0], &[1.0]).is_err());
        assert!(kendall_tau_b(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn matches_scipy() {
        // Reference values from scipy.stats.kendalltau (variant "b", SciPy 1.17.1), computed
        // once with `python3 -c "from scipy.stats import kendalltau; print(kendalltau(x, y))"`
        // and pasted here.
        let cases: [(&[f64], &[f64], f64); 4] = [
            (&[12.0, 2.0, 1.0, 12.0, 2.0], &[1.0, 4.0, 7.0, 1.0, 0.0], -0.4714045207910316),
            (
                &[0.3, 0.1, 0.4, 0.1, 0.5, 0.9, 0.2, 0.6],
                &[2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0],
                0.16051447078102563,
            ),
            (
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                &[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0],
                0.2760262237369417,
            ),
            (&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 2.0, 2.0, 3.0, 3.0], 0.7272727272727273),
        ];
        for (x, y, expected) in cases {
            let got = tau(x, y).unwrap();
            assert!((got - expected).abs() < TOL, "{x:?} {y:?}: {got} vs scipy {expected}");
        }
    }

    proptest! {
        #[test]
        fn matches_independent_reference(
            pairs in prop::collection::vec((0u8..6, 0u8..6), 0..40)
        ) {
            // Small integer ranges force many ties.
            let x: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let y: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            let got = tau(&x, &y);
            let expected = reference_tau_b(&x, &y);
            match (got, expected) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < TOL, "{a} vs {b}"),
                (None, None) => {}
                other => prop_assert!(false, "mismatch {other:?}"),
            }
            if let Some(t) = got {
                prop_assert!((-1.0 - TOL..=1.0 + TOL).contains(&t));
                // Symmetric in its arguments, odd under negation of one.
                let swapped = tau(&y, &x).unwrap();
                prop_assert!((t - swapped).abs() < TOL);
                let negated: Vec<f64> = y.iter().map(|v| -v).collect();
                prop_assert!((t + tau(&x, &negated).unwrap()).abs() < TOL);
            }
        }
    }

    fn run(lr: f64, bs: f64, measure: f64, target: f64) -> Run {
        let hyperparameters =
            BTreeMap::from([("batch_size".to_owned(), bs), ("lr".to_owned(), lr)]);
        Run { hyperparameters, measure, target }
    }

    #[test]
    fn granulated_kendall_on_a_hand_worked_grid() {
        // A 3 × 2 grid, lr ∈ {0.1, 0.2, 0.3}, batch size ∈ {32, 64}: (lr, bs, measure, target).
        let runs = vec![
            run(0.1, 32.0, 1.0, 1.0),
            run(0.2, 32.0, 2.0, 2.0),
            run(0.3, 32.0, 3.0, 3.0),
            run(0.1, 64.0, 1.0, 3.0),
            run(0.2, 64.0, 2.0, 1.0),
            run(0.3, 64.0, 3.0, 2.0),
        ];
        // ψ_lr: groups by batch size.
        //   bs = 32: measure 1,2,3 vs target 1,2,3 → τ = 1.
        //   bs = 64: measure 1,2,3 vs target 3,1,2 → pairs (1,2)− (1,3)− (2,3)+ → τ = -1/3.
        //   ψ_lr = (1 − 1/3)/2 = 1/3.
        // ψ_bs: groups by lr, two runs each.
        //   lr = 0.1: measure 1,1 (tied) → undefined, skipped.
        //   lr = 0.2: measure 2,2 → undefined.  lr = 0.3: measure 3,3 → undefined.
        //   ψ_bs = None (3 groups, 3 undefined).
        // Average = mean of defined ψ = 1/3.
        // Overall τ_b: measure 1,2,3,1,2,3 and target 1,2,3,3,1,2.
        //   Pairs not tied in measure: 15 − 3 = 12; not tied in target: 15 − 3 = 12.
        //   Concordant minus discordant, pairs (i<j) with both untied (index order above):
        //   (0,1)+ (0,2)+ (0,4)0 (0,5)+ ; (1,2)+ (1,3)− (1,5)0 ; (2,3)0 (2,4)+ ;
        //   (0,3), (1,4), (2,5): measure ties; (3,4)− (3,5)− ; (4,5)+
        //   → six + and three −, so τ_b = 3/12 = 0.25 (scipy.stats.kendalltau agrees).
        let result = granulated_kendall(&runs).unwrap();
        let lr = result.per_hyperparameter.iter().find(|e| e.hyperparameter == "lr").unwrap();
        let bs =
            result.per_hyperparameter.iter().find(|e| e.hyperparameter == "batch_size").unwrap();
        assert!((lr.psi.unwrap() - 1.0 / 3.0).abs() < TOL);
        assert_eq!((lr.groups, lr.groups_undefined), (2, 0));
        assert_eq!(bs.psi, None);
        assert_eq!((bs.groups, bs.groups_undefined), (3, 3));
        assert!((result.average.unwrap() - 1.0 / 3.0).abs() < TOL);
        assert!((result.overall.unwrap() - 0.25).abs() < TOL);
    }

    #[test]
    fn granulated_kendall_two_defined_coefficients() {
        // 2 × 2 grid with distinct measures: (lr, bs, measure, target).
        let runs = vec![
            run(0.1, 32.0, 1.0, 1.0),
            run(0.2, 32.0, 2.0, 2.0),
            run(0.1, 64.0, 4.0, 3.0),
            run(0.2, 64.0, 3.0, 4.0),
        ];
        // ψ_lr: bs = 32 → (1,2) vs (1,2): +1; bs = 64 → (4,3) vs (3,4): −1 → ψ_lr = 0.
        // ψ_bs: lr = 0.1 → (1,4) vs (1,3): +1; lr = 0.2 → (2,3) vs (2,4): +1 → ψ_bs = 1.
        // Average = 0.5.
        let result = granulated_kendall(&runs).unwrap();
        let psi: Vec<Option<f64>> = result.per_hyperparameter.iter().map(|e| e.psi).collect();
        assert_eq!(psi, vec![Some(1.0), Some(0.0)]); // batch_size, lr (name order)
        assert_eq!(result.average, Some(0.5));
    }

    #[test]
    fn granulated_kendall_rejects_mismatched_runs() {
        let mut odd = run(0.1, 32.0, 1.0, 1.0);
        odd.hyperparameters.insert("momentum".to_owned(), 0.9);
        let runs = vec![run(0.1, 32.0, 1.0, 1.0), odd];
        assert!(matches!(
            granulated_kendall(&runs),
            Err(BoundError::HyperparameterMismatch { run: 1, .. })
        ));
        assert!(matches!(granulated_kendall(&[]), Err(BoundError::Empty { .. })));
    }
}
