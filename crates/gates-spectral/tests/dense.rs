//! Dense assembly and eigenvalues: the assembled matrix is the operator's, eigenvalues agree
//! with faer's standard solver, and memory is checked before anything is allocated.

mod support;

use faer::Mat;
use gates_spectral::dense::{self, DenseAlgorithm, DenseParams, MemoryPlan};
use gates_spectral::operator::OperatorError;
use gates_spectral::{Counting, Diagonal, Error, Par, SymmetricOperator};
use support::{operator, random_symmetric, reference_eigenvalues, spectral_norm, EIGENVALUE};

const GIB: u64 = 1 << 30;

fn budget(bytes: u64) -> DenseParams {
    DenseParams { memory_budget: Some(bytes), ..DenseParams::default() }
}

#[test]
fn assembly_reproduces_the_matrix_for_any_block_size() {
    let a = random_symmetric(37, 1);
    let op = Counting::new(operator(a.clone()));
    for block_size in [1, 5, 37, 64] {
        let assembled = dense::assemble(&op, &DenseParams { block_size, ..budget(GIB) }).unwrap();
        let m = assembled.as_mat();
        for j in 0..37 {
            for i in 0..37 {
                assert_eq!(m[(i, j)], a[(i, j)], "entry ({i}, {j}) with block size {block_size}");
            }
        }
        assert!(assembled.asymmetry.relative < 1e-15);
    }
    // Blocks of 1, 5, 37 and 64 columns: 37 + 8 + 1 + 1 calls of apply_block.
    assert_eq!(op.block_calls(), 37 + 8 + 1 + 1);
    assert_eq!(op.vectors(), 4 * 37);
}

/// An operator with a known antisymmetric part: A = S + K with Kᵀ = −K.
struct Skewed {
    symmetric: Mat<f64>,
    skew: Mat<f64>,
}

impl SymmetricOperator for Skewed {
    fn dim(&self) -> usize {
        self.symmetric.nrows()
    }
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        let n = self.dim();
        for i in 0..n {
            out[i] = (0..n).map(|j| (self.symmetric[(i, j)] + self.skew[(i, j)]) * v[j]).sum();
        }
        Ok(())
    }
}

#[test]
fn assembly_symmetrises_and_reports_the_asymmetry() {
    let n = 20;
    let symmetric = random_symmetric(n, 2);
    let g = random_symmetric(n, 3);
    // K: 1e-3 times the strictly lower part of G, minus its transpose.
    let skew = Mat::from_fn(n, n, |i, j| {
        if i > j {
            1e-3 * g[(i, j)]
        } else if i < j {
            -1e-3 * g[(j, i)]
        } else {
            0.0
        }
    });
    let skew_norm = skew.norm_l2();
    let op = Skewed { symmetric: symmetric.clone(), skew };

    let assembled = dense::assemble(&op, &budget(GIB)).unwrap();
    let m = assembled.as_mat();
    for j in 0..n {
        for i in 0..n {
            EIGENVALUE.assert_close("symmetrised entry", m[(i, j)], symmetric[(i, j)], 1.0);
        }
    }
    // ‖A − Aᵀ‖_F = ‖2K‖_F.
    EIGENVALUE.assert_close("asymmetry", assembled.asymmetry.frobenius, 2.0 * skew_norm, 1.0);
}

fn algorithms() -> Vec<DenseAlgorithm> {
    let mut all: Vec<DenseAlgorithm> = [1, 2, 3, 8, 32, 64]
        .into_iter()
        .map(|bandwidth| DenseAlgorithm::TwoStage { bandwidth })
        .collect();
    all.push(DenseAlgorithm::OneStage);
    all
}

