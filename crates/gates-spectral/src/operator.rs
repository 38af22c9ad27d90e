//! Symmetric linear operators on ℝ^d: the one interface every algorithm of this crate works on.
//!
//! An operator only has to multiply vectors. The Hessian-vector product of `gates-autodiff` will
//! implement [`SymmetricOperator`] and override [`apply_block`](SymmetricOperator::apply_block),
//! because a product with k vectors at once is much cheaper there than k single products. Dense
//! and diagonal matrices implement it here for tests and small problems, and the adapters
//! [`Shifted`] and [`Scaled`] build operators such as the SGD Jacobian I − ηH from a Hessian.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, Mat, MatMut, MatRef, Par};

use crate::error::{Error, Result};

/// Why an operator could not compute a product (a device error of an HVP backend, say).
pub type OperatorError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A symmetric linear map A: ℝ^d → ℝ^d, known only through its products.
///
/// Implementations must be symmetric (uᵀAv = vᵀAu) up to rounding; the algorithms do not check
/// it, except [dense assembly](crate::dense::assemble), which reports the asymmetry it finds.
///
/// The trait does not require `Sync`: SLQ builds one operator per run inside the worker that
/// uses it, so only code that shares one operator across threads (`slq(|_| &op, …)` with
/// parallel runs) needs `Op: Sync`, and says so in its bounds.
pub trait SymmetricOperator {
    /// The dimension d.
    fn dim(&self) -> usize;

    /// Writes `out = A v`. Both slices have length d.
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError>;

    /// Writes `out = A V` for a block V of k vectors.
    ///
    /// `vs` and `out` are column-major d×k matrices stored contiguously: column j is
    /// `vs[j * d..(j + 1) * d]`, and k = `vs.len() / d`. The default applies the columns one by
    /// one; override it when a block product is faster.
    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let d = self.dim();
        debug_assert_eq!(vs.len(), out.len());
        if d == 0 {
            return Ok(());
        }
        debug_assert_eq!(vs.len() % d, 0);
        for (v, o) in vs.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            self.apply(v, o)?;
        }
        Ok(())
    }
}

impl<T: SymmetricOperator + ?Sized> SymmetricOperator for &T {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply(v, out)
    }
    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply_block(vs, out)
    }
}

impl<T: SymmetricOperator + ?Sized> SymmetricOperator for Box<T> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply(v, out)
    }
    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply_block(vs, out)
    }
}

impl<T: SymmetricOperator + ?Sized> SymmetricOperator for Arc<T> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply(v, out)
    }
    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (**self).apply_block(vs, out)
    }
}

/// Largest relative asymmetry ‖A − Aᵀ‖_F / ‖A‖_F that [`DenseSymmetric::new`] accepts.
pub const SYMMETRY_TOLERANCE: f64 = 1e-12;

/// A dense symmetric matrix, multiplied with faer's matrix product (single-threaded, because
/// callers such as SLQ already run in parallel).
#[derive(Clone, Debug)]
pub struct DenseSymmetric {
    matrix: Mat<f64>,
}

impl DenseSymmetric {
    /// Wraps a square matrix whose relative asymmetry is at most [`SYMMETRY_TOLERANCE`].
    pub fn new(matrix: Mat<f64>) -> Result<Self> {
        check_square(matrix.as_ref())?;
        let relative_asymmetry = relative_asymmetry(matrix.as_ref());
        if relative_asymmetry > SYMMETRY_TOLERANCE {
            return Err(Error::NotSymmetric { relative_asymmetry, tolerance: SYMMETRY_TOLERANCE });
        }
        Ok(Self { matrix })
    }

    /// Wraps (A + Aᵀ)/2 of a square matrix A.
    pub fn symmetrised(matrix: MatRef<'_, f64>) -> Result<Self> {
        check_square(matrix)?;
        let n = matrix.nrows();
        let matrix = Mat::from_fn(n, n, |i, j| 0.5 * (matrix[(i, j)] + matrix[(j, i)]));
        Ok(Self { matrix })
    }

    /// The matrix.
    pub fn matrix(&self) -> MatRef<'_, f64> {
        self.matrix.as_ref()
    }
}

fn check_square(matrix: MatRef<'_, f64>) -> Result<()> {
    if matrix.nrows() != matrix.ncols() {
        return Err(Error::NotSquare { rows: matrix.nrows(), cols: matrix.ncols() });
    }
    Ok(())
}

