//! Estimators of the sharpness dimension from stochastic Lanczos quadrature (PAPER.md §4).
//!
//! # The spectral measure
//!
//! Run `i` of SLQ (its own minibatch and Rademacher probe, `m` Lanczos steps) yields Ritz
//! values `θ_{iℓ}` (the nodes) and the squared first components of the Ritz vectors
//! `ω_{iℓ}` (the weights, summing to 1 over `ℓ`). The averaged spectral measure of the
//! Hessian, with total mass `d`, is
//!
//! ```text
//! ν = (d/R) Σ_{i=1..R} Σ_ℓ ω_{iℓ} δ(θ_{iℓ})
//! ```
//!
//! [`SpectralMeasure`] holds it as atoms `(θ, mass)`. Its first moment `Σ mass·θ` is the
//! Hutchinson-style estimate of the Hessian trace ([`SpectralMeasure::trace`]).
//!
//! # From ν to SD
//!
//! Every estimator pushes the measure forward through `g(α) = ln(|1 − η·α| + ε)` (the small
//! `ε > 0` keeps `g` finite at `α = 1/η`) and reads SD off the result the way the exact formula
//! reads it off the sorted exponents (see [`crate::sd`]): walk down from the largest exponent,
//! accumulating the number of directions `N(t) = ∫_{z ≥ t} p(z) dz` and their exponent sum
//! `Z(t) = ∫_{z ≥ t} z·p(z) dz`, and stop where `Z` would turn negative. In the last cell,
//! whose mass is `ΔN` and exponent sum `ΔZ < 0`, the fraction `Z/|ΔZ|` of its mass is still
//! taken, so that
//!
//! ```text
//! SD = N + Z · ΔN / |ΔZ|  =  N + Z / |mean exponent of the cell|,
//! ```
//!
//! the continuous analogue of `j* + S_{j*}/|λ_{j*+1}|`. If the running sum never turns
//! negative, SD is the whole mass `d`; if the top exponent is already negative, SD is 0.
//! Results are clipped to `[0, d]`.
//!
//! - **SD-SLQ** ([`sd_slq`]): a histogram of the pushed-forward measure. The density is
//!   constant on each bin, so the trapezoidal rule over a bin is exact: the bin contributes its
//!   mass and its mass times the bin centre. The bin lattice is aligned so that `z = 0` is a bin
//!   centre: the neutral bulk of near-zero eigenvalues then contributes nothing to the exponent
//!   sum, as in the exact SD, instead of a bias of half a bin width times its (large) mass.
//! - **SD-KDE** ([`sd_kde`]): a Gaussian kernel density of the pushed-forward measure on a
//!   uniform grid, integrated by the trapezoidal rule cell by cell.
//! - **SD-PS** ([`sd_pseudo_spectrum`]): a Gaussian kernel density of `ν` itself in `α`, its
//!   cumulative mass `F`, and `M` equal-mass quantiles `α_r = F⁻¹((r + ½)·d/M)` each of mass
//!   `d/M`, mapped through `g` and fed to the discrete formula.
//! - **SD of the Ritz atoms** ([`sd_atoms`]): the discrete formula applied to the atoms of the
//!   pushed-forward measure without any smoothing; a baseline the others can be compared with.
//!
//! The knobs the paper leaves open (`ε`, bins, bandwidth, grid, `M`) are the fields of
//! [`HistogramParams`], [`KdeParams`] and [`PseudoSpectrumParams`]; their defaults were chosen
//! by the convergence study described in the crate README.

use crate::error::{check_finite, BoundError, Result};
use crate::sd::check_eta;

/// Accepted distance of the sum of one run's weights from 1 (Lanczos in double precision
/// reaches about 1e-14; anything beyond this tolerance signals a bug upstream).
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// Kernel support in bandwidths: the Gaussian kernel is cut at `±KERNEL_REACH·h`, where its
/// tail mass is below 2e-9, and grids extend that far beyond the outermost atoms.
const KERNEL_REACH: f64 = 6.0;

/// The raw output of one SLQ run: Ritz values and the squared first components of the Ritz
/// vectors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlqRun {
    /// Ritz values `θ_ℓ`, eigenvalues of the Lanczos tridiagonal matrix.
    pub nodes: Vec<f64>,
    /// Quadrature weights `ω_ℓ = U_{1ℓ}²`, summing to 1.
    pub weights: Vec<f64>,
}

/// The averaged spectral measure `ν = (d/R) Σ_i Σ_ℓ ω_{iℓ} δ(θ_{iℓ})` of a Hessian, total mass
/// `d`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralMeasure {
    nodes: Vec<f64>,
    masses: Vec<f64>,
    d: usize,
    runs: usize,
}

