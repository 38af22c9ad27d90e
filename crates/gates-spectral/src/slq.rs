//! Stochastic Lanczos quadrature (SLQ), exactly as PAPER.md §4 describes it.
//!
//! # Method
//!
//! Run i (of R) gets its own operator H_i (in practice the Hessian of its own minibatch, built
//! by the caller's factory from the run index) and its own Rademacher probe v ∈ {±1}^d, drawn
//! from `probe_seed(seed, i)` (see [`crate::probe`]). From q₁ = v/√d, m Lanczos steps with full
//! reorthogonalisation on that *fixed* operator give T_i = U diag(θ) Uᵀ. The nodes are the Ritz
//! values θ_ℓ and the weights ω_ℓ = U_{1ℓ}², which sum to 1. Gauss quadrature makes
//! Σ_ℓ ω_ℓ θ_ℓ^k = q₁ᵀ H_i^k q₁ exactly for k < 2m, and E[vᵀ H^k v] = tr(H^k), so the
//! averaged measure
//!
//! ν = (d/R) Σ_i Σ_ℓ ω_{iℓ} δ(θ_{iℓ}),
//!
//! of total mass d, has moments that estimate tr(H^k) without bias. A run that meets an
//! invariant subspace (β ≈ 0) stops early with fewer than m nodes; its quadrature is then exact.
//! Raw nodes and weights of every run are kept with their probe seeds.
//!
//! # Parallelism
//!
//! Runs are independent. [`RunParallelism::Auto`] runs them on rayon's global pool when
//! R ≥ 2, the pool has at least two threads, and the Lanczos bases of all concurrent runs,
//! threads·(m+1)·d·8 bytes, take at most a quarter of `MemAvailable`; otherwise one at a
//! time. That holds for the CPU Hessians of gates-autodiff even though their products are
//! parallel inside: on the 5-layer MLP (d = 278,800, m = 100, two runs, an idle 2-core machine,
//! `benches/slq_mlp.rs`) two runs side by side took 3.3–3.6 s and one after the other 4.4–4.9 s. An
//! operator that already fills its device (a GPU product) should use
//! [`RunParallelism::Sequential`]. Runs executed one at a time reorthogonalise on
//! all threads of the pool (`Par::rayon(0)`), runs executed in parallel on one thread each;
//! the reorthogonalisation's result is bitwise the same either way (see [`crate::lanczos`]).

use faer::Par;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::lanczos::{Lanczos, LanczosParams};
use crate::operator::SymmetricOperator;
use crate::probe::{probe_seed, rademacher};

/// Whether SLQ runs execute in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunParallelism {
    /// One run at a time.
    Sequential,
    /// All runs on rayon's global pool.
    Parallel,
    /// The rule of the [module docs](self).
    Auto,
}

/// Settings of SLQ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlqParams {
    /// Number of runs R (default 100).
    pub runs: usize,
    /// Lanczos steps m per run, capped at d (default 100, as in the paper's figures).
    pub steps: usize,
    /// Master seed of the probes (default 0).
    pub seed: u64,
    /// β_j counts as zero when β_j ≤ `breakdown_tolerance` · (a bound on ‖T‖) (default 1e-12).
    pub breakdown_tolerance: f64,
    /// Parallelism over runs (default [`RunParallelism::Auto`]).
    pub parallelism: RunParallelism,
}

impl Default for SlqParams {
    fn default() -> Self {
        Self {
            runs: 100,
            steps: 100,
            seed: 0,
            breakdown_tolerance: 1e-12,
            parallelism: RunParallelism::Auto,
        }
    }
}

/// The raw output of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct SlqRunResult {
    /// Run index i.
    pub run: usize,
    /// Seed of its Rademacher probe, `probe_seed(seed, i)`.
    pub probe_seed: u64,
    /// Ritz values θ_ℓ, ascending.
    pub nodes: Vec<f64>,
    /// Weights ω_ℓ = U_{1ℓ}², summing to 1.
    pub weights: Vec<f64>,
    /// Whether the run stopped early at an invariant subspace.
    pub invariant: bool,
}

