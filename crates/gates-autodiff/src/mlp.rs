//! The tangent pass of gates-models' MLP: the layers of [`crate::layers`] chained in the order
//! of `Mlp::forward`, ending in the loss tangent. A new architecture gets a function of the same
//! shape: stacked parameters and a batch in, s = Σ_j ∇L(w_j)·v_j out.

use gates_models::{Backend, Batch, LossKind, MlpConfig, Scalar};

use crate::dual::{ParamDual, Traced};
use crate::layers::{activation, linear, linear_input, Linear};
use crate::losses::loss_tangent;

/// s = Σ_j ∇L(w_j)·v_j on the tape, for the MLP `config` with stacked parameters `params` (in
/// flat-vector order: weight, then bias when the layers have one) on the batch
/// (`inputs`, `onehot`).
pub fn mlp_tangent<E: Scalar, D: Backend<E>>(
    config: &MlpConfig,
    params: &[ParamDual<E, D>],
    inputs: &Batch<E, D>,
    onehot: &Batch<E, D>,
    loss: LossKind,
) -> Traced<dfdx::shapes::Rank0, E, D> {
    let layers = linear_layers(config, params);
    let (first, rest) = layers.split_first().expect("an MLP has at least one layer");

    let mut h = linear_input(inputs, first);
    for layer in rest {
        h = linear(activation(config.activation, h), layer);
    }
    loss_tangent(loss, h, onehot)
}

/// Groups the flat list of stacked parameters into linear layers.
fn linear_layers<'p, E: Scalar, D: Backend<E>>(
    config: &MlpConfig,
    params: &'p [ParamDual<E, D>],
) -> Vec<Linear<'p, E, D>> {
    let per_layer = if config.bias { 2 } else { 1 };
    assert_eq!(params.len(), per_layer * (config.widths.len() - 1), "parameter tensors");
    config
        .layer_dims()
        .zip(params.chunks_exact(per_layer))
        .map(|((fan_in, fan_out), p)| {
            assert_eq!(p[0].len(), fan_in * fan_out, "weight length");
            Linear { weight: &p[0], bias: p.get(1), fan_in, fan_out }
        })
        .collect()
}
