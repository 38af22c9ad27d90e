//! Lanczos with full reorthogonalisation: extreme eigenpairs of a symmetric operator, and the
//! tridiagonal matrices that stochastic Lanczos quadrature integrates with.
//!
//! # Algorithm
//!
//! From a unit start vector q₀, step j computes w = A q_j, applies the three-term recurrence
//! w ← w − β_{j−1} q_{j−1}, α_j = q_jᵀw, w ← w − α_j q_j, and then orthogonalises w against
//! *all* previous vectors Q_j = [q₀ … q_j] by classical Gram–Schmidt: h = Q_jᵀ w,
//! w ← w − Q_j h, adding h_j to α_j. The pass is repeated while Kahan's test finds that it
//! removed most of w (‖w_after‖ < ‖w_before‖/√2), so that the accepted w is orthogonal to Q_j
//! to rounding ("twice is enough", Giraud et al. 2005; the correction of Daniel, Gragg,
//! Kaufman and Stewart, 1976). The recurrence has already removed the large components, so
//! one pass over Q_j almost always passes the test.
//!
//! With β_j = ‖w‖ and q_{j+1} = w / β_j this gives A Q_m = Q_m T_m + β_{m−1} q_m e_mᵀ, where T_m
//! is tridiagonal with diagonal α and off-diagonal β. Full reorthogonalisation keeps Q_m
//! orthonormal to rounding, so T_m has no spurious copies ("ghosts") of converged eigenvalues;
//! it costs 4·d·j flops per pass at step j and d·m numbers of memory.
//!
//! The basis lives in one column-major d×(m+1) buffer, reserved up front. For large d a pass
//! is bound by reading Q_j from memory (223 MB at d = 278,800 and m = 100), not by
//! arithmetic, which is why the recurrence goes first: Gram–Schmidt applied twice from the raw
//! w = A q_j reads Q_j four times per step, this reads it twice. Passes sweep blocks of rows;
//! with [`LanczosParams::parallelism`] set to `Par::Rayon` the blocks run on rayon's global
//! pool, and their partial sums are added in block order, so the result does not depend on
//! the thread count.
//!
//! If T_m = U diag(θ) Uᵀ, the Ritz pairs are (θ_ℓ, y_ℓ = Q_m u_ℓ) and
//! ‖A y_ℓ − θ_ℓ y_ℓ‖ = |β_{m−1}| · |U_{mℓ}|, the estimate used for stopping. At the end every
//! returned pair's residual is computed explicitly, with one block product.
//!
//! # Breakdown
//!
//! β_j ≈ 0 means the Krylov space is invariant: from one start vector, Lanczos only sees the
//! part of the spectrum the start vector touches, so an eigenvalue of multiplicity p appears
//! once. [`Lanczos::step`] then reports [`StepOutcome::Invariant`], and
//! [`Lanczos::restart`] may continue with a random vector orthogonal to Q (β_j = 0 in T, so T
//! becomes block diagonal, one block per start vector). [`extreme_eigenpairs`] restarts under
//! [`OnBreakdown::Restart`] by this rule:
//!
//! - the first breakdown always restarts: a start vector inside a small invariant subspace
//!   (say e₁ for a diagonal matrix) would otherwise return that subspace's eigenvalues as the
//!   extreme ones;
//! - a later breakdown restarts only if the block that just ended contributed a wanted value
//!   (its extreme Ritz value is among the wanted ones), since a further block may then hold
//!   another copy;
//! - after a restart, the wanted pairs count as converged only once the newest block's own
//!   extreme Ritz values have converged too.
//!
//! So an eigenvalue of multiplicity p is found p times when p of the wanted pairs belong to it.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self_adjoint_evd_scratch, tridiagonal_self_adjoint_evd};
use faer::linalg::evd::{ComputeEigenvectors, EvdError};
use faer::linalg::matmul::matmul;
use faer::{diag::DiagMut, diag::DiagRef, Accum, Mat, MatRef, Par};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::gram_schmidt::{dot, norm, subtract_scaled, GramSchmidt};
use crate::operator::SymmetricOperator;
use crate::probe::fill_gaussian;

/// What [`extreme_eigenpairs`] does when β_j ≈ 0 (an invariant subspace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnBreakdown {
    /// Stop: T is final, and each distinct eigenvalue the start vector touches appears once.
    Stop,
    /// Continue from random vectors orthogonal to the basis, by the rule of the
    /// [module docs](self), to find eigenvalues the start vector misses and further copies of
    /// repeated ones.
    Restart,
}

