//! Hessian spectra for `gates`: dense eigenvalues, Lanczos, stochastic Lanczos quadrature
//! (SLQ) and Hutchinson's trace, on any symmetric linear operator (PAPER.md §4 and §5).
//!
//! Every algorithm takes a [`SymmetricOperator`]: something that multiplies vectors, and
//! blocks of vectors, by a symmetric d×d matrix. The Hessian-vector product of
//! `gates-autodiff` is one; [`DenseSymmetric`] and [`Diagonal`] serve tests and small problems.
//!
//! | module | computes | cost |
//! |---|---|---|
//! | [`dense`] | all d eigenvalues (exact SD) | d products, 8d² bytes, O(d³) |
//! | [`lanczos`] | extreme eigenpairs with residuals | m products, 8dm bytes |
//! | [`slq`] | the spectral measure ν (SD-SLQ, SD-KDE, SD-PS) | R·m products |
//! | [`trace`] | Hutchinson trace, top eigenvalue | n products; m products |
//!
//! Results convert to the types of the `gates.spectrum` artifact of `gates-artifacts`.
//!
//! ```
//! use gates_spectral::{dense, slq, Diagonal};
//!
//! let op = Diagonal::new((1..=50).map(f64::from).collect());
//! let exact = dense::eigenvalues(&op, &dense::DenseParams::default()).unwrap();
//! assert_eq!(exact.eigenvalues[49], 50.0);
//!
//! let params = slq::SlqParams { runs: 20, steps: 10, ..Default::default() };
//! let result = slq::slq(|_run| &op, &params).unwrap();
//! assert!((result.moment(0) - 1.0).abs() < 1e-12);
//! assert!((result.moment(1) - 25.5).abs() < 5.0);
//! ```

pub mod dense;
mod error;
mod gram_schmidt;
pub mod hessian;
pub mod lanczos;
pub mod operator;
pub mod probe;
pub mod slq;
pub mod trace;
mod tridiagonal;

pub use error::{Error, Result};

/// This crate's version, written as the producer of its artifacts.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use faer::Par;
pub use operator::{Counting, DenseSymmetric, Diagonal, Scaled, Shifted, SymmetricOperator};
