//! Optimizers as random dynamical systems, training, and trajectory recording.
//!
//! SGD is the random map w ↦ w − η·∇L_B(w) driven by the noise ω of minibatch indices
//! ([`noise`]); momentum, weight decay and AdamW extend its state ([`optim`]). [`train()`] runs
//! it, writing a `gates.trajectory` artifact, checkpoints, and a streamed window of the last
//! iterates, and can resume from any checkpoint bit for bit on the CPU. [`forward`] simulates
//! further iterates from a checkpoint; [`toy`] is the 2-D random attractor of figure 6.

pub mod config;
pub mod error;
pub mod forward;
pub mod noise;
pub mod optim;
pub mod toy;
pub mod train;

pub use config::{Plan, RecordConfig, TrainConfig, TrainingConfig};
pub use error::{Error, Result};
pub use forward::{forward_window_path, simulate_forward, simulate_forward_from};
pub use noise::MinibatchNoise;
pub use optim::{Optimizer, OptimizerConfig};
pub use train::{files, step, train, window_record, Observer, Outcome, Silent, TrainOptions};
