//! Dense symmetric eigenvalues in f64: the cost of one "exact SD" minibatch.
//!
//! - Criterion at d = 2,000: our in-place solver (two-stage and faer's one-stage reduction,
//!   `Par::Seq` and `Par::rayon(0)`), and faer's `self_adjoint_eigenvalues` (which copies the
//!   matrix) for comparison.
//! - A manual timing at d = 12,960 (the paper's small MLP; one solve takes tens of seconds,
//!   too slow for criterion's ten samples), printed as
//!   `RESULT faer d=<d> algo=<algorithm> par=<setting> threads=<n> seconds=<s>` lines that
//!   `bench/compare.sh` reads.
//!
//! Environment of the manual timing: `GATES_BENCH_SIZES` (default `2000,12960`; empty skips
//! it), `GATES_BENCH_PAR` (`seq`, `rayon` or `both`, the default), `GATES_BENCH_ALGOS` (default
//! `two-stage-32`; also `two-stage-<b>` for any b, and `one-stage`, which takes about 450 s at
//! d = 12,960 on 2 cores), and `GATES_BENCH_SHARE_DIR`: when set, each size's matrix and the
//! eigenvalues of every setting are written there as raw little-endian f64
//! (`matrix-<d>.f64`, `eigenvalues-<d>-<algorithm>-<par>.f64`), so that `bench/eig_numpy.py`
//! times LAPACK on the same matrix and checks our eigenvalues against its own.

#![allow(clippy::print_stdout, reason = "a benchmark reports to the terminal")]
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, Criterion};
use faer::{MatRef, Par, Side};
use gates_spectral::dense::{symmetric_eigenvalues_in_place, DenseAlgorithm, DenseParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A random symmetric matrix, column-major and contiguous.
fn random_symmetric(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut a = vec![0.0; n * n];
    for j in 0..n {
        for i in j..n {
            let x: f64 = StandardNormal.sample(&mut rng);
            a[i + j * n] = x;
            a[j + i * n] = x;
        }
    }
    a
}

fn params(algorithm: DenseAlgorithm, parallelism: Par) -> DenseParams {
    DenseParams { algorithm, parallelism, ..DenseParams::default() }
}

fn parallelism() -> Vec<(&'static str, Par)> {
    let all = [("seq", Par::Seq), ("rayon", Par::rayon(0))];
    match std::env::var("GATES_BENCH_PAR").as_deref() {
        Ok("seq") => all[..1].to_vec(),
        Ok("rayon") => all[1..].to_vec(),
        _ => all.to_vec(),
    }
}

fn algorithms() -> Vec<(String, DenseAlgorithm)> {
    let list = std::env::var("GATES_BENCH_ALGOS").unwrap_or_else(|_| "two-stage-32".into());
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|name| {
            let algorithm = match name.strip_prefix("two-stage-") {
                Some(b) => DenseAlgorithm::TwoStage {
                    bandwidth: b.parse().expect("two-stage-<bandwidth>"),
                },
                None if name == "one-stage" => DenseAlgorithm::OneStage,
                None => panic!("unknown algorithm {name}"),
            };
            (name.to_string(), algorithm)
        })
        .collect()
}

fn small(c: &mut Criterion) {
    let n = 2000;
    let a = random_symmetric(n, 0);
    let mut group = c.benchmark_group("dense_eig_d2000");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    let variants = [
        ("two_stage_32", DenseAlgorithm::TwoStage { bandwidth: 32 }),
        ("one_stage", DenseAlgorithm::OneStage),
    ];
    for (algo, algorithm) in variants {
        for (name, par) in parallelism() {
            group.bench_function(format!("{algo}/{name}"), |b| {
                b.iter_batched(
                    || a.clone(),
                    |mut m| {
                        black_box(
                            symmetric_eigenvalues_in_place(&mut m, n, &params(algorithm, par))
                                .unwrap(),
                        )
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    let mat = MatRef::from_column_major_slice(&a, n, n).to_owned();
    group.bench_function("faer_self_adjoint_eigenvalues/global", |b| {
        b.iter(|| black_box(mat.self_adjoint_eigenvalues(Side::Lower).unwrap()))
    });
    group.finish();
}

/// Writes `values` to `dir/name` as raw little-endian f64.
fn share(dir: &Path, name: &str, values: &[f64]) {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = std::io::BufWriter::new(file);
    for v in values {
        out.write_all(&v.to_le_bytes()).expect("write a shared file");
    }
    out.flush().expect("write a shared file");
}

/// One timed solve per setting (the median of three below d = 5,000).
fn manual() {
    let sizes = std::env::var("GATES_BENCH_SIZES").unwrap_or_else(|_| "2000,12960".into());
    let shared = std::env::var_os("GATES_BENCH_SHARE_DIR").map(PathBuf::from);
    let threads = rayon::current_num_threads();
    for n in sizes.split(',').filter(|s| !s.is_empty()).map(|s| s.parse::<usize>().expect("size")) {
        let a = random_symmetric(n, 0);
        if let Some(dir) = &shared {
            share(dir, &format!("matrix-{n}.f64"), &a);
        }
        for (algo, algorithm) in algorithms() {
            for (name, par) in parallelism() {
                let repeats = if n < 5000 { 3 } else { 1 };
                let mut times = Vec::new();
                for _ in 0..repeats {
                    let mut m = a.clone();
                    let started = Instant::now();
                    let values =
                        symmetric_eigenvalues_in_place(&mut m, n, &params(algorithm, par)).unwrap();
                    times.push(started.elapsed().as_secs_f64());
                    if let Some(dir) = &shared {
                        share(dir, &format!("eigenvalues-{n}-{algo}-{name}.f64"), &values);
                    }
                    black_box(values);
                }
                times.sort_by(f64::total_cmp);
                let seconds = times[times.len() / 2];
                println!("RESULT faer d={n} algo={algo} par={name} threads={threads} seconds={seconds:.3}");
            }
        }
    }
}

criterion_group!(benches, small);

fn main() {
    manual();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
