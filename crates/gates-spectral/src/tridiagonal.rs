//! Two-stage reduction of a dense symmetric matrix to tridiagonal form, for eigenvalues only.
//!
//! The classical one-stage reduction (LAPACK `dsytrd`, faer's `tridiag_in_place`) spends half
//! its flops in matrix-vector products that read the whole trailing matrix once per column:
//! at d = 12,960 that is terabytes of memory traffic, and memory bandwidth, not arithmetic,
//! sets its speed. The two-stage reduction (Bischof, Lang and Sun's successive band
//! reduction; LAPACK's `dsytrd_2stage`) avoids it:
//!
//! 1. **Dense to band.** For each panel of b columns, a Householder QR of the part below the
//!    band, P = QR with Q = I − V T Vᵀ (compact WY form), and the two-sided update of the
//!    trailing matrix A₂₂ ← QᵀA₂₂Q = A₂₂ − VWᵀ − WVᵀ, where X = A₂₂VT, M = TᵀVᵀX and
//!    W = X − ½VM. Everything but the thin panel QR is matrix-matrix products (faer, parallel):
//!    4/3·d³ flops that run near peak speed.
//! 2. **Band to tridiagonal.** Bulge chasing with Householder reflectors of length ≤ b: the
//!    reflector that reduces column j, applied from the right to the rows below its block,
//!    creates a bulge; only the bulge's first column is annihilated, by a new reflector that
//!    is chased down the band in the same way, and the rest of the bulge is removed by the
//!    sweep of column j + 1. About 6·b·d² flops on cache-resident blocks.
//!
//! Eigenvectors would need the reflectors of both stages and are not computed.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::prelude::ReborrowMut;
use faer::{Accum, MatMut, MatRef, Par};

/// Columns per block of the trailing update in stage 1.
const UPDATE_BLOCK: usize = 256;
/// Columns per block of the symmetric product A₂₂V in stage 1.
const PRODUCT_BLOCK: usize = 128;

/// Reduces the symmetric matrix whose lower triangle is `data` (column-major n×n, leading
/// dimension n) to a tridiagonal matrix with the same eigenvalues, and returns its diagonal
/// and off-diagonal (length n − 1). `data` is overwritten.
pub(crate) fn reduce(
    data: &mut [f64],
    n: usize,
    bandwidth: usize,
    par: Par,
) -> (Vec<f64>, Vec<f64>) {
    debug_assert_eq!(data.len(), n * n);
    let b = bandwidth.clamp(1, n.max(2) - 1);
    let started = std::time::Instant::now();
    dense_to_band(data, n, b, par);
    let stage1 = started.elapsed().as_secs_f64();
    if b > 1 {
        band_to_tridiagonal(data, n, b);
    }
    let stage2 = started.elapsed().as_secs_f64() - stage1;
    tracing::debug!(dim = n, bandwidth = b, stage1, stage2, "two-stage tridiagonalisation");
    let diag = (0..n).map(|i| data[i + i * n]).collect();
    let offdiag = (0..n.saturating_sub(1)).map(|i| data[i + 1 + i * n]).collect();
    (diag, offdiag)
}

/// Bytes of workspace [`reduce`] allocates besides the matrix: the panel and its reflectors,
/// Y, W and the two d×2b blocks [V W] and [W V].
pub(crate) fn workspace_bytes(n: usize, bandwidth: usize) -> u64 {
    let b = bandwidth.max(1) as u64;
    let n = n as u64;
    8 * (7 * n * b + 4 * b * b + 2 * n)
}

