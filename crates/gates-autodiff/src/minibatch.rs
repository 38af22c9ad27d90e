//! The loss of one minibatch as a function of the flat parameter vector w ∈ ℝ^d: its value,
//! gradient and exact Hessian products, one vector at a time or a block at once.

use std::any::TypeId;
use std::sync::{Mutex, OnceLock};

use dfdx::prelude::*;
use gates_models::data::Dataset;
use gates_models::{Backend, Batch, LossKind, Mlp, Scalar};

use crate::block::Block;
use crate::dual::ParamDual;
use crate::error::{Error, Result};
use crate::host::HostMlp;
use crate::mlp::mlp_tangent;
use crate::operator::SymmetricOperator;

/// The parameter tensors of a stacked network, `[copies, len]` each, in flat order.
type Copies<E, D> = Vec<Tensor<(usize, usize), E, D>>;

/// Which implementation computes Hessian products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The host kernel on dfdx's CPU device, the tape everywhere else.
    #[default]
    Auto,
    /// Forward-mode tangents in dfdx ops and dfdx's reverse pass ([`crate::layers`]): any
    /// device, any architecture with dual layer functions.
    Tape,
    /// The hand-written second-order reverse pass on faer matrices ([`crate::host`]): MLPs on
    /// the CPU, several times faster there; the weights and batch are copied to the host once.
    Host,
}

/// Settings of Hessian products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HvpParams {
    /// Most directions pushed through one stacked pass. A block of more columns is split into
    /// passes of at most this many. Memory grows linearly with it (k copies of the tangents and,
    /// on the tape, of the parameters and their gradients); speed per vector stops improving
    /// once the matrix products are large. The host kernel caps passes further, to keep them
    /// in cache and small enough that a block's passes spread over the cores, and runs them in
    /// parallel. Default 16.
    pub max_copies: usize,
    /// Which implementation to use. Default [`Engine::Auto`].
    pub engine: Engine,
}

impl Default for HvpParams {
    fn default() -> Self {
        Self { max_copies: 16, engine: Engine::Auto }
    }
}

/// L_B(w) = (1/b)Σ_{i∈B} ℓ(w, z_i) for a fixed model architecture and minibatch B, at the
/// model's current weights.
///
/// The batch tensors are built once. Hessian products are exact (no finite differences): see
/// the crate docs for the reverse-over-forward identity.
pub struct MinibatchLoss<'a, E: Scalar, D: Backend<E>> {
    model: &'a Mlp<E, D>,
    loss: LossKind,
    inputs: Batch<E, D>,
    onehot: Batch<E, D>,
    indices: Vec<usize>,
    data: &'a Dataset,
    params: HvpParams,
    host: OnceLock<Option<HostMlp<E>>>,
    copies: Mutex<Option<(usize, Copies<E, D>)>>,
}

impl<'a, E: Scalar, D: Backend<E>> MinibatchLoss<'a, E, D> {
    /// The loss of `model` on the samples `indices` of `data` (repeats allowed).
    pub fn new(
        model: &'a Mlp<E, D>,
        data: &'a Dataset,
        indices: &[usize],
        loss: LossKind,
    ) -> Result<Self> {
        let widths = &model.config().widths;
        if indices.is_empty() {
            return Err(Error::EmptyBatch);
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= data.len()) {
            return Err(Error::Index { index, len: data.len() });
        }
        if data.input_dim != widths[0] {
            return Err(Error::Mismatch {
                what: "input features",
                expected: widths[0],
                got: data.input_dim,
            });
        }
        let classes = *widths.last().expect("validated widths");
        if data.classes != classes {
            return Err(Error::Mismatch { what: "classes", expected: classes, got: data.classes });
        }

        let dev = model.device();
        Ok(Self {
            model,
            loss,
            inputs: data.inputs_tensor(&dev, indices),
            onehot: data.onehot_tensor(&dev, indices),
            indices: indices.to_vec(),
            data,
            params: HvpParams::default(),
            host: OnceLock::new(),
            copies: Mutex::new(None),
        })
    }

