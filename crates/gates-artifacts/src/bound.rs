//! The bound and complexity artifacts: what `gates-bound` computes from spectra and windows.

use serde::{Deserialize, Serialize};

use crate::envelope::Format;

/// One estimate of the sharpness dimension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdEstimate {
    /// Estimator name: `exact`, `slq`, `kde`, `ps` or `atoms`.
    pub estimator: String,
    /// The sharpness dimension, in [0, d].
    pub sd: f64,
    /// Critical index j* (exact SD only).
    pub j_star: Option<u64>,
    /// RDS sharpness λ₁ (exact SD: mean top log singular value; SLQ: from the top node).
    pub lambda1: Option<f64>,
}

/// Where a term of the bound came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TermSource {
    /// Computed from the artifacts.
    Computed,
    /// Given by the user.
    Supplied,
    /// Not computable from data and not supplied: left out of the total.
    Omitted,
}

/// One additive term of the bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundTerm {
    /// Short name, for example `sd`.
    pub name: String,
    /// The formula, for example `2·B·sqrt(4·SD·ln(1/δ)/n)`.
    pub formula: String,
    /// Its value, when computed or supplied.
    pub value: Option<f64>,
    /// Where it came from.
    pub source: TermSource,
}

/// One form of the bound with its terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundForm {
    /// `mutual-information` (high probability) or `stability` (expected gap).
    pub name: String,
    /// Every term, computed, supplied or omitted.
    pub terms: Vec<BoundTerm>,
    /// Sum of the terms that have values.
    pub total: f64,
    /// Whether some term was omitted, so that `total` is not the whole bound.
    pub partial: bool,
}

/// The quantities the bound was evaluated at, besides SD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundInputsRecord {
    /// Training samples n.
    pub n: u64,
    /// Scale δ.
    pub delta: f64,
    /// Confidence ζ.
    pub zeta: f64,
    /// Lipschitz constant L, if supplied.
    pub lipschitz: Option<f64>,
    /// Loss bound B.
    pub loss_bound: f64,
    /// Mutual information I_∞, if supplied.
    pub mutual_information: Option<f64>,
    /// Constant C, if supplied.
    pub constant_c: Option<f64>,
    /// Stability coefficient β_n, if supplied.
    pub stability: Option<f64>,
}

/// Body of a bound file (`gates.bound`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundReport {
    /// The spectrum file it was computed from.
    pub spectrum: String,
    /// Learning rate η of the run.
    pub eta: f64,
    /// Number of parameters d.
    pub param_count: u64,
    /// Every SD estimate the spectrum allows.
    pub sharpness_dimension: Vec<SdEstimate>,
    /// The estimator whose SD enters the bound.
    pub estimator: String,
    /// Classical sharpness (top Hessian eigenvalue), if known.
    pub classical_sharpness: Option<f64>,
    /// Hessian trace estimate, if known.
    pub trace: Option<crate::spectrum::Estimate>,
    /// The other inputs.
    pub inputs: BoundInputsRecord,
    /// Both forms of the bound.
    pub forms: Vec<BoundForm>,
}

impl Format for BoundReport {
    const NAME: &'static str = "gates.bound";
    const VERSION: u32 = 1;
}

/// Body of a complexity file (`gates.complexity`): a topological measure of an iterate window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplexityReport {
    /// The window file it was computed from.
    pub window: String,
    /// Which cloud: `bwd` (last training iterates) or `fwd` (simulated onward).
    pub window_kind: String,
    /// Iterates in the cloud.
    pub points: u64,
    /// `ph-dim` or `e-alpha`.
    pub measure: String,
    /// `euclidean` or `rho`.
    pub metric: String,
    /// The value of the measure.
    pub value: f64,
    /// Exponent α of the lifetime sums.
    pub alpha: f64,
    /// Sample sizes of the PH-dim fit (the whole cloud alone for E_α).
    pub sizes: Vec<u64>,
    /// E_α at each size.
    pub lifetime_sums: Vec<f64>,
    /// Slope of ln E_α against ln n (PH-dim only).
    pub slope: Option<f64>,
    /// R² of that fit (PH-dim only).
    pub r_squared: Option<f64>,
}

impl Format for ComplexityReport {
    const NAME: &'static str = "gates.complexity";
    const VERSION: u32 = 1;
}