impl SpectralMeasure {
    /// Builds `ν` from SLQ runs over a `d`-dimensional operator.
    ///
    /// Each run's weights are divided by their sum (which must be within
    /// [`WEIGHT_SUM_TOLERANCE`] of 1), so the total mass is `d` to rounding.
    ///
    /// # Errors
    ///
    /// [`BoundError::Empty`] for no runs or a run with no nodes, [`BoundError::OutOfRange`] for
    /// `d = 0` or a negative weight, [`BoundError::LengthMismatch`] when a run's nodes and
    /// weights differ in length, [`BoundError::NotFinite`] for a NaN or infinite node or
    /// weight, [`BoundError::WeightsNotNormalised`] for weights that do not sum to 1.
    pub fn from_runs(runs: &[SlqRun], d: usize) -> Result<Self> {
        Self::from_slices(runs.iter().map(|r| (r.nodes.as_slice(), r.weights.as_slice())), d)
    }

    /// Like [`SpectralMeasure::from_runs`], over borrowed `(nodes, weights)` pairs.
    ///
    /// # Errors
    ///
    /// As [`SpectralMeasure::from_runs`].
    pub fn from_slices<'a>(
        runs: impl IntoIterator<Item = (&'a [f64], &'a [f64])>,
        d: usize,
    ) -> Result<Self> {
        if d == 0 {
            return Err(BoundError::OutOfRange {
                what: "dimension d", expected: "≥ 1", got: 0.0
            });
        }

        let mut per_run = Vec::new();
        for (run, (nodes, weights)) in runs.into_iter().enumerate() {
            if nodes.is_empty() {
                return Err(BoundError::Empty { what: "nodes of an slq run" });
            }
            if weights.len() != nodes.len() {
                return Err(BoundError::LengthMismatch {
                    what: "weights of an slq run",
                    expected: nodes.len(),
                    got: weights.len(),
                });
            }
            check_finite("slq nodes", nodes)?;
            check_finite("slq weights", weights)?;
            if let Some(&w) = weights.iter().find(|w| **w < 0.0) {
                return Err(BoundError::OutOfRange {
                    what: "slq weight", expected: "≥ 0", got: w
                });
            }
            let sum: f64 = weights.iter().sum();
            if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
                return Err(BoundError::WeightsNotNormalised {
                    run,
                    got: sum,
                    tolerance: WEIGHT_SUM_TOLERANCE,
                });
            }
            per_run.push((nodes, weights, sum));
        }
        if per_run.is_empty() {
            return Err(BoundError::Empty { what: "slq runs" });
        }

        let runs = per_run.len();
        let scale = d as f64 / runs as f64;
        let mut nodes = Vec::new();
        let mut masses = Vec::new();
        for (run_nodes, run_weights, sum) in per_run {
            nodes.extend_from_slice(run_nodes);
            masses.extend(run_weights.iter().map(|w| scale * w / sum));
        }
        Ok(Self { nodes, masses, d, runs })
    }

    /// The atoms' positions `θ`.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The atoms' masses, summing to `d`.
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }

    /// The dimension `d` of the operator, the total mass of the measure.
    pub fn d(&self) -> usize {
        self.d
    }

    /// The number of SLQ runs `R` averaged.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// The trace estimate `tr H ≈ ∫ α dν(α) = Σ mass·θ`.
    pub fn trace(&self) -> f64 {
        self.nodes.iter().zip(&self.masses).map(|(t, m)| t * m).sum()
    }

    /// The atoms pushed forward through `g(α) = ln(|1 − η·α| + ε)`.
    ///
    /// # Errors
    ///
    /// [`BoundError::OutOfRange`] unless `η > 0` and `ε > 0` are finite.
    pub fn push_forward(&self, eta: f64, epsilon: f64) -> Result<Vec<f64>> {
        check_eta(eta)?;
        check_epsilon(epsilon)?;
        Ok(self.nodes.iter().map(|&alpha| log_guarded(alpha, eta, epsilon)).collect())
    }
}

/// `g(α) = ln(|1 − η·α| + ε)`.
fn log_guarded(alpha: f64, eta: f64, epsilon: f64) -> f64 {
    ((1.0 - eta * alpha).abs() + epsilon).ln()
}

/// How a kernel bandwidth is chosen from weighted samples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bandwidth {
    /// Silverman's rule of thumb `h = 0.9 · min(σ, IQR/1.34) · n^(-1/5)`, with the weighted
    /// standard deviation `σ`, the weighted interquartile range (`σ` alone when it is 0) and
    /// Kish's effective sample size `n = (Σw)²/Σw²`.
    Silverman,
    /// Scott's rule `h = 1.06 · σ · n^(-1/5)`, same `σ` and `n` as [`Bandwidth::Silverman`].
    Scott,
    /// A fixed bandwidth in the units of the smoothed variable.
    Fixed(f64),
}

