//! Losses, per-sample losses and evaluation of a model on a data set.
//!
//! Both losses average over the samples of a batch, so the batch loss is the mean of the
//! per-sample losses ℓ(w, z) that PH-dim's ρ metric and the generalization gaps use:
//! - cross-entropy: ℓ = −log softmax(f(x))_y;
//! - squared error: ℓ = ½‖f(x) − e_y‖², with e_y the one-hot target (as in Cohen et al. 2021).

use dfdx::prelude::*;
use gates_artifacts::SplitMetrics;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::mlp::{Batch, Mlp};
use crate::scalar::{Backend, Scalar};

/// Which loss to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Softmax cross-entropy on the logits.
    CrossEntropy,
    /// Half the squared distance of the outputs to the one-hot target.
    Mse,
}

impl LossKind {
    /// Mean loss of a batch, on the tape of `logits`.
    pub fn batch_loss<E: Scalar, D: Backend<E>, T: Tape<E, D>>(
        self,
        logits: Batch<E, D, T>,
        onehot: Batch<E, D>,
    ) -> Tensor<Rank0, E, D, T> {
        match self {
            LossKind::CrossEntropy => cross_entropy_with_logits_loss(logits, onehot),
            LossKind::Mse => {
                let per_sample = (logits - onehot).square().sum::<(usize,), Axis<1>>();
                per_sample.mean() * E::of(0.5)
            }
        }
    }

    /// Loss of one sample from its logits, in f64.
    pub fn sample_loss(self, logits: &[f64], label: usize) -> f64 {
        match self {
            LossKind::CrossEntropy => {
                let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_sum: f64 = logits.iter().map(|&z| (z - max).exp()).sum::<f64>().ln();
                max + log_sum - logits[label]
            }
            LossKind::Mse => {
                let sq: f64 = logits
                    .iter()
                    .enumerate()
                    .map(|(c, &z)| {
                        let t = if c == label { 1.0 } else { 0.0 };
                        (z - t) * (z - t)
                    })
                    .sum();
                0.5 * sq
            }
        }
    }
}

/// Samples evaluated per forward pass: big enough for matrix-matrix speed, small enough that a
/// 278,800-parameter MLP's activations stay in cache-friendly sizes.
const EVAL_CHUNK: usize = 1024;

/// Logits of the given samples, in f64, computed in chunks without a tape.
pub fn logits_of<E: Scalar, D: Backend<E>>(
    model: &Mlp<E, D>,
    data: &Dataset,
    indices: &[usize],
) -> Vec<f64> {
    let dev = model.device();
    let mut out = Vec::with_capacity(indices.len() * data.classes);
    for chunk in indices.chunks(EVAL_CHUNK) {
        let x = data.inputs_tensor::<E, D>(&dev, chunk);
        let logits = model.forward(x);
        out.extend(logits.as_vec().into_iter().map(Scalar::f64));
    }
    out
}

/// Per-sample losses ℓ(w, z_i) for the given samples.
pub fn per_sample_losses<E: Scalar, D: Backend<E>>(
    model: &Mlp<E, D>,
    data: &Dataset,
    indices: &[usize],
    loss: LossKind,
) -> Vec<f64> {
    let logits = logits_of(model, data, indices);
    logits
        .chunks_exact(data.classes)
        .zip(indices)
        .map(|(row, &i)| loss.sample_loss(row, data.labels[i] as usize))
        .collect()
}

/// Mean loss and accuracy over a whole data set. A sample counts as correct when its largest
/// logit is at its label (ties go to the lowest class index).
pub fn evaluate<E: Scalar, D: Backend<E>>(
    model: &Mlp<E, D>,
    data: &Dataset,
    loss: LossKind,
) -> SplitMetrics {
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut total = 0.0;
    let mut correct = 0usize;
    for chunk in indices.chunks(EVAL_CHUNK) {
        let logits = logits_of(model, data, chunk);
        for (row, &i) in logits.chunks_exact(data.classes).zip(chunk) {
            let label = data.labels[i] as usize;
            total += loss.sample_loss(row, label);
            if argmax(row) == label {
                correct += 1;
            }
        }
    }
    let n = data.len().max(1) as f64;
    SplitMetrics { loss: total / n, accuracy: correct as f64 / n }
}

/// Index of the largest value (the first one on ties; NaN never wins).
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