/// Settings of Lanczos.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LanczosParams {
    /// Most Lanczos steps (operator products), capped at d (default 300).
    pub max_steps: usize,
    /// A Ritz pair has converged when ‖Ay − θy‖ ≤ `tolerance` · max_ℓ |θ_ℓ| (default 1e-8).
    /// Rounding limits this to about 1e-14.
    pub tolerance: f64,
    /// Steps between convergence checks, each an eigen-decomposition of T (default 5).
    pub check_every: usize,
    /// β_j counts as zero when β_j ≤ `breakdown_tolerance` · (a bound on ‖T‖) (default 1e-12).
    pub breakdown_tolerance: f64,
    /// What [`extreme_eigenpairs`] does at an invariant subspace (default
    /// [`OnBreakdown::Restart`]); [`crate::slq`] always stops.
    pub on_breakdown: OnBreakdown,
    /// Seed of the random start vector (when none is given) and of restart vectors (default 0).
    pub seed: u64,
    /// Threads of the reorthogonalisation (default `Par::Seq`). Any `Par::Rayon` runs the
    /// blocks of rows on rayon's global pool; results are bitwise the same either way.
    /// [`crate::slq`] picks `Par::rayon(0)` when its runs execute one at a time and `Par::Seq`
    /// when they execute in parallel.
    pub parallelism: Par,
}

impl Default for LanczosParams {
    fn default() -> Self {
        Self {
            max_steps: 300,
            tolerance: 1e-8,
            check_every: 5,
            breakdown_tolerance: 1e-12,
            on_breakdown: OnBreakdown::Restart,
            seed: 0,
            parallelism: Par::Seq,
        }
    }
}

impl LanczosParams {
    fn validate(&self) -> Result<()> {
        let invalid =
            |name, expected, got: String| Err(Error::InvalidParameter { name, expected, got });
        if self.max_steps == 0 {
            return invalid("LanczosParams::max_steps", "at least 1", "0".into());
        }
        if self.check_every == 0 {
            return invalid("LanczosParams::check_every", "at least 1", "0".into());
        }
        if self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return invalid("LanczosParams::tolerance", "positive", self.tolerance.to_string());
        }
        if self.breakdown_tolerance.is_nan() || self.breakdown_tolerance < 0.0 {
            let got = self.breakdown_tolerance.to_string();
            return invalid("LanczosParams::breakdown_tolerance", "non-negative", got);
        }
        Ok(())
    }
}

/// What one Lanczos step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// A new basis vector was added.
    Continued,
    /// β ≈ 0: the basis spans an invariant subspace. Only [`Lanczos::restart`] continues.
    Invariant,
    /// The basis spans ℝ^d: no more steps.
    Exhausted,
}

/// A Lanczos process on a fixed operator; each [`step`](Self::step) is one operator product.
pub struct Lanczos<'a, Op: ?Sized> {
    op: &'a Op,
    dim: usize,
    /// Column-major d×(steps + 1) while the process can continue: q₀, …, q_steps.
    basis: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    work: Vec<f64>,
    gram_schmidt: GramSchmidt,
    finished: Option<StepOutcome>,
    restarts: usize,
    block_start: usize,
    norm_bound: f64,
    rng: ChaCha8Rng,
    breakdown_tolerance: f64,
    par: Par,
}

