//! The sharpness dimension (SD) of PAPER.md §2, computed exactly from a list of exponents.
//!
//! The one-step Jacobian of SGD is `I − η·H_B`, a symmetric matrix, so its singular values are
//! `|1 − η·α|` over the eigenvalues `α` of the minibatch Hessian `H_B`. Their logarithms
//! `z = ln|1 − η·α|` are the one-step exponents. Averaging the `k`-th largest exponent over
//! minibatches gives the RDS sharpness of order `k`, `λ_k`, and the sharpness dimension is the
//! Kaplan–Yorke dimension built from `λ_1 ≥ … ≥ λ_d`:
//!
//! ```text
//! S_j  = λ_1 + … + λ_j                          (partial sums, S_0 = 0)
//! j*   = max { i : S_i ≥ 0 },  j* = 0 if λ_1 < 0
//! SD   = 0                                      if j* = 0
//!      = j* + S_{j*} / |λ_{j*+1}|               if 1 ≤ j* < d
//!      = d                                      if j* = d
//! ```
//!
//! Because the exponents are sorted in descending order the partial sums are concave in `j`, so
//! `{ i : S_i ≥ 0 }` is the contiguous range `1..=j*` and `λ_{j*+1} < 0` whenever `j* < d`.
//! SD is therefore the point where the piecewise-linear interpolation of `j ↦ S_j` crosses zero.

use crate::error::{check_finite, check_non_empty, BoundError, Result};

/// The sharpness dimension together with the quantities that produced it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharpnessDimension {
    /// The sharpness dimension, in `[0, d]`.
    pub sd: f64,
    /// The critical index `j*`: the number of leading exponents whose running sum stays `≥ 0`.
    pub j_star: usize,
    /// The largest exponent `λ_1`, the RDS sharpness (a measure on its own).
    pub lambda1: f64,
    /// `S_1, …, S_d`: running sums of the exponents sorted in descending order. Entries may be
    /// `-inf` when an exponent is `-inf` (an eigenvalue exactly at `1/η`).
    pub partial_sums: Vec<f64>,
    /// The dimension `d`: the number of exponents.
    pub d: usize,
}

/// Computes the sharpness dimension from exponents `λ_k` given in any order.
///
/// The exponents are sorted in descending order here, so callers need not sort them. An
/// exponent of `-inf` (from an eigenvalue exactly at `α = 1/η`) is allowed: it sorts last, and
/// when it is `λ_{j*+1}` the fractional part `S_{j*}/|λ_{j*+1}|` is `0`, never NaN.
///
/// # Errors
///
/// [`BoundError::Empty`] for no exponents, [`BoundError::NotFinite`] for a NaN or `+inf`.
pub fn sharpness_dimension(exponents: &[f64]) -> Result<SharpnessDimension> {
    check_non_empty("exponents", exponents)?;
    if let Some(index) = exponents.iter().position(|v| v.is_nan() || *v == f64::INFINITY) {
        return Err(BoundError::NotFinite { what: "exponents", index, got: exponents[index] });
    }

    let mut sorted = exponents.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let d = sorted.len();

    let partial_sums: Vec<f64> = sorted
        .iter()
        .scan(0.0_f64, |sum, &z| {
            *sum += z;
            Some(*sum)
        })
        .collect();

    // Concavity of the running sums (see the module docs) makes the first negative sum the end
    // of the range `1..=j*`.
    let lambda1 = sorted[0];
    let j_star =
        if lambda1 < 0.0 { 0 } else { partial_sums.iter().position(|&s| s < 0.0).unwrap_or(d) };

    let sd = if j_star == 0 {
        0.0
    } else if j_star == d {
        d as f64
    } else {
        let next = sorted[j_star];
        let fraction = partial_sums[j_star - 1] / next.abs();
        (j_star as f64 + fraction).min(d as f64)
    };

    Ok(SharpnessDimension { sd, j_star, lambda1, partial_sums, d })
}

/// Maps eigenvalues `α` of a Hessian to log singular values `z = ln|1 − η·α|` of the one-step
/// Jacobian `I − η·H`.
///
/// An eigenvalue exactly at `1/η` gives `z = -inf`, which [`sharpness_dimension`] accepts.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] unless `η` is finite and positive, [`BoundError::NotFinite`]
/// for a NaN or infinite eigenvalue.
pub fn log_singular_values(eigenvalues: &[f64], eta: f64) -> Result<Vec<f64>> {
    check_eta(eta)?;
    check_finite("eigenvalues", eigenvalues)?;
    Ok(eigenvalues.iter().map(|&alpha| (1.0 - eta * alpha).abs().ln()).collect())
}

