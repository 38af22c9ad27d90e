//! The settings of a training run: one TOML file, every key checked.
//!
//! ```toml
//! dtype = "f32"                  # or "f64"
//! loss = "cross-entropy"         # or "mse"
//!
//! [data]
//! kind = "mnist-embedded"        # or "mnist" (with dir), "modular", "gaussian"
//!
//! [model]
//! widths = [784, 16, 16, 10]
//! activation = "relu"            # "gelu", "tanh"
//! bias = false
//! init_seed = 0
//!
//! [optimizer]
//! kind = "sgd"                   # or "adamw"
//! lr = 0.1
//!
//! [training]
//! batch_size = 32
//! epochs = 5                     # or steps = 1250
//! seed = 0
//!
//! [record]
//! checkpoint_count = 0           # N evenly spaced checkpoints
//! checkpoint_steps = []          # and/or these steps
//! window = 0                     # K last iterates streamed to window.gates
//! ```

use std::path::Path;

use gates_artifacts::DType;
use gates_models::data::DataSpec;
use gates_models::{LossKind, MlpConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::OptimizerConfig;

fn default_loss() -> LossKind {
    LossKind::CrossEntropy
}
fn default_dtype() -> DType {
    DType::F32
}

/// Everything that defines a training run. Stored in the header of every artifact it writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Precision of parameters and arithmetic.
    #[serde(default = "default_dtype", with = "dtype_name")]
    pub dtype: DType,
    /// The loss.
    #[serde(default = "default_loss")]
    pub loss: LossKind,
    /// The data.
    pub data: DataSpec,
    /// The model.
    pub model: MlpConfig,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// How long and in what order.
    pub training: TrainingConfig,
    /// What to record beyond the per-step losses and evaluations.
    #[serde(default)]
    pub record: RecordConfig,
}

/// Length, batch size and seed of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Minibatch size b.
    pub batch_size: usize,
    /// Length in epochs (n div b steps each); give this or `steps`.
    #[serde(default)]
    pub epochs: Option<u64>,
    /// Length in steps; give this or `epochs`.
    #[serde(default)]
    pub steps: Option<u64>,
    /// Seed of the minibatch order (the noise ω).
    #[serde(default)]
    pub seed: u64,
    /// Steps between evaluations on the full train and test sets (default: one epoch).
    #[serde(default)]
    pub eval_every: Option<u64>,
}

fn default_eval_samples() -> usize {
    1000
}

/// Checkpoints and the iterate window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// Write checkpoints at these steps.
    #[serde(default)]
    pub checkpoint_steps: Vec<u64>,
    /// Write N checkpoints evenly spaced over the run (steps round(k·T/N), k = 1..N).
    #[serde(default)]
    pub checkpoint_count: u64,
    /// Stream the last K iterates to `window.gates` (0 = no window).
    #[serde(default)]
    pub window: u64,
    /// Size n′ of the fixed evaluation subset whose per-sample losses each window iterate
    /// stores (for the ρ metric); capped at the training-set size.
    #[serde(default = "default_eval_samples")]
    pub window_eval_samples: usize,
    /// Steps between rolling resume checkpoints (default: one epoch; 0 = never).
    #[serde(default)]
    pub resume_every: Option<u64>,
}

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            checkpoint_steps: vec![],
            checkpoint_count: 0,
            window: 0,
            window_eval_samples: default_eval_samples(),
            resume_every: None,
        }
    }
}

mod dtype_name {
    use gates_artifacts::DType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &DType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
        match String::deserialize(d)?.as_str() {
            "f32" => Ok(DType::F32),
            "f64" => Ok(DType::F64),
            other => Err(serde::de::Error::custom(format!(
                "expected \"f32\" or \"f64\", found {other:?}"
            ))),
        }
    }
}

