//! The bound and complexity artifacts: what `gates-bound` computes from spectra and windows.

use serde::{Deserialize, Serialize};

use crate::envelope::Format;

/// One estimate of the sharpness dimension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdEstimate {
    /// Estimator name: `exact`, `slq`, `kde` or `ps`.
    pub estimator: String,
    /// The sharpness dimension, in [0, d].
    pub sd: f64,
    /// Critical index j*.
    pub j_star: u64,
    /// RDS sharpness λ₁.
    pub lambda1: f64,
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
    /// Short name, for example `sd_term`.
    pub name: String,
    /// The formula, for example `2B·sqrt(4·SD·ln(1/δ)/n)`.
    pub formula: String,
    /// Its value, when computed or supplied.
    pub value: Option<f64>,
    /// Where it came from.
    pub source: TermSource,
}

/// Body of a bound file (`gates.bound`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundReport {
    /// The spectrum file it was computed from.
    pub spectrum: String,
    /// Every SD estimate made.
    pub sharpness_dimension: Vec<SdEstimate>,
    /// Which form of the bound: `mutual-information` or `stability`.
    pub form: String,
    /// Every term, computed, supplied or omitted.
    pub terms: Vec<BoundTerm>,
    /// Sum of the terms that have values.
    pub total: f64,
    /// Whether some term was omitted, so that `total` is not the whole bound.
    pub partial: bool,
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
