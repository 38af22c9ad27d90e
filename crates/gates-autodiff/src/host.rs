//! The host kernel: MLP Hessian products on the CPU with faer matrix products, the reverse pass
//! written out by hand.
//!
//! It computes the same quantity as the tape path (forward-mode tangents, then a reverse pass)
//! but propagates second-order adjoints explicitly (Pearlmutter's R-operator): for a linear layer
//! h = a·Wᵀ + b with adjoint h̄, probed along V,
//!
//! - tangent:  ḣ = ȧ·Wᵀ + a·Vᵀ + ḃ;
//! - adjoint:  ā = h̄·W, and R{ā} = R{h̄}·W + h̄·V;
//! - product:  R{W̄} = R{h̄}ᵀ·a + h̄ᵀ·ȧ and R{b̄} = Σ_rows R{h̄}, the layer's part of Hv;
//!
//! for an activation a = σ(h): ȧ = σ'(h)⊙ḣ, h̄ = σ'(h)⊙ā, R{h̄} = σ''(h)⊙ḣ⊙ā + σ'(h)⊙R{ā}; and
//! for the loss: R{z̄} = (diag(p) − ppᵀ)ż/b (cross-entropy) or ż/b (squared error).
//!
//! What this buys over the tape on a CPU: faer's matrix products (AVX-512 where the CPU has
//! it), no per-op allocation or bookkeeping, no gradient of the data or of the direction, and a
//! primal pass (values, σ', σ'', adjoints h̄ and ā) computed once per minibatch and shared by
//! every later product, so a product costs about six products of each weight's size per sample
//! (two in the first layer) against nine for JAX's forward-over-reverse.
//!
//! For k directions the tangents of all copies are stacked by rows, `[copy 1; …; copy k]`
//! (k·b rows, column-major), so products with W are one matrix product for the whole block.
//! The other four products of a layer (a·Vᵀ, h̄·V, aᵀ·R{h̄} and ȧᵀ·h̄) pair a per-copy operand
//! with one shared by all copies; each is also one matrix product for the block, with the
//! per-copy operands gathered side by side and the results scattered back. Gathers and scatters
//! move about 1/b of the product's multiply-adds in memory, and a wide product runs near the
//! core's peak where k skinny ones (a 16-wide layer) do not.
//!
//! It covers the MLPs of gates-models only; other architectures run on the tape path.

use std::any::Any;
use std::sync::{Mutex, OnceLock};

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use gates_models::data::Dataset;
use gates_models::{Activation, LossKind, MlpConfig, Scalar};
use rayon::prelude::*;

/// Matrix products dst (+)= lhs·rhs in precision `E`.
///
/// The kernel is generic over gates-models' [`Scalar`], which faer does not know; faer's product
/// is reached through this object, found by type at run time ([`faer_gemm`]), so directions and
/// products stay in the caller's buffers without conversion.
pub(crate) trait Gemm<E>: Sync {
    /// dst = lhs·rhs, or dst += lhs·rhs with `Accum::Add`.
    fn gemm(
        &self,
        dst: MatMut<'_, E>,
        accum: Accum,
        lhs: MatRef<'_, E>,
        rhs: MatRef<'_, E>,
        par: Par,
    );
}

/// faer's matrix product.
struct Faer;

impl Gemm<f32> for Faer {
    fn gemm(
        &self,
        dst: MatMut<'_, f32>,
        accum: Accum,
        lhs: MatRef<'_, f32>,
        rhs: MatRef<'_, f32>,
        par: Par,
    ) {
        matmul(dst, accum, lhs, rhs, 1.0, par);
    }
}

impl Gemm<f64> for Faer {
    fn gemm(
        &self,
        dst: MatMut<'_, f64>,
        accum: Accum,
        lhs: MatRef<'_, f64>,
        rhs: MatRef<'_, f64>,
        par: Par,
    ) {
        matmul(dst, accum, lhs, rhs, 1.0, par);
    }
}

/// faer's product for `E` when `E` is f32 or f64.
pub(crate) fn faer_gemm<E: 'static>() -> Option<&'static dyn Gemm<E>> {
    let single: &'static dyn Gemm<f32> = &Faer;
    let double: &'static dyn Gemm<f64> = &Faer;
    let found = (&single as &dyn Any).downcast_ref::<&'static dyn Gemm<E>>();
    found.or_else(|| (&double as &dyn Any).downcast_ref::<&'static dyn Gemm<E>>()).copied()
}

/// Where a layer's parameters sit in the flat vector.
#[derive(Clone, Copy, Debug)]
struct Layer {
    fan_in: usize,
    fan_out: usize,
    weight: usize,
    bias: Option<usize>,
}

/// An MLP, its weights and one minibatch, on the host in precision `T`. Matrices are
/// column-major; a weight stored row-major `[out, in]` is read as the column-major Wᵀ.
pub(crate) struct HostMlp<T: 'static> {
    gemm: &'static dyn Gemm<T>,
    layers: Vec<Layer>,
    activation: Activation,
    loss: LossKind,
    rows: usize,
    dim: usize,
    w: Vec<T>,
    /// Inputs, rows × in, stored row-major.
    x: Vec<T>,
    /// One-hot targets, rows × classes.
    y: Vec<T>,
    primal: OnceLock<Primal<T>>,
    /// Scratch buffers kept between calls: fresh large allocations cost page faults.
    pool: Mutex<Vec<Vec<T>>>,
}

