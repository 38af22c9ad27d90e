//! Hessians of a trained run, and the pipeline behind `gates spectrum`: from a trajectory
//! artifact and one of its checkpoints to a spectrum artifact.
//!
//! The run's settings come from the checkpoint's header (model, data, loss, η, b), so this needs
//! no training code: it reads the artifacts `gates train` wrote. Hessians are those of minibatch
//! losses L_B(w) at the checkpoint's weights, applied by the exact products of `gates-autodiff`
//! in f64 (f32 checkpoints are widened exactly), on the CPU.
//!
//! Minibatch i (a dense spectrum's i-th Hessian, an SLQ run's operator) holds b training samples
//! drawn without replacement from a ChaCha8 generator seeded with
//! `probe_seed(seed ^ MINIBATCH_STREAM, i)`, a stream apart from the probes' `probe_seed(seed, i)`;
//! the indices and that seed are stored, so any Hessian can be rebuilt.
//!
//! The spectrum's z = ln|1 − ηα| is the plain SGD step's (PAPER.md §1). For runs trained with
//! momentum, weight decay or AdamW the paper uses the same map with the run's learning rate,
//! and so does this pipeline (it logs the fact at info level).

use std::path::{Path, PathBuf};

use dfdx::tensor::Cpu;
use gates_artifacts::{
    read_blob, BodyLayout, Checkpoint, MinibatchRef, NamedTensor, RitzValue, SourceRef, Spectrum,
    SpectrumMethod, TensorData, Trajectory,
};
use gates_autodiff::{Block, MinibatchLoss};
use gates_models::data::{DataSpec, Dataset};
use gates_models::{LossKind, Mlp, MlpConfig};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::dense::{self, DenseParams};
use crate::lanczos::{extreme_eigenpairs, LanczosParams, Which};
use crate::operator::{OperatorError, SymmetricOperator};
use crate::probe::probe_seed;
use crate::slq::{slq_with_progress, SlqParams};
use crate::trace::{hutchinson, top_eigenvalue, TraceParams};

/// What can go wrong between the artifacts and the spectrum.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpectrumError {
    /// An artifact could not be read.
    #[error(transparent)]
    Artifact(#[from] gates_artifacts::Error),
    /// The model or the data could not be rebuilt.
    #[error(transparent)]
    Models(#[from] gates_models::Error),
    /// The Hessian products failed.
    #[error(transparent)]
    Autodiff(#[from] gates_autodiff::Error),
    /// A spectral algorithm failed.
    #[error(transparent)]
    Spectral(#[from] crate::Error),
    /// The request does not fit the run.
    #[error("{path}: {message}")]
    Request {
        /// The artifact concerned.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
}

/// The part of a run's settings (the `TrainConfig` of `gates-dynamics`, stored as JSON in every
/// checkpoint header) that a Hessian needs. Other keys are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct RunSettings {
    /// The loss.
    pub loss: LossKind,
    /// The data.
    pub data: DataSpec,
    /// The model.
    pub model: MlpConfig,
    /// The optimizer; only its learning rate is read.
    pub optimizer: serde_json::Value,
    /// Length and batch size; only the batch size is read.
    pub training: serde_json::Value,
}

/// The number at `key` of a settings table.
fn number(value: &serde_json::Value, key: &str, path: &Path) -> Result<f64, SpectrumError> {
    value.get(key).and_then(|v| v.as_f64()).ok_or_else(|| SpectrumError::Request {
        path: path.to_path_buf(),
        message: format!("the settings have no numeric {key}"),
    })
}

/// Which checkpoint of a trajectory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckpointChoice {
    /// The last one.
    Final,
    /// The one at this step.
    Step(u64),
}

/// The samples each Hessian is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchChoice {
    /// Minibatches of the run's batch size b (PAPER.md §4).
    Run,
    /// Minibatches of this size.
    Size(usize),
    /// The whole training set.
    Full,
}

/// The method and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodRequest {
    /// All eigenvalues of `minibatches` dense minibatch Hessians.
    Dense {
        /// Number K of minibatches.
        minibatches: usize,
    },
    /// Extreme eigenpairs of one minibatch Hessian.
    Lanczos {
        /// Largest eigenvalues wanted.
        top: usize,
        /// Smallest eigenvalues wanted.
        bottom: usize,
        /// Most Lanczos steps.
        max_steps: usize,
        /// Relative residual tolerance.
        tolerance: f64,
    },
    /// Stochastic Lanczos quadrature.
    Slq {
        /// Runs R, each with its own minibatch and probe.
        runs: usize,
        /// Lanczos steps m per run.
        steps: usize,
    },
}

