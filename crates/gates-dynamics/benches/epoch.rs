//! One training epoch of the paper's 3-layer MLP (784-16-16-10, ReLU, no bias, 12,960
//! parameters) on the embedded MNIST subset: 250 SGD steps at b = 32, η = 0.1, through the same
//! `step` function and minibatch noise that `gates train` uses.
//!
//! `bench/compare-epoch.sh` runs this next to the same epoch in JAX and prints the ratio.

use criterion::{criterion_group, criterion_main, Criterion};
use dfdx::tensor::Cpu;
use gates_dynamics::{step, MinibatchNoise, Optimizer, OptimizerConfig};
use gates_models::data::DataSpec;
use gates_models::{Backend, LossKind, Mlp, MlpConfig, Scalar};

fn epoch<E: Scalar>(c: &mut Criterion, name: &str)
where
    Cpu: Backend<E>,
{
    let split = DataSpec::mnist_embedded().load().expect("embedded data");
    let dev = Cpu::default();
    let config = MlpConfig::new(&[784, 16, 16, 10]);
    let mut model = Mlp::<E, _>::init(&config, &dev).expect("model");
    let mut optimizer = Optimizer::new(&OptimizerConfig::sgd(0.1), model.params());
    let mut noise = MinibatchNoise::new(split.train.len(), 32, 0);
    let steps = noise.steps_per_epoch();
    assert_eq!(steps, 250);

    c.bench_function(name, |b| {
        b.iter(|| {
            let mut last = 0.0;
            for t in 0..steps {
                let batch = noise.batch(t).to_vec();
                last =
                    step(&mut model, &mut optimizer, &split.train, &batch, LossKind::CrossEntropy);
            }
            last
        })
    });
}

fn benches(c: &mut Criterion) {
    epoch::<f32>(c, "epoch_mlp3_f32");
    epoch::<f64>(c, "epoch_mlp3_f64");
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group! {
        name = group;
        config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(8));
        targets = benches
    }
}
criterion_main!(group::group);