/// Everything of the pass through the network that does not depend on the direction.
struct Primal<T> {
    /// A_ℓ, the input of layer ℓ ≥ 1 (index 0 unused: the input is x).
    acts: Vec<Vec<T>>,
    /// σ'(H_ℓ) of every hidden layer.
    slope: Vec<Vec<T>>,
    /// σ''(H_ℓ) of every hidden layer (empty for ReLU, where it vanishes).
    curve: Vec<Vec<T>>,
    /// softmax(Z), rows × classes (cross-entropy only).
    probs: Vec<T>,
    /// H̄_ℓ, the adjoint of every layer's output.
    adj_h: Vec<Vec<T>>,
    /// Ā_ℓ, the adjoint of the input of layer ℓ ≥ 1 (index 0 unused).
    adj_a: Vec<Vec<T>>,
}

impl<T: Scalar> HostMlp<T> {
    /// The MLP `config` with flat weights `w` on the samples `indices` of `data`; `None` when
    /// faer has no product for `T`.
    pub(crate) fn new(
        config: &MlpConfig,
        loss: LossKind,
        w: Vec<T>,
        data: &Dataset,
        indices: &[usize],
    ) -> Option<Self> {
        let gemm = faer_gemm::<T>()?;
        let mut layers = Vec::new();
        let mut offset = 0;
        for (fan_in, fan_out) in config.layer_dims() {
            let weight = offset;
            offset += fan_in * fan_out;
            let bias = config.bias.then(|| {
                offset += fan_out;
                offset - fan_out
            });
            layers.push(Layer { fan_in, fan_out, weight, bias });
        }
        assert_eq!(offset, w.len(), "flat weights fit the architecture");

        // x is kept row-major (a copy of the samples' rows) and read as a transposed view:
        // building the column-major matrix would be a transpose, slower than the product.
        let rows = indices.len();
        let (features, mut x) = (data.input_dim, Vec::with_capacity(rows * data.input_dim));
        let mut y = vec![T::zero(); rows * data.classes];
        for (r, &i) in indices.iter().enumerate() {
            let sample = &data.inputs[i * features..(i + 1) * features];
            x.extend(sample.iter().map(|&v| T::of(v as f64)));
            y[data.labels[i] as usize * rows + r] = T::one();
        }
        Some(Self {
            gemm,
            layers,
            activation: config.activation,
            loss,
            rows,
            dim: offset,
            w,
            x,
            y,
            primal: OnceLock::new(),
            pool: Mutex::new(Vec::new()),
        })
    }

    /// dst (+)= lhs·rhs, parallel over the global rayon pool when large enough.
    fn gemm(&self, dst: MatMut<'_, T>, accum: Accum, lhs: MatRef<'_, T>, rhs: MatRef<'_, T>) {
        let par = parallelism(dst.nrows() * dst.ncols() * lhs.ncols());
        self.gemm.gemm(dst, accum, lhs, rhs, par);
    }

    /// A scratch buffer of length `len`, reusing one from the pool when possible. Its contents
    /// are unspecified: every use overwrites it whole.
    fn scratch(&self, len: usize) -> Vec<T> {
        let mut v = self.pool.lock().expect("pool lock").pop().unwrap_or_default();
        v.resize(len, T::zero());
        v
    }

    /// Returns scratch buffers to the pool.
    fn recycle(&self, buffers: impl IntoIterator<Item = Vec<T>>) {
        let mut pool = self.pool.lock().expect("pool lock");
        pool.extend(buffers.into_iter().filter(|v| v.capacity() > 0));
    }

    /// Multiply-adds of one Hessian product, about: six products of each weight's size per
    /// sample (two in the first layer, where ȧ = 0).
    fn work_per_direction(&self) -> usize {
        let weights = self.layers.iter().map(|l| l.fan_in * l.fan_out);
        self.rows
            * weights.enumerate().map(|(l, n)| if l == 0 { 2 * n } else { 6 * n }).sum::<usize>()
    }

    /// Copies per pass of a block product: at most enough to keep a pass's tangent buffers
    /// (about four of k·b × width, at the widest layer after the input) within [`PASS_BYTES`],
    /// and at most [`PASS_WORK`] multiply-adds, so that a block splits into several passes that
    /// run on different cores ([`HostMlp::block_products`]).
    ///
    /// Wide layers gain nothing from stacking: their per-copy products are already wide (200
    /// columns in the 5-layer MLP), and a pass of 8 copies there measured 5% slower per vector
    /// than single products, so only narrow networks get several copies per pass. The rule
    /// depends on the network and the batch alone, not on the number of threads, so a product's
    /// rounding does not change with the machine's core count.
    pub(crate) fn copies_per_pass(&self) -> usize {
        let widest = self.layers.iter().map(|l| l.fan_out).max().unwrap_or(1);
        let per_copy = 4 * self.rows * widest * std::mem::size_of::<T>();
        let by_memory = PASS_BYTES / per_copy.max(1);
        let by_work = PASS_WORK / self.work_per_direction().max(1);
        by_memory.min(by_work).max(1)
    }