/// Everything `gates spectrum` is asked; stored in the spectrum's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpectrumRequest {
    /// The trajectory file.
    pub trajectory: PathBuf,
    /// Which checkpoint.
    pub checkpoint: CheckpointChoice,
    /// Which method.
    pub method: MethodRequest,
    /// Which samples.
    pub batch: BatchChoice,
    /// Master seed of minibatches and probes.
    pub seed: u64,
    /// Hutchinson probes for the trace of the first Hessian (0: no trace).
    pub trace_probes: usize,
    /// Whether to compute the classical sharpness (top eigenvalue of the first Hessian).
    pub sharpness: bool,
}

/// The settings of the algorithms [`compute_spectrum`] runs beyond those of the request: the
/// defaults of this crate's parameter structs, which it uses. A spectrum's header records them
/// ([`SpectrumSettings`]), so that a reader sees how its numbers were computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolverSettings {
    /// Dense: the tridiagonal reduction (`DenseParams::algorithm`).
    pub dense_reduction: String,
    /// Dense: unit vectors per block product of the assembly.
    pub dense_assembly_block: usize,
    /// Lanczos (every use): steps between convergence checks.
    pub lanczos_check_every: usize,
    /// Lanczos: β counts as zero below this times a bound on ‖T‖ (then it restarts).
    pub lanczos_breakdown_tolerance: f64,
    /// SLQ: the same threshold (a run then stops at its invariant subspace).
    pub slq_breakdown_tolerance: f64,
    /// The top eigenvalue: most Lanczos steps.
    pub sharpness_max_steps: usize,
    /// The top eigenvalue: relative residual tolerance.
    pub sharpness_tolerance: f64,
    /// SLQ: how runs are spread over threads.
    pub slq_parallelism: String,
    /// Hutchinson: probes per block product.
    pub trace_block_size: usize,
}

impl SolverSettings {
    /// The settings [`compute_spectrum`] uses.
    pub fn used() -> Self {
        let (dense, lanczos) = (DenseParams::default(), LanczosParams::default());
        let (slq, trace) = (SlqParams::default(), TraceParams::default());
        Self {
            dense_reduction: format!("{:?}", dense.algorithm),
            dense_assembly_block: dense.block_size,
            lanczos_check_every: lanczos.check_every,
            lanczos_breakdown_tolerance: lanczos.breakdown_tolerance,
            slq_breakdown_tolerance: slq.breakdown_tolerance,
            sharpness_max_steps: lanczos.max_steps,
            sharpness_tolerance: lanczos.tolerance,
            slq_parallelism: format!("{:?}", slq.parallelism),
            trace_block_size: trace.block_size,
        }
    }
}

/// The settings a spectrum's header holds: the request and the solver settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpectrumSettings {
    /// What was asked.
    #[serde(flatten)]
    pub request: SpectrumRequest,
    /// How it was computed.
    pub solvers: SolverSettings,
}

impl SpectrumRequest {
    /// The settings to record in the header of the spectrum computed for this request.
    pub fn settings(&self) -> SpectrumSettings {
        SpectrumSettings { request: self.clone(), solvers: SolverSettings::used() }
    }
}

/// What [`compute_spectrum`] reports as it works, for a progress display. Events may come from
/// any thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Dense Hessian `index` (from 0) of `of` is being assembled from block products.
    Assembling {
        /// Which Hessian.
        index: usize,
        /// How many.
        of: usize,
    },
    /// The eigenvalues of dense Hessian `index` of `of` are being computed (at large d the
    /// longest part: about 100 s at d = 12,960 on two cores).
    Eigenvalues {
        /// Which Hessian.
        index: usize,
        /// How many.
        of: usize,
    },
    /// Lanczos iterations for the extreme eigenpairs.
    Lanczos,
    /// SLQ runs are under way, `runs` in all.
    Slq {
        /// How many.
        runs: usize,
    },
    /// One Hessian is finished: a dense minibatch, the Lanczos operator or an SLQ run.
    HessianDone,
    /// Hutchinson's trace of the first Hessian.
    Trace,
    /// The top eigenvalue of the first Hessian (classical sharpness).
    Sharpness,
}

/// Seeds of minibatch draws are `probe_seed(seed ^ MINIBATCH_STREAM, i)`, so that they never
/// coincide with the probes' `probe_seed(seed, i)`.
pub const MINIBATCH_STREAM: u64 = 0xBA7C_4E55_0000_0000;

/// A minibatch Hessian as an operator for this crate's algorithms.
pub struct HessianOperator<'a> {
    loss: MinibatchLoss<'a, f64, Cpu>,
}

