//! Exact Hessian-vector products of minibatch losses, and the Jacobian of the SGD step, for the
//! models of gates-models, on any dfdx device in f32 or f64.
//!
//! # The identity
//!
//! For a minibatch loss L: ℝ^d → ℝ and a direction v, the directional derivative
//! s(w) = ∇L(w)·v = d/dε L(w + εv)|₀ is a scalar function of w, and its gradient is the Hessian
//! product: ∇_w s(w) = ∇²L(w)·v = Hv (v does not depend on w, and H is symmetric).
//!
//! dfdx 0.13 cannot differentiate its own backward pass, so s is computed by forward mode
//! written with ordinary dfdx ops: every layer maps a value and its tangent, a [`Dual`], to the
//! output's value and tangent, while w is traced (v is a constant). The loss then contracts its
//! gradient in the logits with the logits' tangent, giving s on the tape, and one call to
//! `backward()` on s returns Hv. This is reverse-over-forward: one tangent pass plus one
//! backward pass, about three to four times the cost of a gradient, exact to rounding.
//!
//! # Engines
//!
//! [`Engine::Tape`] is the construction above, on any dfdx device and for any architecture
//! whose layers have dual functions ([`layers`]). [`Engine::Host`], the default on dfdx's CPU
//! device, computes the same products for MLPs with the reverse pass written out by hand
//! (second-order adjoints) on faer matrices, and shares the primal pass of a minibatch across
//! all its products ([`host`]). The tests hold the two to each other and to finite differences.
//!
//! # Blocks
//!
//! For k directions the network is stacked k times along a leading copy axis: copy j has its own
//! traced parameters w_j (equal to w) and direction v_j, and s = Σ_j ∇L(w_j)·v_j. Since copy j's
//! part of s depends on w_j alone, ∂s/∂w_j = H v_j, and one backward pass returns all k products.
//! The first layer of every copy reads the same data x, so its k primal products are one matrix
//! product x·[W₁; …; W_k]ᵀ and its k tangents one product x·[V₁; …; V_k]ᵀ; later layers use
//! batched matrix products.
//!
//! # Example
//!
//! ```
//! use gates_autodiff::MinibatchLoss;
//! use gates_models::data::synthetic::GaussianSpec;
//! use gates_models::{LossKind, Mlp, MlpConfig};
//!
//! let data = GaussianSpec { classes: 3, dim: 4, n_train: 8, n_test: 1, separation: 1.0, seed: 1 }
//!     .generate()
//!     .unwrap()
//!     .train;
//! let dev = dfdx::tensor::Cpu::default();
//! let model = Mlp::<f64, _>::init(&MlpConfig::new(&[4, 5, 3]), &dev).unwrap();
//! let batch: Vec<usize> = (0..8).collect();
//! let loss = MinibatchLoss::new(&model, &data, &batch, LossKind::CrossEntropy).unwrap();
//! let v = vec![1.0; loss.dim()];
//! let hv = loss.hvp(&v).unwrap();
//! assert_eq!(hv.len(), 35);
//! ```

pub mod block;
pub mod dual;
pub mod error;
pub mod host;
pub mod layers;
pub mod losses;
pub mod minibatch;
pub mod mlp;
pub mod operator;
pub mod sgd;
pub mod toy;

pub use block::Block;
pub use dual::{Dual, ParamDual, Stacked, Traced};
pub use error::{Error, Result};
pub use minibatch::{Engine, HvpParams, MinibatchLoss};
pub use operator::SymmetricOperator;
pub use sgd::SgdJacobian;
pub use toy::ToyLoss;
