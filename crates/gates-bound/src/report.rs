//! From a spectrum artifact to a bound artifact: every SD estimate the spectrum allows, the one
//! chosen for the bound, and both forms of the bound term by term.

use gates_artifacts as art;
use gates_artifacts::{Spectrum, SpectrumMethod, TermSource};
use serde::{Deserialize, Serialize};

use crate::bound::{evaluate, BoundInputs, TermValue};
use crate::error::{BoundError, Result};
use crate::estimators::{
    sd_atoms, sd_kde, sd_pseudo_spectrum, sd_slq, HistogramParams, KdeParams, PseudoSpectrumParams,
    SpectralMeasure,
};
use crate::sd::sd_from_dense_spectra;

/// Which SD estimate enters the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EstimatorChoice {
    /// Exact SD for dense spectra, SD-SLQ for SLQ spectra.
    Auto,
    /// Exact SD (dense spectra only).
    Exact,
    /// SD-SLQ, the histogram estimator.
    Slq,
    /// SD-KDE, the kernel-density estimator.
    Kde,
    /// SD-PS, the pseudo-spectrum estimator.
    Ps,
}

/// Everything `gates bound` is told besides the spectrum. Defaults: B = 1 (the bound in units
/// of the loss bound; exact for the 0–1 loss), δ = 1/n, ζ = 0.05, L and the uncomputable
/// quantities omitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundSettings {
    /// Which estimate enters the bound.
    pub estimator: EstimatorChoice,
    /// Scale δ; `None` means 1/n.
    pub delta: Option<f64>,
    /// Confidence ζ.
    pub zeta: f64,
    /// Lipschitz constant L, if known.
    pub lipschitz: Option<f64>,
    /// Loss bound B.
    pub loss_bound: f64,
    /// Mutual information I_∞, if known.
    pub mutual_information: Option<f64>,
    /// Constant C, if known.
    pub constant_c: Option<f64>,
    /// Stability coefficient β_n, if known.
    pub stability: Option<f64>,
    /// SD-SLQ settings.
    pub histogram: HistogramParams,
    /// SD-KDE settings.
    pub kde: KdeParams,
    /// SD-PS settings.
    pub pseudo_spectrum: PseudoSpectrumParams,
}

impl Default for BoundSettings {
    fn default() -> Self {
        Self {
            estimator: EstimatorChoice::Auto,
            delta: None,
            zeta: 0.05,
            lipschitz: None,
            loss_bound: 1.0,
            mutual_information: None,
            constant_c: None,
            stability: None,
            histogram: HistogramParams::default(),
            kde: KdeParams::default(),
            pseudo_spectrum: PseudoSpectrumParams::default(),
        }
    }
}

fn top_log_singular_value(nodes: &[f64], eta: f64) -> f64 {
    nodes.iter().map(|&a| (1.0 - eta * a).abs().ln()).fold(f64::NEG_INFINITY, f64::max)
}

/// Every SD estimate a spectrum allows.
pub fn sd_estimates(spectrum: &Spectrum, settings: &BoundSettings) -> Result<Vec<art::SdEstimate>> {
    let eta = spectrum.eta;
    match &spectrum.method {
        SpectrumMethod::Dense { minibatches } => {
            let spectra: Vec<&[f64]> =
                minibatches.iter().map(|m| m.eigenvalues.as_slice()).collect();
            let exact = sd_from_dense_spectra(&spectra, eta)?;
            Ok(vec![art::SdEstimate {
                estimator: "exact".into(),
                sd: exact.sd,
                j_star: Some(exact.j_star as u64),
                lambda1: Some(exact.lambda1),
            }])
        }
        SpectrumMethod::Slq { runs, .. } => {
            let d = spectrum.param_count as usize;
            let measure = SpectralMeasure::from_slices(
                runs.iter().map(|r| (r.nodes.as_slice(), r.weights.as_slice())),
                d,
            )?;
            // λ₁ = E_ω[ln σ₁]: per run, the largest ln|1 − ηθ| over its Ritz values (the extreme
            // Ritz values converge first), averaged over runs.
            let lambda1 = runs.iter().map(|r| top_log_singular_value(&r.nodes, eta)).sum::<f64>()
                / runs.len() as f64;
            let mut out = Vec::new();
            for (name, estimate) in [
                ("slq", sd_slq(&measure, eta, &settings.histogram)?),
                ("kde", sd_kde(&measure, eta, &settings.kde)?),
                ("ps", sd_pseudo_spectrum(&measure, eta, &settings.pseudo_spectrum)?),
                ("atoms", sd_atoms(&measure, eta, settings.histogram.epsilon)?),
            ] {
                out.push(art::SdEstimate {
                    estimator: name.into(),
                    sd: estimate.sd,
                    j_star: None,
                    lambda1: Some(lambda1),
                });
            }
            Ok(out)
        }
        SpectrumMethod::Lanczos { .. } => Err(BoundError::Degenerate {
            what: "sharpness dimension",
            reason:
                "a Lanczos spectrum holds only extreme eigenvalues; compute a dense or SLQ spectrum"
                    .into(),
        }),
    }
}