    /// `out[j] = H·directions[j]` for all j, in passes of at most `pass` copies that run in
    /// parallel on the global rayon pool (each pass also splits its own work when it is large,
    /// see [`HostMlp::products`]).
    pub(crate) fn block_products(&self, directions: &[&[T]], out: &mut [&mut [T]], pass: usize) {
        let passes: Vec<_> = directions.chunks(pass).zip(out.chunks_mut(pass)).collect();
        passes.into_par_iter().for_each(|(dirs, outs)| {
            tracing::trace!(copies = dirs.len(), dim = self.dim, "stacked hessian pass");
            self.products(dirs, outs);
        });
    }

    /// Wᵀ of layer ℓ, in × out.
    fn weight_t(&self, l: usize) -> MatRef<'_, T> {
        let layer = self.layers[l];
        let n = layer.fan_in * layer.fan_out;
        mat(&self.w[layer.weight..layer.weight + n], layer.fan_in, layer.fan_out)
    }

    fn primal(&self) -> &Primal<T> {
        self.primal.get_or_init(|| self.compute_primal())
    }

    fn compute_primal(&self) -> Primal<T> {
        let b = self.rows;
        let depth = self.layers.len();
        let mut acts = vec![Vec::new()];
        let (mut slope, mut curve) = (Vec::new(), Vec::new());

        let mut logits = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let input = if l == 0 {
                mat(&self.x, layer.fan_in, b).transpose()
            } else {
                mat(&acts[l], b, layer.fan_in)
            };
            let mut h = vec![T::zero(); b * layer.fan_out];
            self.gemm(mat_mut(&mut h, b, layer.fan_out), Accum::Replace, input, self.weight_t(l));
            if let Some(offset) = layer.bias {
                add_row(&mut h, b, &self.w[offset..offset + layer.fan_out]);
            }
            if l + 1 == depth {
                logits = h;
            } else {
                let (a, s, c) = activate(self.activation, &h);
                acts.push(a);
                slope.push(s);
                curve.push(c);
            }
        }

        // z̄ = (p − y)/b or (z − y)/b; then h̄_{ℓ−1} = σ'(h_{ℓ−1}) ⊙ (h̄_ℓ·W_ℓ).
        let scale = T::one() / T::of(b as f64);
        let probs = match self.loss {
            LossKind::CrossEntropy => softmax_rows(&logits, b),
            LossKind::Mse => Vec::new(),
        };
        let fit = if probs.is_empty() { &logits } else { &probs };
        let top: Vec<T> = fit.iter().zip(&self.y).map(|(&p, &y)| (p - y) * scale).collect();
        let mut adj_h = vec![Vec::new(); depth];
        let mut adj_a = vec![Vec::new(); depth];
        adj_h[depth - 1] = top;
        for l in (1..depth).rev() {
            let layer = self.layers[l];
            let mut a = vec![T::zero(); b * layer.fan_in];
            self.gemm(
                mat_mut(&mut a, b, layer.fan_in),
                Accum::Replace,
                mat(&adj_h[l], b, layer.fan_out),
                self.weight_t(l).transpose(),
            );
            adj_h[l - 1] = a.iter().zip(&slope[l - 1]).map(|(&a, &s)| a * s).collect();
            adj_a[l] = a;
        }
        Primal { acts, slope, curve, probs, adj_h, adj_a }
    }

    /// `out[j] = H·directions[j]` for all j, in one pass.
    ///
    /// Work is split so that two cores stay busy without splitting small products: the products
    /// with the directions (a_ℓ·V_ℓᵀ) do not depend on each other and run first, one per layer
    /// for all copies, all at once; then the chain ȧ_ℓ → ḣ_ℓ runs forward and the chain
    /// R{h̄}_ℓ → R{ā}_ℓ backward, and each layer's weight products R{W̄}_ℓ leave the backward
    /// chain as separate tasks. A pass with little work stays on the calling thread.
    pub(crate) fn products(&self, directions: &[&[T]], out: &mut [&mut [T]]) {
        debug_assert!(directions.iter().all(|v| v.len() == self.dim), "direction length");
        debug_assert!(out.iter().all(|v| v.len() == self.dim), "product length");
        let p = self.primal();
        let (b, k) = (self.rows, directions.len());
        let (kb, ld) = (k * b, leading_dim(k * b));
        let depth = self.layers.len();
        let parallel = k * self.work_per_direction() >= TASK_MIN_WORK;

        // Tangent pass, first the direction terms: ḣ_ℓ = a_ℓ·V_ℓᵀ + ḃ_ℓ for every layer and copy.
        let mut h_dot: Vec<Vec<T>> =
            self.layers.iter().map(|layer| self.scratch(ld * layer.fan_out)).collect();
        let direction_term =
            |(l, h): (usize, &mut Vec<T>)| self.direction_term(p, directions, l, h, ld);
        if parallel {
            h_dot.par_iter_mut().enumerate().for_each(direction_term);
        } else {
            h_dot.iter_mut().enumerate().for_each(direction_term);
        }
        for (layer, h) in self.layers.iter().zip(&mut h_dot) {
            if let Some(offset) = layer.bias {
                for (j, dir) in directions.iter().enumerate() {
                    add_row_block(h, ld, j, b, &dir[offset..offset + layer.fan_out]);
                }
            }
        }

        // Then the chain through the layers: ȧ_ℓ = σ'(h_{ℓ−1}) ⊙ ḣ_{ℓ−1}, ḣ_ℓ += ȧ_ℓ·W_ℓᵀ.
        let mut a_dot: Vec<Vec<T>> = vec![Vec::new()];
        for l in 1..depth {
            let layer = self.layers[l];
            let mut a = self.scratch(ld * layer.fan_in);
            scale_stacked(&mut a, &h_dot[l - 1], &p.slope[l - 1], b, kb, ld);
            let dst = stacked_mut(&mut h_dot[l], kb, layer.fan_out, ld);
            self.gemm(dst, Accum::Add, stacked(&a, kb, layer.fan_in, ld), self.weight_t(l));
            a_dot.push(a);
        }

        // The loss: R{z̄}.
        let mut r_h: Vec<Vec<T>> =
            self.layers.iter().map(|layer| self.scratch(ld * layer.fan_out)).collect();
        let z_dot = &h_dot[depth - 1];
        match self.loss {
            LossKind::CrossEntropy => {
                softmax_tangent(&mut r_h[depth - 1], &p.probs, z_dot, b, kb, ld)
            }
            LossKind::Mse => {
                let scale = T::one() / T::of(b as f64);
                r_h[depth - 1].iter_mut().zip(z_dot).for_each(|(r, &z)| *r = z * scale);
            }
        }

        let pass = Pass { p, directions, h_dot: &h_dot, a_dot: &a_dot, k, ld };
        let parts = split_layers(out, &self.layers);
        let scratch = if parallel {
            rayon::scope(|scope| {
                self.reverse(&pass, &mut r_h, parts, &mut |task| scope.spawn(move |_| task()))
            })
        } else {
            self.reverse(&pass, &mut r_h, parts, &mut |task| task())
        };
        self.recycle(r_h.into_iter().chain(scratch).chain(h_dot).chain(a_dot));
    }

    /// The backward chain: R{ā}_ℓ = R{h̄}_ℓ·W_ℓ + h̄_ℓ·V_ℓ, then R{h̄}_{ℓ−1} through the
    /// activation; each layer's R{W̄}_ℓ = aᵀ·R{h̄}_ℓ + ȧᵀ·h̄_ℓ and R{b̄}_ℓ = Σ_rows R{h̄}_ℓ go to
    /// `run` as one task per layer. `r_h` holds R{z̄} on entry in its last slot. Returns the
    /// scratch buffers it used.
    fn reverse<'s>(
        &'s self,
        pass: &Pass<'s, T>,
        r_h: &'s mut [Vec<T>],
        mut parts: Vec<Vec<Part<'s, T>>>,
        run: &mut dyn FnMut(Task<'s>),
    ) -> Vec<Vec<T>> {
        let (p, b, ld) = (pass.p, self.rows, pass.ld);
        let kb = pass.k * b;
        let mut used = Vec::new();
        let mut pending: &'s mut [Vec<T>] = r_h;
        for l in (0..self.layers.len()).rev() {
            let (lower, this) = pending.split_at_mut(l);
            let this: &'s [T] = &this[0];
            pending = lower;
            let layer = self.layers[l];
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);

            let part = parts.pop().expect("one part per layer");
            let a_dot: &'s [T] = &pass.a_dot[l];
            run(Box::new(move || self.weight_products(p, l, this, a_dot, part, ld)));
            if l == 0 {
                break;
            }

            let mut r_a = self.scratch(ld * fan_in);
            self.adjoint_direction_term(p, pass.directions, l, &mut r_a, ld);
            let w = self.weight_t(l).transpose();
            let (dst, lhs) =
                (stacked_mut(&mut r_a, kb, fan_in, ld), stacked(this, kb, fan_out, ld));
            self.gemm(dst, Accum::Add, lhs, w);
            let shared =
                Shared { adj_a: &p.adj_a[l], slope: &p.slope[l - 1], curve: &p.curve[l - 1] };
            let next = &mut pending[l - 1];
            activation_adjoint_tangent(next, &r_a, &pass.h_dot[l - 1], shared, b, kb, ld);
            used.push(r_a);
        }
        used
    }

    /// ḣ_ℓ = a_ℓ·V_ℓᵀ for every copy, written into the row-stacked `h` (column stride `ld`).
    /// a_ℓ is shared by the copies, so their k products are one, a_ℓ·[V_1ᵀ … V_kᵀ], with the
    /// directions' weights gathered side by side; its column blocks are then moved to the
    /// copies' row blocks. One wide product runs near the core's peak where k skinny ones (a
    /// 16-wide layer) do not.
    fn direction_term(&self, p: &Primal<T>, dirs: &[&[T]], l: usize, h: &mut [T], ld: usize) {
        let (b, k) = (self.rows, dirs.len());
        let Layer { fan_in, fan_out, weight, .. } = self.layers[l];
        let input = self.input(p, l);
        if k == 1 {
            let (dst, dir) = (stacked_mut(h, b, fan_out, ld), self.direction_t(dirs, l, 0));
            self.gemm.gemm(dst, Accum::Replace, input, dir, Par::Seq);
            return;
        }

        let n = fan_in * fan_out;
        let mut gathered = self.scratch(k * n);
        for (dst, dir) in gathered.chunks_exact_mut(n).zip(dirs) {
            dst.copy_from_slice(&dir[weight..weight + n]);
        }
        let mut wide = self.scratch(b * k * fan_out);
        let (dst, rhs) = (mat_mut(&mut wide, b, k * fan_out), mat(&gathered, fan_in, k * fan_out));
        self.gemm(dst, Accum::Replace, input, rhs);
        scatter_copies(&wide, h, b, fan_out, ld);
        self.recycle([gathered, wide]);
    }

    /// R{ā}_ℓ = h̄_ℓ·V_ℓ for every copy, written into the row-stacked `r_a` (column stride
    /// `ld`). h̄_ℓ is shared, so the k products are one, h̄_ℓ·[V_1 … V_k], with the directions'
    /// rows gathered side by side (a row-major out × k·in matrix).
    fn adjoint_direction_term(
        &self,
        p: &Primal<T>,
        dirs: &[&[T]],
        l: usize,
        r_a: &mut [T],
        ld: usize,
    ) {
        let (b, k) = (self.rows, dirs.len());
        let Layer { fan_in, fan_out, weight, .. } = self.layers[l];
        let adj = mat(&p.adj_h[l], b, fan_out);
        if k == 1 {
            let dst = stacked_mut(r_a, b, fan_in, ld);
            self.gemm(dst, Accum::Replace, adj, self.direction_t(dirs, l, 0).transpose());
            return;
        }

        let mut gathered = self.scratch(k * fan_in * fan_out);
        for (o, row) in gathered.chunks_exact_mut(k * fan_in).enumerate() {
            let at = weight + o * fan_in;
            for (dst, dir) in row.chunks_exact_mut(fan_in).zip(dirs) {
                dst.copy_from_slice(&dir[at..at + fan_in]);
            }
        }
        let mut wide = self.scratch(b * k * fan_in);
        let rhs = MatRef::from_row_major_slice(&gathered, fan_out, k * fan_in);
        self.gemm(mat_mut(&mut wide, b, k * fan_in), Accum::Replace, adj, rhs);
        scatter_copies(&wide, r_a, b, fan_in, ld);
        self.recycle([gathered, wide]);
    }

    /// Layer ℓ's part of every copy's product: R{W̄}_ℓ = a_ℓᵀ·R{h̄}_ℓ + ȧ_ℓᵀ·h̄_ℓ and
    /// R{b̄}_ℓ = Σ_rows R{h̄}_ℓ, from the row-stacked `r_h` and `a_dot` (column stride `ld`).
    ///
    /// Each product has one operand shared by the copies, so each is one product for the
    /// block: a_ℓᵀ·[R{h̄}_1 … R{h̄}_k] and [ȧ_1 … ȧ_k]ᵀ·h̄_ℓ, the copies' row blocks gathered
    /// side by side. Both land in one buffer whose column c·k + j is column c of copy j's
    /// R{W̄}_ℓᵀ: the first product writes it as in × out·k, the second reads the same memory as
    /// k·in × out, so the sum needs no further pass before it is scattered to the outputs.
    fn weight_products(
        &self,
        p: &Primal<T>,
        l: usize,
        r_h: &[T],
        a_dot: &[T],
        parts: Vec<Part<'_, T>>,
        ld: usize,
    ) {
        let (b, k) = (self.rows, parts.len());
        let (fan_in, fan_out) = (self.layers[l].fan_in, self.layers[l].fan_out);
        let (kb, input_t) = (k * b, self.input(p, l).transpose());
        let adj = mat(&p.adj_h[l], b, fan_out);
        if k == 1 {
            let (r_w, r_b) = parts.into_iter().next().expect("one copy");
            // A single copy runs as one of the backward chain's tasks, on one thread.
            let rhs = stacked(r_h, b, fan_out, ld);
            let dst = mat_mut(r_w, fan_in, fan_out);
            self.gemm.gemm(dst, Accum::Replace, input_t, rhs, Par::Seq);
            if l > 0 {
                let lhs = stacked(a_dot, b, fan_in, ld).transpose();
                let dst = mat_mut(r_w, fan_in, fan_out);
                self.gemm.gemm(dst, Accum::Add, lhs, adj, Par::Seq);
            }
            if !r_b.is_empty() {
                sum_rows_block(r_h, ld, 0, b, r_b);
            }
            return;
        }

        // R{h̄} with copy j's column c at column c·k + j: column c of the row-stacked matrix
        // without its padding.
        let mut r_wide = self.scratch(kb * fan_out);
        for (dst, src) in r_wide.chunks_exact_mut(kb).zip(r_h.chunks(ld)) {
            dst.copy_from_slice(&src[..kb]);
        }
        let mut wide = self.scratch(fan_in * fan_out * k);
        let (dst, rhs) = (mat_mut(&mut wide, fan_in, fan_out * k), mat(&r_wide, b, fan_out * k));
        self.gemm(dst, Accum::Replace, input_t, rhs);
        if l > 0 {
            // ȧ with copy j's column i at column j·in + i.
            let mut a_wide = self.scratch(kb * fan_in);
            for (i, src) in a_dot.chunks(ld).take(fan_in).enumerate() {
                for (j, copy) in src[..kb].chunks_exact(b).enumerate() {
                    let at = (j * fan_in + i) * b;
                    a_wide[at..at + b].copy_from_slice(copy);
                }
            }
            let lhs = mat(&a_wide, b, k * fan_in).transpose();
            self.gemm(mat_mut(&mut wide, k * fan_in, fan_out), Accum::Add, lhs, adj);
            self.recycle([a_wide]);
        }

        for (j, (r_w, r_b)) in parts.into_iter().enumerate() {
            for (c, col) in r_w.chunks_exact_mut(fan_in).enumerate() {
                let at = (c * k + j) * fan_in;
                col.copy_from_slice(&wide[at..at + fan_in]);
            }
            if !r_b.is_empty() {
                sum_rows_block(r_h, ld, j, b, r_b);
            }
        }
        self.recycle([r_wide, wide]);
    }

    /// a_ℓ, the input of layer ℓ (x for the first), b × in.
    fn input<'a>(&'a self, p: &'a Primal<T>, l: usize) -> MatRef<'a, T> {
        let rows = self.rows;
        if l == 0 {
            mat(&self.x, self.layers[0].fan_in, rows).transpose()
        } else {
            mat(&p.acts[l], rows, self.layers[l].fan_in)
        }
    }

    /// Vᵀ of layer ℓ along direction j, in × out (the weight's layout).
    fn direction_t<'a>(&self, directions: &[&'a [T]], l: usize, j: usize) -> MatRef<'a, T> {
        let layer = self.layers[l];
        let n = layer.fan_in * layer.fan_out;
        mat(&directions[j][layer.weight..layer.weight + n], layer.fan_in, layer.fan_out)
    }
}

