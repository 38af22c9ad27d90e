//! The generalization bound of PAPER.md §3, term by term.
//!
//! With probability at least `1 − ζ − γ` over data and noise, for every `δ ∈ (0, δ_{n,γ})`,
//!
//! ```text
//! gap ≤ 2Lδ + 2B·sqrt(4·SD·ln(1/δ)/n) + (I_∞ + ln(1/ζ))/sqrt(n) + C·B²/sqrt(n)
//! ```
//!
//! and, in the random-set stability form,
//!
//! ```text
//! E[gap] ≤ 2·(B/n + δL + β_n^{1/3}·(1 + B·sqrt(4·SD·ln(1/δ))))
//! ```
//!
//! (both exactly as PAPER.md states them). The mutual information `I_∞`, the constant `C`, the
//! stability coefficient `β_n` and the admissible range `δ_{n,γ}` cannot be computed from data,
//! so [`evaluate`] reports every term on its own: the computable ones as numbers, the others as
//! [`TermValue::Omitted`] unless the caller supplies a value. The third term of the main form
//! is split into its confidence part `ln(1/ζ)/sqrt(n)`, always computable, and its information
//! part `I_∞/sqrt(n)`. A total is given over the computed terms, flagged as partial when any
//! term was omitted: a partial total is a lower bound on the bound, not a bound on the gap.

use crate::error::{BoundError, Result};

/// The quantities the bound is evaluated at.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundInputs {
    /// The sharpness dimension SD, `≥ 0`.
    pub sd: f64,
    /// Number of training samples `n`, `≥ 1`.
    pub n: usize,
    /// Scale `δ ∈ (0, 1)`: trades the covering term `2Lδ` against `ln(1/δ)`.
    pub delta: f64,
    /// Confidence parameter `ζ ∈ (0, 1)`.
    pub zeta: f64,
    /// Lipschitz constant `L ≥ 0` of the loss in the weights, if known (the `2Lδ` terms are
    /// omitted otherwise).
    pub lipschitz: Option<f64>,
    /// Bound `B ≥ 0` on the loss.
    pub loss_bound: f64,
    /// Total mutual information `I_∞ ≥ 0` between attractor and data, if known.
    pub mutual_information: Option<f64>,
    /// The constant `C > 0` of the theorem, if known.
    pub constant_c: Option<f64>,
    /// The stability coefficient `β_n ≥ 0` of the second form, if known.
    pub stability: Option<f64>,
}

impl BoundInputs {
    /// Inputs with the uncomputable quantities omitted.
    pub fn new(sd: f64, n: usize, delta: f64, zeta: f64, lipschitz: f64, loss_bound: f64) -> Self {
        Self {
            sd,
            n,
            delta,
            zeta,
            lipschitz: Some(lipschitz),
            loss_bound,
            mutual_information: None,
            constant_c: None,
            stability: None,
        }
    }

    /// Checks every input against the range the theorem allows.
    ///
    /// # Errors
    ///
    /// [`BoundError::OutOfRange`] naming the first offending input.
    pub fn validate(&self) -> Result<()> {
        let open_unit = |what, got: f64| {
            if got > 0.0 && got < 1.0 {
                Ok(())
            } else {
                Err(BoundError::OutOfRange { what, expected: "in (0, 1)", got })
            }
        };
        let non_negative = |what, got: f64| {
            if got.is_finite() && got >= 0.0 {
                Ok(())
            } else {
                Err(BoundError::OutOfRange { what, expected: "finite and ≥ 0", got })
            }
        };

        non_negative("sharpness dimension", self.sd)?;
        if self.n == 0 {
            return Err(BoundError::OutOfRange {
                what: "number of samples n",
                expected: "≥ 1",
                got: 0.0,
            });
        }
        open_unit("δ", self.delta)?;
        open_unit("ζ", self.zeta)?;
        if let Some(l) = self.lipschitz {
            non_negative("lipschitz constant L", l)?;
        }
        non_negative("loss bound B", self.loss_bound)?;
        if let Some(info) = self.mutual_information {
            non_negative("mutual information I_∞", info)?;
        }
        if let Some(c) = self.constant_c {
            if !(c.is_finite() && c > 0.0) {
                return Err(BoundError::OutOfRange {
                    what: "constant C",
                    expected: "finite and > 0",
                    got: c,
                });
            }
        }
        if let Some(beta) = self.stability {
            non_negative("stability coefficient β_n", beta)?;
        }
        Ok(())
    }
}

/// The value of one term: a number, or a note that it could not be computed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermValue {
    /// The term's value.
    Computed(f64),
    /// The term needs a quantity that was not supplied.
    Omitted,
}