fn term(t: &crate::bound::BoundTerm, supplied: &[&str]) -> art::BoundTerm {
    let (value, source) = match t.value {
        TermValue::Computed(v) if supplied.contains(&t.name.as_str()) => {
            (Some(v), TermSource::Supplied)
        }
        TermValue::Computed(v) => (Some(v), TermSource::Computed),
        TermValue::Omitted => (None, TermSource::Omitted),
    };
    art::BoundTerm { name: t.name.clone(), formula: t.formula.clone(), value, source }
}

/// The bound report of a spectrum read from `source`.
pub fn bound_report(
    spectrum: &Spectrum,
    source: &str,
    settings: &BoundSettings,
) -> Result<art::BoundReport> {
    let estimates = sd_estimates(spectrum, settings)?;
    let wanted = match (settings.estimator, &spectrum.method) {
        (EstimatorChoice::Auto, SpectrumMethod::Dense { .. }) | (EstimatorChoice::Exact, _) => {
            "exact"
        }
        (EstimatorChoice::Auto, _) | (EstimatorChoice::Slq, _) => "slq",
        (EstimatorChoice::Kde, _) => "kde",
        (EstimatorChoice::Ps, _) => "ps",
    };
    let Some(chosen) = estimates.iter().find(|e| e.estimator == wanted) else {
        return Err(BoundError::Degenerate {
            what: "estimator",
            reason: format!(
                "the {wanted} estimate needs {} spectrum",
                if wanted == "exact" { "a dense" } else { "an SLQ" }
            ),
        });
    };

    let n = spectrum.n_train as usize;
    let delta = settings.delta.unwrap_or(1.0 / n.max(2) as f64);
    let inputs = BoundInputs {
        sd: chosen.sd,
        n,
        delta,
        zeta: settings.zeta,
        lipschitz: settings.lipschitz,
        loss_bound: settings.loss_bound,
        mutual_information: settings.mutual_information,
        constant_c: settings.constant_c,
        stability: settings.stability,
    };
    let report = evaluate(&inputs)?;
    let supplied = ["information", "constant", "stability"];
    let form = |name: &str, f: &crate::bound::BoundForm| art::BoundForm {
        name: name.into(),
        terms: f.terms.iter().map(|t| term(t, &supplied)).collect(),
        total: f.total,
        partial: f.partial,
    };
    Ok(art::BoundReport {
        spectrum: source.into(),
        eta: spectrum.eta,
        param_count: spectrum.param_count,
        sharpness_dimension: estimates,
        estimator: wanted.into(),
        classical_sharpness: spectrum.top_eigenvalue.map(|top| top.value),
        trace: spectrum.trace,
        inputs: art::BoundInputsRecord {
            n: n as u64,
            delta: inputs.delta,
            zeta: inputs.zeta,
            lipschitz: inputs.lipschitz,
            loss_bound: inputs.loss_bound,
            mutual_information: inputs.mutual_information,
            constant_c: inputs.constant_c,
            stability: inputs.stability,
        },
        forms: vec![form("mutual-information", &report.main), form("stability", &report.stability)],
    })
}