impl<'a> HessianOperator<'a> {
    /// The Hessian of `model`'s loss on the samples `indices` of `data`.
    pub fn new(
        model: &'a Mlp<f64, Cpu>,
        data: &'a Dataset,
        indices: &[usize],
        loss: LossKind,
    ) -> Result<Self, SpectrumError> {
        Ok(Self { loss: MinibatchLoss::new(model, data, indices, loss)? })
    }
}

impl SymmetricOperator for HessianOperator<'_> {
    fn dim(&self) -> usize {
        self.loss.dim()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        out.copy_from_slice(&self.loss.hvp(v)?);
        Ok(())
    }

    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let block = Block::from_col_major(self.dim(), vs.to_vec())?;
        out.copy_from_slice(self.loss.hvp_block(&block)?.as_slice());
        Ok(())
    }
}

/// The training-set indices of minibatch `i`: `size` of `n` drawn without replacement with the
/// seed `probe_seed(seed ^ MINIBATCH_STREAM, i)`, which is returned with them.
pub fn minibatch(n: usize, size: usize, seed: u64, i: u64) -> (u64, Vec<usize>) {
    let batch_seed = probe_seed(seed ^ MINIBATCH_STREAM, i);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(batch_seed);
    (batch_seed, rand::seq::index::sample(&mut rng, n, size).into_vec())
}

/// Parameters widened to f64 (exact for f32).
fn widened(params: &[NamedTensor]) -> Vec<NamedTensor> {
    params
        .iter()
        .map(|t| NamedTensor {
            name: t.name.clone(),
            shape: t.shape.clone(),
            data: TensorData::F64(t.data.to_f64()),
        })
        .collect()
}