/// Settings of [`sd_slq`] (SD-SLQ, histogram).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistogramParams {
    /// Guard `ε` in `ln(|1 − η·α| + ε)`. Default `1e-6`: small enough that the bulk at
    /// `α ≈ 0` (exponent `ln(1 + ε) ≈ ε`) adds no visible exponent sum, large enough to keep the
    /// floor `ln ε ≈ −13.8` near the data.
    pub epsilon: f64,
    /// Bin width is `(max z − min z) / bins`. Default `2000`; see the crate README for the study
    /// behind it.
    pub bins: usize,
}

impl Default for HistogramParams {
    fn default() -> Self {
        Self { epsilon: 1e-6, bins: 2000 }
    }
}

/// Settings of [`sd_kde`] (SD-KDE, Gaussian kernel density in `z`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KdeParams {
    /// Guard `ε`, as in [`HistogramParams::epsilon`]. Default `1e-6`.
    pub epsilon: f64,
    /// Bandwidth rule in `z`. Default [`Bandwidth::Silverman`].
    pub bandwidth: Bandwidth,
    /// Grid points per bandwidth for the trapezoidal rule. Default `8`.
    pub grid_points_per_bandwidth: usize,
    /// Upper limit on the grid size; the spacing grows past `h / grid_points_per_bandwidth`
    /// when the support would need more. Default `1 << 20`.
    pub max_grid_points: usize,
}

impl Default for KdeParams {
    fn default() -> Self {
        Self {
            epsilon: 1e-6,
            bandwidth: Bandwidth::Silverman,
            grid_points_per_bandwidth: 8,
            max_grid_points: 1 << 20,
        }
    }
}

/// Settings of [`sd_pseudo_spectrum`] (SD-PS).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PseudoSpectrumParams {
    /// Guard `ε`, as in [`HistogramParams::epsilon`]. Default `1e-6`.
    pub epsilon: f64,
    /// Number `M` of equal-mass quantiles. Default `10_000`.
    pub quantiles: usize,
    /// Bandwidth rule for the density of `α`. Default [`Bandwidth::Silverman`].
    pub bandwidth: Bandwidth,
    /// Grid points per bandwidth for the cumulative mass `F`. Default `8`.
    pub grid_points_per_bandwidth: usize,
    /// Upper limit on the grid size. Default `1 << 20`.
    pub max_grid_points: usize,
}

impl Default for PseudoSpectrumParams {
    fn default() -> Self {
        Self {
            epsilon: 1e-6,
            quantiles: 10_000,
            bandwidth: Bandwidth::Silverman,
            grid_points_per_bandwidth: 8,
            max_grid_points: 1 << 20,
        }
    }
}

/// An SD estimate and what it was read from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SdEstimate {
    /// The estimated sharpness dimension, in `[0, d]`.
    pub sd: f64,
    /// The dimension `d`.
    pub d: usize,
    /// The exponent `z` (or mean exponent of the cell) where the running exponent sum turned
    /// negative; `None` when it never did (then `sd = d`).
    pub threshold: Option<f64>,
    /// Bin width (SD-SLQ, in `z`), bandwidth (SD-KDE in `z`, SD-PS in `α`), or 0 (atoms).
    pub resolution: f64,
}

/// SD of the pushed-forward Ritz atoms without smoothing: the discrete formula with the atoms
/// sorted by exponent and weighted by their mass.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] unless `η > 0` and `ε > 0` are finite.
pub fn sd_atoms(measure: &SpectralMeasure, eta: f64, epsilon: f64) -> Result<SdEstimate> {
    let z = measure.push_forward(eta, epsilon)?;
    let (sd, threshold) = crossing_of_atoms(&z, measure.masses(), measure.d());
    Ok(SdEstimate { sd, d: measure.d(), threshold, resolution: 0.0 })
}

/// SD-SLQ: SD from a histogram of the pushed-forward measure.
///
/// With bin width `w = (max z − min z)/bins` and bins centred on the lattice `k·w` (so that
/// `z = 0` is a centre), atom `z` falls in bin `k = round(z/w)`. On a bin the density is
/// constant, so the trapezoidal rule gives exactly `ΔN = mass` and `ΔZ = mass · k·w`, and the
/// top-down walk of the module docs becomes the discrete formula over bins.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] unless `η`, `ε` are finite and positive and `bins ≥ 1`.
pub fn sd_slq(measure: &SpectralMeasure, eta: f64, params: &HistogramParams) -> Result<SdEstimate> {
    if params.bins == 0 {
        return Err(BoundError::OutOfRange { what: "histogram bins", expected: "≥ 1", got: 0.0 });
    }
    let z = measure.push_forward(eta, params.epsilon)?;

    let (lo, hi) = min_max(&z);
    let width = (hi - lo) / params.bins as f64;
    if width <= 0.0 {
        // Every atom sits at one exponent: the histogram is that single atom.
        let (sd, threshold) = crossing_of_atoms(&z, measure.masses(), measure.d());
        return Ok(SdEstimate { sd, d: measure.d(), threshold, resolution: 0.0 });
    }

    let first = (lo / width).round() as i64;
    let last = (hi / width).round() as i64;
    let mut bin_mass = vec![0.0_f64; (last - first + 1) as usize];
    for (&value, &mass) in z.iter().zip(measure.masses()) {
        let k = ((value / width).round() as i64).clamp(first, last);
        bin_mass[(k - first) as usize] += mass;
    }
    let centres: Vec<f64> = (first..=last).map(|k| k as f64 * width).collect();

    let (sd, threshold) = crossing_of_atoms(&centres, &bin_mass, measure.d());
    tracing::debug!(sd, width, bins = centres.len(), "sd-slq histogram");
    Ok(SdEstimate { sd, d: measure.d(), threshold, resolution: width })
}

