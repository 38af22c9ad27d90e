//! Dense spectra: assemble the d×d matrix of an operator from block products and compute all
//! its eigenvalues with faer's symmetric eigensolver, in f64.
//!
//! This is the "exact SD" path of PAPER.md §4, meant for d up to about 15,000 (the 12,960
//! parameters of the small MNIST MLP). Memory is the limit, so every computation first adds up
//! the bytes it will allocate and fails with [`Error::OutOfMemory`] when they exceed the budget,
//! before allocating anything.
//!
//! # Algorithm and memory
//!
//! 1. Assembly: A·[e_j, …, e_{j+k−1}] for blocks of k unit vectors fills k columns of A at a
//!    time. The result is symmetrised in place, A ← (A + Aᵀ)/2, and ‖A − Aᵀ‖_F is reported:
//!    for a Hessian it measures the error of the Hessian-vector product.
//! 2. Tridiagonalisation A = Q T Qᵀ *in place*, by default in two stages (dense to band by
//!    blocked Householder QR, band to tridiagonal by bulge chasing; see
//!    [`DenseAlgorithm::TwoStage`]), which runs on matrix-matrix products instead of the
//!    memory-bound matrix-vector products of the one-stage reduction (faer's
//!    `tridiag_in_place`, LAPACK's `dsytrd`).
//! 3. The eigenvalues of T by faer's implicit QR, without eigenvectors.
//!
//! faer's high-level `self_adjoint_eigenvalues` first copies the matrix, so it needs 2·8d²
//! bytes; working in place needs 8d² for the matrix plus O(d) workspace (a few d×b blocks for
//! the two-stage reduction, a b×(d−1) block of Householder coefficients and d×(2 + threads)
//! vectors for the one-stage one). At d = 15,000 that is 1.80 GB instead of 3.6 GB. The
//! operator's own memory (for example the network in an HVP) is not counted.

use std::time::Instant;

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
use faer::linalg::evd::{tridiagonal_self_adjoint_evd, EvdError};
use faer::linalg::temp_mat_scratch;
use faer::prelude::ReborrowMut;
use faer::{diag::DiagMut, diag::DiagRef, MatMut, MatRef, Par};

use crate::error::{Error, Result};
use crate::operator::SymmetricOperator;

/// How a dense symmetric matrix is reduced to tridiagonal form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenseAlgorithm {
    /// Dense to band of half-width `bandwidth` with matrix-matrix products, then band to
    /// tridiagonal by bulge chasing (LAPACK's `dsytrd_2stage`). Compute-bound; the default,
    /// with `bandwidth` 32 (at d = 12,960: 105 s against 111 s with 64, 90 s and 21 s of them
    /// in the two stages).
    TwoStage {
        /// Half-width b of the intermediate band: larger b makes stage 1 faster and stage 2
        /// (about 6·b·d² flops) slower.
        bandwidth: usize,
    },
    /// faer's one-stage Householder tridiagonalisation (`tridiag_in_place`), bound by memory
    /// bandwidth at large d (448 s at d = 12,960 on 2 cores).
    OneStage,
}

impl Default for DenseAlgorithm {
    fn default() -> Self {
        DenseAlgorithm::TwoStage { bandwidth: 32 }
    }
}

/// Settings of dense assembly and eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseParams {
    /// Unit vectors per block product during assembly (default 64).
    pub block_size: usize,
    /// Bytes the computation may allocate. `None` (the default) uses `MemAvailable` of
    /// /proc/meminfo.
    pub memory_budget: Option<u64>,
    /// Threads of the matrix products (default `Par::rayon(0)`, the whole rayon pool). The
    /// eigenvalues do not depend on it to the last bit (faer splits products over output
    /// tiles), only the time does. `benches/dense_eig.rs` on idle 2-core machines, two-stage
    /// with bandwidth 32: d = 12,960 in 99 s with the pool against 149 s with `Par::Seq`
    /// (LAPACK's `dsyevd` on 2 threads: 127 s, same run); d = 4,000 in 3.6 s against 5.3 s.
    /// On a machine whose cores were busy with other builds, `Par::Seq` won instead (105 s
    /// against 148 s at d = 12,960), since waiting for the slower thread then costs more than
    /// the second thread gains: choose `Par::Seq` when other work shares the cores.
    pub parallelism: Par,
    /// Tridiagonalisation (default [`DenseAlgorithm::TwoStage`] with bandwidth 32).
    pub algorithm: DenseAlgorithm,
}

