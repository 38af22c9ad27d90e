//! Layers as maps of dual tensors: each function computes a layer's output and its tangent from
//! the input's value and tangent, with ops the tape can differentiate once more.
//!
//! For a layer y = f(x, θ) probed along (ẋ, θ̇) the tangent is ẏ = ∂ₓf·ẋ + ∂_θf·θ̇. The derivative
//! factors (ReLU's mask, 1 − tanh², GELU's polynomial in tanh) are themselves traced functions
//! of x, which is what makes the second derivative exact.

use dfdx::prelude::*;
use gates_models::{Activation, Backend, Batch, Scalar};

use crate::dual::{again, Dual, ParamDual, Stacked, Traced};

/// √(2/π), the scale inside GELU's tanh.
pub(crate) const GELU_SCALE: f64 = 0.797_884_560_802_865_4;

/// Weight of the cubic term inside GELU's tanh.
pub(crate) const GELU_CUBIC: f64 = 0.044_715;

/// The parameters of one linear layer h = a·Wᵀ + b in the stacked network.
pub struct Linear<'p, E: Scalar, D: Backend<E>> {
    /// The weight, `[out, in]` row-major per copy.
    pub weight: &'p ParamDual<E, D>,
    /// The bias, `[out]` per copy, when the layer has one.
    pub bias: Option<&'p ParamDual<E, D>>,
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
}

/// The first layer, whose input x is data: h_j = x·W_jᵀ + b_j and ḣ_j = x·V_jᵀ + ḃ_j.
///
/// All copies share x, so the primal of every copy comes from one matrix product
/// x·[W₁; …; W_k]ᵀ of shape (rows × in)·(in × k·out), and the tangents from x·[V₁; …; V_k]ᵀ.
pub fn linear_input<E: Scalar, D: Backend<E>>(
    x: &Batch<E, D>,
    layer: &Linear<'_, E, D>,
) -> Dual<Stacked, E, D> {
    let k = layer.weight.copies();
    let rows = x.shape().0;
    let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);

    // dfdx keeps the tape on the left operand, so x gets an empty tape of its own; its gradient
    // is computed and dropped.
    let w = layer.weight.traced((k * fan_out, fan_in)).permute::<_, Axes2<1, 0>>();
    let v = layer.weight.direction((k * fan_out, fan_in)).permute::<_, Axes2<1, 0>>();
    let h = x.retaped::<OwnedTape<E, D>>().matmul(w);
    let dh = x.clone().matmul(v).retaped::<OwnedTape<E, D>>();

    // The copies lie side by side in the columns; `contiguous` moves them to the leading axis.
    // Later layers then see contiguous tensors only, which matters beyond speed: dfdx 0.13's
    // logsumexp (and so softmax) gets wrong gradients for a non-contiguous input.
    let unstack = |t: Traced<(usize, usize), E, D>| {
        t.reshape_like(&(rows, k, fan_out)).permute::<_, Axes3<1, 0, 2>>().contiguous()
    };
    add_bias(Dual { primal: unstack(h), tangent: unstack(dh) }, layer)
}

/// A hidden or output layer: h = a·Wᵀ + b and ḣ = ȧ·Wᵀ + a·Vᵀ + ḃ, a batched product per copy.
pub fn linear<E: Scalar, D: Backend<E>>(
    input: Dual<Stacked, E, D>,
    layer: &Linear<'_, E, D>,
) -> Dual<Stacked, E, D> {
    let k = layer.weight.copies();
    let shape = (k, layer.fan_out, layer.fan_in);
    let wt = || layer.weight.traced(shape).permute::<_, Axes3<0, 2, 1>>();
    let vt = layer.weight.direction(shape).permute::<_, Axes3<0, 2, 1>>();

    let h = again(&input.primal).matmul(wt());
    let dh = input.tangent.matmul(wt()) + input.primal.matmul(vt);
    add_bias(Dual { primal: h, tangent: dh }, layer)
}

fn add_bias<E: Scalar, D: Backend<E>>(
    h: Dual<Stacked, E, D>,
    layer: &Linear<'_, E, D>,
) -> Dual<Stacked, E, D> {
    let Some(bias) = layer.bias else { return h };
    let shape = *h.primal.shape();
    let per_copy = (shape.0, shape.2);
    let b = bias.traced(per_copy).broadcast_like::<_, Axis<1>>(&shape);
    let db = bias.direction(per_copy).broadcast_like::<_, Axis<1>>(&shape);
    Dual { primal: h.primal + b, tangent: h.tangent + db }
}

/// The hidden nonlinearity of gates-models' MLP.
pub fn activation<S: Shape, E: Scalar, D: Backend<E>>(
    kind: Activation,
    h: Dual<S, E, D>,
) -> Dual<S, E, D> {
    match kind {
        Activation::Relu => relu(h),
        Activation::Tanh => tanh(h),
        Activation::Gelu => gelu(h),
    }
}

/// ReLU: a = max(0, h), ȧ = 𝟙(h > 0)·ḣ. The mask is piecewise constant, so it needs no tape; it
/// masks the tangent and, on the way back, the tangent's gradient.
pub fn relu<S: Shape, E: Scalar, D: Backend<E>>(h: Dual<S, E, D>) -> Dual<S, E, D> {
    let positive = h.primal.retaped::<NoneTape>().gt(E::zero());
    let zeros = h.primal.device().zeros_like(h.primal.shape());
    let tangent = positive.choose(h.tangent, zeros);
    Dual { primal: h.primal.relu(), tangent }
}

/// tanh: a = tanh(h), ȧ = (1 − a²)·ḣ.
pub fn tanh<S: Shape, E: Scalar, D: Backend<E>>(h: Dual<S, E, D>) -> Dual<S, E, D> {
    let a = h.primal.tanh();
    let slope = again(&a).square().negate() + E::one();
    Dual { primal: a, tangent: slope * h.tangent }
}

/// GELU in its tanh form, as gates-models computes it:
/// a = ½h(1 + t) with t = tanh(u), u = c(h + κh³), c = √(2/π), κ = 0.044715, and
/// ȧ = [½(1 + t) + ½h(1 − t²)·c(1 + 3κh²)]·ḣ.
pub fn gelu<S: Shape, E: Scalar, D: Backend<E>>(h: Dual<S, E, D>) -> Dual<S, E, D> {
    let (c, kappa, half) = (E::of(GELU_SCALE), E::of(GELU_CUBIC), E::of(0.5));
    let x = h.primal;

    let sq = again(&x).square();
    let u = again(&x) * (again(&sq) * kappa + E::one()) * c;
    let t = u.tanh();
    let primal = again(&x) * (again(&t) + E::one()) * half;

    let outer = (again(&t) + E::one()) * half;
    let sech2 = t.square().negate() + E::one();
    let inner = sq * (E::of(3.0) * kappa) + E::one();
    let slope = outer + x * sech2 * inner * (half * c);
    Dual { primal, tangent: slope * h.tangent }
}