/// SD-KDE: SD from a Gaussian kernel density of the pushed-forward measure.
///
/// The density `p(z) = Σ_i mass_i · φ_h(z − z_i)` is evaluated on a uniform grid covering the
/// atoms plus `6h` on each side, rescaled so that its trapezoidal integral is exactly `d`
/// (removing the discretisation error of the total mass), and integrated top-down cell by cell
/// with the trapezoidal rule as in the module docs.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] for a non-positive `η`, `ε`, fixed bandwidth or grid setting.
pub fn sd_kde(measure: &SpectralMeasure, eta: f64, params: &KdeParams) -> Result<SdEstimate> {
    check_grid(params.grid_points_per_bandwidth, params.max_grid_points)?;
    let z = measure.push_forward(eta, params.epsilon)?;
    let masses = measure.masses();
    let d = measure.d();

    let h = bandwidth(&z, masses, params.bandwidth)?;
    if h <= 0.0 {
        // A single point mass: its kernel density with vanishing bandwidth is itself.
        let (sd, threshold) = crossing_of_atoms(&z, masses, d);
        return Ok(SdEstimate { sd, d, threshold, resolution: 0.0 });
    }

    let grid = Grid::covering(&z, h, params.grid_points_per_bandwidth, params.max_grid_points);
    let mut density = grid.kernel_density(&z, masses, h);
    let total = trapezoid_total(&density, grid.step);
    if total > 0.0 {
        let scale = d as f64 / total;
        density.iter_mut().for_each(|p| *p *= scale);
    }

    let points: Vec<f64> = (0..grid.len).map(|g| grid.point(g)).collect();
    let (sd, threshold) = crossing_of_density(&points, &density, d);
    tracing::debug!(sd, h, grid = grid.len, "sd-kde");
    Ok(SdEstimate { sd, d, threshold, resolution: h })
}

/// SD-PS: SD from a pseudo-spectrum of `M` equal-mass quantiles of the smoothed density of `α`.
///
/// The Gaussian kernel density of `ν` in `α` (bandwidth from the rule, in `α` units) is
/// tabulated on a uniform grid and integrated by the trapezoidal rule into the cumulative mass
/// `F`, rescaled to end at `d`. The quantiles `α_r = F⁻¹((r + ½)·d/M)`, `r = 0..M−1`, are found
/// by linear interpolation of `F`, mapped to `z_r = ln(|1 − η·α_r| + ε)`, sorted in descending
/// order and, each with mass `d/M`, fed to the discrete formula: with `j` the largest index
/// where `Σ_{r≤j} (d/M)·z_r ≥ 0`,
///
/// ```text
/// SD = (j + 1)·d/M + (Σ_{r≤j} (d/M)·z_r) / |z_{j+1}|,   clipped to [0, d].
/// ```
///
/// # Errors
///
/// [`BoundError::OutOfRange`] for a non-positive `η`, `ε`, `M`, fixed bandwidth or grid setting.
pub fn sd_pseudo_spectrum(
    measure: &SpectralMeasure,
    eta: f64,
    params: &PseudoSpectrumParams,
) -> Result<SdEstimate> {
    check_eta(eta)?;
    check_epsilon(params.epsilon)?;
    check_grid(params.grid_points_per_bandwidth, params.max_grid_points)?;
    if params.quantiles == 0 {
        return Err(BoundError::OutOfRange { what: "quantiles M", expected: "≥ 1", got: 0.0 });
    }
    let alphas = measure.nodes();
    let masses = measure.masses();
    let d = measure.d();

    let h = bandwidth(alphas, masses, params.bandwidth)?;
    let quantile_mass = d as f64 / params.quantiles as f64;
    let targets = (0..params.quantiles).map(|r| (r as f64 + 0.5) * quantile_mass);

    let quantiles: Vec<f64> = if h <= 0.0 {
        // A single point mass: every quantile is that point.
        vec![alphas[0]; params.quantiles]
    } else {
        let grid =
            Grid::covering(alphas, h, params.grid_points_per_bandwidth, params.max_grid_points);
        let density = grid.kernel_density(alphas, masses, h);
        let cumulative = cumulative_trapezoid(&density, grid.step, d as f64);
        targets.map(|t| grid.invert_cumulative(&cumulative, t)).collect()
    };

    let z: Vec<f64> = quantiles.iter().map(|&a| log_guarded(a, eta, params.epsilon)).collect();
    let equal = vec![quantile_mass; z.len()];
    let (sd, threshold) = crossing_of_atoms(&z, &equal, d);
    tracing::debug!(sd, h, quantiles = params.quantiles, "sd-ps");
    Ok(SdEstimate { sd, d, threshold, resolution: h.max(0.0) })
}