/// What the backward chain reads of a pass.
struct Pass<'s, T> {
    p: &'s Primal<T>,
    directions: &'s [&'s [T]],
    /// ḣ_ℓ, row-stacked.
    h_dot: &'s [Vec<T>],
    /// ȧ_ℓ, row-stacked (index 0 unused).
    a_dot: &'s [Vec<T>],
    k: usize,
    ld: usize,
}

/// A unit of work handed to the scheduler.
type Task<'s> = Box<dyn FnOnce() + Send + 's>;

/// A copy's slice of one layer in a product: the weight part and the bias part (empty
/// without bias).
type Part<'o, T> = (&'o mut [T], &'o mut [T]);

/// Splits every product vector into its layers' weight and bias parts: `parts[ℓ][j]`.
fn split_layers<'o, T>(out: &'o mut [&mut [T]], layers: &[Layer]) -> Vec<Vec<Part<'o, T>>> {
    let mut parts: Vec<Vec<Part<'o, T>>> = layers.iter().map(|_| Vec::new()).collect();
    for column in out.iter_mut() {
        let mut rest: &'o mut [T] = column;
        for (layer, part) in layers.iter().zip(&mut parts) {
            let (weight, tail) = rest.split_at_mut(layer.fan_in * layer.fan_out);
            let bias_len = if layer.bias.is_some() { layer.fan_out } else { 0 };
            let (bias, tail) = tail.split_at_mut(bias_len);
            part.push((weight, bias));
            rest = tail;
        }
    }
    parts
}