/// ‖A − Aᵀ‖_F / ‖A‖_F of a square matrix (0 for the zero matrix).
fn relative_asymmetry(matrix: MatRef<'_, f64>) -> f64 {
    let n = matrix.nrows();
    let (mut anti, mut total) = (0.0, 0.0);
    for j in 0..n {
        for i in 0..n {
            let a = matrix[(i, j)];
            anti += (a - matrix[(j, i)]).powi(2);
            total += a * a;
        }
    }
    if total == 0.0 {
        0.0
    } else {
        (anti / total).sqrt()
    }
}

impl SymmetricOperator for DenseSymmetric {
    fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let v = ColRef::from_slice(v);
        let out = ColMut::from_slice_mut(out);
        matmul(out, Accum::Replace, self.matrix.as_ref(), v, 1.0, Par::Seq);
        Ok(())
    }

    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let d = self.dim();
        if d == 0 {
            return Ok(());
        }
        let k = vs.len() / d;
        let vs = MatRef::from_column_major_slice(vs, d, k);
        let out = MatMut::from_column_major_slice_mut(out, d, k);
        matmul(out, Accum::Replace, self.matrix.as_ref(), vs, 1.0, Par::Seq);
        Ok(())
    }
}

/// A diagonal matrix diag(a₁, …, a_d): its eigenvalues are its entries, which makes it the
/// simplest operator with a known spectrum.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagonal {
    entries: Vec<f64>,
}

impl Diagonal {
    /// The matrix with these diagonal entries.
    pub fn new(entries: Vec<f64>) -> Self {
        Self { entries }
    }

    /// The diagonal entries.
    pub fn entries(&self) -> &[f64] {
        &self.entries
    }
}

impl SymmetricOperator for Diagonal {
    fn dim(&self) -> usize {
        self.entries.len()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        for ((o, &a), &x) in out.iter_mut().zip(&self.entries).zip(v) {
            *o = a * x;
        }
        Ok(())
    }
}

/// A + σI: shifts every eigenvalue by σ.
#[derive(Clone, Debug)]
pub struct Shifted<Op> {
    /// The operator A.
    pub inner: Op,
    /// The shift σ.
    pub shift: f64,
}

impl<Op: SymmetricOperator> SymmetricOperator for Shifted<Op> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.inner.apply(v, out)?;
        for (o, &x) in out.iter_mut().zip(v) {
            *o += self.shift * x;
        }
        Ok(())
    }

    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.inner.apply_block(vs, out)?;
        for (o, &x) in out.iter_mut().zip(vs) {
            *o += self.shift * x;
        }
        Ok(())
    }
}

/// cA: scales every eigenvalue by c. `Shifted { inner: Scaled { inner: h, scale: -eta },
/// shift: 1.0 }` is the SGD Jacobian I − ηH of PAPER.md §1.
#[derive(Clone, Debug)]
pub struct Scaled<Op> {
    /// The operator A.
    pub inner: Op,
    /// The factor c.
    pub scale: f64,
}

impl<Op: SymmetricOperator> SymmetricOperator for Scaled<Op> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.inner.apply(v, out)?;
        out.iter_mut().for_each(|o| *o *= self.scale);
        Ok(())
    }

    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.inner.apply_block(vs, out)?;
        out.iter_mut().for_each(|o| *o *= self.scale);
        Ok(())
    }
}

/// Counts the vectors an operator is applied to, and the calls to `apply_block`; the cost of
/// an algorithm in Hessian-vector products, and a check that it uses block products.
#[derive(Debug)]
pub struct Counting<Op> {
    inner: Op,
    vectors: AtomicUsize,
    block_calls: AtomicUsize,
}

impl<Op> Counting<Op> {
    /// Wraps an operator with both counters at zero.
    pub fn new(inner: Op) -> Self {
        Self { inner, vectors: AtomicUsize::new(0), block_calls: AtomicUsize::new(0) }
    }

    /// Vectors multiplied so far, single or in blocks.
    pub fn vectors(&self) -> usize {
        self.vectors.load(Ordering::Relaxed)
    }

    /// Calls to `apply_block` so far.
    pub fn block_calls(&self) -> usize {
        self.block_calls.load(Ordering::Relaxed)
    }

    /// The wrapped operator.
    pub fn inner(&self) -> &Op {
        &self.inner
    }
}

impl<Op: SymmetricOperator> SymmetricOperator for Counting<Op> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.vectors.fetch_add(1, Ordering::Relaxed);
        self.inner.apply(v, out)
    }

    fn apply_block(&self, vs: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let d = self.inner.dim().max(1);
        self.vectors.fetch_add(vs.len() / d, Ordering::Relaxed);
        self.block_calls.fetch_add(1, Ordering::Relaxed);
        self.inner.apply_block(vs, out)
    }
}
