//! Optimizers as maps w_{t+1} = ϕ(w_t, g_t; state), with their state exportable to checkpoints.
//!
//! Both follow PyTorch's definitions, so runs can be compared with PyTorch runs:
//! - SGD: g ← g + λ·w; with momentum μ > 0, m ← μ·m + g and the step uses m (or g + μ·m with
//!   Nesterov); w ← w − η·step.
//! - AdamW: w ← w·(1 − η·λ); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
//!   w ← w − η·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).

use dfdx::prelude::*;
use gates_artifacts::{NamedTensor, OptimizerState};
use gates_models::{Backend, Flat, Scalar};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}

/// Which optimizer, with its hyperparameters (the `[optimizer]` table of a config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with momentum and (coupled) weight decay.
    Sgd {
        /// Learning rate η.
        lr: f64,
        /// Momentum μ (0 for plain SGD).
        #[serde(default)]
        momentum: f64,
        /// Weight decay λ, added to the gradient.
        #[serde(default)]
        weight_decay: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam with decoupled weight decay.
    Adamw {
        /// Learning rate η.
        lr: f64,
        /// First-moment decay β₁.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// Second-moment decay β₂.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// ε added to √v̂.
        #[serde(default = "default_eps")]
        eps: f64,
        /// Decoupled weight decay λ.
        #[serde(default)]
        weight_decay: f64,
    },
}

impl OptimizerConfig {
    /// Plain SGD with learning rate `lr`.
    pub fn sgd(lr: f64) -> Self {
        OptimizerConfig::Sgd { lr, momentum: 0.0, weight_decay: 0.0, nesterov: false }
    }

    /// The learning rate η (the map α ↦ ln|1 − ηα| uses it).
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adamw { lr, .. } => *lr,
        }
    }

    /// Short name.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adamw { .. } => "adamw",
        }
    }

    /// Sets the learning rate (for command-line overrides).
    pub fn set_lr(&mut self, value: f64) {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adamw { lr, .. } => *lr = value,
        }
    }

    /// Checks every hyperparameter's range.
    pub fn validate(&self) -> Result<()> {
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::config("optimizer.lr", "a positive learning rate", lr));
        }
        let unit = |key: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(key, "a number in [0, 1)", v))
            }
        };
        let nonneg = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::config(key, "a number ≥ 0", v))
            }
        };
        match *self {
            OptimizerConfig::Sgd { momentum, weight_decay, nesterov, .. } => {
                unit("optimizer.momentum", momentum)?;
                nonneg("optimizer.weight_decay", weight_decay)?;
                if nesterov && momentum == 0.0 {
                    return Err(Error::config(
                        "optimizer.nesterov",
                        "momentum > 0 with nesterov",
                        "momentum = 0",
                    ));
                }
            }
            OptimizerConfig::Adamw { beta1, beta2, eps, weight_decay, .. } => {
                unit("optimizer.beta1", beta1)?;
                unit("optimizer.beta2", beta2)?;
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(Error::config("optimizer.eps", "a positive number", eps));
                }
                nonneg("optimizer.weight_decay", weight_decay)?;
            }
        }
        Ok(())
    }
}

/// An optimizer with its state, for parameters stored as flat tensors.
#[derive(Clone, Debug)]
pub struct Optimizer<E: Scalar, D: Backend<E>> {
    config: OptimizerConfig,
    updates: u64,
    /// Momentum buffers (SGD) or first moments (AdamW), one per parameter; empty when unused.
    first: Vec<Flat<E, D>>,
    /// Second moments (AdamW); empty otherwise.
    second: Vec<Flat<E, D>>,
}

impl<E: Scalar, D: Backend<E>> Optimizer<E, D> {
    /// A fresh optimizer for parameters of these lengths.
    pub fn new(config: &OptimizerConfig, params: &[Flat<E, D>]) -> Self {
        let zeros = || -> Vec<Flat<E, D>> {
            params.iter().map(|p| p.device().zeros_like(p.shape())).collect()
        };
        let (first, second) = match *config {
            OptimizerConfig::Sgd { momentum, .. } if momentum > 0.0 => (zeros(), vec![]),
            OptimizerConfig::Sgd { .. } => (vec![], vec![]),
            OptimizerConfig::Adamw { .. } => (zeros(), zeros()),
        };
        Self { config: config.clone(), updates: 0, first, second }
    }

    /// Updates applied so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Applies one update to `params` given their gradients.
    pub fn step(&mut self, params: &mut [Flat<E, D>], grads: &[Flat<E, D>]) {
        self.updates += 1;
        let t = self.updates as i32;
        for (i, (w, g)) in params.iter_mut().zip(grads).enumerate() {
            let g = g.clone();
            match self.config {
                OptimizerConfig::Sgd { lr, momentum, weight_decay, nesterov } => {
                    let g =
                        if weight_decay > 0.0 { g + w.clone() * E::of(weight_decay) } else { g };
                    let dir = if momentum > 0.0 {
                        let m = self.first[i].clone() * E::of(momentum) + g.clone();
                        self.first[i] = m.clone();
                        if nesterov {
                            g + m * E::of(momentum)
                        } else {
                            m
                        }
                    } else {
                        g
                    };
                    *w = w.clone() - dir * E::of(lr);
                }
                OptimizerConfig::Adamw { lr, beta1, beta2, eps, weight_decay } => {
                    let decayed = if weight_decay > 0.0 {
                        w.clone() * E::of(1.0 - lr * weight_decay)
                    } else {
                        w.clone()
                    };
                    let m = self.first[i].clone() * E::of(beta1) + g.clone() * E::of(1.0 - beta1);
                    let v = self.second[i].clone() * E::of(beta2) + g.square() * E::of(1.0 - beta2);
                    let m_hat = m.clone() * E::of(1.0 / (1.0 - beta1.powi(t)));
                    let v_hat = v.clone() * E::of(1.0 / (1.0 - beta2.powi(t)));
                    let step = m_hat / (v_hat.sqrt() + E::of(eps));
                    *w = decayed - step * E::of(lr);
                    self.first[i] = m;
                    self.second[i] = v;
                }
            }
        }
    }