/// Memory for one pass's tangent buffers, a quarter of the 2 MiB second-level cache of the
/// machines we measure on. Small enough that the 5-layer MLP's 200-wide layers run one copy per
/// pass (batching their already wide products measured no faster, and slower under load),
/// large enough that the 784-16-16-10 MLP runs 8–16 copies per pass.
const PASS_BYTES: usize = 1 << 19;

/// Most multiply-adds of one pass of a block product: 4 copies of the 784-16-16-10 MLP at
/// batch 128 (about 1.4·10⁷, 0.25 ms on one core). A block of 8 then runs as two passes, one
/// per core of a two-core machine, where single products are too small to split: measured on a
/// quiet two-core machine 1.6 (f32) and 1.8 (f64) times faster per vector than 8 single
/// products, where one pass of 8 was 1.1 times faster. Halving it changed nothing measurable.
/// With the other core kept busy by another process, the block took as long as the 8 single
/// products (within 3%).
const PASS_WORK: usize = 1 << 24;

/// Multiply-adds of a whole pass below which it runs on the calling thread alone: waking a
/// second thread costs tens of microseconds, as much as a small MLP's entire product. Measured
/// on the shared two-core machine, a block of 8 on the 784-16-16-10 MLP (3·10⁷ multiply-adds)
/// took 0.58 ms on one thread and 0.9 ms split into tasks.
const TASK_MIN_WORK: usize = 1 << 25;