/// The RDS sharpness of every order from dense per-minibatch spectra (PAPER.md §4, exact SD).
///
/// For each minibatch the eigenvalues are mapped to `z = ln|1 − η·α|` and sorted in descending
/// order; `λ_k` is the mean over minibatches of the `k`-th largest `z`:
///
/// ```text
/// λ_k = (1/K) Σ_{b=1..K} z_(k)(b),   z_(1)(b) ≥ … ≥ z_(d)(b)
/// ```
///
/// The result is sorted in descending order.
///
/// # Errors
///
/// [`BoundError::Empty`] for no spectra or an empty spectrum, [`BoundError::LengthMismatch`]
/// when spectra differ in length, and the errors of [`log_singular_values`].
pub fn mean_sorted_exponents<S: AsRef<[f64]>>(spectra: &[S], eta: f64) -> Result<Vec<f64>> {
    check_non_empty("minibatch spectra", spectra)?;
    let d = spectra[0].as_ref().len();
    check_non_empty("minibatch spectrum", spectra[0].as_ref())?;

    let mut sums = vec![0.0_f64; d];
    for spectrum in spectra {
        let spectrum = spectrum.as_ref();
        if spectrum.len() != d {
            return Err(BoundError::LengthMismatch {
                what: "minibatch spectrum",
                expected: d,
                got: spectrum.len(),
            });
        }
        let mut z = log_singular_values(spectrum, eta)?;
        z.sort_by(|a, b| b.total_cmp(a));
        for (sum, value) in sums.iter_mut().zip(&z) {
            *sum += value;
        }
    }

    let count = spectra.len() as f64;
    Ok(sums.into_iter().map(|sum| sum / count).collect())
}

/// Exact SD from dense per-minibatch Hessian spectra: [`mean_sorted_exponents`] followed by
/// [`sharpness_dimension`].
///
/// # Errors
///
/// Those of the two functions it composes.
pub fn sd_from_dense_spectra<S: AsRef<[f64]>>(
    spectra: &[S],
    eta: f64,
) -> Result<SharpnessDimension> {
    sharpness_dimension(&mean_sorted_exponents(spectra, eta)?)
}