#[test]
fn in_place_eigenvalues_match_faer_standard_solver() {
    for (n, seed) in
        [(1, 4), (2, 5), (3, 6), (9, 7), (33, 8), (65, 9), (130, 10), (301, 11), (700, 12)]
    {
        let a = random_symmetric(n, seed);
        let expected = reference_eigenvalues(a.as_ref());
        let scale = spectral_norm(&expected);
        for algorithm in algorithms() {
            for parallelism in [Par::Seq, Par::rayon(0)] {
                let params = DenseParams { parallelism, algorithm, ..budget(GIB) };
                let got = dense::eigenvalues(&operator(a.clone()), &params).unwrap();
                assert_eq!(got.eigenvalues.len(), n);
                assert!(got.eigenvalues.windows(2).all(|w| w[0] <= w[1]), "ascending");
                for (g, e) in got.eigenvalues.iter().zip(&expected) {
                    EIGENVALUE.assert_close(
                        &format!("eigenvalue, n = {n}, {algorithm:?}"),
                        *g,
                        *e,
                        scale,
                    );
                }
            }
        }
    }
}

/// The default runs its matrix products on the rayon pool; faer splits them over output tiles,
/// never over the summed dimension, so eigenvalues are the same to the last bit whatever the
/// number of threads (and equal to the sequential ones).
#[test]
fn eigenvalues_do_not_depend_on_the_thread_count() {
    let a = random_symmetric(1000, 13);
    let solve = |threads: usize, parallelism| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let params = DenseParams { parallelism, ..budget(GIB) };
        pool.install(|| dense::eigenvalues(&operator(a.clone()), &params).unwrap().eigenvalues)
    };
    let sequential = solve(1, Par::Seq);
    for threads in [1, 2, 3, 4] {
        assert_eq!(solve(threads, Par::rayon(0)), sequential, "{threads} threads");
    }
}