/// The run's length and schedule, resolved against the data.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Training samples n.
    pub n_train: usize,
    /// Minibatches per epoch.
    pub steps_per_epoch: u64,
    /// Total steps T.
    pub total_steps: u64,
    /// Steps between evaluations.
    pub eval_every: u64,
    /// Steps with a kept checkpoint, sorted, always including T.
    pub checkpoint_steps: Vec<u64>,
    /// Steps between rolling resume checkpoints (0 = never).
    pub resume_every: u64,
    /// First step recorded in the window, if there is a window.
    pub window_start: Option<u64>,
}

impl TrainConfig {
    /// Reads and checks a config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::ConfigFile { message, .. } => {
                Error::ConfigFile { path: path.to_path_buf(), message }
            }
            other => other,
        })
    }

    /// Parses a config from TOML text (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::ConfigFile {
            path: "<config>".into(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config always serializes")
    }

    /// Checks every value that does not need the data.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.optimizer.validate()?;
        let t = &self.training;
        if t.batch_size == 0 {
            return Err(Error::config("training.batch_size", "at least 1", 0));
        }
        match (t.epochs, t.steps) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "training.epochs",
                    "either epochs or steps, not both",
                    "both",
                ))
            }
            (None, None) => {
                return Err(Error::config("training.epochs", "epochs or steps", "neither"))
            }
            (Some(0), _) => return Err(Error::config("training.epochs", "at least 1", 0)),
            (_, Some(0)) => return Err(Error::config("training.steps", "at least 1", 0)),
            _ => {}
        }
        if t.eval_every == Some(0) {
            return Err(Error::config("training.eval_every", "at least 1", 0));
        }
        if self.record.window > 0 && self.record.window_eval_samples == 0 {
            return Err(Error::config(
                "record.window_eval_samples",
                "at least 1 when a window is recorded",
                0,
            ));
        }
        Ok(())
    }

    /// Resolves the schedule against a training set of `n_train` samples with `input_dim`
    /// features and `classes` classes.
    pub fn plan(&self, n_train: usize, input_dim: usize, classes: usize) -> Result<Plan> {
        self.validate()?;
        let widths = &self.model.widths;
        if widths[0] != input_dim {
            return Err(Error::config(
                "model.widths",
                format!("first width {input_dim} (the data's input size)"),
                widths[0],
            ));
        }
        if *widths.last().expect("validated") != classes {
            return Err(Error::config(
                "model.widths",
                format!("last width {classes} (the data's classes)"),
                widths.last().expect("validated"),
            ));
        }
        let b = self.training.batch_size;
        if b > n_train {
            return Err(Error::config(
                "training.batch_size",
                format!("at most the {n_train} training samples"),
                b,
            ));
        }

        let spe = (n_train / b) as u64;
        let total =
            self.training.steps.unwrap_or_else(|| self.training.epochs.expect("validated") * spe);
        let mut checkpoints: Vec<u64> = self.record.checkpoint_steps.clone();
        if let Some(&bad) = checkpoints.iter().find(|&&s| s > total) {
            return Err(Error::config(
                "record.checkpoint_steps",
                format!("steps in 0..={total}"),
                bad,
            ));
        }
        let n = self.record.checkpoint_count;
        checkpoints.extend((1..=n).map(|k| ((k as f64) * total as f64 / n as f64).round() as u64));
        checkpoints.push(total);
        checkpoints.sort_unstable();
        checkpoints.dedup();

        let window = self.record.window;
        if window > total + 1 {
            return Err(Error::config(
                "record.window",
                format!("at most T + 1 = {} iterates", total + 1),
                window,
            ));
        }
        Ok(Plan {
            n_train,
            steps_per_epoch: spe,
            total_steps: total,
            eval_every: self.training.eval_every.unwrap_or(spe),
            checkpoint_steps: checkpoints,
            resume_every: self.record.resume_every.unwrap_or(spe),
            window_start: (window > 0).then(|| total + 1 - window),
        })
    }
}
