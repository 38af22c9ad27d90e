//! The checkpoint artifact: parameters and optimizer state at one step, in full precision, so a
//! run resumed from it continues exactly as if never interrupted.

use serde::{Deserialize, Serialize};

use crate::envelope::Format;
use crate::tensor::NamedTensor;

/// State of the optimizer beyond the parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Optimizer name, for example `sgd` or `adamw`.
    pub kind: String,
    /// Updates applied so far (Adam's bias correction needs it).
    pub updates: u64,
    /// Buffers keyed by parameter and role, for example `layers.0.weight.momentum`.
    pub buffers: Vec<NamedTensor>,
}

/// Body of a checkpoint file (`gates.checkpoint`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Steps taken before this checkpoint.
    pub step: u64,
    /// Parameters, in the order of the flat parameter vector.
    pub params: Vec<NamedTensor>,
    /// Optimizer state.
    pub optimizer: OptimizerState,
}

impl Checkpoint {
    /// Number of parameters.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.data.len()).sum()
    }

    /// All parameters concatenated in order, widened to f64.
    pub fn flat_params(&self) -> Vec<f64> {
        self.params.iter().flat_map(|p| p.data.to_f64()).collect()
    }
}

impl Format for Checkpoint {
    const NAME: &'static str = "gates.checkpoint";
    const VERSION: u32 = 1;
}