/// The discrete SD formula over weighted atoms: sort by exponent, descending; accumulate mass
/// `N` and exponent sum `Z`; at the first atom that would make `Z` negative return
/// `N + Z/|z|` (a fraction `Z/(mass·|z|)` of that atom). Returns `(sd, threshold)`.
fn crossing_of_atoms(z: &[f64], masses: &[f64], d: usize) -> (f64, Option<f64>) {
    let mut order: Vec<usize> = (0..z.len()).filter(|&i| masses[i] > 0.0).collect();
    order.sort_by(|&a, &b| z[b].total_cmp(&z[a]));

    let mut count = 0.0_f64;
    let mut sum = 0.0_f64;
    for i in order {
        let contribution = masses[i] * z[i];
        if sum + contribution < 0.0 {
            let sd = count + sum / z[i].abs();
            return (sd.clamp(0.0, d as f64), Some(z[i]));
        }
        count += masses[i];
        sum += contribution;
    }
    (d as f64, None)
}

/// The top-down trapezoidal walk over a tabulated density `p` on ascending `points`: each cell
/// `[z_{g−1}, z_g]` adds `ΔN = h(p_{g−1} + p_g)/2` and `ΔZ = h(z_{g−1}p_{g−1} + z_g p_g)/2`; in
/// the cell where `Z + ΔZ < 0` the fraction `Z/|ΔZ|` of `ΔN` is taken. Returns
/// `(sd, threshold)`, the threshold being the cell's mean exponent `ΔZ/ΔN`.
fn crossing_of_density(points: &[f64], density: &[f64], d: usize) -> (f64, Option<f64>) {
    let mut count = 0.0_f64;
    let mut sum = 0.0_f64;
    for g in (1..points.len()).rev() {
        let step = points[g] - points[g - 1];
        let cell_count = 0.5 * step * (density[g - 1] + density[g]);
        let cell_sum = 0.5 * step * (points[g - 1] * density[g - 1] + points[g] * density[g]);
        if sum + cell_sum < 0.0 {
            let sd = count + sum / cell_sum.abs() * cell_count;
            return (sd.clamp(0.0, d as f64), Some(cell_sum / cell_count));
        }
        count += cell_count;
        sum += cell_sum;
    }
    (d as f64, None)
}

/// A uniform grid `start + g·step`, `g = 0..len`.
struct Grid {
    start: f64,
    step: f64,
    len: usize,
}

impl Grid {
    /// A grid over `[min x − 6h, max x + 6h]` with spacing `h / per_bandwidth`, coarsened to at
    /// most `max_points` points.
    fn covering(x: &[f64], h: f64, per_bandwidth: usize, max_points: usize) -> Self {
        let (lo, hi) = min_max(x);
        let start = lo - KERNEL_REACH * h;
        let span = hi - lo + 2.0 * KERNEL_REACH * h;
        let wanted = (span / (h / per_bandwidth as f64)).ceil() as usize + 1;
        let len = wanted.clamp(2, max_points.max(2));
        if len < wanted {
            tracing::debug!(wanted, len, "kernel grid coarsened to its maximum size");
        }
        Self { start, step: span / (len - 1) as f64, len }
    }

    fn point(&self, g: usize) -> f64 {
        self.start + g as f64 * self.step
    }

    /// `p(x_g) = Σ_i w_i φ_h(x_g − x_i)`, each kernel cut at `±6h`.
    fn kernel_density(&self, x: &[f64], weights: &[f64], h: f64) -> Vec<f64> {
        let mut density = vec![0.0_f64; self.len];
        let norm = 1.0 / (h * (2.0 * std::f64::consts::PI).sqrt());
        let reach = KERNEL_REACH * h;
        for (&xi, &wi) in x.iter().zip(weights) {
            if wi == 0.0 {
                continue;
            }
            let first = (((xi - reach - self.start) / self.step).ceil().max(0.0)) as usize;
            let last = (((xi + reach - self.start) / self.step).floor() as usize).min(self.len - 1);
            for g in first..=last {
                let u = (self.point(g) - xi) / h;
                density[g] += wi * norm * (-0.5 * u * u).exp();
            }
        }
        density
    }

