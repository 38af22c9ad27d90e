//! Two SLQ runs (m = 100 Lanczos steps each, full reorthogonalisation) on the minibatch Hessian
//! of the paper's 5-layer MLP (784-200-200-200-200-10, 278,800 parameters) at batch 128 on the
//! embedded MNIST subset: the unit of work of figure 3's SD-SLQ (SLQ needs at least two runs for
//! a standard error; one run costs half the time reported). The operator is the real one
//! `gates spectrum` uses (exact Hessian-vector products of gates-autodiff).

use criterion::{criterion_group, criterion_main, Criterion};
use dfdx::tensor::Cpu;
use gates_models::data::DataSpec;
use gates_models::{LossKind, Mlp, MlpConfig};
use gates_spectral::hessian::{minibatch, HessianOperator};
use gates_spectral::slq::{slq, RunParallelism, SlqParams};

fn slq_run(c: &mut Criterion) {
    let split = DataSpec::mnist_embedded().load().expect("embedded data");
    let dev = Cpu::default();
    let model = Mlp::<f64, Cpu>::init(&MlpConfig::new(&[784, 200, 200, 200, 200, 10]), &dev)
        .expect("model");
    assert_eq!(model.param_count(), 278_800);
    let (_, indices) = minibatch(split.train.len(), 128, 0, 0);
    let params = SlqParams {
        runs: 2,
        steps: 100,
        parallelism: RunParallelism::Sequential,
        ..SlqParams::default()
    };

    c.bench_function("slq_2runs_m100_mlp5_f64", |b| {
        b.iter(|| {
            let op = HessianOperator::new(&model, &split.train, &indices, LossKind::CrossEntropy)
                .expect("operator");
            slq(|_| &op, &params).expect("slq")
        })
    });
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group! {
        name = group;
        config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(20));
        targets = slq_run
    }
}
criterion_main!(group::group);