impl<'a, Op: SymmetricOperator + ?Sized> Lanczos<'a, Op> {
    /// Starts from `start / ‖start‖`.
    pub fn new(op: &'a Op, start: &[f64], params: &LanczosParams) -> Result<Self> {
        params.validate()?;
        let dim = op.dim();
        if dim == 0 {
            return Err(Error::InvalidParameter {
                name: "operator dimension",
                expected: "at least 1",
                got: "0".into(),
            });
        }
        if start.len() != dim {
            return Err(Error::DimensionMismatch {
                what: "start vector",
                expected: dim,
                got: start.len(),
            });
        }
        let norm = norm(start);
        if norm == 0.0 || !norm.is_finite() {
            return Err(Error::InvalidParameter {
                name: "start vector",
                expected: "finite and non-zero",
                got: format!("norm {norm}"),
            });
        }
        // The basis grows to at most `max_steps + 1` columns: reserve them up front (the pages
        // are only touched when written) rather than copy a basis of hundreds of megabytes at
        // every reallocation. If the reservation fails, the basis grows as it goes.
        let mut basis = Vec::new();
        let columns = params.max_steps.min(dim) + 1;
        if basis.try_reserve_exact(columns.saturating_mul(dim)).is_err() {
            tracing::debug!(columns, dim, "lanczos basis not reserved");
        }
        basis.extend(start.iter().map(|x| x / norm));
        Ok(Self {
            op,
            dim,
            basis,
            alpha: Vec::new(),
            beta: Vec::new(),
            work: vec![0.0; dim],
            gram_schmidt: GramSchmidt::default(),
            finished: None,
            restarts: 0,
            block_start: 0,
            norm_bound: 0.0,
            rng: ChaCha8Rng::seed_from_u64(params.seed),
            breakdown_tolerance: params.breakdown_tolerance,
            par: params.parallelism,
        })
    }

    /// One step (see the [module docs](self)). After `Invariant` or `Exhausted` further calls
    /// do nothing and return the same outcome.
    pub fn step(&mut self) -> Result<StepOutcome> {
        if let Some(outcome) = self.finished {
            return Ok(outcome);
        }
        let d = self.dim;
        let j = self.alpha.len();
        self.op
            .apply(&self.basis[j * d..(j + 1) * d], &mut self.work)
            .map_err(|source| Error::Operator { what: "lanczos", step: j, source })?;
        if self.work.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "lanczos: operator output", step: j });
        }

        // The three-term recurrence removes the large components, along q_{j−1} and q_j (β is
        // 0 after a restart); the pass against all of Q then only removes rounding.
        let previous = self.beta.last().copied().unwrap_or(0.0);
        let q_j = &self.basis[j * d..(j + 1) * d];
        if j > 0 && previous != 0.0 {
            subtract_scaled(&mut self.work, previous, &self.basis[(j - 1) * d..j * d]);
        }
        let local = dot(q_j, &self.work);
        subtract_scaled(&mut self.work, local, q_j);
        let basis = &self.basis[..(j + 1) * d];
        let done = self.gram_schmidt.orthogonalise(basis, &mut self.work, 1, self.par);
        tracing::trace!(step = j, passes = done.passes, "lanczos reorthogonalisation");
        let (alpha, beta) = (local + done.last_coefficient, done.norm);
        self.norm_bound = self.norm_bound.max(alpha.abs() + beta + previous);
        self.alpha.push(alpha);

        let negligible = beta <= self.breakdown_tolerance * self.norm_bound;
        tracing::trace!(step = j, alpha, beta, negligible, "lanczos step");
        self.beta.push(beta);
        if j + 1 == d {
            return Ok(self.finish(StepOutcome::Exhausted));
        }
        if negligible {
            tracing::debug!(step = j, beta, bound = self.norm_bound, "lanczos breakdown");
            return Ok(self.finish(StepOutcome::Invariant));
        }
        self.basis.extend(self.work.iter().map(|x| x / beta));
        Ok(StepOutcome::Continued)
    }

    /// After [`StepOutcome::Invariant`], continues from a random unit vector orthogonal to the
    /// basis (drawn from the seed of the params), with β = 0 in T. Returns false, and stays
    /// finished, if the basis spans ℝ^d up to rounding.
    pub fn restart(&mut self) -> Result<bool> {
        if self.finished != Some(StepOutcome::Invariant) {
            return Ok(false);
        }
        let d = self.dim;
        let m = self.steps();
        fill_gaussian(&mut self.rng, &mut self.work);
        let before = norm(&self.work);
        let basis = &self.basis[..m * d];
        let after = self.gram_schmidt.orthogonalise(basis, &mut self.work, 2, self.par).norm;
        if after <= 1e-8 * before {
            self.finished = Some(StepOutcome::Exhausted);
            return Ok(false);
        }
        self.beta[m - 1] = 0.0;
        self.basis.extend(self.work.iter().map(|x| x / after));
        self.finished = None;
        self.restarts += 1;
        self.block_start = m;
        tracing::debug!(step = m, restarts = self.restarts, "lanczos restart");
        Ok(true)
    }

    fn finish(&mut self, outcome: StepOutcome) -> StepOutcome {
        self.finished = Some(outcome);
        self.basis.truncate(self.alpha.len() * self.dim);
        outcome
    }

    /// Steps taken: the order m of T.
    pub fn steps(&self) -> usize {
        self.alpha.len()
    }

    /// Whether [`step`](Self::step) can add to T.
    pub fn can_continue(&self) -> bool {
        self.finished.is_none()
    }

    /// Diagonal α₀ … α_{m−1} of T.
    pub fn alpha(&self) -> &[f64] {
        &self.alpha
    }

    /// β₀ … β_{m−1}: β_j couples q_j and q_{j+1} (0 after a restart); the last one is the
    /// residual coupling of the newest vector, not part of T.
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// The basis Q_m = [q₀ … q_{m−1}] (d×m, orthonormal).
    pub fn basis(&self) -> MatRef<'_, f64> {
        let m = self.steps();
        MatRef::from_column_major_slice(&self.basis[..m * self.dim], self.dim, m)
    }

    /// Restarts so far.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Index of the first step of the current block (0 before any restart).
    pub fn block_start(&self) -> usize {
        self.block_start
    }

    /// Eigen-decomposition of T_m.
    pub fn tridiagonal_eigen(&self) -> Result<TridiagonalEigen> {
        let m = self.steps();
        tridiagonal_eigen(&self.alpha, &self.beta[..m.saturating_sub(1)])
    }

    /// ‖A y_ℓ − θ_ℓ y_ℓ‖ estimated as |β_{m−1}| · |U_{mℓ}|, for every ℓ.
    pub fn residual_estimates(&self, eig: &TridiagonalEigen) -> Vec<f64> {
        let m = self.steps();
        let last = self.beta.last().copied().unwrap_or(0.0);
        (0..m).map(|l| (last * eig.vectors[(m - 1, l)]).abs()).collect()
    }
}

