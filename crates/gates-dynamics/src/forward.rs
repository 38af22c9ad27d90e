//! The "Fwd" point cloud of PAPER.md §5: iterates simulated onward from a run's trained weights.
//!
//! The simulation continues the run exactly as if training had gone on: the same optimizer with
//! its state from the final checkpoint, and the same noise ω (the minibatches of steps T, T+1,
//! …). It records K iterates, w_T (the trained weights) first, each with its per-sample losses
//! on the run's evaluation subset, into a `gates.window` stream of kind `Forward`.

use std::path::{Path, PathBuf};

use gates_artifacts::{
    producer, read_blob, Checkpoint, DType, RecordWriter, Trajectory, WindowKind, WindowPreamble,
};
use gates_models::{Backend, Mlp, Scalar};
use serde::Serialize;

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::noise::MinibatchNoise;
use crate::optim::Optimizer;
use crate::train::{files, step, window_eval_indices, window_record};

/// The settings stored in the header of a forward window.
#[derive(Clone, Debug, Serialize)]
pub struct ForwardSettings<'a> {
    /// The run's settings.
    pub run: &'a TrainConfig,
    /// The trajectory simulated from.
    pub trajectory: String,
    /// Step of the checkpoint the simulation starts from.
    pub from_step: u64,
    /// Iterates recorded.
    pub iterates: u64,
}

/// Where a run keeps its forward window.
pub fn forward_window_path(trajectory: &Path) -> PathBuf {
    trajectory.parent().unwrap_or(Path::new(".")).join(files::FORWARD_WINDOW)
}

/// Simulates `iterates` iterates onward from the final checkpoint of the run whose trajectory is
/// at `trajectory`, writing them to `out`.
pub fn simulate_forward<D>(dev: &D, trajectory: &Path, iterates: u64, out: &Path) -> Result<PathBuf>
where
    D: Backend<f32> + Backend<f64>,
{
    simulate_forward_from(dev, trajectory, None, iterates, out)
}

/// Simulates `iterates` iterates onward from the kept checkpoint at step `from` (the final one
/// when `None`) of the run whose trajectory is at `trajectory`, writing them to `out`. The noise
/// continues from that step, so the iterates are the ones training itself went through when the
/// checkpoint is not the last.
pub fn simulate_forward_from<D>(
    dev: &D,
    trajectory: &Path,
    from: Option<u64>,
    iterates: u64,
    out: &Path,
) -> Result<PathBuf>
where
    D: Backend<f32> + Backend<f64>,
{
    let traj = read_blob::<Trajectory>(trajectory)?.body;
    let entry = match from {
        None => traj.checkpoints.last(),
        Some(step) => traj.checkpoints.iter().find(|c| c.step == step),
    };
    let entry = entry.ok_or_else(|| Error::Resume {
        path: trajectory.to_path_buf(),
        reason: match from {
            None => "the run has no checkpoint to simulate from".into(),
            Some(step) => format!(
                "the run kept no checkpoint at step {step}; it has [{}]",
                traj.checkpoints.iter().map(|c| c.step.to_string()).collect::<Vec<_>>().join(", ")
            ),
        },
    })?;
    let ckpt_path = trajectory.parent().unwrap_or(Path::new(".")).join(&entry.file);
    let ckpt = read_blob::<Checkpoint>(&ckpt_path)?;
    let config: TrainConfig = ckpt.header.settings(&ckpt_path)?;
    if iterates == 0 {
        return Err(Error::config("iterates", "at least 1", 0));
    }
    match config.dtype {
        DType::F32 => run::<f32, D>(dev, &config, trajectory, &ckpt.body, iterates, out),
        DType::F64 => run::<f64, D>(dev, &config, trajectory, &ckpt.body, iterates, out),
    }
}

fn run<E: Scalar, D: Backend<E>>(
    dev: &D,
    config: &TrainConfig,
    trajectory: &Path,
    ckpt: &Checkpoint,
    iterates: u64,
    out: &Path,
) -> Result<PathBuf> {
    let split = config.data.load()?;
    let train = &split.train;
    let names: Vec<String> = config.model.param_specs().into_iter().map(|s| s.name).collect();
    let mut model = Mlp::<E, D>::from_named(&config.model, dev, &ckpt.params)?;
    let mut optimizer = Optimizer::new(&config.optimizer, model.params());
    optimizer.import(&ckpt.optimizer, &names)?;
    let mut noise =
        MinibatchNoise::new(train.len(), config.training.batch_size, config.training.seed);
    let eval =
        window_eval_indices(train.len(), config.record.window_eval_samples, config.training.seed);

    let preamble = WindowPreamble {
        kind: WindowKind::Forward,
        param_count: model.param_count() as u64,
        eval_indices: eval.iter().map(|&i| i as u32).collect(),
        capacity: iterates,
    };
    let settings = ForwardSettings {
        run: config,
        trajectory: trajectory.display().to_string(),
        from_step: ckpt.step,
        iterates,
    };
    let mut writer = RecordWriter::create(out, &producer!(), &settings, &preamble)?;
    tracing::info!(from = ckpt.step, iterates, "simulating the forward window");

    for (k, t) in (ckpt.step..).take(iterates as usize).enumerate() {
        let k = k as u64;
        writer.append(&window_record(&model, train, &eval, config.loss, t).encode())?;
        if k + 1 == iterates {
            break;
        }
        let batch = noise.batch(t).to_vec();
        let value = step(&mut model, &mut optimizer, train, &batch, config.loss);
        if !value.is_finite() {
            tracing::warn!(
                step = t,
                loss = value,
                recorded = k + 1,
                "the forward simulation diverged"
            );
            break;
        }
    }
    Ok(writer.finish()?)
}
