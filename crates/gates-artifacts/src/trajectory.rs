//! The trajectory artifact: everything a training run measured, and where its checkpoints and
//! iterate window live.

use serde::{Deserialize, Serialize};

use crate::envelope::Format;
use crate::tensor::DType;

/// Shape of one parameter tensor of the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Name, for example `layers.0.weight`.
    pub name: String,
    /// Row-major shape.
    pub shape: Vec<usize>,
}

/// What was trained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Human description, for example `mlp 784-16-16-10 relu, no bias`.
    pub description: String,
    /// Number of parameters d.
    pub param_count: u64,
    /// Every parameter tensor, in the order of the flat parameter vector.
    pub params: Vec<ParamSpec>,
}

/// What it was trained on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Data set name, for example `mnist-embedded`.
    pub name: String,
    /// Training samples n.
    pub n_train: u64,
    /// Test samples.
    pub n_test: u64,
    /// Input features per sample.
    pub input_dim: u64,
    /// Number of classes (output width).
    pub classes: u64,
}

/// Loss and accuracy on one data split.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Mean loss over the split.
    pub loss: f64,
    /// Fraction of correctly classified samples, in [0, 1].
    pub accuracy: f64,
}

/// One evaluation on the full train and test sets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Optimizer steps taken before this evaluation.
    pub step: u64,
    /// The same in epochs.
    pub epoch: f64,
    /// Metrics on the training set.
    pub train: SplitMetrics,
    /// Metrics on the test set.
    pub test: SplitMetrics,
}

impl Evaluation {
    /// Loss gap |train loss − test loss|.
    pub fn loss_gap(&self) -> f64 {
        (self.train.loss - self.test.loss).abs()
    }

    /// Accuracy gap |train accuracy − test accuracy|.
    pub fn accuracy_gap(&self) -> f64 {
        (self.train.accuracy - self.test.accuracy).abs()
    }
}

/// How a run ended (or where it stands).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Still running or interrupted; everything up to `step` is recorded.
    InProgress {
        /// Steps completed.
        step: u64,
    },
    /// All planned steps were taken.
    Completed {
        /// Steps taken.
        steps: u64,
    },
    /// The loss became non-finite; the run stopped there.
    Diverged {
        /// The step whose loss was non-finite.
        step: u64,
        /// That loss (NaN or ±∞).
        loss: f64,
    },
}

/// A checkpoint file written during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointEntry {
    /// Steps taken before the checkpoint.
    pub step: u64,
    /// File name, relative to the trajectory's folder.
    pub file: String,
}

/// The streamed window of last iterates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowEntry {
    /// File name, relative to the trajectory's folder.
    pub file: String,
    /// Step of the first recorded iterate.
    pub first_step: u64,
    /// Iterates recorded.
    pub count: u64,
}

/// Body of a trajectory file (`gates.trajectory`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The model.
    pub model: ModelSummary,
    /// The data.
    pub dataset: DatasetSummary,
    /// Precision of training.
    pub dtype: DType,
    /// Minibatches per epoch.
    pub steps_per_epoch: u64,
    /// Steps the run was planned for.
    pub planned_steps: u64,
    /// Where the run ended.
    pub status: RunStatus,
    /// Minibatch training loss of every step, indexed by step.
    pub step_loss: Vec<f64>,
    /// Periodic and final evaluations.
    pub evaluations: Vec<Evaluation>,
    /// Checkpoints, in step order.
    pub checkpoints: Vec<CheckpointEntry>,
    /// The iterate window, once it has started.
    pub window: Option<WindowEntry>,
    /// Wall-clock seconds spent training (summed over resumed segments).
    pub wall_time_s: f64,
}

impl Trajectory {
    /// The last evaluation, which after a completed run is the final one.
    pub fn final_evaluation(&self) -> Option<&Evaluation> {
        self.evaluations.last()
    }

    /// The checkpoint taken at exactly `step`.
    pub fn checkpoint_at(&self, step: u64) -> Option<&CheckpointEntry> {
        self.checkpoints.iter().find(|c| c.step == step)
    }
}

impl Format for Trajectory {
    const NAME: &'static str = "gates.trajectory";
    const VERSION: u32 = 1;
}
