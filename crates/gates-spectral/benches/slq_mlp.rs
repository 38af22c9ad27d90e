//! SLQ on the minibatch Hessian of the paper's 5-layer MLP (784-200-200-200-200-10, 278,800
//! parameters) at batch 128 on the embedded MNIST subset, and the Lanczos process alone at the
//! same dimension.
//!
//! - `slq_2runs_m100_mlp5_f64`: two SLQ runs of m = 100 Lanczos steps with full
//!   reorthogonalisation, the unit of work of figure 3's SD-SLQ (SLQ needs at least two runs for
//!   a standard error; one run costs half the time reported). Each run builds the operator
//!   `gates spectrum` uses (the exact Hessian-vector products of gates-autodiff) on its own
//!   minibatch. Runs execute one after the other, each with parallel products and
//!   reorthogonalisation inside (`RunParallelism::Sequential`).
//! - `slq_2runs_m100_mlp5_f64_parallel`: the same two runs side by side, one thread each
//!   (`RunParallelism::Parallel`).
//! - `lanczos_m100_diagonal_d278800`: m = 100 steps on a diagonal operator of the same d, whose
//!   products are almost free: the cost of the reorthogonalisation alone.
//!
//! `bench/compare-slq.sh` runs this and `bench/slq_jax.py` back to back and prints the ratio.

use criterion::{criterion_group, criterion_main, Criterion};
use dfdx::tensor::Cpu;
use gates_models::data::DataSpec;
use gates_models::{LossKind, Mlp, MlpConfig};
use gates_spectral::hessian::{minibatch, HessianOperator};
use gates_spectral::lanczos::{Lanczos, LanczosParams};
use gates_spectral::slq::{slq, RunParallelism, SlqParams};
use gates_spectral::{Diagonal, Par};

const DIM: usize = 278_800;

fn slq_run(c: &mut Criterion) {
    let split = DataSpec::mnist_embedded().load().expect("embedded data");
    let dev = Cpu::default();
    let model = Mlp::<f64, Cpu>::init(&MlpConfig::new(&[784, 200, 200, 200, 200, 10]), &dev)
        .expect("model");
    assert_eq!(model.param_count(), DIM);
    let batches: Vec<Vec<usize>> =
        (0..2).map(|i| minibatch(split.train.len(), 128, 0, i).1).collect();
    for (suffix, parallelism) in
        [("", RunParallelism::Sequential), ("_parallel", RunParallelism::Parallel)]
    {
        let params = SlqParams { runs: 2, steps: 100, parallelism, ..SlqParams::default() };
        c.bench_function(&format!("slq_2runs_m100_mlp5_f64{suffix}"), |b| {
            b.iter(|| {
                let operator = |i: usize| {
                    HessianOperator::new(&model, &split.train, &batches[i], LossKind::CrossEntropy)
                        .expect("operator")
                };
                slq(operator, &params).expect("slq")
            })
        });
    }
}

fn reorthogonalisation(c: &mut Criterion) {
    let op = Diagonal::new((0..DIM).map(|i| 1.0 + (i % 1000) as f64 / 1000.0).collect());
    let start: Vec<f64> = (0..DIM).map(|i| if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
    for (name, parallelism) in [("seq", Par::Seq), ("rayon", Par::rayon(0))] {
        let params = LanczosParams { parallelism, ..LanczosParams::default() };
        c.bench_function(&format!("lanczos_m100_diagonal_d278800_{name}"), |b| {
            b.iter(|| {
                let mut lanczos = Lanczos::new(&op, &start, &params).expect("lanczos");
                while lanczos.steps() < 100 && lanczos.can_continue() {
                    lanczos.step().expect("step");
                }
                lanczos.steps()
            })
        });
    }
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group! {
        name = group;
        config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(20));
        targets = slq_run, reorthogonalisation
    }
}
criterion_main!(group::group);
