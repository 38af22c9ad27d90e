//! Classical Gram–Schmidt against a tall orthonormal basis, blocked by rows: the
//! reorthogonalisation of [`crate::lanczos`].
//!
//! # Cost model
//!
//! At step j of Lanczos the basis Q is d×(j+1), and one pass of classical Gram–Schmidt is two
//! matrix-vector products, h = Qᵀw and w ← w − Q h. For a Hessian of d = 278,800 and m = 100
//! steps Q reaches 223 MB, so the products are bound by reading Q from memory, not by
//! arithmetic: the number of passes over Q is what counts. A pass here sweeps blocks of rows
//! Q_b (all j+1 columns), with ‖w‖ computed in the same sweep, and with `Par::Rayon` the blocks
//! run on rayon's global pool. Each block writes its partial Q_bᵀ w_b and ‖w_b‖² into a slot of
//! its own and the slots are summed in block order afterwards, so the result is bitwise the
//! same for any number of threads.
//!
//! # Passes
//!
//! A pass is repeated while Kahan's test fails, ‖w_after‖ < ‖w_before‖/√2 (most of w was
//! removed, and rounding in what is left may still lean on Q; "twice is enough" when the
//! second pass keeps most of the norm), at most three times. The caller sets a minimum:
//! Lanczos, which has already removed the large components along q_j and q_{j−1} by its
//! three-term recurrence, asks for one pass, which then removes only rounding-sized components
//! and keeps nearly all of the norm; an arbitrary vector gets two.

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, MatRef, Par};
use rayon::prelude::*;

/// Bytes of one block Q_b: small enough that a block's reads stay within the core's L2 cache
/// while its partial product is formed.
const BLOCK_BYTES: usize = 512 * 1024;

/// Row counts of blocks stay within these bounds (multiples of 64, so that blocks start on a
/// cache line whenever the basis does).
const MIN_BLOCK_ROWS: usize = 256;
const MAX_BLOCK_ROWS: usize = 16 * 1024;

/// Most passes of one orthogonalisation.
const MAX_PASSES: usize = 3;

/// Rows per block for a basis of `k` columns.
fn block_rows(k: usize) -> usize {
    let rows = BLOCK_BYTES / (8 * k.max(1));
    (rows / 64 * 64).clamp(MIN_BLOCK_ROWS, MAX_BLOCK_ROWS)
}

/// Scratch space of the passes, kept between calls so that Lanczos allocates it once.
#[derive(Debug, Default)]
pub(crate) struct GramSchmidt {
    /// Coefficients h of the current pass (length k).
    coefficients: Vec<f64>,
    /// One row of k partial coefficients per block.
    partials: Vec<f64>,
    /// ‖w_b‖² per block.
    norms: Vec<f64>,
}

/// What one call of [`GramSchmidt::orthogonalise`] did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Orthogonalised {
    /// Sum over the passes of the coefficient on the last basis vector (the correction to α in
    /// a Lanczos step).
    pub last_coefficient: f64,
    /// ‖w‖ after the last pass.
    pub norm: f64,
    /// Passes run.
    pub passes: usize,
}

impl GramSchmidt {
    /// Orthogonalises `w` against the columns of the d×k column-major `basis` by at least
    /// `min_passes` passes of classical Gram–Schmidt, and more (up to three) while Kahan's test
    /// fails (see the [module docs](self)).
    pub(crate) fn orthogonalise(
        &mut self,
        basis: &[f64],
        w: &mut [f64],
        min_passes: usize,
        par: Par,
    ) -> Orthogonalised {
        let d = w.len();
        let k = basis.len() / d;
        let q = MatRef::from_column_major_slice(basis, d, k);
        let rows = block_rows(k);
        let blocks = d.div_ceil(rows);
        self.coefficients.resize(k, 0.0);
        self.partials.resize(blocks * k, 0.0);
        self.norms.resize(blocks, 0.0);

        let mut last = 0.0;
        let mut passes = 0;
        loop {
            let before = self.project(q, w, rows, par);
            last += self.coefficients[k - 1];
            let after = self.subtract(q, w, rows, par);
            passes += 1;
            let kept = after >= before * std::f64::consts::FRAC_1_SQRT_2;
            if passes >= MAX_PASSES || (passes >= min_passes && kept) {
                return Orthogonalised { last_coefficient: last, norm: after, passes };
            }
            if !kept {
                tracing::trace!(passes, before, after, "another gram-schmidt pass");
            }
        }
    }

    /// h = Qᵀw into the coefficients; returns ‖w‖.
    fn project(&mut self, q: MatRef<'_, f64>, w: &mut [f64], rows: usize, par: Par) -> f64 {
        let k = q.ncols();
        let block = |b: usize, w_b: &mut [f64], partial: &mut [f64], norm: &mut f64| {
            let q_b = q.subrows(b * rows, w_b.len());
            let out = ColMut::from_slice_mut(partial);
            matmul(out, Accum::Replace, q_b.transpose(), ColRef::from_slice(w_b), 1.0, Par::Seq);
            *norm = squared_norm(w_b);
        };
        sweep(w, rows, &mut self.partials, k, &mut self.norms, par, block);
        sum_rows(&self.partials, k, &mut self.coefficients);
        self.norms.iter().sum::<f64>().sqrt()
    }

