//! `gates train`: read a config, apply overrides, train, report.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use gates_artifacts::{read_blob, Checkpoint, RunStatus};
use gates_dynamics::{files, train, TrainConfig, TrainOptions};

use crate::{device, overrides, progress::TrainProgress};

/// Arguments of `gates train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run's config file (TOML; see configs/ for examples).
    #[arg(long, short)]
    config: PathBuf,
    /// Output folder for the trajectory, checkpoints and window.
    #[arg(long, short)]
    out: PathBuf,
    /// Override any config key, e.g. `--set optimizer.momentum=0.9` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Learning rate η (sets optimizer.lr).
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Minibatch size b (sets training.batch_size).
    #[arg(long, allow_negative_numbers = true)]
    batch_size: Option<i64>,
    /// Train for this many epochs (replaces training.steps).
    #[arg(long, conflicts_with = "steps")]
    epochs: Option<i64>,
    /// Train for this many steps (replaces training.epochs).
    #[arg(long)]
    steps: Option<i64>,
    /// Seed of the minibatch order (sets training.seed).
    #[arg(long)]
    seed: Option<i64>,
    /// Precision, f32 or f64 (sets dtype).
    #[arg(long)]
    dtype: Option<String>,
    /// Train on full MNIST from this folder (sets data.kind = "mnist" and data.dir).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Replace an earlier run in the output folder.
    #[arg(long)]
    force: bool,
    /// Continue the run in the output folder from its latest checkpoint, or from the given one.
    #[arg(long, value_name = "CHECKPOINT", num_args = 0..=1, default_missing_value = "latest", conflicts_with = "force")]
    resume: Option<String>,
    /// Stop after this many steps as if interrupted, leaving a resume checkpoint.
    #[arg(long)]
    stop_after: Option<u64>,
}

fn load_config(args: &TrainArgs) -> Result<TrainConfig> {
    let path = &args.config;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;

    let mut sets: Vec<(String, String)> = Vec::new();
    for s in &args.set {
        let (k, v) = overrides::split(s)?;
        sets.push((k.into(), v.into()));
    }
    let mut named = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            sets.push((key.into(), v));
        }
    };
    named("optimizer.lr", args.lr.map(|v| format!("{v:?}")));
    named("training.batch_size", args.batch_size.map(|v| v.to_string()));
    named("training.seed", args.seed.map(|v| v.to_string()));
    named("dtype", args.dtype.as_ref().map(|v| format!("{v:?}")));
    if let Some(dir) = &args.data_dir {
        // Full MNIST replaces the data source; a pooling factor of the config still applies.
        let pool = table.get("data").and_then(|d| d.get("pool")).cloned();
        table.insert("data".into(), toml::Value::Table(Default::default()));
        if let Some(pool) = pool {
            sets.push(("data.pool".into(), pool.to_string()));
        }
        sets.push(("data.kind".into(), "\"mnist\"".into()));
        sets.push(("data.dir".into(), format!("{:?}", dir.display().to_string())));
    }
    let training = table.get_mut("training").and_then(|t| t.as_table_mut());
    if let (Some(t), true) = (training, args.epochs.is_some() || args.steps.is_some()) {
        t.remove("epochs");
        t.remove("steps");
    }
    if let Some(e) = args.epochs {
        sets.push(("training.epochs".into(), e.to_string()));
    }
    if let Some(s) = args.steps {
        sets.push(("training.steps".into(), s.to_string()));
    }
    for (k, v) in &sets {
        overrides::apply(&mut table, k, v)?;
    }

    let text = toml::to_string(&table).context("cannot re-encode the config")?;
    let config = TrainConfig::from_toml(&text).map_err(|e| match e {
        gates_dynamics::Error::ConfigFile { message, .. } => {
            anyhow::anyhow!("{}: {message}", path.display())
        }
        other => other.into(),
    })?;
    config.validate().with_context(|| format!("in config {}", path.display()))?;
    Ok(config)
}

/// The checkpoint with the most steps in `dir` (the rolling resume file or a kept one).
fn latest_checkpoint(dir: &Path) -> Result<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name != files::RESUME && !(name.starts_with("checkpoint-") && name.ends_with(".gates")) {
            continue;
        }
        let step = read_blob::<Checkpoint>(&path)?.body.step;
        if best.as_ref().is_none_or(|(s, _)| step > *s) {
            best = Some((step, path));
        }
    }
    match best {
        Some((_, path)) => Ok(path),
        None => bail!("no checkpoint to resume from in {}", dir.display()),
    }
}

/// Runs `gates train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let config = load_config(&args)?;
    let resume_from = match args.resume.as_deref() {
        None => None,
        Some("latest") => Some(latest_checkpoint(&args.out)?),
        Some(path) => Some(PathBuf::from(path)),
    };
    let options = TrainOptions {
        out_dir: args.out.clone(),
        overwrite: args.force,
        resume_from,
        stop_after: args.stop_after,
    };
    tracing::info!(device = device::name(), "device");
    let dev = device::device()?;
    let mut progress = TrainProgress::new();
    let outcome = train(&dev, &config, &options, &mut progress);
    progress.finish();
    let outcome =
        outcome.with_context(|| format!("training into {} failed", args.out.display()))?;

    let traj = &outcome.trajectory;
    let mut report = vec![format!(
        "{} on {} ({} parameters)",
        traj.model.description, traj.dataset.name, traj.model.param_count
    )];
    report.push(match traj.status {
        RunStatus::Completed { steps } => {
            format!("completed {steps} steps in {:.1} s", traj.wall_time_s)
        }
        RunStatus::InProgress { step } => format!("stopped at step {step}; continue with --resume"),
        RunStatus::Diverged { step, loss } => format!("diverged at step {step} (loss {loss})"),
    });
    if let Some(e) = traj.final_evaluation() {
        report.push(format!(
            "step {}: train loss {:.4} acc {:.2}%  test loss {:.4} acc {:.2}%  gaps: loss {:.4} acc {:.2}%",
            e.step,
            e.train.loss,
            100.0 * e.train.accuracy,
            e.test.loss,
            100.0 * e.test.accuracy,
            e.loss_gap(),
            100.0 * e.accuracy_gap()
        ));
    }
    report.push(format!("trajectory: {}", outcome.trajectory_path.display()));
    crate::say(&report.join("\n"));
    Ok(())
}