impl Default for DenseParams {
    fn default() -> Self {
        Self {
            block_size: 64,
            memory_budget: None,
            parallelism: Par::rayon(0),
            algorithm: DenseAlgorithm::default(),
        }
    }
}

/// The bytes a dense eigenvalue computation allocates, by purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
    /// Dimension d.
    pub dim: usize,
    /// The d×d matrix, 8d².
    pub matrix_bytes: u64,
    /// The block of unit vectors fed to the operator during assembly, 8dk.
    pub assembly_bytes: u64,
    /// Workspace of the in-place eigensolver, as faer computes it.
    pub eigensolver_bytes: u64,
    /// The eigenvalues, 8d.
    pub eigenvalue_bytes: u64,
}

impl MemoryPlan {
    /// The plan for assembling a d×d operator and computing its eigenvalues.
    pub fn new(dim: usize, params: &DenseParams) -> Self {
        let k = params.block_size.clamp(1, dim.max(1)) as u64;
        let d = dim as u64;
        Self {
            dim,
            matrix_bytes: d.saturating_mul(d).saturating_mul(8),
            assembly_bytes: d.saturating_mul(k).saturating_mul(8),
            eigensolver_bytes: eigensolver_bytes(dim, params),
            eigenvalue_bytes: d.saturating_mul(8),
        }
    }

    /// All bytes together.
    pub fn total(&self) -> u64 {
        self.matrix_bytes
            .saturating_add(self.assembly_bytes)
            .saturating_add(self.eigensolver_bytes)
            .saturating_add(self.eigenvalue_bytes)
    }

    /// Fails with [`Error::OutOfMemory`] unless the plan fits the budget of `params`.
    pub fn check(&self, params: &DenseParams) -> Result<()> {
        let (available, limit) = match params.memory_budget {
            Some(budget) => (budget, "explicit budget"),
            None => (available_memory()?, "MemAvailable of /proc/meminfo"),
        };
        let needed = self.total();
        tracing::debug!(dim = self.dim, needed, available, limit, "dense memory check");
        if needed > available {
            return Err(Error::OutOfMemory {
                dim: self.dim,
                needed_bytes: needed,
                needed_gib: gib(needed),
                available_bytes: available,
                available_gib: gib(available),
                limit,
            });
        }
        Ok(())
    }
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// `MemAvailable` of /proc/meminfo in bytes: what can be allocated without swapping.
pub fn available_memory() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/meminfo")
        .map_err(|e| Error::MemoryUnknown { reason: e.to_string() })?;
    let line = text
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .ok_or_else(|| Error::MemoryUnknown { reason: "no MemAvailable line".into() })?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| Error::MemoryUnknown { reason: format!("cannot parse {line:?}") })?;
    Ok(kib.saturating_mul(1024))
}

/// Bytes of workspace of the in-place eigensolver.
fn eigensolver_bytes(dim: usize, params: &DenseParams) -> u64 {
    let tridiagonal = tridiagonal_request(dim).unaligned_bytes_required() as u64;
    let reduction = match params.algorithm {
        DenseAlgorithm::TwoStage { bandwidth } => {
            crate::tridiagonal::workspace_bytes(dim, bandwidth)
        }
        DenseAlgorithm::OneStage => {
            one_stage_request(dim, params.parallelism).unaligned_bytes_required() as u64
        }
    };
    // Diagonal and off-diagonal of T, then the larger of the two phases.
    16 * dim as u64 + reduction.max(tridiagonal)
}

/// Workspace of faer's tridiagonal QR without eigenvectors (it copies diagonal and
/// off-diagonal).
fn tridiagonal_request(dim: usize) -> StackReq {
    temp_mat_scratch::<f64>(dim.max(1), 1).array(2)
}

/// Workspace of faer's one-stage reduction: Householder block and vectors.
fn one_stage_request(dim: usize, par: Par) -> StackReq {
    if dim == 0 {
        return StackReq::empty();
    }
    StackReq::all_of(&[
        temp_mat_scratch::<f64>(householder_block(dim), dim - 1),
        tridiag_in_place_scratch::<f64>(dim, par, Default::default()),
    ])
}

/// faer's recommended block size for a d×d QR-like factorisation (the same rule its
/// `self_adjoint_evd` uses).
fn householder_block(dim: usize) -> usize {
    faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(dim, dim)
}