impl SlqRunResult {
    /// Σ_ℓ ω_ℓ θ_ℓ^k, which equals q₁ᵀ H_i^k q₁ for k < 2m.
    pub fn moment(&self, k: i32) -> f64 {
        self.nodes.iter().zip(&self.weights).map(|(t, w)| w * t.powi(k)).sum()
    }
}

/// The result of [`slq`].
#[derive(Clone, Debug, PartialEq)]
pub struct SlqResult {
    /// Dimension d of the operators.
    pub dim: usize,
    /// Lanczos steps m asked for per run.
    pub steps: usize,
    /// Master seed.
    pub seed: u64,
    /// The runs, by index.
    pub runs: Vec<SlqRunResult>,
}

/// A discrete measure Σ mass_ℓ δ(node_ℓ).
#[derive(Clone, Debug, PartialEq)]
pub struct SpectralMeasure {
    /// Atoms.
    pub nodes: Vec<f64>,
    /// Their masses.
    pub masses: Vec<f64>,
}

impl SlqResult {
    /// (1/R) Σ_i Σ_ℓ ω_{iℓ} θ_{iℓ}^k: an unbiased estimate of tr(H^k)/d (exactly 1 for k = 0).
    pub fn moment(&self, k: i32) -> f64 {
        self.runs.iter().map(|r| r.moment(k)).sum::<f64>() / self.runs.len() as f64
    }

    /// Standard error of [`moment`](Self::moment) over the runs.
    pub fn moment_std_error(&self, k: i32) -> f64 {
        let r = self.runs.len() as f64;
        let mean = self.moment(k);
        let var = self.runs.iter().map(|x| (x.moment(k) - mean).powi(2)).sum::<f64>() / (r - 1.0);
        (var / r).sqrt()
    }

    /// ν = (d/R) Σ_i Σ_ℓ ω_{iℓ} δ(θ_{iℓ}), of total mass d.
    pub fn measure(&self) -> SpectralMeasure {
        let scale = self.dim as f64 / self.runs.len() as f64;
        let nodes = self.runs.iter().flat_map(|r| r.nodes.iter().copied()).collect();
        let masses = self.runs.iter().flat_map(|r| r.weights.iter().map(|w| scale * w)).collect();
        SpectralMeasure { nodes, masses }
    }

    /// The artifact form; `batch(i)` names the minibatch of run i.
    pub fn to_artifact(
        &self,
        mut batch: impl FnMut(usize) -> gates_artifacts::MinibatchRef,
    ) -> gates_artifacts::SpectrumMethod {
        let runs = self
            .runs
            .iter()
            .map(|r| gates_artifacts::SlqRun {
                batch: batch(r.run),
                probe_seed: r.probe_seed,
                nodes: r.nodes.clone(),
                weights: r.weights.clone(),
                invariant: r.invariant,
            })
            .collect();
        gates_artifacts::SpectrumMethod::Slq { steps: self.steps as u32, runs }
    }
}

/// SLQ over `params.runs` runs; run i uses the operator `operator_for_run(i)` (see the
/// [module docs](self)).
pub fn slq<Op, F>(operator_for_run: F, params: &SlqParams) -> Result<SlqResult>
where
    Op: SymmetricOperator,
    F: Fn(usize) -> Op + Sync,
{
    slq_with_progress(operator_for_run, params, &|_| {})
}

