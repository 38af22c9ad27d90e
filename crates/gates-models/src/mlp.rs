//! Multilayer perceptrons with configurable widths, activation and bias.
//!
//! Every parameter is stored as a flat 1-D tensor, in the order `layers.0.weight`,
//! `layers.0.bias` (when biases are on), `layers.1.weight`, … Weights use PyTorch's `nn.Linear`
//! layout `[out, in]`, so exported checkpoints load into PyTorch unchanged. The flat parameter
//! vector w ∈ ℝ^d is these tensors concatenated in that order.
//!
//! Layer ℓ computes h = a·Wᵀ + b; hidden layers apply the activation, the last layer returns
//! logits.

use dfdx::prelude::*;
use gates_artifacts::{ModelSummary, NamedTensor, ParamSpec};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scalar::{Backend, Scalar};

/// Nonlinearity of the hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as in GPT-2. Its
    /// derivatives are built from tanh, which keeps second-order autodiff exact.
    Gelu,
    /// tanh(x).
    Tanh,
}

impl Activation {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Tanh => "tanh",
        }
    }

    /// Applies the activation elementwise, keeping whatever tape `x` carries.
    pub fn apply<S: Shape, E: Scalar, D: Backend<E>, T: Tape<E, D>>(
        self,
        x: Tensor<S, E, D, T>,
    ) -> Tensor<S, E, D, T> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Gelu => x.fast_gelu(),
            Activation::Tanh => x.tanh(),
        }
    }
}

fn default_activation() -> Activation {
    Activation::Relu
}

/// Architecture of an MLP. Defaults follow the paper: ReLU, no bias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Layer widths from input to output, for example `[784, 16, 16, 10]`.
    pub widths: Vec<usize>,
    /// Hidden-layer nonlinearity.
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Whether layers have biases (the paper's MLPs have none).
    #[serde(default)]
    pub bias: bool,
    /// Seed of the initialisation.
    #[serde(default)]
    pub init_seed: u64,
}

impl MlpConfig {
    /// An MLP config with ReLU, no bias and seed 0.
    pub fn new(widths: &[usize]) -> Self {
        Self { widths: widths.to_vec(), activation: Activation::Relu, bias: false, init_seed: 0 }
    }

    /// Checks that the widths describe a network.
    pub fn validate(&self) -> Result<()> {
        if self.widths.len() < 2 {
            return Err(Error::config(
                "model.widths",
                "at least an input and an output width",
                format!("{:?}", self.widths),
            ));
        }
        if let Some(i) = self.widths.iter().position(|&w| w == 0) {
            return Err(Error::config(
                "model.widths",
                "every width at least 1",
                format!("width 0 at position {i} of {:?}", self.widths),
            ));
        }
        Ok(())
    }

    /// (fan_in, fan_out) of every layer.
    pub fn layer_dims(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.widths.windows(2).map(|w| (w[0], w[1]))
    }

    /// Names and shapes of every parameter tensor, in flat-vector order.
    pub fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = Vec::new();
        for (l, (fan_in, fan_out)) in self.layer_dims().enumerate() {
            specs.push(ParamSpec {
                name: format!("layers.{l}.weight"),
                shape: vec![fan_out, fan_in],
            });
            if self.bias {
                specs.push(ParamSpec { name: format!("layers.{l}.bias"), shape: vec![fan_out] });
            }
        }
        specs
    }

    /// Number of parameters d.
    pub fn param_count(&self) -> usize {
        self.param_specs().iter().map(|s| s.shape.iter().product::<usize>()).sum()
    }

    /// One-line description, for example `mlp 784-16-16-10 relu no-bias`.
    pub fn describe(&self) -> String {
        let widths: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        let bias = if self.bias { "bias" } else { "no-bias" };
        format!("mlp {} {} {bias}", widths.join("-"), self.activation.name())
    }

    /// The model part of a trajectory artifact.
    pub fn summary(&self) -> ModelSummary {
        ModelSummary {
            description: self.describe(),
            param_count: self.param_count() as u64,
            params: self.param_specs(),
        }
    }
}

/// A 1-D tensor of any length: the storage of every parameter and optimizer buffer.
pub type Flat<E, D> = Tensor<(usize,), E, D>;

/// A batch of row vectors, `[batch, features]`.
pub type Batch<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;

/// An MLP on device `D` in precision `E`.
#[derive(Clone, Debug)]
pub struct Mlp<E: Scalar, D: Backend<E>> {
    config: MlpConfig,
    params: Vec<Flat<E, D>>,
}