/// Eigenvalues and eigenvectors of a symmetric tridiagonal matrix.
#[derive(Clone, Debug)]
pub struct TridiagonalEigen {
    /// Eigenvalues θ, ascending.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors U: column ℓ belongs to `values[ℓ]`.
    pub vectors: Mat<f64>,
}

impl TridiagonalEigen {
    /// First components U_{1ℓ} of the eigenvectors (their squares are SLQ's weights).
    pub fn first_components(&self) -> Vec<f64> {
        (0..self.values.len()).map(|l| self.vectors[(0, l)]).collect()
    }
}

/// Eigen-decomposition of the m×m tridiagonal matrix with diagonal `diag` and off-diagonal
/// `offdiag` (length m − 1), by faer (implicit QR below m = 128, divide and conquer above).
pub fn tridiagonal_eigen(diag: &[f64], offdiag: &[f64]) -> Result<TridiagonalEigen> {
    let m = diag.len();
    if offdiag.len() + 1 != m.max(1) {
        return Err(Error::DimensionMismatch {
            what: "tridiagonal off-diagonal",
            expected: m.saturating_sub(1),
            got: offdiag.len(),
        });
    }
    let mut values = vec![0.0; m];
    let mut vectors = Mat::<f64>::zeros(m, m);
    if m == 0 {
        return Ok(TridiagonalEigen { values, vectors });
    }
    // faer reads an off-diagonal of length m whose last entry is ignored.
    let mut sub = offdiag.to_vec();
    sub.push(0.0);
    // The dense solver's workspace covers the tridiagonal one; it is O(m²), small for Lanczos.
    let req =
        self_adjoint_evd_scratch::<f64>(m, ComputeEigenvectors::Yes, Par::Seq, Default::default());
    let mut buffer = MemBuffer::new(req);
    tridiagonal_self_adjoint_evd(
        DiagRef::from_slice(diag),
        DiagRef::from_slice(&sub),
        DiagMut::from_slice_mut(&mut values),
        Some(vectors.as_mut()),
        Par::Seq,
        MemStack::new(&mut buffer),
        Default::default(),
    )
    .map_err(|_: EvdError| Error::NoConvergence { what: "tridiagonal eigenvalues", dim: m })?;
    Ok(TridiagonalEigen { values, vectors })
}

/// Which extreme eigenvalues to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The k largest.
    Largest(usize),
    /// The k smallest.
    Smallest(usize),
    /// The `largest` largest and the `smallest` smallest.
    BothEnds {
        /// How many at the top.
        largest: usize,
        /// How many at the bottom.
        smallest: usize,
    },
}