    /// Replaces the settings.
    pub fn with_params(mut self, params: HvpParams) -> Result<Self> {
        if params.max_copies == 0 {
            return Err(Error::Param {
                key: "max_copies",
                expected: "at least 1",
                got: params.max_copies.to_string(),
            });
        }
        self.params = params;
        Ok(self)
    }

    /// The model whose weights are the point w.
    pub fn model(&self) -> &Mlp<E, D> {
        self.model
    }

    /// Which loss.
    pub fn loss_kind(&self) -> LossKind {
        self.loss
    }

    /// Number of samples b.
    pub fn batch_size(&self) -> usize {
        self.inputs.shape().0
    }

    /// Number of parameters d.
    pub fn dim(&self) -> usize {
        self.model.param_count()
    }

    /// L_B(w), computed by gates-models' own forward pass.
    pub fn loss(&self) -> f64 {
        let logits = self.model.forward(self.inputs.clone());
        self.loss.batch_loss(logits, self.onehot.clone()).as_vec()[0].f64()
    }

    /// ∇L_B(w), flat, by gates-models' forward pass and dfdx's backward pass.
    pub fn gradient(&self) -> Vec<E> {
        let logits = self.model.forward(self.inputs.clone().traced(Gradients::leaky()));
        let grads = self.loss.batch_loss(logits, self.onehot.clone()).backward();
        let mut flat = vec![E::zero(); self.dim()];
        let mut offset = 0;
        for p in self.model.params() {
            let n = p.shape().0;
            grads.get(p).copy_into(&mut flat[offset..offset + n]);
            offset += n;
        }
        flat
    }

    /// ∇L_B(w)·v from the tangent pass alone (no backward pass): the first-order half of the
    /// Hessian product, exposed so that it can be checked against [`Self::gradient`].
    pub fn directional_derivative(&self, v: &[E]) -> Result<E> {
        self.check_len("direction", v)?;
        let params = self.stacked_params(&[v]);
        Ok(self.tangent_scalar(&params).as_vec()[0])
    }

    /// H_B(w)·v.
    pub fn hvp(&self, v: &[E]) -> Result<Vec<E>> {
        let mut out = vec![E::nan(); v.len()];
        self.hvp_into(v, &mut out)?;
        Ok(out)
    }

    /// Writes H_B(w)·v into `out` (every entry is overwritten), for callers that reuse buffers.
    pub fn hvp_into(&self, v: &[E], out: &mut [E]) -> Result<()> {
        self.check_len("direction", v)?;
        self.check_len("product", out)?;
        self.products(&[v], &mut [out]);
        Ok(())
    }

