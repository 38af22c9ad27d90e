//! Data sets: MNIST from IDX files, the embedded MNIST subset, modular arithmetic, and a
//! synthetic Gaussian mixture. Every set is a classification set held on the host in f32 and
//! moved to the device one batch at a time.

pub mod embedded;
pub mod idx;
pub mod mnist;
pub mod modular;
pub mod synthetic;

use std::path::PathBuf;

use gates_artifacts::DatasetSummary;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::mlp::Batch;
use crate::scalar::{Backend, Scalar};

/// A classification data set: `n` inputs of `input_dim` features and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Features, row-major `[n, input_dim]`.
    pub inputs: Vec<f32>,
    /// Labels in `0..classes`.
    pub labels: Vec<u32>,
    /// Features per sample.
    pub input_dim: usize,
    /// Number of classes.
    pub classes: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The samples at `indices` as a `[batch, input_dim]` tensor.
    pub fn inputs_tensor<E: Scalar, D: Backend<E>>(
        &self,
        dev: &D,
        indices: &[usize],
    ) -> Batch<E, D> {
        let mut xs = Vec::with_capacity(indices.len() * self.input_dim);
        for &i in indices {
            let row = &self.inputs[i * self.input_dim..(i + 1) * self.input_dim];
            xs.extend(row.iter().map(|&v| E::of(v as f64)));
        }
        dev.tensor_from_vec(xs, (indices.len(), self.input_dim))
    }

    /// One-hot targets of the samples at `indices`, `[batch, classes]`.
    pub fn onehot_tensor<E: Scalar, D: Backend<E>>(
        &self,
        dev: &D,
        indices: &[usize],
    ) -> Batch<E, D> {
        let mut ys = vec![E::of(0.0); indices.len() * self.classes];
        for (row, &i) in indices.iter().enumerate() {
            ys[row * self.classes + self.labels[i] as usize] = E::of(1.0);
        }
        dev.tensor_from_vec(ys, (indices.len(), self.classes))
    }
}

/// Training and test sets of one source.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Name of the source, for example `mnist-embedded`.
    pub name: String,
    /// Training set S.
    pub train: Dataset,
    /// Held-out test set.
    pub test: Dataset,
}

impl Split {
    /// The data part of a trajectory artifact.
    pub fn summary(&self) -> DatasetSummary {
        DatasetSummary {
            name: self.name.clone(),
            n_train: self.train.len() as u64,
            n_test: self.test.len() as u64,
            input_dim: self.train.input_dim as u64,
            classes: self.train.classes as u64,
        }
    }
}

/// Where the data comes from, as written in a config file (`[data]` with a `kind`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DataSpec {
    /// The 10,000 real MNIST digits compiled into the binary (8,000 train, 2,000 test).
    MnistEmbedded {
        /// Average-pool the 28×28 images over `pool`×`pool` blocks (1, 2, 4, 7, 14 or 28).
        #[serde(default = "mnist::full_resolution")]
        pool: usize,
    },
    /// Full MNIST from the standard IDX files (raw or gzip) in `dir`.
    Mnist {
        /// Folder holding `train-images-idx3-ubyte[.gz]` and the other three files.
        dir: PathBuf,
        /// Average-pool the 28×28 images over `pool`×`pool` blocks (1, 2, 4, 7, 14 or 28).
        #[serde(default = "mnist::full_resolution")]
        pool: usize,
    },
    /// Addition modulo p (PAPER.md figures 4 and 7).
    Modular(modular::ModularSpec),
    /// A Gaussian mixture, for fast tests.
    Gaussian(synthetic::GaussianSpec),
}

impl DataSpec {
    /// The embedded MNIST subset at full resolution (784 features).
    pub fn mnist_embedded() -> Self {
        DataSpec::MnistEmbedded { pool: 1 }
    }

    /// Loads (or generates) the data.
    pub fn load(&self) -> Result<Split> {
        let split = match self {
            DataSpec::MnistEmbedded { pool } => mnist::pooled(mnist::embedded()?, *pool)?,
            DataSpec::Mnist { dir, pool } => mnist::pooled(mnist::load_dir(dir)?, *pool)?,
            DataSpec::Modular(spec) => spec.generate()?,
            DataSpec::Gaussian(spec) => spec.generate()?,
        };
        tracing::debug!(
            name = %split.name,
            train = split.train.len(),
            test = split.test.len(),
            "loaded data"
        );
        Ok(split)
    }
}