/// Checks that a learning rate is finite and positive.
pub(crate) fn check_eta(eta: f64) -> Result<()> {
    if !(eta.is_finite() && eta > 0.0) {
        return Err(BoundError::OutOfRange {
            what: "learning rate η",
            expected: "finite and > 0",
            got: eta,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Absolute tolerance for SD values computed from a handful of exponents.
    const TOL: f64 = 1e-12;

    fn sd(exponents: &[f64]) -> SharpnessDimension {
        sharpness_dimension(exponents).unwrap()
    }

    #[test]
    fn all_contracting_gives_zero() {
        // λ_1 = -0.1 < 0, so j* = 0 and SD = 0 whatever follows.
        let r = sd(&[-0.5, -0.1, -2.0]);
        assert_eq!(r.j_star, 0);
        assert_eq!(r.sd, 0.0);
        assert_eq!(r.lambda1, -0.1);
        assert_eq!(r.partial_sums, vec![-0.1, -0.6, -2.6]);
    }

    #[test]
    fn all_partial_sums_nonnegative_gives_d() {
        // Sorted: 1, 0.5, -0.2, -1.0; sums 1, 1.5, 1.3, 0.3, all ≥ 0, so j* = d = 4 and SD = 4.
        let r = sd(&[-0.2, 1.0, -1.0, 0.5]);
        assert_eq!(r.j_star, 4);
        assert_eq!(r.sd, 4.0);
    }

    #[test]
    fn fractional_case_worked_by_hand() {
        // Sorted: 0.6, 0.2, -0.3, -0.4, -1.0.
        // Sums:   0.6, 0.8,  0.5,  0.1, -0.9   → j* = 4 (S_4 = 0.1 ≥ 0, S_5 < 0).
        // SD = j* + S_4 / |λ_5| = 4 + 0.1 / 1.0 = 4.1.
        let r = sd(&[-0.4, 0.2, -1.0, 0.6, -0.3]);
        assert_eq!(r.j_star, 4);
        assert!((r.sd - 4.1).abs() < TOL, "sd = {}", r.sd);

        // Sorted: 0.3, -0.1, -0.5.  Sums: 0.3, 0.2, -0.3 → j* = 2.
        // SD = 2 + 0.2 / 0.5 = 2.4.
        let r = sd(&[-0.5, 0.3, -0.1]);
        assert_eq!(r.j_star, 2);
        assert!((r.sd - 2.4).abs() < TOL, "sd = {}", r.sd);

        // j* = 1: sorted 0.2, -0.8; S_1 = 0.2, S_2 = -0.6 → SD = 1 + 0.2/0.8 = 1.25.
        let r = sd(&[-0.8, 0.2]);
        assert_eq!(r.j_star, 1);
        assert!((r.sd - 1.25).abs() < TOL, "sd = {}", r.sd);
    }

    #[test]
    fn zero_top_exponent_is_not_contracting() {
        // λ_1 = 0 is not < 0, so j* ≥ 1: sums 0, -1 → j* = 1, SD = 1 + 0/1 = 1.
        let r = sd(&[0.0, -1.0]);
        assert_eq!(r.j_star, 1);
        assert_eq!(r.sd, 1.0);
    }

    #[test]
    fn eigenvalue_at_one_over_eta_gives_no_nan() {
        // η = 0.5: α = 2 gives z = ln 0 = -inf; α = -1 gives z = ln 1.5; α = 1 gives ln 0.5.
        let z = log_singular_values(&[2.0, -1.0, 1.0], 0.5).unwrap();
        assert_eq!(z[0], f64::NEG_INFINITY);

        // Sorted: ln 1.5 = 0.405, ln 0.5 = -0.693, -inf: S_2 < 0, so j* = 1 and
        // SD = 1 + 0.405 / 0.693.
        let r = sd(&z);
        assert_eq!(r.j_star, 1);
        assert!((r.sd - (1.0 + 1.5_f64.ln() / 2.0_f64.ln())).abs() < TOL);

        // When the -inf exponent is λ_{j*+1} the fraction is S/inf = 0, not NaN.
        let r = sd(&[0.5, f64::NEG_INFINITY]);
        assert_eq!(r.j_star, 1);
        assert_eq!(r.sd, 1.0);
        assert!(r.partial_sums.iter().all(|s| !s.is_nan()));

        // Only -inf: λ_1 < 0 → SD = 0.
        assert_eq!(sd(&[f64::NEG_INFINITY; 3]).sd, 0.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(sharpness_dimension(&[]), Err(BoundError::Empty { .. })));
        assert!(matches!(
            sharpness_dimension(&[0.1, f64::NAN]),
            Err(BoundError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            sharpness_dimension(&[f64::INFINITY]),
            Err(BoundError::NotFinite { index: 0, .. })
        ));
        assert!(matches!(log_singular_values(&[1.0], 0.0), Err(BoundError::OutOfRange { .. })));
    }

    #[test]
    fn dense_spectra_average_sorted_exponents() {
        // η = 0.1. Minibatch 1: α = 0, 30 → z = 0, ln 2. Minibatch 2: α = 5, 25 → ln 0.5, ln 1.5.
        // Sorted per batch: (ln 2, 0) and (ln 1.5, ln 0.5).
        // λ_1 = (ln 2 + ln 1.5)/2 = ln 3 / 2, λ_2 = ln 0.5 / 2.
        let spectra = vec![vec![0.0, 30.0], vec![25.0, 5.0]];
        let lambda = mean_sorted_exponents(&spectra, 0.1).unwrap();
        assert!((lambda[0] - 3.0_f64.ln() / 2.0).abs() < TOL);
        assert!((lambda[1] - 0.5_f64.ln() / 2.0).abs() < TOL);

        // S_2 = (ln 3 + ln 0.5)/2 = ln 1.5 / 2 ≥ 0, so SD = d = 2.
        let r = sd_from_dense_spectra(&spectra, 0.1).unwrap();
        assert_eq!(r.sd, 2.0);

        let ragged = vec![vec![0.0, 1.0], vec![0.0]];
        assert!(matches!(
            mean_sorted_exponents(&ragged, 0.1),
            Err(BoundError::LengthMismatch { expected: 2, got: 1, .. })
        ));
    }

    fn exponent() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -3.0..3.0_f64,
            1 => Just(0.0),
            1 => Just(f64::NEG_INFINITY),
        ]
    }

    proptest! {
        #[test]
        fn sd_lies_in_zero_to_d(z in prop::collection::vec(exponent(), 1..60)) {
            let r = sd(&z);
            prop_assert!(r.sd >= 0.0 && r.sd <= z.len() as f64, "sd = {}", r.sd);
            prop_assert!(!r.sd.is_nan());
            if r.j_star >= 1 && r.j_star < r.d {
                prop_assert!(r.sd >= r.j_star as f64 && r.sd <= r.j_star as f64 + 1.0);
            }
        }

        #[test]
        fn sd_ignores_order(
            z in prop::collection::vec(exponent(), 1..60),
            seed in any::<u64>(),
        ) {
            use rand::{seq::SliceRandom, SeedableRng};
            let mut shuffled = z.clone();
            shuffled.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            prop_assert_eq!(sd(&z).sd, sd(&shuffled).sd);
        }

        #[test]
        fn nonnegative_exponents_give_d(z in prop::collection::vec(0.0..3.0_f64, 1..60)) {
            prop_assert_eq!(sd(&z).sd, z.len() as f64);
        }

        #[test]
        fn adding_an_expanding_exponent_never_lowers_sd(
            z in prop::collection::vec(exponent(), 1..60),
            extra in 0.0..3.0_f64,
        ) {
            let before = sd(&z).sd;
            let mut more = z.clone();
            more.push(extra);
            let after = sd(&more).sd;
            prop_assert!(after >= before - 1e-9, "before {before}, after {after}");
        }

        #[test]
        fn adding_an_eigenvalue_beyond_two_over_eta_never_lowers_sd(
            alphas in prop::collection::vec(-5.0..30.0_f64, 1..60),
            eta in 0.05..0.5_f64,
            excess in 1e-6..20.0_f64,
        ) {
            let before = sd_from_dense_spectra(std::slice::from_ref(&alphas), eta).unwrap().sd;
            let mut more = alphas.clone();
            more.push(2.0 / eta + excess);
            let after = sd_from_dense_spectra(&[more], eta).unwrap().sd;
            prop_assert!(after >= before - 1e-9, "before {before}, after {after}");
        }
    }
}