impl TermValue {
    /// The value, if computed.
    pub fn value(&self) -> Option<f64> {
        match self {
            Self::Computed(v) => Some(*v),
            Self::Omitted => None,
        }
    }
}

/// One named term of a bound.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundTerm {
    /// Short identifier, e.g. `"sd"`.
    pub name: String,
    /// The formula, in plain text.
    pub formula: String,
    /// Its value or [`TermValue::Omitted`].
    pub value: TermValue,
}

impl BoundTerm {
    fn new(name: &str, formula: &str, value: Option<f64>) -> Self {
        Self {
            name: name.to_owned(),
            formula: formula.to_owned(),
            value: value.map_or(TermValue::Omitted, TermValue::Computed),
        }
    }
}

/// One form of the bound: its terms and their sum.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundForm {
    /// The terms, in the order of the formula.
    pub terms: Vec<BoundTerm>,
    /// Sum of the computed terms.
    pub total: f64,
    /// True when some term was omitted, so `total` understates the bound.
    pub partial: bool,
}

impl BoundForm {
    fn from_terms(terms: Vec<BoundTerm>) -> Self {
        let total = terms.iter().filter_map(|t| t.value.value()).sum();
        let partial = terms.iter().any(|t| t.value == TermValue::Omitted);
        Self { terms, total, partial }
    }

    /// The term with this name.
    pub fn term(&self, name: &str) -> Option<&BoundTerm> {
        self.terms.iter().find(|t| t.name == name)
    }
}

/// Both forms of the bound, evaluated at one set of inputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundReport {
    /// The inputs, echoed so that a report stands on its own.
    pub inputs: BoundInputs,
    /// The high-probability form (mutual information).
    pub main: BoundForm,
    /// The random-set stability form (expected gap).
    pub stability: BoundForm,
}