    /// The state, with buffers named after their parameters (`<param>.momentum`,
    /// `<param>.exp_avg`, `<param>.exp_avg_sq`, as PyTorch names them).
    pub fn export(&self, names: &[String]) -> OptimizerState {
        let (first_role, second_role) = match self.config {
            OptimizerConfig::Sgd { .. } => ("momentum", ""),
            OptimizerConfig::Adamw { .. } => ("exp_avg", "exp_avg_sq"),
        };
        let mut buffers = Vec::new();
        for (role, bufs) in [(first_role, &self.first), (second_role, &self.second)] {
            for (name, b) in names.iter().zip(bufs) {
                buffers.push(NamedTensor {
                    name: format!("{name}.{role}"),
                    shape: vec![b.shape().0],
                    data: E::pack(b.as_vec()),
                });
            }
        }
        OptimizerState { kind: self.config.name().into(), updates: self.updates, buffers }
    }

    /// Restores the state exported by [`Optimizer::export`] for the same parameters.
    pub fn import(&mut self, state: &OptimizerState, names: &[String]) -> Result<()> {
        if state.kind != self.config.name() {
            return Err(Error::config(
                "optimizer.kind",
                format!("{} as in the checkpoint", state.kind),
                self.config.name(),
            ));
        }
        let expected = self.first.len() + self.second.len();
        if state.buffers.len() != expected {
            return Err(Error::config(
                "optimizer state",
                format!("{expected} buffers"),
                state.buffers.len(),
            ));
        }
        let mut stored = state.buffers.iter();
        for bufs in [&mut self.first, &mut self.second] {
            for (name, b) in names.iter().zip(bufs.iter_mut()) {
                let t = stored.next().expect("counted above");
                let values = E::unpack(&t.data)
                    .filter(|v| v.len() == b.shape().0 && t.name.starts_with(name.as_str()));
                let values = values.ok_or_else(|| {
                    Error::config(
                        "optimizer state",
                        format!("buffer of {name} with {} {} values", b.shape().0, E::DTYPE.name()),
                        &t.name,
                    )
                })?;
                let n = values.len();
                *b = b.device().tensor_from_vec(values, (n,));
            }
        }
        self.updates = state.updates;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three updates with fixed gradients against the formulas written out on plain numbers.
    fn check(
        config: OptimizerConfig,
        reference: impl Fn(&mut [f64], &mut [f64], &mut [f64], &[f64], i32),
    ) {
        let dev = Cpu::default();
        let w0 = vec![0.5, -1.0, 2.0];
        let grads = [vec![0.1, 0.2, -0.3], vec![-0.4, 0.0, 0.25], vec![1.0, -1.0, 0.5]];
        let mut params = vec![dev.tensor_from_vec(w0.clone(), (3,))];
        let mut opt = Optimizer::new(&config, &params);
        let (mut w, mut m, mut v) = (w0, vec![0.0; 3], vec![0.0; 3]);
        for (t, g) in grads.iter().enumerate() {
            opt.step(&mut params, &[dev.tensor_from_vec(g.clone(), (3,))]);
            reference(&mut w, &mut m, &mut v, g, t as i32 + 1);
            for (a, b) in params[0].as_vec().iter().zip(&w) {
                assert!((a - b).abs() < 1e-14, "{config:?} step {t}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn sgd_variants_follow_their_formulas() {
        check(OptimizerConfig::sgd(0.1), |w, _, _, g, _| {
            for i in 0..3 {
                w[i] -= 0.1 * g[i];
            }
        });
        let config =
            OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, weight_decay: 0.01, nesterov: true };
        check(config, |w, m, _, g, _| {
            for i in 0..3 {
                let g = g[i] + 0.01 * w[i];
                m[i] = 0.9 * m[i] + g;
                w[i] -= 0.1 * (g + 0.9 * m[i]);
            }
        });
    }

    #[test]
    fn adamw_follows_its_formula() {
        let config = OptimizerConfig::Adamw {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
        };
        check(config, |w, m, v, g, t| {
            for i in 0..3 {
                w[i] *= 1.0 - 0.01 * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
                let m_hat = m[i] / (1.0 - 0.9f64.powi(t));
                let v_hat = v[i] / (1.0 - 0.99f64.powi(t));
                w[i] -= 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
            }
        });
    }

    #[test]
    fn exported_state_restores_the_same_trajectory() {
        let dev = Cpu::default();
        let config = OptimizerConfig::Adamw {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        let names = vec!["w".to_string()];
        let g = dev.tensor_from_vec(vec![0.3f64, -0.2], (2,));
        let mut p = vec![dev.tensor_from_vec(vec![1.0f64, 2.0], (2,))];
        let mut a = Optimizer::new(&config, &p);
        a.step(&mut p, std::slice::from_ref(&g));
        let state = a.export(&names);
        assert_eq!(state.buffers.len(), 2);
        let mut b = Optimizer::new(&config, &p);
        b.import(&state, &names).unwrap();
        let mut p2 = p.clone();
        a.step(&mut p, std::slice::from_ref(&g));
        b.step(&mut p2, std::slice::from_ref(&g));
        assert_eq!(p[0].as_vec(), p2[0].as_vec());
        let sgd = Optimizer::<f64, Cpu>::new(&OptimizerConfig::sgd(0.1), &p);
        assert!(b.import(&sgd.export(&names), &names).is_err());
    }
}