#[test]
fn two_stage_handles_repeated_and_graded_spectra() {
    // Exact multiplicities and eigenvalues over 12 orders of magnitude: the reduction must not
    // depend on distinct or similar-sized eigenvalues (stage 2 meets zero reflectors here).
    let mut spectrum: Vec<f64> = (0..100).map(|i| 10f64.powi(i % 13 - 6)).collect();
    spectrum.extend(std::iter::repeat_n(-3.0, 50));
    spectrum.extend(std::iter::repeat_n(0.0, 50));
    let a = support::with_spectrum(&spectrum, 12);
    let expected = reference_eigenvalues(a.as_ref());
    for algorithm in algorithms() {
        let got =
            dense::symmetric_eigenvalues(a.as_ref(), &DenseParams { algorithm, ..budget(GIB) })
                .unwrap();
        for (g, e) in got.iter().zip(&expected) {
            EIGENVALUE.assert_close(&format!("eigenvalue, {algorithm:?}"), *g, *e, 1e6);
        }
    }
    // A matrix that is already tridiagonal, and one that is already diagonal.
    let w = support::wilkinson(40);
    let expected = reference_eigenvalues(w.as_ref());
    let got = dense::symmetric_eigenvalues(w.as_ref(), &budget(GIB)).unwrap();
    for (g, e) in got.iter().zip(&expected) {
        EIGENVALUE.assert_close("wilkinson eigenvalue", *g, *e, 40.0);
    }
    let d = Mat::from_fn(50, 50, |i, j| if i == j { (i as f64).sin() } else { 0.0 });
    let expected = reference_eigenvalues(d.as_ref());
    let got = dense::symmetric_eigenvalues(d.as_ref(), &budget(GIB)).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn eigenvalues_of_a_diagonal_operator_are_its_entries() {
    let entries: Vec<f64> = (0..50).map(|i| ((i * 37) % 50) as f64 - 20.5).collect();
    let mut sorted = entries.clone();
    sorted.sort_by(f64::total_cmp);
    let got = dense::eigenvalues(&Diagonal::new(entries), &budget(GIB)).unwrap();
    for (g, e) in got.eigenvalues.iter().zip(&sorted) {
        EIGENVALUE.assert_close("eigenvalue", *g, *e, 30.0);
    }
}

/// An operator too large to assemble; applying it would be a bug.
struct Huge(usize);

impl SymmetricOperator for Huge {
    fn dim(&self) -> usize {
        self.0
    }
    fn apply(&self, _: &[f64], _: &mut [f64]) -> Result<(), OperatorError> {
        panic!("the memory check must fail before any product");
    }
}

#[test]
fn memory_check_fails_before_allocating() {
    let err = dense::eigenvalues(&Huge(1_000_000), &budget(GIB)).unwrap_err();
    let Error::OutOfMemory { dim, needed_bytes, available_bytes, .. } = err else {
        panic!("expected OutOfMemory, got {err}");
    };
    assert_eq!(dim, 1_000_000);
    assert!(needed_bytes >= 8_000_000_000_000, "the matrix alone is 8e12 bytes");
    assert_eq!(available_bytes, GIB);
    let message = err_message(1_000_000);
    assert!(message.contains("1000000x1000000"), "{message}");
    assert!(message.contains("explicit budget"), "{message}");
    assert!(message.contains("1073741824 bytes"), "{message}");
}

fn err_message(d: usize) -> String {
    dense::eigenvalues(&Huge(d), &budget(GIB)).unwrap_err().to_string()
}

#[test]
fn memory_check_uses_mem_available_without_a_budget() {
    // 1e7 × 1e7 needs 800 TB, more than any machine running these tests.
    let err = dense::eigenvalues(&Huge(10_000_000), &DenseParams::default()).unwrap_err();
    assert!(err.to_string().contains("MemAvailable"), "{err}");
    assert!(dense::available_memory().unwrap() > 0);
}

#[test]
fn memory_plan_counts_one_matrix_and_linear_workspace() {
    let d = 15_000;
    let plan = MemoryPlan::new(d, &DenseParams::default());
    assert_eq!(plan.matrix_bytes, 8 * (d as u64) * (d as u64));
    // The in-place solver's workspace is O(d·b): a few d×b blocks, small beside the matrix.
    assert!(plan.eigensolver_bytes < plan.matrix_bytes / 50, "{plan:?}");
    let one_stage = MemoryPlan::new(
        d,
        &DenseParams { algorithm: DenseAlgorithm::OneStage, ..DenseParams::default() },
    );
    assert!(one_stage.eigensolver_bytes < plan.matrix_bytes / 50, "{one_stage:?}");
    assert!(plan.total() < 2 * GIB, "{plan:?}");
    // Exactly enough budget passes the check; one byte less fails.
    let params = DenseParams::default();
    assert!(plan.check(&DenseParams { memory_budget: Some(plan.total()), ..params }).is_ok());
    assert!(plan.check(&DenseParams { memory_budget: Some(plan.total() - 1), ..params }).is_err());
}

#[test]
fn zero_block_size_is_rejected() {
    let err = dense::assemble(
        &Diagonal::new(vec![1.0; 3]),
        &DenseParams { block_size: 0, ..budget(GIB) },
    );
    assert!(matches!(err, Err(Error::InvalidParameter { name: "DenseParams::block_size", .. })));
}

struct Nan;

impl SymmetricOperator for Nan {
    fn dim(&self) -> usize {
        4
    }
    fn apply(&self, _: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        out.fill(f64::NAN);
        Ok(())
    }
}

#[test]
fn non_finite_products_are_errors() {
    let err = dense::eigenvalues(&Nan, &budget(GIB)).unwrap_err();
    assert!(matches!(err, Error::NonFinite { what: "dense assembly", step: 0 }), "{err}");
}

#[test]
fn slow_dense_eigenvalues_at_d_2000() {
    if !support::slow_tests() {
        return;
    }
    let a = random_symmetric(2000, 9);
    let expected = reference_eigenvalues(a.as_ref());
    let scale = spectral_norm(&expected);
    for algorithm in [
        DenseAlgorithm::default(),
        DenseAlgorithm::TwoStage { bandwidth: 96 },
        DenseAlgorithm::OneStage,
    ] {
        let params = DenseParams { algorithm, ..budget(8 * GIB) };
        let got = dense::eigenvalues(&operator(a.clone()), &params).unwrap();
        for (g, e) in got.eigenvalues.iter().zip(&expected) {
            EIGENVALUE.assert_close(&format!("eigenvalue, {algorithm:?}"), *g, *e, scale);
        }
    }
}