impl Which {
    fn counts(self) -> (usize, usize) {
        match self {
            Which::Largest(k) => (k, 0),
            Which::Smallest(k) => (0, k),
            Which::BothEnds { largest, smallest } => (largest, smallest),
        }
    }
}

/// An approximate eigenpair.
#[derive(Clone, Debug, PartialEq)]
pub struct RitzPair {
    /// Ritz value θ.
    pub value: f64,
    /// Ritz vector y (unit length).
    pub vector: Vec<f64>,
    /// Explicit residual ‖Ay − θy‖.
    pub residual: f64,
    /// The Lanczos estimate |β_{m−1} U_{mℓ}| of the residual.
    pub estimate: f64,
}

/// Extreme eigenpairs found by [`extreme_eigenpairs`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExtremeEigen {
    /// The largest Ritz pairs, descending.
    pub largest: Vec<RitzPair>,
    /// The smallest Ritz pairs, ascending.
    pub smallest: Vec<RitzPair>,
    /// Lanczos steps (operator products, not counting the final residual check).
    pub steps: usize,
    /// Restarts after breakdowns.
    pub restarts: usize,
    /// Whether every returned pair's explicit residual is within tolerance.
    pub converged: bool,
    /// max_ℓ |θ_ℓ|: the scale that tolerances are relative to.
    pub scale: f64,
}

impl ExtremeEigen {
    /// The artifact form, for the minibatch the operator was built from.
    pub fn to_artifact(
        &self,
        batch: gates_artifacts::MinibatchRef,
    ) -> gates_artifacts::SpectrumMethod {
        let ritz =
            |p: &RitzPair| gates_artifacts::RitzValue { value: p.value, residual: p.residual };
        gates_artifacts::SpectrumMethod::Lanczos {
            batch,
            top: self.largest.iter().map(ritz).collect(),
            bottom: self.smallest.iter().map(ritz).collect(),
            steps: self.steps as u32,
            converged: self.converged,
        }
    }
}

/// Extreme eigenpairs of `op` by Lanczos with full reorthogonalisation.
///
/// Starts from `start` or, if `None`, from a Gaussian vector drawn with `params.seed`. Every
/// `check_every` steps, and at every breakdown, T is decomposed; once the residual estimates of
/// all wanted pairs are within tolerance (and, after a restart, those of the newest block's
/// extreme Ritz values), their explicit residuals are computed and, if they confirm, the pairs
/// are returned. Otherwise the process goes on until `max_steps` (capped at d) or until it
/// cannot continue, and returns what it has with `converged` false. Fewer pairs than asked come
/// back when the Krylov space has fewer dimensions. Breakdowns follow `params.on_breakdown` and
/// the rule of the [module docs](self).
pub fn extreme_eigenpairs<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    which: Which,
    start: Option<&[f64]>,
    params: &LanczosParams,
) -> Result<ExtremeEigen> {
    params.validate()?;
    let d = op.dim();
    let owned;
    let start = match start {
        Some(s) => s,
        None => {
            let mut v = vec![0.0; d];
            // Offset the seed so the start vector differs from the first restart vector.
            fill_gaussian(&mut ChaCha8Rng::seed_from_u64(params.seed ^ 0x5EED_57A7), &mut v);
            owned = v;
            &owned
        }
    };
    let mut lanczos = Lanczos::new(op, start, params)?;
    let cap = params.max_steps.min(d);
    let (n_top, n_bottom) = which.counts();
    let mut next_check = params.check_every;

    loop {
        let outcome = lanczos.step()?;
        let m = lanczos.steps();
        let invariant = outcome == StepOutcome::Invariant;
        if !invariant && lanczos.can_continue() && m < cap && m < next_check {
            continue;
        }
        next_check = m + params.check_every;

        let eig = lanczos.tridiagonal_eigen()?;
        let estimates = lanczos.residual_estimates(&eig);
        let scale = eig.values.iter().fold(0.0f64, |s, x| s.max(x.abs())).max(f64::MIN_POSITIVE);
        let limit = params.tolerance * scale;
        let top: Vec<usize> = (0..m).rev().take(n_top).collect();
        let bottom: Vec<usize> = (0..m).take(n_bottom).collect();
        let worst = top.iter().chain(&bottom).map(|&l| estimates[l]).fold(0.0, f64::max);
        let block = if lanczos.restarts() == 0 {
            // One block: it is T itself.
            Block { top: eig.values[m - 1], bottom: eig.values[0], worst_estimate: worst }
        } else {
            newest_block(&lanczos, n_top > 0, n_bottom > 0)?
        };
        let block_converged = lanczos.restarts() == 0 || block.worst_estimate <= limit;
        tracing::debug!(step = m, worst_estimate = worst, limit, block_converged, "lanczos check");

        if invariant && params.on_breakdown == OnBreakdown::Restart && m < cap {
            let contributed = (n_top > 0 && block.top >= eig.values[m - n_top.min(m)])
                || (n_bottom > 0 && block.bottom <= eig.values[n_bottom.min(m) - 1]);
            if (lanczos.restarts() == 0 || contributed) && lanczos.restart()? {
                continue;
            }
        }
        let done = !lanczos.can_continue() || m >= cap;
        if !done && (worst > limit || !block_converged) {
            continue;
        }

        let largest = ritz_pairs(op, &lanczos, &eig, &estimates, &top)?;
        let smallest = ritz_pairs(op, &lanczos, &eig, &estimates, &bottom)?;
        let converged = largest.iter().chain(&smallest).all(|p| p.residual <= limit);
        if converged || done {
            tracing::debug!(
                steps = m,
                converged,
                restarts = lanczos.restarts(),
                "lanczos finished"
            );
            return Ok(ExtremeEigen {
                largest,
                smallest,
                steps: m,
                restarts: lanczos.restarts(),
                converged,
                scale,
            });
        }
        tracing::debug!(step = m, "explicit residuals did not confirm the estimates; continuing");
    }
}

