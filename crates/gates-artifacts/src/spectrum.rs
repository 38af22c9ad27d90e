//! The spectrum artifact: Hessian spectra of minibatch losses at one checkpoint, dense or from
//! Lanczos, with every setting and seed needed to recompute them. Produced by `gates-spectral`,
//! read by `gates-bound`.

use serde::{Deserialize, Serialize};

use crate::envelope::Format;

/// Which checkpoint of which trajectory the spectrum was computed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Path of the trajectory file, as given to the producer.
    pub trajectory: String,
    /// crc32 of the trajectory body, tying the spectrum to that exact file.
    pub trajectory_crc32: u32,
    /// Step of the checkpoint.
    pub checkpoint_step: u64,
}

/// Which training samples make up a minibatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MinibatchRef {
    /// The whole training set.
    Full,
    /// These training-set indices, drawn with `seed`.
    Indices {
        /// Seed the indices were drawn with.
        seed: u64,
        /// The indices.
        indices: Vec<u32>,
    },
}

/// A Ritz pair's value and residual ‖Hv − θv‖.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RitzValue {
    /// Eigenvalue estimate θ.
    pub value: f64,
    /// Residual norm of its Ritz vector.
    pub residual: f64,
}

/// One SLQ run (PAPER.md §4): its own minibatch, its own Rademacher probe, m Lanczos steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlqRun {
    /// The minibatch of this run.
    pub batch: MinibatchRef,
    /// Seed of the Rademacher probe.
    pub probe_seed: u64,
    /// Ritz values θ_ℓ of the tridiagonal matrix.
    pub nodes: Vec<f64>,
    /// Quadrature weights ω_ℓ = U_{1ℓ}², summing to 1.
    pub weights: Vec<f64>,
    /// Whether the run reached an invariant subspace (β ≈ 0) and stopped before m steps; it then
    /// has fewer than m nodes and its quadrature is exact for the probe.
    pub invariant: bool,
}

/// All eigenvalues of one minibatch Hessian.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseSpectrum {
    /// The minibatch.
    pub batch: MinibatchRef,
    /// All d eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// Asymmetry of the Hessian as assembled from products, before it was symmetrised:
    /// ‖H − Hᵀ‖_F / ‖H‖_F. Rounding (about 1e-16 in f64) for exact products; a larger value
    /// flags a faulty product.
    pub asymmetry: f64,
}

/// How the spectrum was obtained, with its raw results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SpectrumMethod {
    /// Dense Hessians and a symmetric eigensolver, one per minibatch.
    Dense {
        /// One spectrum per sampled minibatch.
        minibatches: Vec<DenseSpectrum>,
    },
    /// Extreme eigenpairs by Lanczos with full reorthogonalisation.
    Lanczos {
        /// The operator's minibatch.
        batch: MinibatchRef,
        /// Largest eigenvalues, descending.
        top: Vec<RitzValue>,
        /// Smallest eigenvalues, ascending.
        bottom: Vec<RitzValue>,
        /// Lanczos steps taken (Hessian products), restarts included.
        steps: u32,
        /// Whether every wanted pair met the residual tolerance; when false, the residuals say
        /// how far each is from converged.
        converged: bool,
    },
    /// Stochastic Lanczos quadrature.
    Slq {
        /// Lanczos steps m per run.
        steps: u32,
        /// The runs, with raw nodes and weights.
        runs: Vec<SlqRun>,
    },
}

/// A stochastic estimate with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean of the samples.
    pub value: f64,
    /// Standard error of the mean.
    pub std_error: f64,
    /// Number of samples.
    pub samples: u64,
}

/// Body of a spectrum file (`gates.spectrum`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Where the weights came from.
    pub source: SourceRef,
    /// Learning rate η of the run (maps α to ln|1 − ηα|).
    pub eta: f64,
    /// Samples in each Hessian's minibatch: the run's b, unless the request asked for another
    /// size or for the full training set (then n).
    pub batch_size: u64,
    /// Number of parameters d.
    pub param_count: u64,
    /// Training samples n of the run (the bound needs it).
    pub n_train: u64,
    /// The method and its raw output.
    pub method: SpectrumMethod,
    /// Hutchinson estimate of the Hessian trace, if computed.
    pub trace: Option<Estimate>,
    /// Top Hessian eigenvalue (classical sharpness) with its residual, if computed.
    pub top_eigenvalue: Option<RitzValue>,
}

impl Format for Spectrum {
    const NAME: &'static str = "gates.spectrum";
    /// Version 2 added the dense asymmetry, the Lanczos steps and convergence, the SLQ
    /// invariant flag and the top eigenvalue's residual.
    const VERSION: u32 = 2;
}