/// Multiply-adds below which a single product runs on one thread. Splitting one product
/// between threads synchronises them inside it; measured on a shared two-core machine, that
/// made every product of the paper's MLPs slower (a 784-16-16-10 product five times slower), so
/// only the stacked products of large blocks are split. The second core gets whole products
/// as tasks instead (see [`HostMlp::products`]).
const PARALLEL_MIN_WORK: usize = 1 << 24;

/// Parallel over the global rayon pool for products of at least [`PARALLEL_MIN_WORK`]
/// multiply-adds.
fn parallelism(work: usize) -> Par {
    if work >= PARALLEL_MIN_WORK {
        Par::rayon(0)
    } else {
        Par::Seq
    }
}

/// A contiguous column-major rows × cols view.
fn mat<T>(s: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice(s, rows, cols)
}

fn mat_mut<T>(s: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::from_column_major_slice_mut(s, rows, cols)
}

/// Column stride of a row-stacked matrix of `rows` rows: padded so that it is never a large
/// power of two, whose columns would all fall into the same cache sets (k = 16 copies of a
/// batch of 128 gives 2048 rows, and a product twice as slow without the padding).
fn leading_dim(rows: usize) -> usize {
    rows.next_multiple_of(16) + 16
}

/// The rows × cols matrix stored with column stride `ld`.
fn stacked<T>(s: &[T], rows: usize, cols: usize, ld: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice_with_stride(s, rows, cols, ld)
}