/// Extreme Ritz values of the newest block of T and the worst residual estimate among the
/// wanted ends.
struct Block {
    top: f64,
    bottom: f64,
    worst_estimate: f64,
}

fn newest_block<Op: SymmetricOperator + ?Sized>(
    lanczos: &Lanczos<'_, Op>,
    want_top: bool,
    want_bottom: bool,
) -> Result<Block> {
    let (start, m) = (lanczos.block_start(), lanczos.steps());
    let eig = tridiagonal_eigen(&lanczos.alpha[start..m], &lanczos.beta[start..m - 1])?;
    let n = m - start;
    let last = lanczos.beta[m - 1];
    let estimate = |l: usize| (last * eig.vectors[(n - 1, l)]).abs();
    let mut worst_estimate = 0.0f64;
    if want_top {
        worst_estimate = worst_estimate.max(estimate(n - 1));
    }
    if want_bottom {
        worst_estimate = worst_estimate.max(estimate(0));
    }
    Ok(Block { top: eig.values[n - 1], bottom: eig.values[0], worst_estimate })
}

/// Ritz vectors Q U[:, ℓ] of the selected ℓ and their explicit residuals, from one block
/// product.
fn ritz_pairs<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    lanczos: &Lanczos<'_, Op>,
    eig: &TridiagonalEigen,
    estimates: &[f64],
    selected: &[usize],
) -> Result<Vec<RitzPair>> {
    let d = op.dim();
    let k = selected.len();
    if k == 0 {
        return Ok(Vec::new());
    }
    let m = lanczos.steps();
    let u = Mat::from_fn(m, k, |i, c| eig.vectors[(i, selected[c])]);
    let mut vectors = vec![0.0; d * k];
    let y = faer::MatMut::from_column_major_slice_mut(&mut vectors, d, k);
    matmul(y, Accum::Replace, lanczos.basis(), u.as_ref(), 1.0, lanczos.par);
    let mut products = vec![0.0; d * k];
    op.apply_block(&vectors, &mut products).map_err(|source| Error::Operator {
        what: "lanczos residual check",
        step: m,
        source,
    })?;

    let pairs = selected
        .iter()
        .enumerate()
        .map(|(c, &l)| {
            let value = eig.values[l];
            let y = &vectors[c * d..(c + 1) * d];
            let ay = &products[c * d..(c + 1) * d];
            let residual =
                ay.iter().zip(y).map(|(a, y)| (a - value * y).powi(2)).sum::<f64>().sqrt();
            RitzPair { value, vector: y.to_vec(), residual, estimate: estimates[l] }
        })
        .collect();
    Ok(pairs)
}