/// Evaluates every term of both forms of the bound.
///
/// Main form, terms in order: `lipschitz` = `2Lδ`; `sd` = `2B·sqrt(4·SD·ln(1/δ)/n)`;
/// `confidence` = `ln(1/ζ)/sqrt(n)`; `information` = `I_∞/sqrt(n)`; `constant` = `C·B²/sqrt(n)`.
/// Stability form: `sample` = `2B/n`; `lipschitz` = `2δL`;
/// `stability` = `2·β_n^{1/3}·(1 + B·sqrt(4·SD·ln(1/δ)))`.
///
/// # Errors
///
/// Those of [`BoundInputs::validate`].
pub fn evaluate(inputs: &BoundInputs) -> Result<BoundReport> {
    inputs.validate()?;
    let BoundInputs { sd, n, delta, zeta, lipschitz, loss_bound, .. } = *inputs;
    let n = n as f64;
    let root_n = n.sqrt();
    let log_inv_delta = (1.0 / delta).ln();

    let main = BoundForm::from_terms(vec![
        BoundTerm::new("lipschitz", "2·L·δ", lipschitz.map(|l| 2.0 * l * delta)),
        BoundTerm::new(
            "sd",
            "2·B·sqrt(4·SD·ln(1/δ)/n)",
            Some(2.0 * loss_bound * (4.0 * sd * log_inv_delta / n).sqrt()),
        ),
        BoundTerm::new("confidence", "ln(1/ζ)/sqrt(n)", Some((1.0 / zeta).ln() / root_n)),
        BoundTerm::new("information", "I_∞/sqrt(n)", inputs.mutual_information.map(|i| i / root_n)),
        BoundTerm::new(
            "constant",
            "C·B²/sqrt(n)",
            inputs.constant_c.map(|c| c * loss_bound * loss_bound / root_n),
        ),
    ]);

    let stability = BoundForm::from_terms(vec![
        BoundTerm::new("sample", "2·B/n", Some(2.0 * loss_bound / n)),
        BoundTerm::new("lipschitz", "2·δ·L", lipschitz.map(|l| 2.0 * delta * l)),
        BoundTerm::new(
            "stability",
            "2·β_n^(1/3)·(1 + B·sqrt(4·SD·ln(1/δ)))",
            inputs
                .stability
                .map(|b| 2.0 * b.cbrt() * (1.0 + loss_bound * (4.0 * sd * log_inv_delta).sqrt())),
        ),
    ]);

    Ok(BoundReport { inputs: inputs.clone(), main, stability })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tolerance for terms computed by hand to about 12 digits.
    const TOL: f64 = 1e-12;

    fn value(form: &BoundForm, name: &str) -> Option<f64> {
        form.term(name).unwrap().value.value()
    }

    #[test]
    fn terms_match_hand_computation() {
        // SD = 100, n = 10,000, δ = e^-2 (ln 1/δ = 2), ζ = e^-3 (ln 1/ζ = 3), L = 5, B = 2.
        //   2Lδ            = 10·e^-2                 = 1.353352832366127
        //   SD term        = 2·2·sqrt(4·100·2/10⁴)   = 4·sqrt(0.08) = 1.131370849898476
        //   confidence     = 3/100                   = 0.03
        //   information    = omitted
        //   constant       = omitted
        let inputs = BoundInputs::new(100.0, 10_000, (-2.0_f64).exp(), (-3.0_f64).exp(), 5.0, 2.0);
        let report = evaluate(&inputs).unwrap();
        let main = &report.main;
        assert!((value(main, "lipschitz").unwrap() - 1.353352832366127).abs() < TOL);
        assert!((value(main, "sd").unwrap() - 1.131370849898476).abs() < TOL);
        assert!((value(main, "confidence").unwrap() - 0.03).abs() < TOL);
        assert_eq!(value(main, "information"), None);
        assert_eq!(value(main, "constant"), None);
        assert!(main.partial);
        assert!((main.total - (1.353352832366127 + 1.131370849898476 + 0.03)).abs() < TOL);

        // Stability form: 2B/n = 4e-4, 2δL = 1.353352832366127, β omitted.
        let stab = &report.stability;
        assert!((value(stab, "sample").unwrap() - 4e-4).abs() < TOL);
        assert!((value(stab, "lipschitz").unwrap() - 1.353352832366127).abs() < TOL);
        assert_eq!(value(stab, "stability"), None);
        assert!(stab.partial);
    }

    #[test]
    fn supplied_terms_complete_the_total() {
        // I_∞ = 7, C = 0.5, β = 0.008 (cube root 0.2), with the inputs above.
        //   information = 7/100 = 0.07; constant = 0.5·4/100 = 0.02;
        //   stability = 2·0.2·(1 + 2·sqrt(4·100·2)) = 0.4·(1 + 2·sqrt(800)) = 23.027417
        let mut inputs =
            BoundInputs::new(100.0, 10_000, (-2.0_f64).exp(), (-3.0_f64).exp(), 5.0, 2.0);
        inputs.mutual_information = Some(7.0);
        inputs.constant_c = Some(0.5);
        inputs.stability = Some(0.008);
        let report = evaluate(&inputs).unwrap();

        assert!((value(&report.main, "information").unwrap() - 0.07).abs() < TOL);
        assert!((value(&report.main, "constant").unwrap() - 0.02).abs() < TOL);
        assert!(!report.main.partial);
        let expected = 1.353352832366127 + 1.131370849898476 + 0.03 + 0.07 + 0.02;
        assert!((report.main.total - expected).abs() < TOL);

        let stability = 0.4 * (1.0 + 2.0 * 800.0_f64.sqrt());
        assert!((value(&report.stability, "stability").unwrap() - stability).abs() < 1e-10);
        assert!(!report.stability.partial);
    }

    #[test]
    fn invalid_inputs_are_named() {
        let good = BoundInputs::new(10.0, 100, 0.1, 0.05, 1.0, 1.0);
        assert!(good.validate().is_ok());

        let cases: Vec<(BoundInputs, &str)> = vec![
            (BoundInputs { delta: 0.0, ..good.clone() }, "δ"),
            (BoundInputs { delta: 1.0, ..good.clone() }, "δ"),
            (BoundInputs { zeta: 1.5, ..good.clone() }, "ζ"),
            (BoundInputs { zeta: f64::NAN, ..good.clone() }, "ζ"),
            (BoundInputs { n: 0, ..good.clone() }, "number of samples n"),
            (BoundInputs { lipschitz: Some(-1.0), ..good.clone() }, "lipschitz constant L"),
            (BoundInputs { loss_bound: f64::INFINITY, ..good.clone() }, "loss bound B"),
            (BoundInputs { sd: -0.5, ..good.clone() }, "sharpness dimension"),
            (BoundInputs { constant_c: Some(0.0), ..good.clone() }, "constant C"),
            (
                BoundInputs { mutual_information: Some(-1.0), ..good.clone() },
                "mutual information I_∞",
            ),
            (BoundInputs { stability: Some(-1.0), ..good.clone() }, "stability coefficient β_n"),
        ];
        for (inputs, name) in cases {
            match evaluate(&inputs) {
                Err(BoundError::OutOfRange { what, .. }) => assert_eq!(what, name),
                other => panic!("expected an error for {name}, got {other:?}"),
            }
        }
    }

    #[test]
    fn report_round_trips_through_json_and_says_omitted() {
        let report = evaluate(&BoundInputs::new(10.0, 100, 0.1, 0.05, 1.0, 1.0)).unwrap();
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""value":"omitted""#), "{json}");
        assert!(json.contains(r#""value":{"computed":"#), "{json}");
        let back: BoundReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