fn stacked_mut<T>(s: &mut [T], rows: usize, cols: usize, ld: usize) -> MatMut<'_, T> {
    MatMut::from_column_major_slice_with_stride_mut(s, rows, cols, ld)
}

/// Moves the copies of a side-by-side matrix (b × k·cols, copy j's column c at column
/// j·cols + c) into a row-stacked one (k·b × cols, column stride `ld`).
fn scatter_copies<T: Copy>(wide: &[T], out: &mut [T], b: usize, cols: usize, ld: usize) {
    for (j, copy) in wide.chunks_exact(b * cols).enumerate() {
        for (c, col) in copy.chunks_exact(b).enumerate() {
            let at = c * ld + j * b;
            out[at..at + b].copy_from_slice(col);
        }
    }
}

/// h[r, c] += row[c] for every row of a rows × cols matrix.
fn add_row<T: Scalar>(h: &mut [T], rows: usize, row: &[T]) {
    for (col, &add) in h.chunks_exact_mut(rows).zip(row) {
        col.iter_mut().for_each(|x| *x += add);
    }
}

/// Adds `row` to every row of copy j of a row-stacked matrix with column stride `ld`.
fn add_row_block<T: Scalar>(h: &mut [T], ld: usize, j: usize, b: usize, row: &[T]) {
    for (col, &add) in h.chunks_exact_mut(ld).zip(row) {
        col[j * b..(j + 1) * b].iter_mut().for_each(|x| *x += add);
    }
}

/// out[c] = Σ_r h[copy j, r, c], h row-stacked with column stride `ld`.
fn sum_rows_block<T: Scalar>(h: &[T], ld: usize, j: usize, b: usize, out: &mut [T]) {
    for (col, o) in h.chunks_exact(ld).zip(out) {
        *o = col[j * b..(j + 1) * b].iter().fold(T::zero(), |s, &x| s + x);
    }
}

/// out_j = s ⊙ t_j for every copy j of the row-stacked t (k·b × cols, column stride `ld`),
/// s shared (b × cols).
fn scale_stacked<T: Scalar>(out: &mut [T], t: &[T], s: &[T], b: usize, kb: usize, ld: usize) {
    for ((o_col, t_col), s_col) in
        out.chunks_exact_mut(ld).zip(t.chunks_exact(ld)).zip(s.chunks_exact(b))
    {
        for (o_j, t_j) in o_col[..kb].chunks_exact_mut(b).zip(t_col[..kb].chunks_exact(b)) {
            for ((o, &t), &s) in o_j.iter_mut().zip(t_j).zip(s_col) {
                *o = t * s;
            }
        }
    }
}

/// a = σ(h), σ'(h), σ''(h), elementwise (σ'' empty for ReLU, where it vanishes).
fn activate<T: Scalar>(kind: Activation, h: &[T]) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (zero, one) = (T::zero(), T::one());
    match kind {
        Activation::Relu => {
            let a = h.iter().map(|&x| x.max(zero)).collect();
            let s = h.iter().map(|&x| if x > zero { one } else { zero }).collect();
            (a, s, Vec::new())
        }
        Activation::Tanh => {
            let t: Vec<T> = h.iter().map(|&x| x.tanh()).collect();
            let s: Vec<T> = t.iter().map(|&t| one - t * t).collect();
            let c = t.iter().zip(&s).map(|(&t, &s)| T::of(-2.0) * t * s).collect();
            (t, s, c)
        }
        Activation::Gelu => {
            let (mut a, mut s, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for &x in h {
                let (value, slope, curve) = gelu(x);
                a.push(value);
                s.push(slope);
                c.push(curve);
            }
            (a, s, c)
        }
    }
}