/// [`slq`], calling `run_done` with each run's result as soon as it is finished (from the
/// thread that ran it, in any order when runs execute in parallel).
pub fn slq_with_progress<Op, F>(
    operator_for_run: F,
    params: &SlqParams,
    run_done: &(dyn Fn(&SlqRunResult) + Sync),
) -> Result<SlqResult>
where
    Op: SymmetricOperator,
    F: Fn(usize) -> Op + Sync,
{
    validate(params)?;
    // Runs in sequence reorthogonalise on all threads; runs in parallel one thread each.
    let run = |i: usize, reorthogonalisation: Par| -> Result<(usize, SlqRunResult)> {
        let op = operator_for_run(i);
        let result = one_run(&op, i, params, reorthogonalisation)?;
        run_done(&result);
        Ok((op.dim(), result))
    };
    let in_parallel = |range: std::ops::Range<usize>| -> Result<Vec<(usize, SlqRunResult)>> {
        range.into_par_iter().map(|i| run(i, Par::Seq)).collect()
    };
    let in_sequence = |range: std::ops::Range<usize>| -> Result<Vec<(usize, SlqRunResult)>> {
        range.map(|i| run(i, Par::rayon(0))).collect()
    };
    let all = match params.parallelism {
        RunParallelism::Sequential => in_sequence(0..params.runs)?,
        RunParallelism::Parallel => in_parallel(0..params.runs)?,
        RunParallelism::Auto => {
            // The rule needs d, which only the operators know: decide after run 0.
            let mut all = vec![run(0, Par::rayon(0))?];
            let parallel = auto_parallel(all[0].0, params);
            tracing::debug!(dim = all[0].0, parallel, "slq auto parallelism");
            all.extend(if parallel {
                in_parallel(1..params.runs)?
            } else {
                in_sequence(1..params.runs)?
            });
            all
        }
    };

    let dim = all[0].0;
    tracing::debug!(dim, runs = params.runs, steps = params.steps, "slq finished");
    let mut runs = Vec::with_capacity(params.runs);
    for (d, r) in all {
        if d != dim {
            return Err(Error::DimensionMismatch {
                what: "operator of an slq run",
                expected: dim,
                got: d,
            });
        }
        runs.push(r);
    }
    Ok(SlqResult { dim, steps: params.steps, seed: params.seed, runs })
}

fn validate(params: &SlqParams) -> Result<()> {
    if params.runs < 2 {
        return Err(Error::InvalidParameter {
            name: "SlqParams::runs",
            expected: "at least 2 (for a standard error)",
            got: params.runs.to_string(),
        });
    }
    if params.steps == 0 {
        return Err(Error::InvalidParameter {
            name: "SlqParams::steps",
            expected: "at least 1",
            got: "0".into(),
        });
    }
    Ok(())
}

fn auto_parallel(dim: usize, params: &SlqParams) -> bool {
    let threads = rayon::current_num_threads();
    if params.runs < 2 || threads < 2 {
        return false;
    }
    let bases = (threads as u64) * (params.steps.min(dim) as u64 + 1) * (dim as u64) * 8;
    match crate::dense::available_memory() {
        Ok(available) => bases <= available / 4,
        Err(_) => false,
    }
}

/// One run: probe, m Lanczos steps (fewer at an invariant subspace), Gauss quadrature.
fn one_run<Op: SymmetricOperator>(
    op: &Op,
    run: usize,
    params: &SlqParams,
    reorthogonalisation: Par,
) -> Result<SlqRunResult> {
    let d = op.dim();
    let seed = probe_seed(params.seed, run as u64);
    let probe = rademacher(seed, d);
    let lanczos_params = LanczosParams {
        max_steps: params.steps,
        breakdown_tolerance: params.breakdown_tolerance,
        parallelism: reorthogonalisation,
        ..LanczosParams::default()
    };
    let mut lanczos = Lanczos::new(op, &probe, &lanczos_params)?;
    let m = params.steps.min(d);
    while lanczos.steps() < m && lanczos.can_continue() {
        lanczos.step()?;
    }
    let invariant = lanczos.steps() < m;

    let eig = lanczos.tridiagonal_eigen()?;
    let weights = eig.first_components().iter().map(|u| u * u).collect();
    tracing::debug!(run, steps = lanczos.steps(), invariant, "slq run");
    Ok(SlqRunResult { run, probe_seed: seed, nodes: eig.values, weights, invariant })
}
