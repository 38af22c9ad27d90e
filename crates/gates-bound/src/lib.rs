//! `gates-bound`: the numerical core of `gates` — the sharpness dimension (SD) of SGD at the
//! edge of stability, its estimators from stochastic Lanczos quadrature, the generalization
//! bound built on it, and the baseline measures it is compared with (PAPER.md §2–§5).
//!
//! Everything here works on plain slices and small structs: Hessian spectra, SLQ nodes and
//! weights, point clouds behind a [`topology::PointSource`], per-run measure values. The crate
//! never trains a network or computes a Hessian-vector product, and it links no tensor library;
//! the artifacts that other crates write are read by the caller and handed over as slices.
//!
//! - [`sd`]: exact SD from exponents or from dense per-minibatch spectra.
//! - [`estimators`]: SD-SLQ (histogram), SD-KDE and SD-PS (pseudo-spectrum) from SLQ output,
//!   and the trace estimate.
//! - [`bound`]: the bound of §3, every term reported on its own.
//! - [`topology`]: pairwise distances streamed in blocks, minimum spanning trees, `E_α` and
//!   PH-dim.
//! - [`correlation`]: Kendall's τ-b and the granulated Kendall coefficients.
//! - [`window`]: iterate windows as point clouds, and their PH-dim and `E_α`.
//! - [`boxcount`]: box-counting dimension of a point cloud (the check beside figure 6).
//!
//! ```
//! use gates_bound::sd::{log_singular_values, sharpness_dimension};
//!
//! // η = 0.1 (2/η = 20): one eigenvalue past the edge of stability, one neutral, two
//! // contracting.
//! let z = log_singular_values(&[30.0, 0.0, 5.0, 2.0], 0.1)?;
//! let sd = sharpness_dimension(&z)?;
//! // Sorted exponents ln 2, 0, ln 0.8, ln 0.5: the running sum stays ≥ 0 for three of them,
//! // so SD = 3 + (ln 2 + ln 0.8) / |ln 0.5|.
//! assert_eq!(sd.j_star, 3);
//! assert!((sd.sd - (3.0 + (2.0_f64 * 0.8).ln() / 2.0_f64.ln())).abs() < 1e-12);
//! # Ok::<(), gates_bound::BoundError>(())
//! ```

pub mod bound;
pub mod boxcount;
pub mod correlation;
mod error;
pub mod estimators;
pub mod report;
pub mod sd;
pub mod topology;
pub mod window;

pub use error::{BoundError, Result};

/// This crate's version, written as the producer of its artifacts.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