/// GELU's value and first two derivatives, tanh form: g = ½x(1 + t), t = tanh(u),
/// u = c(x + κx³); g' = ½(1 + t) + ½x(1 − t²)u'; g'' = (1 − t²)(u' + ½x(u'' − 2t·u'²)).
fn gelu<T: Scalar>(x: T) -> (T, T, T) {
    let (c, kappa) = (T::of(crate::layers::GELU_SCALE), T::of(crate::layers::GELU_CUBIC));
    let (half, one) = (T::of(0.5), T::one());
    let x2 = x * x;
    let u = c * (x + kappa * x2 * x);
    let du = c * (one + T::of(3.0) * kappa * x2);
    let ddu = T::of(6.0) * c * kappa * x;
    let t = u.tanh();
    let sech2 = one - t * t;
    let value = half * x * (one + t);
    let slope = half * (one + t) + half * x * sech2 * du;
    let curve = sech2 * (du + half * x * (ddu - T::of(2.0) * t * du * du));
    (value, slope, curve)
}

/// Row-wise softmax of a rows × classes matrix.
fn softmax_rows<T: Scalar>(z: &[T], rows: usize) -> Vec<T> {
    let classes = z.len() / rows;
    let mut p = vec![T::zero(); z.len()];
    for r in 0..rows {
        let max = (0..classes).map(|c| z[c * rows + r]).fold(T::neg_infinity(), T::max);
        let mut total = T::zero();
        for c in 0..classes {
            let e = (z[c * rows + r] - max).exp();
            p[c * rows + r] = e;
            total += e;
        }
        for c in 0..classes {
            p[c * rows + r] /= total;
        }
    }
    p
}

/// out = R{z̄} = (p ⊙ ż − p·(p·ż))/b for every copy of the row-stacked ż (column stride
/// `ld`); p shared, b × classes.
fn softmax_tangent<T: Scalar>(
    out: &mut [T],
    probs: &[T],
    z_dot: &[T],
    b: usize,
    kb: usize,
    ld: usize,
) {
    let scale = T::one() / T::of(b as f64);
    let mut dots = vec![T::zero(); kb];
    for (p, zd) in probs.chunks_exact(b).zip(z_dot.chunks_exact(ld)) {
        for (dot_j, zd_j) in dots.chunks_exact_mut(b).zip(zd[..kb].chunks_exact(b)) {
            for ((d, &pr), &z) in dot_j.iter_mut().zip(p).zip(zd_j) {
                *d += pr * z;
            }
        }
    }
    let columns = out.chunks_exact_mut(ld).zip(z_dot.chunks_exact(ld)).zip(probs.chunks_exact(b));
    for ((o, zd), p) in columns {
        let copies =
            o[..kb].chunks_exact_mut(b).zip(zd[..kb].chunks_exact(b)).zip(dots.chunks_exact(b));
        for ((o_j, zd_j), dot_j) in copies {
            for (((o, &z), &dot), &pr) in o_j.iter_mut().zip(zd_j).zip(dot_j).zip(p) {
                *o = pr * (z - dot) * scale;
            }
        }
    }
}

/// The primal quantities of one activation, shared by all copies (b × cols each).
struct Shared<'p, T> {
    /// ā, the adjoint of the activation's output.
    adj_a: &'p [T],
    /// σ'(h).
    slope: &'p [T],
    /// σ''(h), empty where it vanishes (ReLU).
    curve: &'p [T],
}

/// out = R{h̄} = σ''(h) ⊙ ḣ ⊙ ā + σ'(h) ⊙ R{ā} for every copy of the row-stacked ḣ and R{ā}
/// (column stride `ld`).
fn activation_adjoint_tangent<T: Scalar>(
    out: &mut [T],
    r_a: &[T],
    h_dot: &[T],
    shared: Shared<'_, T>,
    b: usize,
    kb: usize,
    ld: usize,
) {
    scale_stacked(out, r_a, shared.slope, b, kb, ld);
    if shared.curve.is_empty() {
        return;
    }
    let weight: Vec<T> = shared.curve.iter().zip(shared.adj_a).map(|(&c, &a)| c * a).collect();
    for ((o_col, h_col), w_col) in
        out.chunks_exact_mut(ld).zip(h_dot.chunks_exact(ld)).zip(weight.chunks_exact(b))
    {
        for (o_j, h_j) in o_col[..kb].chunks_exact_mut(b).zip(h_col[..kb].chunks_exact(b)) {
            for ((o, &h), &w) in o_j.iter_mut().zip(h_j).zip(w_col) {
                *o += w * h;
            }
        }
    }
}