    /// The `x` where the tabulated cumulative mass reaches `target`, by linear interpolation.
    fn invert_cumulative(&self, cumulative: &[f64], target: f64) -> f64 {
        let g = cumulative.partition_point(|&c| c < target);
        if g == 0 {
            return self.point(0);
        }
        if g >= cumulative.len() {
            return self.point(self.len - 1);
        }
        let (c0, c1) = (cumulative[g - 1], cumulative[g]);
        let fraction = if c1 > c0 { (target - c0) / (c1 - c0) } else { 0.0 };
        self.point(g - 1) + fraction * self.step
    }
}

/// Trapezoidal integral of a density tabulated with uniform spacing.
fn trapezoid_total(density: &[f64], step: f64) -> f64 {
    density.windows(2).map(|w| 0.5 * step * (w[0] + w[1])).sum()
}

/// Running trapezoidal integral of a density, rescaled so that it ends at `total`.
fn cumulative_trapezoid(density: &[f64], step: f64, total: f64) -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(density.len());
    let mut running = 0.0_f64;
    cumulative.push(0.0);
    for w in density.windows(2) {
        running += 0.5 * step * (w[0] + w[1]);
        cumulative.push(running);
    }
    if running > 0.0 {
        let scale = total / running;
        cumulative.iter_mut().for_each(|c| *c *= scale);
    }
    cumulative
}

/// The bandwidth a rule gives for weighted samples; 0 when the samples have no spread.
fn bandwidth(x: &[f64], weights: &[f64], rule: Bandwidth) -> Result<f64> {
    if let Bandwidth::Fixed(h) = rule {
        if !(h.is_finite() && h > 0.0) {
            return Err(BoundError::OutOfRange {
                what: "fixed bandwidth",
                expected: "finite and > 0",
                got: h,
            });
        }
        return Ok(h);
    }

    let stats = WeightedStats::of(x, weights);
    let h = match rule {
        Bandwidth::Silverman => {
            let iqr = stats.quantile(0.75) - stats.quantile(0.25);
            let spread = if iqr > 0.0 { stats.std.min(iqr / 1.34) } else { stats.std };
            0.9 * spread * stats.effective_size.powf(-0.2)
        }
        Bandwidth::Scott => 1.06 * stats.std * stats.effective_size.powf(-0.2),
        Bandwidth::Fixed(_) => unreachable!("handled above"),
    };
    Ok(h)
}

/// Weighted mean, standard deviation, quantiles and Kish's effective sample size.
struct WeightedStats {
    std: f64,
    effective_size: f64,
    sorted: Vec<(f64, f64)>,
    total: f64,
}

impl WeightedStats {
    fn of(x: &[f64], weights: &[f64]) -> Self {
        let total: f64 = weights.iter().sum();
        let mean = x.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>() / total;
        let variance =
            x.iter().zip(weights).map(|(x, w)| w * (x - mean).powi(2)).sum::<f64>() / total;
        let squares: f64 = weights.iter().map(|w| w * w).sum();

        let mut sorted: Vec<(f64, f64)> =
            x.iter().copied().zip(weights.iter().copied()).filter(|(_, w)| *w > 0.0).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));

        Self { std: variance.sqrt(), effective_size: total * total / squares, sorted, total }
    }

    /// The smallest `x` whose cumulative weight reaches the fraction `q` of the total.
    fn quantile(&self, q: f64) -> f64 {
        let target = q * self.total;
        let mut running = 0.0;
        for &(x, w) in &self.sorted {
            running += w;
            if running >= target {
                return x;
            }
        }
        self.sorted.last().map_or(0.0, |p| p.0)
    }
}

fn min_max(x: &[f64]) -> (f64, f64) {
    x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(BoundError::OutOfRange {
            what: "log guard ε",
            expected: "finite and > 0",
            got: epsilon,
        });
    }
    Ok(())
}