/// Size of the antisymmetric part of an assembled matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asymmetry {
    /// ‖A − Aᵀ‖_F of the matrix as assembled.
    pub frobenius: f64,
    /// ‖A − Aᵀ‖_F / ‖A‖_F (0 for the zero matrix).
    pub relative: f64,
}

/// The symmetrised dense matrix of an operator.
#[derive(Clone, Debug)]
pub struct Assembled {
    dim: usize,
    data: Vec<f64>,
    /// Asymmetry found before symmetrising.
    pub asymmetry: Asymmetry,
}

impl Assembled {
    /// The matrix (symmetric, column-major).
    pub fn as_mat(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.dim, self.dim)
    }

    /// All eigenvalues, ascending; consumes the matrix to work in place.
    pub fn into_eigenvalues(mut self, params: &DenseParams) -> Result<DenseEigen> {
        let eigenvalues = symmetric_eigenvalues_in_place(&mut self.data, self.dim, params)?;
        Ok(DenseEigen { eigenvalues, asymmetry: self.asymmetry })
    }
}

/// All eigenvalues of an operator, with the asymmetry of its assembled matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseEigen {
    /// The d eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// Asymmetry of the assembled matrix before symmetrising.
    pub asymmetry: Asymmetry,
}

impl DenseEigen {
    /// The artifact form, for the minibatch the operator was built from.
    pub fn to_artifact(
        &self,
        batch: gates_artifacts::MinibatchRef,
    ) -> gates_artifacts::DenseSpectrum {
        gates_artifacts::DenseSpectrum {
            batch,
            eigenvalues: self.eigenvalues.clone(),
            asymmetry: self.asymmetry.relative,
        }
    }
}

/// Assembles the symmetrised matrix of `op` (see the [module docs](self)), after checking the
/// memory of the whole eigenvalue computation.
pub fn assemble<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    params: &DenseParams,
) -> Result<Assembled> {
    check_params(params)?;
    let d = op.dim();
    MemoryPlan::new(d, params).check(params)?;
    let k = params.block_size.min(d.max(1));

    let mut data = try_zeroed(d * d, d)?;
    let mut units = try_zeroed(d * k, d)?;
    let started = Instant::now();
    for (block, first) in (0..d).step_by(k).enumerate() {
        let width = k.min(d - first);
        for c in 0..width {
            units[c * d + first + c] = 1.0;
        }
        let columns = &mut data[first * d..(first + width) * d];
        op.apply_block(&units[..width * d], columns).map_err(|source| Error::Operator {
            what: "dense assembly",
            step: block,
            source,
        })?;
        if columns.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "dense assembly", step: block });
        }
        for c in 0..width {
            units[c * d + first + c] = 0.0;
        }
    }
    drop(units);

    let asymmetry = symmetrise(&mut data, d);
    tracing::debug!(
        dim = d,
        block_size = k,
        seconds = started.elapsed().as_secs_f64(),
        asymmetry = asymmetry.relative,
        "assembled dense operator"
    );
    Ok(Assembled { dim: d, data, asymmetry })
}

/// All eigenvalues of `op`, ascending: [`assemble`], then [`symmetric_eigenvalues_in_place`].
pub fn eigenvalues<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    params: &DenseParams,
) -> Result<DenseEigen> {
    assemble(op, params)?.into_eigenvalues(params)
}

fn check_params(params: &DenseParams) -> Result<()> {
    if params.block_size == 0 {
        return Err(Error::InvalidParameter {
            name: "DenseParams::block_size",
            expected: "at least 1",
            got: "0".into(),
        });
    }
    Ok(())
}

/// A zeroed vector, or [`Error::OutOfMemory`] if the allocator refuses it.
fn try_zeroed(len: usize, dim: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| allocation_refused(dim, StackReq::new::<f64>(len)))?;
    v.resize(len, 0.0);
    Ok(v)
}

/// A ← (A + Aᵀ)/2 in place on a column-major d×d matrix, in square tiles so that the
/// transposed reads stay in cache.
fn symmetrise(data: &mut [f64], d: usize) -> Asymmetry {
    const TILE: usize = 64;
    let (mut anti, mut total) = (0.0, 0.0);
    for j in 0..d {
        let a = data[j * d + j];
        total += a * a;
    }
    for jt in (0..d).step_by(TILE) {
        for it in (jt..d).step_by(TILE) {
            for j in jt..(jt + TILE).min(d) {
                for i in it.max(j + 1)..(it + TILE).min(d) {
                    let lower = data[j * d + i];
                    let upper = data[i * d + j];
                    anti += 2.0 * (lower - upper).powi(2);
                    total += lower * lower + upper * upper;
                    let mean = 0.5 * (lower + upper);
                    data[j * d + i] = mean;
                    data[i * d + j] = mean;
                }
            }
        }
    }
    let frobenius = anti.sqrt();
    let relative = if total == 0.0 { 0.0 } else { frobenius / total.sqrt() };
    Asymmetry { frobenius, relative }
}