/// xᵀy with four independent partial sums, which the compiler can vectorise.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc.remainder().iter().zip(yc.remainder()).map(|(a, b)| a * b).sum();
    for (a, b) in xc.zip(yc) {
        for l in 0..4 {
            acc[l] += a[l] * b[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// A Householder reflector H = I − τvvᵀ with v₀ = 1 that maps x to βe₁; `x` is overwritten by
/// v. Returns (τ, β).
fn householder(x: &mut [f64]) -> (f64, f64) {
    let alpha = x[0];
    let sigma = dot(&x[1..], &x[1..]);
    if sigma == 0.0 {
        x[0] = 1.0;
        return (0.0, alpha);
    }
    let mu = (alpha * alpha + sigma).sqrt();
    let beta = if alpha > 0.0 { -mu } else { mu };
    let tau = (beta - alpha) / beta;
    let scale = 1.0 / (alpha - beta);
    x[1..].iter_mut().for_each(|v| *v *= scale);
    x[0] = 1.0;
    (tau, beta)
}

/// Stage 1: panels of b columns, left to right (see the module docs).
fn dense_to_band(data: &mut [f64], n: usize, b: usize, par: Par) {
    let mut panel = Vec::new();
    let mut vw = Vec::new();
    let mut wv = Vec::new();
    let mut y = Vec::new();
    let mut x = Vec::new();
    let mut gram = vec![0.0; b * b];
    let mut t = vec![0.0; b * b];
    let mut small = vec![0.0; b * b];
    let mut taus = vec![0.0; b];

    let mut k = 0;
    while k + b + 1 < n {
        let first = k + b;
        let m = n - first;
        let w = b.min(n - k);

        // Copy the panel below the band, P = A[first.., k..k + w], and factor P = QR.
        panel.clear();
        for c in 0..w {
            panel.extend_from_slice(&data[first + (k + c) * n..n + (k + c) * n]);
        }
        let reflectors = w.min(m);
        for c in 0..reflectors {
            let (head, rest) = panel.split_at_mut((c + 1) * m);
            let v = &mut head[c * m + c..];
            let (tau, beta) = householder(v);
            taus[c] = tau;
            for col in rest.chunks_exact_mut(m) {
                let col = &mut col[c..];
                let f = tau * dot(col, v);
                col.iter_mut().zip(v.iter()).for_each(|(a, v)| *a -= f * v);
            }
            // R's diagonal entry goes back into A now; v stays in the panel.
            data[first + c + (k + c) * n] = beta;
        }

        // R into A (its strict upper part is the panel's), zeros below it.
        for c in 0..w {
            let column = &mut data[first + (k + c) * n..n + (k + c) * n];
            for i in 0..m {
                if i < c {
                    column[i] = panel[c * m + i];
                } else if i > c {
                    column[i] = 0.0;
                }
            }
        }
        // V: unit lower trapezoidal (householder() left v₀ = 1 on the diagonal).
        let r = reflectors;
        for c in 0..r {
            panel[c * m..c * m + c].fill(0.0);
        }
        let v = MatRef::from_column_major_slice(&panel[..r * m], m, r);

        // T of the compact WY form, from the Gram matrix VᵀV.
        matmul(
            MatMut::from_column_major_slice_mut(&mut gram[..r * r], r, r),
            Accum::Replace,
            v.transpose(),
            v,
            1.0,
            Par::Seq,
        );
        build_t(&mut t[..r * r], &gram[..r * r], &taus[..r]);

        // Y = A₂₂V, reading only the lower triangle of A₂₂.
        y.clear();
        y.resize(m * r, 0.0);
        let a22 = MatRef::from_column_major_slice_with_stride(&data[first + first * n..], m, m, n);
        symmetric_times(a22, v, MatMut::from_column_major_slice_mut(&mut y, m, r), par);

        // X = YT, M = Tᵀ(VᵀX), W = X − ½VM (W overwrites X).
        x.clear();
        x.resize(m * r, 0.0);
        let tm = MatRef::from_column_major_slice(&t[..r * r], r, r);
        let ym = MatRef::from_column_major_slice(&y, m, r);
        matmul(MatMut::from_column_major_slice_mut(&mut x, m, r), Accum::Replace, ym, tm, 1.0, par);
        let mut vtx = vec![0.0; r * r];
        let xm = MatRef::from_column_major_slice(&x, m, r);
        matmul(
            MatMut::from_column_major_slice_mut(&mut vtx, r, r),
            Accum::Replace,
            v.transpose(),
            xm,
            1.0,
            Par::Seq,
        );
        let vtx = MatRef::from_column_major_slice(&vtx, r, r);
        matmul(
            MatMut::from_column_major_slice_mut(&mut small[..r * r], r, r),
            Accum::Replace,
            tm.transpose(),
            vtx,
            1.0,
            Par::Seq,
        );
        let mm = MatRef::from_column_major_slice(&small[..r * r], r, r);
        matmul(MatMut::from_column_major_slice_mut(&mut x, m, r), Accum::Add, v, mm, -0.5, par);

        // A₂₂ ← A₂₂ − VWᵀ − WVᵀ = A₂₂ − [V W][W V]ᵀ on the lower triangle, by column blocks:
        // one rectangular product of inner dimension 2b per block is faster than two
        // triangular ones of inner dimension b.
        vw.clear();
        vw.extend_from_slice(&panel[..r * m]);
        vw.extend_from_slice(&x);
        wv.clear();
        wv.extend_from_slice(&x);
        wv.extend_from_slice(&panel[..r * m]);
        let vw = MatRef::from_column_major_slice(&vw, m, 2 * r);
        let wv = MatRef::from_column_major_slice(&wv, m, 2 * r);
        let mut a22 = MatMut::from_column_major_slice_with_stride_mut(
            &mut data[first + first * n..],
            m,
            m,
            n,
        );
        for c0 in (0..m).step_by(UPDATE_BLOCK) {
            let width = UPDATE_BLOCK.min(m - c0);
            matmul(
                a22.rb_mut().submatrix_mut(c0, c0, m - c0, width),
                Accum::Add,
                vw.subrows(c0, m - c0),
                wv.subrows(c0, width).transpose(),
                -1.0,
                par,
            );
        }
        k += b;
    }
}

/// Y = AV for the symmetric A whose lower triangle is `a`, by column blocks J: the diagonal
/// block by two small triangular products, the block S below it by SV_J into the rows below
/// and SᵀV into rows J. Rectangular products of inner dimension `PRODUCT_BLOCK` run faster in
/// faer than one triangular product of the whole matrix.
fn symmetric_times(a: MatRef<'_, f64>, v: MatRef<'_, f64>, mut y: MatMut<'_, f64>, par: Par) {
    let m = a.nrows();
    for c0 in (0..m).step_by(PRODUCT_BLOCK) {
        let width = PRODUCT_BLOCK.min(m - c0);
        let c1 = c0 + width;
        let diagonal = a.submatrix(c0, c0, width, width);
        let v_block = v.subrows(c0, width);
        triangular::matmul(
            y.rb_mut().subrows_mut(c0, width),
            BlockStructure::Rectangular,
            Accum::Add,
            diagonal,
            BlockStructure::TriangularLower,
            v_block,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        triangular::matmul(
            y.rb_mut().subrows_mut(c0, width),
            BlockStructure::Rectangular,
            Accum::Add,
            diagonal.transpose(),
            BlockStructure::StrictTriangularUpper,
            v_block,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        if c1 < m {
            let below = a.submatrix(c1, c0, m - c1, width);
            matmul(y.rb_mut().subrows_mut(c1, m - c1), Accum::Add, below, v_block, 1.0, par);
            matmul(
                y.rb_mut().subrows_mut(c0, width),
                Accum::Add,
                below.transpose(),
                v.subrows(c1, m - c1),
                1.0,
                par,
            );
        }
    }
}

/// T of H₀H₁⋯H_{r−1} = I − VTVᵀ (LAPACK's `dlarft`, forward and columnwise): T is upper
/// triangular with T_ii = τ_i and T[0..i, i] = −τ_i · T[0..i, 0..i] · (VᵀV)[0..i, i].
fn build_t(t: &mut [f64], gram: &[f64], taus: &[f64]) {
    let r = taus.len();
    t.fill(0.0);
    for i in 0..r {
        for p in 0..i {
            let sum: f64 = (p..i).map(|q| t[p + q * r] * gram[q + i * r]).sum();
            t[p + i * r] = -taus[i] * sum;
        }
        t[i + i * r] = taus[i];
    }
}

/// Stage 2: bulge chasing on the band of half-width b (see the module docs). Only the lower
/// triangle is read and written.
fn band_to_tridiagonal(data: &mut [f64], n: usize, b: usize) {
    let mut v = vec![0.0; b];
    let mut next = vec![0.0; b];
    let mut work = vec![0.0; b];
    for j in 0..n.saturating_sub(2) {
        // The reflector of column j acts on rows and columns r..r + len.
        let mut r = j + 1;
        let mut len = b.min(n - r);
        if len < 2 {
            continue;
        }
        v[..len].copy_from_slice(&data[r + j * n..r + len + j * n]);
        let (mut tau, beta) = householder(&mut v[..len]);
        data[r + j * n] = beta;
        data[r + 1 + j * n..r + len + j * n].fill(0.0);
        two_sided(data, n, r, &v[..len], tau, &mut work);

        loop {
            // The rows below the block that its columns reach.
            let s = r + len;
            let rows = b.min(n.saturating_sub(s));
            if rows == 0 {
                break;
            }
            // B = A[s..s + rows, r..r + len] ← B·H: this fills B, the bulge. Its first column
            // also holds what the previous sweep left of its bulge, so the chase goes on even
            // when H = I.
            apply_right(data, n, s, rows, r, &v[..len], tau, &mut work);
            if rows < 2 {
                break;
            }
            // Annihilate the bulge's first column, apply that reflector to the rest of B from
            // the left and to its own diagonal block from both sides.
            next[..rows].copy_from_slice(&data[s + r * n..s + rows + r * n]);
            let (tau2, beta2) = householder(&mut next[..rows]);
            data[s + r * n] = beta2;
            data[s + 1 + r * n..s + rows + r * n].fill(0.0);
            for c in r + 1..r + len {
                let column = &mut data[s + c * n..s + rows + c * n];
                let f = tau2 * dot(column, &next[..rows]);
                column.iter_mut().zip(&next[..rows]).for_each(|(a, v)| *a -= f * v);
            }
            two_sided(data, n, s, &next[..rows], tau2, &mut work);

            std::mem::swap(&mut v, &mut next);
            tau = tau2;
            r = s;
            len = rows;
        }
    }
}

/// D ← HDH for the symmetric block D = A[p..p + L, p..p + L] (lower triangle) and
/// H = I − τvvᵀ: with w = τDv − ½τ²(vᵀDv)v, D ← D − vwᵀ − wvᵀ.
fn two_sided(data: &mut [f64], n: usize, p: usize, v: &[f64], tau: f64, w: &mut [f64]) {
    if tau == 0.0 {
        return;
    }
    let len = v.len();
    let w = &mut w[..len];
    w.fill(0.0);
    for j in 0..len {
        let column = &data[p + j + (p + j) * n..p + len + (p + j) * n];
        w[j] += dot(column, &v[j..]);
        let vj = v[j];
        w[j + 1..].iter_mut().zip(&column[1..]).for_each(|(w, a)| *w += a * vj);
    }
    w.iter_mut().for_each(|x| *x *= tau);
    let k = -0.5 * tau * dot(w, v);
    w.iter_mut().zip(v).for_each(|(x, v)| *x += k * v);
    for j in 0..len {
        let column = &mut data[p + j + (p + j) * n..p + len + (p + j) * n];
        let (vj, wj) = (v[j], w[j]);
        for (i, a) in column.iter_mut().enumerate() {
            *a -= v[j + i] * wj + w[j + i] * vj;
        }
    }
}

/// B ← B(I − τvvᵀ) for B = A[s..s + rows, c..c + v.len()].
fn apply_right(
    data: &mut [f64],
    n: usize,
    s: usize,
    rows: usize,
    c: usize,
    v: &[f64],
    tau: f64,
    t: &mut [f64],
) {
    if tau == 0.0 {
        return;
    }
    let t = &mut t[..rows];
    t.fill(0.0);
    for (q, &vq) in v.iter().enumerate() {
        let column = &data[s + (c + q) * n..s + rows + (c + q) * n];
        t.iter_mut().zip(column).for_each(|(t, a)| *t += a * vq);
    }
    for (q, &vq) in v.iter().enumerate() {
        let f = tau * vq;
        let column = &mut data[s + (c + q) * n..s + rows + (c + q) * n];
        column.iter_mut().zip(t.iter()).for_each(|(a, t)| *a -= t * f);
    }
}