fn check_grid(per_bandwidth: usize, max_points: usize) -> Result<()> {
    if per_bandwidth == 0 {
        return Err(BoundError::OutOfRange {
            what: "grid points per bandwidth",
            expected: "≥ 1",
            got: 0.0,
        });
    }
    if max_points < 2 {
        return Err(BoundError::OutOfRange {
            what: "maximum grid points",
            expected: "≥ 2",
            got: max_points as f64,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sd::{log_singular_values, sharpness_dimension};

    /// A measure that puts mass 1 on each given eigenvalue, as SLQ would if it resolved the
    /// spectrum exactly (one run, equal weights).
    fn exact_measure(alphas: &[f64]) -> SpectralMeasure {
        let d = alphas.len();
        let run = SlqRun { nodes: alphas.to_vec(), weights: vec![1.0 / d as f64; d] };
        SpectralMeasure::from_runs(&[run], d).unwrap()
    }

    #[test]
    fn measure_has_mass_d_and_trace() {
        let runs = vec![
            SlqRun { nodes: vec![1.0, 3.0], weights: vec![0.5, 0.5] },
            SlqRun { nodes: vec![2.0], weights: vec![1.0] },
        ];
        let measure = SpectralMeasure::from_runs(&runs, 10).unwrap();
        let total: f64 = measure.masses().iter().sum();
        assert!((total - 10.0).abs() < 1e-12);
        // (10/2)·(0.5·1 + 0.5·3) + (10/2)·2 = 10 + 10 = 20.
        assert!((measure.trace() - 20.0).abs() < 1e-12);
        assert_eq!(measure.runs(), 2);
    }

    #[test]
    fn measure_rejects_bad_runs() {
        let bad_sum = vec![SlqRun { nodes: vec![1.0, 2.0], weights: vec![0.5, 0.6] }];
        assert!(matches!(
            SpectralMeasure::from_runs(&bad_sum, 4),
            Err(BoundError::WeightsNotNormalised { run: 0, .. })
        ));
        let ragged = vec![SlqRun { nodes: vec![1.0, 2.0], weights: vec![1.0] }];
        assert!(matches!(
            SpectralMeasure::from_runs(&ragged, 4),
            Err(BoundError::LengthMismatch { .. })
        ));
        let negative = vec![SlqRun { nodes: vec![1.0, 2.0], weights: vec![1.5, -0.5] }];
        assert!(matches!(
            SpectralMeasure::from_runs(&negative, 4),
            Err(BoundError::OutOfRange { .. })
        ));
        assert!(matches!(SpectralMeasure::from_runs(&[], 4), Err(BoundError::Empty { .. })));
        let nan = vec![SlqRun { nodes: vec![f64::NAN], weights: vec![1.0] }];
        assert!(matches!(SpectralMeasure::from_runs(&nan, 4), Err(BoundError::NotFinite { .. })));
    }

    #[test]
    fn atoms_of_an_exact_spectrum_give_exact_sd() {
        // η = 0.1; the exact SD of these eigenvalues, and the atomic estimate with mass 1 per
        // eigenvalue, differ only through ε = 1e-12.
        let alphas = [25.0, 0.0, 0.0, 3.0, 8.0, -2.0, 12.0];
        let exact = sharpness_dimension(&log_singular_values(&alphas, 0.1).unwrap()).unwrap();
        let estimate = sd_atoms(&exact_measure(&alphas), 0.1, 1e-12).unwrap();
        assert!((estimate.sd - exact.sd).abs() < 1e-9, "{} vs {}", estimate.sd, exact.sd);
    }

    #[test]
    fn edge_cases_all_estimators() {
        // All contracting (0 < α < 2/η = 20, away from 1/η): SD = 0 for every estimator.
        let contracting = exact_measure(&[2.0, 3.0, 4.0, 5.0, 15.0, 16.0]);
        // All expanding (α > 2/η or α < 0): SD = d.
        let expanding = exact_measure(&[25.0, 30.0, -5.0, -9.0, 40.0, 28.0]);
        let eta = 0.1;
        let fixed_kde = KdeParams { bandwidth: Bandwidth::Fixed(0.01), ..KdeParams::default() };
        let fixed_ps = PseudoSpectrumParams {
            bandwidth: Bandwidth::Fixed(0.01),
            ..PseudoSpectrumParams::default()
        };

        for (measure, expected) in [(&contracting, 0.0), (&expanding, 6.0)] {
            let estimates = [
                sd_atoms(measure, eta, 1e-6).unwrap().sd,
                sd_slq(measure, eta, &HistogramParams::default()).unwrap().sd,
                sd_kde(measure, eta, &fixed_kde).unwrap().sd,
                sd_pseudo_spectrum(measure, eta, &fixed_ps).unwrap().sd,
            ];
            for sd in estimates {
                assert!((sd - expected).abs() < 1e-6, "expected {expected}, got {estimates:?}");
            }
        }
    }

    #[test]
    fn histogram_worked_by_hand() {
        // η = 1, ε = 1e-6, d = 4, one atom per eigenvalue:
        //   α = -1 → z = ln 2 ≈ 0.693;  α = 0 → z = ln(1 + ε) ≈ 1e-6;
        //   α = 0.5 → z = ln 0.5 ≈ -0.693;  α = 0.9 → z = ln 0.1 ≈ -2.303.
        // With 1 bin the width is 2.996 and z = ±0.693 both round to bin 0 (centre 0), as does
        // 1e-6; ln 0.1 rounds to bin -1 (centre -2.996). Top down: bin 0 has mass 3 and exponent
        // sum 0, then bin -1 would make the sum negative: SD = 3 + 0/2.996 = 3.
        let measure = exact_measure(&[-1.0, 0.0, 0.5, 0.9]);
        let one_bin = sd_slq(&measure, 1.0, &HistogramParams { epsilon: 1e-6, bins: 1 }).unwrap();
        assert!((one_bin.sd - 3.0).abs() < 1e-12, "{one_bin:?}");

        // With many bins the histogram tends to the atoms: sorted 0.693, 1e-6, -0.693, -2.303;
        // sums 0.693, 0.693, ≈1e-6, < 0 → SD = 3 + 1e-6/2.303 ≈ 3.
        // With 2 bins: width 1.498; bins: round(0.693/1.498) = 0 → centre 0; 1e-6 → 0;
        // -0.693 → 0; -2.303 → round(-1.537) = -2 → centre -2.996. Same answer, 3.
        let two = sd_slq(&measure, 1.0, &HistogramParams { epsilon: 1e-6, bins: 2 }).unwrap();
        assert!((two.sd - 3.0).abs() < 1e-12, "{two:?}");
    }

    #[test]
    fn kde_and_ps_approach_atoms_as_bandwidth_shrinks() {
        // A spread-out spectrum with a fractional SD; with a tiny fixed bandwidth the smoothed
        // estimators must agree with the atomic one up to the bandwidth's effect.
        let alphas: Vec<f64> = (0..200).map(|k| -3.0 + 0.13 * k as f64).collect();
        let eta = 0.08;
        let measure = exact_measure(&alphas);
        let atoms = sd_atoms(&measure, eta, 1e-6).unwrap().sd;
        let kde = sd_kde(
            &measure,
            eta,
            &KdeParams { bandwidth: Bandwidth::Fixed(1e-4), ..KdeParams::default() },
        )
        .unwrap()
        .sd;
        let ps = sd_pseudo_spectrum(
            &measure,
            eta,
            &PseudoSpectrumParams {
                bandwidth: Bandwidth::Fixed(1e-4),
                quantiles: 200_000,
                ..PseudoSpectrumParams::default()
            },
        )
        .unwrap()
        .sd;
        assert!(atoms > 1.0 && atoms < 199.0, "atoms = {atoms}");
        // Measured differences are about 1e-4 directions.
        assert!((kde - atoms).abs() < 1e-3, "kde {kde} vs atoms {atoms}");
        assert!((ps - atoms).abs() < 1e-3, "ps {ps} vs atoms {atoms}");
    }

    proptest::proptest! {
        #[test]
        fn every_estimate_lies_in_zero_to_d(
            runs in proptest::collection::vec(
                proptest::collection::vec((-50.0..400.0_f64, 0.01..1.0_f64), 1..12),
                1..6,
            ),
            d in 1usize..5_000,
        ) {
            let runs: Vec<SlqRun> = runs
                .into_iter()
                .map(|pairs| {
                    let total: f64 = pairs.iter().map(|p| p.1).sum();
                    SlqRun {
                        nodes: pairs.iter().map(|p| p.0).collect(),
                        weights: pairs.iter().map(|p| p.1 / total).collect(),
                    }
                })
                .collect();
            let measure = SpectralMeasure::from_runs(&runs, d).unwrap();
            let eta = 0.01;
            let estimates = [
                sd_atoms(&measure, eta, 1e-6).unwrap().sd,
                sd_slq(&measure, eta, &HistogramParams::default()).unwrap().sd,
                sd_kde(&measure, eta, &KdeParams::default()).unwrap().sd,
                sd_pseudo_spectrum(
                    &measure,
                    eta,
                    &PseudoSpectrumParams { quantiles: 500, ..Default::default() },
                )
                .unwrap()
                .sd,
            ];
            for sd in estimates {
                proptest::prop_assert!(sd >= 0.0 && sd <= d as f64, "{estimates:?}");
            }
        }
    }

    #[test]
    fn silverman_bandwidth_matches_hand_computation() {
        // x = 0, 1, 2, 3 with equal weights: σ = sqrt(1.25); quantile(0.25) = 0,
        // quantile(0.75) = 2, IQR/1.34 = 1.4925 > σ = 1.118; n = 4.
        // h = 0.9 · 1.118 · 4^(-1/5).
        let h = bandwidth(&[0.0, 1.0, 2.0, 3.0], &[1.0; 4], Bandwidth::Silverman).unwrap();
        let expected = 0.9 * 1.25_f64.sqrt() * 4.0_f64.powf(-0.2);
        assert!((h - expected).abs() < 1e-12, "{h} vs {expected}");
        assert!(bandwidth(&[1.0], &[1.0], Bandwidth::Fixed(-1.0)).is_err());
    }
}