/// All eigenvalues, ascending, of a symmetric matrix (its lower triangle is read), copied
/// into a contiguous buffer first; the memory of the copy is checked against the budget.
pub fn symmetric_eigenvalues(matrix: MatRef<'_, f64>, params: &DenseParams) -> Result<Vec<f64>> {
    let n = matrix.nrows();
    if n != matrix.ncols() {
        return Err(Error::NotSquare { rows: n, cols: matrix.ncols() });
    }
    let plan = MemoryPlan { assembly_bytes: 0, ..MemoryPlan::new(n, params) };
    plan.check(params)?;
    let mut data = try_zeroed(n * n, n)?;
    for j in 0..n {
        for i in j..n {
            data[i + j * n] = matrix[(i, j)];
        }
    }
    symmetric_eigenvalues_in_place(&mut data, n, params)
}

/// All eigenvalues, ascending, of the symmetric matrix whose lower triangle is `data`
/// (column-major, `dim`×`dim`, leading dimension `dim`), by `params.algorithm`.
///
/// `data` is overwritten; only O(d) workspace is allocated, and it is not checked against a
/// budget, because the matrix already exists.
pub fn symmetric_eigenvalues_in_place(
    data: &mut [f64],
    dim: usize,
    params: &DenseParams,
) -> Result<Vec<f64>> {
    let n = dim;
    if data.len() != n * n {
        return Err(Error::DimensionMismatch {
            what: "dense matrix buffer",
            expected: n * n,
            got: data.len(),
        });
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    let (diag, offdiag) = match params.algorithm {
        DenseAlgorithm::TwoStage { bandwidth } => {
            crate::tridiagonal::reduce(data, n, bandwidth, params.parallelism)
        }
        DenseAlgorithm::OneStage => one_stage(data, n, params.parallelism)?,
    };
    let tridiagonalised = started.elapsed().as_secs_f64();

    let mut offdiag = offdiag;
    offdiag.push(0.0);
    let req = tridiagonal_request(n);
    let mut buffer = MemBuffer::try_new(req).map_err(|_| allocation_refused(n, req))?;
    let mut values = vec![0.0; n];
    tridiagonal_self_adjoint_evd(
        DiagRef::from_slice(&diag),
        DiagRef::from_slice(&offdiag),
        DiagMut::from_slice_mut(&mut values),
        None,
        params.parallelism,
        MemStack::new(&mut buffer),
        Default::default(),
    )
    .map_err(|_: EvdError| Error::NoConvergence { what: "dense eigenvalues", dim: n })?;
    values.sort_by(f64::total_cmp);
    tracing::debug!(
        dim = n,
        algorithm = ?params.algorithm,
        tridiagonal_seconds = tridiagonalised,
        total_seconds = started.elapsed().as_secs_f64(),
        "dense symmetric eigenvalues"
    );
    Ok(values)
}

/// faer's one-stage reduction in place; returns diagonal and off-diagonal of T.
fn one_stage(data: &mut [f64], n: usize, par: Par) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut matrix = MatMut::from_column_major_slice_mut(data, n, n);
    let mut householder = faer::Mat::<f64>::zeros(householder_block(n), n - 1);
    let req = one_stage_request(n, par);
    let mut buffer = MemBuffer::try_new(req).map_err(|_| allocation_refused(n, req))?;
    tridiag_in_place(
        matrix.rb_mut(),
        householder.as_mut(),
        par,
        MemStack::new(&mut buffer),
        Default::default(),
    );
    let diag = (0..n).map(|i| matrix[(i, i)]).collect();
    let offdiag = (0..n - 1).map(|i| matrix[(i + 1, i)]).collect();
    Ok((diag, offdiag))
}

fn allocation_refused(dim: usize, req: StackReq) -> Error {
    let needed = req.unaligned_bytes_required() as u64;
    Error::OutOfMemory {
        dim,
        needed_bytes: needed,
        needed_gib: gib(needed),
        available_bytes: 0,
        available_gib: 0.0,
        limit: "allocator refused",
    }
}
