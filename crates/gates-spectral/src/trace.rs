//! Two classical curvature measures of PAPER.md §5: the Hutchinson estimate of the trace and
//! the top eigenvalue (classical sharpness).

use gates_artifacts::Estimate;

use crate::error::{Error, Result};
use crate::lanczos::{extreme_eigenpairs, LanczosParams, Which};
use crate::operator::SymmetricOperator;
use crate::probe::{fill_rademacher, probe_seed};

/// Settings of [`hutchinson`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParams {
    /// Number of probes n (default 100).
    pub samples: usize,
    /// Master seed; probe i uses `probe_seed(seed, i)`, as SLQ run i does (default 0).
    pub seed: u64,
    /// Probes per block product (default 16).
    pub block_size: usize,
}

impl Default for TraceParams {
    fn default() -> Self {
        Self { samples: 100, seed: 0, block_size: 16 }
    }
}

/// Hutchinson's estimate of tr(A): the mean of zᵢᵀ A zᵢ over Rademacher probes zᵢ, with the
/// standard error of the mean.
///
/// E[zᵀAz] = tr(A), and Var[zᵀAz] = 2(‖A‖_F² − Σ_j A_jj²): the diagonal costs no variance.
/// With the same seed and n = R, the estimate equals d times SLQ's first moment, since
/// SLQ's first node-weight sum is q₁ᵀAq₁ = zᵀAz/d.
pub fn hutchinson<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    params: &TraceParams,
) -> Result<Estimate> {
    if params.samples < 2 {
        return Err(Error::InvalidParameter {
            name: "TraceParams::samples",
            expected: "at least 2 (for a standard error)",
            got: params.samples.to_string(),
        });
    }
    if params.block_size == 0 {
        return Err(Error::InvalidParameter {
            name: "TraceParams::block_size",
            expected: "at least 1",
            got: "0".into(),
        });
    }
    let d = op.dim();
    let k = params.block_size.min(params.samples);
    let mut probes = vec![0.0; d * k];
    let mut products = vec![0.0; d * k];
    let mut values = Vec::with_capacity(params.samples);

    for first in (0..params.samples).step_by(k) {
        let width = k.min(params.samples - first);
        for c in 0..width {
            fill_rademacher(
                probe_seed(params.seed, (first + c) as u64),
                &mut probes[c * d..(c + 1) * d],
            );
        }
        op.apply_block(&probes[..width * d], &mut products[..width * d])
            .map_err(|source| Error::Operator { what: "hutchinson", step: first, source })?;
        for c in 0..width {
            let z = &probes[c * d..(c + 1) * d];
            let az = &products[c * d..(c + 1) * d];
            let value: f64 = z.iter().zip(az).map(|(a, b)| a * b).sum();
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    what: "hutchinson: probe product",
                    step: first + c,
                });
            }
            values.push(value);
        }
    }

    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    tracing::debug!(samples = values.len(), mean, std_error = (var / n).sqrt(), "hutchinson trace");
    Ok(Estimate { value: mean, std_error: (var / n).sqrt(), samples: values.len() as u64 })
}

/// The top eigenvalue λ_max of an operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopEigenvalue {
    /// λ_max.
    pub value: f64,
    /// Explicit residual ‖Ay − λy‖ of its Ritz vector.
    pub residual: f64,
    /// Lanczos steps taken.
    pub steps: usize,
    /// Whether the residual met the tolerance.
    pub converged: bool,
}

/// The largest eigenvalue (classical sharpness when A is a Hessian) by Lanczos with a random
/// start vector drawn from `params.seed`.
pub fn top_eigenvalue<Op: SymmetricOperator + ?Sized>(
    op: &Op,
    params: &LanczosParams,
) -> Result<TopEigenvalue> {
    let found = extreme_eigenpairs(op, Which::Largest(1), None, params)?;
    let top = &found.largest[0];
    Ok(TopEigenvalue {
        value: top.value,
        residual: top.residual,
        steps: found.steps,
        converged: found.converged,
    })
}
