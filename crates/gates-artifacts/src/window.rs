//! The iterate window: a record stream of the last K iterates of a run (or of iterates
//! simulated onward from its end), each with its per-sample losses on a fixed evaluation subset.
//! PH-dim and E_α read it block by block; it never has to sit in memory whole.
//!
//! Record layout (little-endian): step as u64, then d parameters as f32, then n′ losses as f32.
//! Parameters are stored in f32 whatever the training precision: the window feeds distances,
//! where f32 is ample, and halves the disk of a 5,000 × 278,800 window.

use serde::{Deserialize, Serialize};

use crate::envelope::{Format, RecordFormat};

/// Which point cloud a window holds (PAPER.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowKind {
    /// "Bwd": the last iterates of training.
    Backward,
    /// "Fwd": iterates simulated onward from the trained weights.
    Forward,
}

/// Preamble of a window stream (`gates.window`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowPreamble {
    /// Which cloud this is.
    pub kind: WindowKind,
    /// Parameters per iterate, d.
    pub param_count: u64,
    /// Training-set indices of the fixed evaluation subset, n′ of them.
    pub eval_indices: Vec<u32>,
    /// Planned number of iterates K.
    pub capacity: u64,
}

impl Format for WindowPreamble {
    const NAME: &'static str = "gates.window";
    const VERSION: u32 = 1;
}

impl RecordFormat for WindowPreamble {
    fn record_len(&self) -> u64 {
        8 + 4 * self.param_count + 4 * self.eval_indices.len() as u64
    }
}

/// One iterate of a window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowRecord {
    /// Steps taken before this iterate.
    pub step: u64,
    /// The parameters w_t.
    pub params: Vec<f32>,
    /// ℓ(w_t, z_i) for each i of the evaluation subset.
    pub losses: Vec<f32>,
}

impl WindowRecord {
    /// Encodes the record in the stream layout.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * (self.params.len() + self.losses.len()));
        out.extend_from_slice(&self.step.to_le_bytes());
        for x in self.params.iter().chain(&self.losses) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    /// Decodes a record of a stream with `param_count` parameters.
    pub fn decode(bytes: &[u8], param_count: usize) -> Self {
        let step = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let floats: Vec<f32> = bytes[8..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let (params, losses) = floats.split_at(param_count);
        Self { step, params: params.to_vec(), losses: losses.to_vec() }
    }
}
