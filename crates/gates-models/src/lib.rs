//! Models, losses and data sets of `gates`, on dfdx tensors.
//!
//! Models are generic over the float type ([`Scalar`]: f32 or f64) and the dfdx device
//! ([`Backend`]: the CPU, or CUDA behind the `cuda` feature). Only the binaries pick a device.
//!
//! ```
//! use gates_models::{data::DataSpec, loss, Mlp, MlpConfig, LossKind};
//!
//! let split = DataSpec::mnist_embedded().load().unwrap();
//! let dev = dfdx::tensor::Cpu::default();
//! let model = Mlp::<f32, _>::init(&MlpConfig::new(&[784, 16, 16, 10]), &dev).unwrap();
//! assert_eq!(model.param_count(), 12_960);
//! let metrics = loss::evaluate(&model, &split.test, LossKind::CrossEntropy);
//! assert!(metrics.accuracy < 0.5, "an untrained network guesses");
//! ```

pub mod data;
pub mod error;
pub mod loss;
pub mod mlp;
pub mod scalar;
pub mod toy;

pub use error::{Error, Result};
pub use loss::LossKind;
pub use mlp::{Activation, Batch, Flat, Mlp, MlpConfig};
pub use scalar::{Backend, DefaultDevice, Scalar};