    /// w ← w − Q h with the current coefficients h; returns ‖w‖.
    fn subtract(&mut self, q: MatRef<'_, f64>, w: &mut [f64], rows: usize, par: Par) -> f64 {
        let k = q.ncols();
        let h = ColRef::from_slice(&self.coefficients);
        let block = |b: usize, w_b: &mut [f64], _: &mut [f64], norm: &mut f64| {
            let q_b = q.subrows(b * rows, w_b.len());
            matmul(ColMut::from_slice_mut(w_b), Accum::Add, q_b, h, -1.0, Par::Seq);
            *norm = squared_norm(w_b);
        };
        sweep(w, rows, &mut self.partials, k, &mut self.norms, par, block);
        self.norms.iter().sum::<f64>().sqrt()
    }
}

/// Calls `block(b, w_b, partial_b, norm_b)` for every block b of `rows` rows of `w`, in
/// sequence or on rayon's global pool.
fn sweep<F>(
    w: &mut [f64],
    rows: usize,
    partials: &mut [f64],
    k: usize,
    norms: &mut [f64],
    par: Par,
    block: F,
) where
    F: Fn(usize, &mut [f64], &mut [f64], &mut f64) + Sync,
{
    match par {
        Par::Seq => w
            .chunks_mut(rows)
            .zip(partials.chunks_mut(k))
            .zip(norms.iter_mut())
            .enumerate()
            .for_each(|(b, ((w_b, p), n))| block(b, w_b, p, n)),
        Par::Rayon(_) => w
            .par_chunks_mut(rows)
            .zip(partials.par_chunks_mut(k))
            .zip(norms.par_iter_mut())
            .enumerate()
            .for_each(|(b, ((w_b, p), n))| block(b, w_b, p, n)),
    }
}

/// `out[i] = Σ_b partials[b·k + i]`, in block order (deterministic).
fn sum_rows(partials: &[f64], k: usize, out: &mut [f64]) {
    out.fill(0.0);
    for row in partials.chunks_exact(k) {
        for (o, p) in out.iter_mut().zip(row) {
            *o += p;
        }
    }
}

/// Σ x² with eight independent sums, which the compiler turns into vector instructions.
fn squared_norm(v: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = v.chunks_exact(8);
    for chunk in &mut chunks {
        for (a, x) in acc.iter_mut().zip(chunk) {
            *a += x * x;
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|x| x * x).sum();
    acc.iter().sum::<f64>() + tail
}

/// ‖v‖.
pub(crate) fn norm(v: &[f64]) -> f64 {
    squared_norm(v).sqrt()
}

/// xᵀy, with eight independent sums like [`squared_norm`].
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    let mut acc = [0.0; 8];
    let (mut xs, mut ys) = (x.chunks_exact(8), y.chunks_exact(8));
    for (cx, cy) in (&mut xs).zip(&mut ys) {
        for ((a, x), y) in acc.iter_mut().zip(cx).zip(cy) {
            *a += x * y;
        }
    }
    let tail: f64 = xs.remainder().iter().zip(ys.remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f64>() + tail
}

/// y ← y − a·x.
pub(crate) fn subtract_scaled(y: &mut [f64], a: f64, x: &[f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y -= a * x);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orthonormal_basis(d: usize, k: usize) -> Vec<f64> {
        // A Householder reflection I − 2uuᵀ/uᵀu of k distinct unit vectors: orthonormal, dense.
        let u: Vec<f64> = (0..d).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
        let uu: f64 = u.iter().map(|x| x * x).sum();
        let mut basis = vec![0.0; d * k];
        for c in 0..k {
            let col = &mut basis[c * d..(c + 1) * d];
            col[(c * 13) % d] = 1.0;
            let dot = u[(c * 13) % d];
            for (x, ui) in col.iter_mut().zip(&u) {
                *x -= 2.0 * dot / uu * ui;
            }
        }
        basis
    }

    #[test]
    fn removes_every_component_and_agrees_across_threads() {
        let (d, k) = (5000, 40);
        let basis = orthonormal_basis(d, k);
        let w0: Vec<f64> = (0..d).map(|i| ((i * 31) % 17) as f64 * 0.1 - 0.8).collect();
        let mut results = Vec::new();
        for par in [Par::Seq, Par::rayon(0)] {
            let mut w = w0.clone();
            let mut gs = GramSchmidt::default();
            let out = gs.orthogonalise(&basis, &mut w, 2, par);
            assert!((out.norm - norm(&w)).abs() <= 1e-12 * out.norm);
            let q = MatRef::from_column_major_slice(&basis, d, k);
            let h = q.transpose() * ColRef::from_slice(&w);
            let worst = h.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(worst <= 1e-14 * out.norm, "largest remaining component {worst:e}");
            results.push((w, out.last_coefficient));
        }
        assert_eq!(results[0], results[1], "sequential and parallel passes differ");
    }

    #[test]
    fn block_rows_stay_in_bounds() {
        for k in [1, 2, 50, 100, 300, 10_000] {
            let rows = block_rows(k);
            assert!((MIN_BLOCK_ROWS..=MAX_BLOCK_ROWS).contains(&rows));
            assert_eq!(rows % 64, 0);
        }
    }
}