/// Computes the spectrum `request` asks for, telling `progress` what it is doing.
pub fn compute_spectrum(
    request: &SpectrumRequest,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Spectrum, SpectrumError> {
    let traj_path = &request.trajectory;
    let traj = read_blob::<Trajectory>(traj_path)?;
    let traj_crc = match traj.header.body {
        BodyLayout::Blob { crc32, .. } => crc32,
        BodyLayout::Records { preamble_crc32, .. } => preamble_crc32,
    };
    let request_err = |message: String| SpectrumError::Request { path: traj_path.clone(), message };
    let entry = match request.checkpoint {
        CheckpointChoice::Final => traj.body.checkpoints.last(),
        CheckpointChoice::Step(s) => traj.body.checkpoint_at(s),
    };
    let Some(entry) = entry else {
        let steps: Vec<String> = traj.body.checkpoints.iter().map(|c| c.step.to_string()).collect();
        return Err(request_err(format!(
            "no checkpoint {:?}; the run has checkpoints at steps [{}]",
            request.checkpoint,
            steps.join(", ")
        )));
    };
    let ckpt_path = traj_path.parent().unwrap_or(Path::new(".")).join(&entry.file);
    let ckpt = read_blob::<Checkpoint>(&ckpt_path)?;
    let settings: RunSettings = ckpt.header.settings(&ckpt_path)?;
    let eta = number(&settings.optimizer, "lr", &ckpt_path)?;
    note_unless_plain_sgd(&settings.optimizer);
    let run_batch = number(&settings.training, "batch_size", &ckpt_path)? as usize;

    let split = settings.data.load()?;
    let train = &split.train;
    let n = train.len();
    let dev = Cpu::default();
    let model = Mlp::<f64, Cpu>::from_named(&settings.model, &dev, &widened(&ckpt.body.params))?;
    let d = model.param_count();
    let size = match request.batch {
        BatchChoice::Run => run_batch,
        BatchChoice::Size(b) => b,
        BatchChoice::Full => n,
    };
    if size == 0 || size > n {
        return Err(request_err(format!("batch size {size} is not in 1..={n} (the training set)")));
    }
    let batch_of = |i: u64| -> (MinibatchRef, Vec<usize>) {
        if request.batch == BatchChoice::Full {
            return (MinibatchRef::Full, (0..n).collect());
        }
        let (seed, indices) = minibatch(n, size, request.seed, i);
        (
            MinibatchRef::Indices { seed, indices: indices.iter().map(|&x| x as u32).collect() },
            indices,
        )
    };
    if let (BatchChoice::Full, MethodRequest::Dense { minibatches: k @ 2.. }) =
        (request.batch, &request.method)
    {
        return Err(request_err(format!(
            "the full training set gives one Hessian, so {k} dense minibatches would repeat it: \
             ask for 1"
        )));
    }
    tracing::info!(d, n, batch = size, eta, step = ckpt.body.step, "computing spectrum");

    // Minibatch 0's Hessian serves the trace and the sharpness; building it first also checks
    // that the model fits the data before any run starts (every later minibatch differs only
    // in its in-range indices).
    let (_, first) = batch_of(0);
    let first = HessianOperator::new(&model, train, &first, settings.loss)?;

    let method = match &request.method {
        &MethodRequest::Dense { minibatches } => {
            let params = DenseParams::default();
            let mut spectra = Vec::with_capacity(minibatches);
            for index in 0..minibatches {
                let (batch, indices) = batch_of(index as u64);
                progress(Progress::Assembling { index, of: minibatches });
                let assembled = if index == 0 {
                    dense::assemble(&first, &params)?
                } else {
                    let op = HessianOperator::new(&model, train, &indices, settings.loss)?;
                    dense::assemble(&op, &params)?
                };
                progress(Progress::Eigenvalues { index, of: minibatches });
                let eig = assembled.into_eigenvalues(&params)?;
                tracing::debug!(index, asymmetry = eig.asymmetry.relative, "dense spectrum");
                spectra.push(eig.to_artifact(batch));
                progress(Progress::HessianDone);
            }
            SpectrumMethod::Dense { minibatches: spectra }
        }
        MethodRequest::Lanczos { top, bottom, max_steps, tolerance } => {
            progress(Progress::Lanczos);
            let params = LanczosParams {
                max_steps: *max_steps,
                tolerance: *tolerance,
                seed: request.seed,
                ..LanczosParams::default()
            };
            let found = extreme_eigenpairs(
                &first,
                Which::BothEnds { largest: *top, smallest: *bottom },
                None,
                &params,
            )?;
            if !found.converged {
                tracing::warn!(
                    steps = found.steps,
                    "Lanczos stopped before every pair converged; see the residuals"
                );
            }
            progress(Progress::HessianDone);
            found.to_artifact(batch_of(0).0)
        }
        MethodRequest::Slq { runs, steps } => {
            let params = SlqParams {
                runs: *runs,
                steps: *steps,
                seed: request.seed,
                ..SlqParams::default()
            };
            let batches: Vec<(MinibatchRef, Vec<usize>)> =
                (0..*runs as u64).map(batch_of).collect();
            progress(Progress::Slq { runs: *runs });
            let result = slq_with_progress(
                |i| {
                    HessianOperator::new(&model, train, &batches[i].1, settings.loss)
                        .expect("minibatch 0 showed that the model fits the data")
                },
                &params,
                &|_| progress(Progress::HessianDone),
            )?;
            result.to_artifact(|i| batches[i].0.clone())
        }
    };

    let trace = if request.trace_probes > 0 {
        progress(Progress::Trace);
        Some(hutchinson(
            &first,
            &TraceParams {
                samples: request.trace_probes,
                seed: request.seed,
                ..TraceParams::default()
            },
        )?)
    } else {
        None
    };
    let top = if request.sharpness {
        progress(Progress::Sharpness);
        let params = LanczosParams { seed: request.seed, ..LanczosParams::default() };
        let top = top_eigenvalue(&first, &params)?;
        if !top.converged {
            tracing::warn!(
                steps = top.steps,
                residual = top.residual,
                "the top eigenvalue did not converge; see its residual"
            );
        }
        Some(RitzValue { value: top.value, residual: top.residual })
    } else {
        None
    };

    Ok(Spectrum {
        source: SourceRef {
            trajectory: traj_path.display().to_string(),
            trajectory_crc32: traj_crc,
            checkpoint_step: ckpt.body.step,
        },
        eta,
        batch_size: size as u64,
        param_count: d as u64,
        n_train: n as u64,
        method,
        trace,
        top_eigenvalue: top,
    })
}

/// Logs when the run's optimizer is not plain SGD: its one-step Jacobian then differs from
/// I − ηH, which the spectrum's map z = ln|1 − ηα| assumes (PAPER.md §1 uses that map for every
/// optimizer; a Jacobian of the full optimizer state is future work there).
fn note_unless_plain_sgd(optimizer: &serde_json::Value) {
    let kind = optimizer.get("kind").and_then(|k| k.as_str()).unwrap_or("unknown");
    let nonzero = |key: &str| optimizer.get(key).and_then(|v| v.as_f64()).is_some_and(|x| x != 0.0);
    let extras: Vec<&str> =
        ["momentum", "weight_decay"].into_iter().filter(|key| nonzero(key)).collect();
    if kind == "sgd" && extras.is_empty() {
        return;
    }
    tracing::info!(
        optimizer = kind,
        with = extras.join(", "),
        "the run's optimizer is not plain SGD; ln|1 − ηα| uses its learning rate as the paper does"
    );
}