    /// H_B(w)·V for the columns of V, in stacked passes of at most `max_copies` columns.
    pub fn hvp_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        let mut out = Block::filled(vs.dim(), vs.cols(), E::nan());
        self.hvp_block_into(vs, &mut out)?;
        Ok(out)
    }

    /// Writes H_B(w)·V into `out`, a block of the same shape (every entry is overwritten).
    pub fn hvp_block_into(&self, vs: &Block<E>, out: &mut Block<E>) -> Result<()> {
        let expected = self.dim();
        if vs.dim() != expected {
            return Err(Error::Length { what: "block columns", expected, got: vs.dim() });
        }
        if (out.dim(), out.cols()) != (vs.dim(), vs.cols()) {
            let (expected, got) = (vs.dim() * vs.cols(), out.dim() * out.cols());
            return Err(Error::Length { what: "product block", expected, got });
        }
        let columns: Vec<&[E]> = vs.columns().collect();
        let mut outputs: Vec<&mut [E]> = out.columns_mut().collect();
        if let Some(host) = self.host_kernel() {
            let pass = self.params.max_copies.min(host.copies_per_pass());
            host.block_products(&columns, &mut outputs, pass);
            return Ok(());
        }
        let pass = self.params.max_copies;
        for (dirs, outs) in columns.chunks(pass).zip(outputs.chunks_mut(pass)) {
            tracing::trace!(copies = dirs.len(), dim = vs.dim(), "stacked hessian pass");
            self.tape_products(dirs, outs);
        }
        Ok(())
    }

    fn check_len(&self, what: &'static str, v: &[E]) -> Result<()> {
        if v.len() != self.dim() {
            return Err(Error::Length { what, expected: self.dim(), got: v.len() });
        }
        Ok(())
    }

    /// One stacked pass: `out[j] = H·directions[j]`.
    fn products(&self, directions: &[&[E]], out: &mut [&mut [E]]) {
        match self.host_kernel() {
            Some(host) => host.products(directions, out),
            None => self.tape_products(directions, out),
        }
    }

    /// The host kernel when the settings and the device call for it.
    fn host_kernel(&self) -> Option<&HostMlp<E>> {
        let wanted = match self.params.engine {
            Engine::Tape => false,
            Engine::Host => true,
            Engine::Auto => TypeId::of::<D>() == TypeId::of::<Cpu>(),
        };
        if !wanted {
            return None;
        }
        self.host
            .get_or_init(|| {
                let (config, w) = (self.model.config(), self.model.flat());
                let host = HostMlp::new(config, self.loss, w, self.data, &self.indices);
                tracing::debug!(
                    model = %config.describe(),
                    batch = self.indices.len(),
                    available = host.is_some(),
                    "host kernel for hessian products"
                );
                host
            })
            .as_ref()
    }

    /// One stacked pass on the tape.
    fn tape_products(&self, directions: &[&[E]], out: &mut [&mut [E]]) {
        let params = self.stacked_params(directions);
        let grads = self.tangent_scalar(&params).backward();

        let mut offset = 0;
        let mut host = Vec::new();
        for p in &params {
            let n = p.len();
            host.resize(p.copies() * n, E::zero());
            grads.get(p.leaf()).copy_into(&mut host);
            for (col, row) in out.iter_mut().zip(host.chunks_exact(n)) {
                col[offset..offset + n].copy_from_slice(row);
            }
            offset += n;
        }
    }

    /// k copies of every parameter tensor as `[k, len]` tensors, kept for the last k asked
    /// for (a block is split into passes of equal size but the last), since building them
    /// costs a pass over k·d values.
    fn parameter_copies(&self, k: usize) -> Copies<E, D> {
        if k == 1 {
            let params = self.model.params().iter();
            return params.map(|p| p.clone().reshape_like(&(1, p.shape().0))).collect();
        }
        let mut cache = self.copies.lock().expect("copies lock");
        if let Some((cached, copies)) = cache.as_ref() {
            if *cached == k {
                return copies.clone();
            }
        }
        let dev = self.model.device();
        let copies: Vec<_> = self
            .model
            .params()
            .iter()
            .map(|p| {
                let shape = (k, p.shape().0);
                dev.zeros_like(&shape) + p.clone().broadcast_like::<_, Axis<0>>(&shape)
            })
            .collect();
        *cache = Some((k, copies.clone()));
        copies
    }

    fn tangent_scalar(&self, params: &[ParamDual<E, D>]) -> Tensor<Rank0, E, D, OwnedTape<E, D>> {
        mlp_tangent(self.model.config(), params, &self.inputs, &self.onehot, self.loss)
    }

    /// k traced copies of every parameter tensor, each paired with its slice of the k
    /// directions. A single direction uses the model's tensor itself (no copy).
    fn stacked_params(&self, directions: &[&[E]]) -> Vec<ParamDual<E, D>> {
        let k = directions.len();
        let dev = self.model.device();
        let copies = self.parameter_copies(k);
        let mut offset = 0;
        let mut params = Vec::with_capacity(copies.len());
        for value in copies {
            let n = value.shape().1;
            let mut direction = Vec::with_capacity(k * n);
            for v in directions {
                direction.extend_from_slice(&v[offset..offset + n]);
            }
            params.push(ParamDual::new(value, dev.tensor_from_vec(direction, (k, n))));
            offset += n;
        }
        params
    }
}

impl<E: Scalar, D: Backend<E>> SymmetricOperator<E> for MinibatchLoss<'_, E, D> {
    fn dim(&self) -> usize {
        MinibatchLoss::dim(self)
    }

    fn apply(&self, v: &[E]) -> Result<Vec<E>> {
        self.hvp(v)
    }

    fn apply_block(&self, vs: &Block<E>) -> Result<Block<E>> {
        self.hvp_block(vs)
    }
}