impl<E: Scalar, D: Backend<E>> Mlp<E, D> {
    /// A freshly initialised MLP.
    ///
    /// Initialisation is PyTorch's default for `nn.Linear`: every weight and bias of a layer with
    /// fan-in m is drawn uniformly from [−1/√m, 1/√m]. Numbers are drawn on the host from a
    /// ChaCha8 generator seeded with `config.init_seed`, in flat-vector order, so the same seed
    /// gives the same network on every device and in both precisions (up to rounding to f32).
    pub fn init(config: &MlpConfig, dev: &D) -> Result<Self> {
        config.validate()?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.init_seed);
        let mut params = Vec::new();
        for (fan_in, fan_out) in config.layer_dims() {
            let bound = 1.0 / (fan_in as f64).sqrt();
            let mut draw = |n: usize| -> Vec<E> {
                (0..n).map(|_| E::of(rng.gen_range(-bound..bound))).collect()
            };
            params.push(dev.tensor_from_vec(draw(fan_in * fan_out), (fan_in * fan_out,)));
            if config.bias {
                params.push(dev.tensor_from_vec(draw(fan_out), (fan_out,)));
            }
        }
        Ok(Self { config: config.clone(), params })
    }

    /// An MLP with the given parameters, checked against the architecture.
    pub fn from_named(config: &MlpConfig, dev: &D, named: &[NamedTensor]) -> Result<Self> {
        config.validate()?;
        let specs = config.param_specs();
        if specs.len() != named.len() {
            return Err(Error::Params {
                name: "(all)".into(),
                expected: format!("{} tensors for {}", specs.len(), config.describe()),
                found: format!("{} tensors", named.len()),
            });
        }
        let mut params = Vec::with_capacity(specs.len());
        for (spec, tensor) in specs.iter().zip(named) {
            if spec.name != tensor.name || spec.shape != tensor.shape || !tensor.is_consistent() {
                return Err(Error::Params {
                    name: tensor.name.clone(),
                    expected: format!("{} with shape {:?}", spec.name, spec.shape),
                    found: format!("shape {:?} with {} values", tensor.shape, tensor.data.len()),
                });
            }
            let values = E::unpack(&tensor.data).ok_or_else(|| Error::Params {
                name: tensor.name.clone(),
                expected: format!("{} values", E::DTYPE.name()),
                found: format!("{} values", tensor.data.dtype().name()),
            })?;
            let n = values.len();
            params.push(dev.tensor_from_vec(values, (n,)));
        }
        Ok(Self { config: config.clone(), params })
    }

    /// The architecture.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> D {
        self.params[0].device().clone()
    }

    /// The parameter tensors, in flat-vector order.
    pub fn params(&self) -> &[Flat<E, D>] {
        &self.params
    }

    /// Replaces the parameters (the optimizer's output), which must keep their lengths.
    pub fn set_params(&mut self, params: Vec<Flat<E, D>>) {
        assert_eq!(params.len(), self.params.len(), "parameter count changed");
        for (new, old) in params.iter().zip(&self.params) {
            assert_eq!(new.shape(), old.shape(), "parameter length changed");
        }
        self.params = params;
    }

    /// Number of parameters d.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.shape().0).sum()
    }

    /// The flat parameter vector w, copied to the host.
    pub fn flat(&self) -> Vec<E> {
        // One copy per tensor: `as_vec` and a flattening iterator move element by element,
        // which measured a sixth of the first Hessian product of the 5-layer MLP.
        let mut w = vec![E::zero(); self.param_count()];
        let mut offset = 0;
        for p in &self.params {
            let n = p.shape().0;
            p.copy_into(&mut w[offset..offset + n]);
            offset += n;
        }
        w
    }

    /// Sets the parameters from a flat vector of length d.
    pub fn set_flat(&mut self, w: &[E]) {
        assert_eq!(w.len(), self.param_count(), "flat vector has the wrong length");
        let dev = self.device();
        let mut offset = 0;
        for p in &mut self.params {
            let n = p.shape().0;
            *p = dev.tensor_from_vec(w[offset..offset + n].to_vec(), (n,));
            offset += n;
        }
    }

    /// Every parameter with its name and shape, in full precision (for checkpoints and export).
    pub fn to_named(&self) -> Vec<NamedTensor> {
        self.config
            .param_specs()
            .into_iter()
            .zip(&self.params)
            .map(|(spec, p)| NamedTensor {
                name: spec.name,
                shape: spec.shape,
                data: E::pack(p.as_vec()),
            })
            .collect()
    }

    /// Logits of a batch `[batch, in]` → `[batch, out]`. Gradients reach the parameters through
    /// the tape that `x` carries (for training, `x.traced(..)`).
    pub fn forward<T: Tape<E, D>>(&self, x: Batch<E, D, T>) -> Batch<E, D, T> {
        let layers = self.config.widths.len() - 1;
        let mut params = self.params.iter();
        let mut a = x;
        for (l, (fan_in, fan_out)) in self.config.layer_dims().enumerate() {
            let w = params.next().expect("weight").clone().reshape_like(&(fan_out, fan_in));
            let mut h = a.matmul(w.permute::<_, Axes2<1, 0>>());
            if self.config.bias {
                let shape = *h.shape();
                let b = params.next().expect("bias").clone();
                h = h + b.broadcast_like::<_, Axis<0>>(&shape);
            }
            a = if l + 1 < layers { self.config.activation.apply(h) } else { h };
        }
        a
    }
}
