//! Block Hessian products against single products on the host kernel: the paper's MLPs
//! (784-16-16-10 and 784-200-200-200-200-10, ReLU, no bias, cross-entropy) at batch 128 on the
//! embedded MNIST subset, k = 8 directions, f32 and f64.
//!
//! Ids are `block/<mlp3|mlp5>_<f32|f64>_<case>`, with cases
//! - `block8`: one call computing the 8 products;
//! - `singles8`: 8 calls of one product each, on the same minibatch and directions.
//!
//! Both cases share a minibatch loss whose primal pass is cached before timing, so the ratio
//! of the two is what a block saves per vector. Run both cases in one invocation: on a shared
//! machine only times measured side by side compare.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use dfdx::tensor::Cpu;
use gates_autodiff::{Block, Engine, HvpParams, MinibatchLoss};
use gates_models::data::{DataSpec, Dataset};
use gates_models::{Backend, LossKind, Mlp, MlpConfig, Scalar};

/// Directions per block product.
const K: usize = 8;

fn bench_one<E: Scalar>(c: &mut Criterion, data: &Dataset, name: &str, widths: &[usize])
where
    Cpu: Backend<E>,
{
    let dev = Cpu::default();
    let model = Mlp::<E, _>::init(&MlpConfig::new(widths), &dev).unwrap();
    let idx = common::minibatch(data);
    let loss = MinibatchLoss::new(&model, data, &idx, LossKind::CrossEntropy)
        .unwrap()
        .with_params(HvpParams { max_copies: K, engine: Engine::Host })
        .unwrap();
    let vs = common::directions::<E>(loss.dim(), K);
    let refs: Vec<&[E]> = vs.iter().map(Vec::as_slice).collect();
    let block = Block::from_columns(loss.dim(), &refs).unwrap();
    let id = |case: &str| format!("{name}_{}_{case}", std::any::type_name::<E>());

    // Warm the primal pass so that neither case pays it.
    let mut hv = vec![E::zero(); loss.dim()];
    let mut hvs = Block::filled(loss.dim(), K, E::zero());
    loss.hvp_into(&vs[0], &mut hv).unwrap();

    let mut group = c.benchmark_group("block");
    group.bench_function(id("block8"), |b| {
        b.iter(|| loss.hvp_block_into(&block, &mut hvs).unwrap())
    });
    group.bench_function(id("singles8"), |b| {
        b.iter(|| {
            for v in &vs {
                loss.hvp_into(v, &mut hv).unwrap();
            }
        })
    });
    group.finish();
}

fn block(c: &mut Criterion) {
    let data = DataSpec::mnist_embedded().load().unwrap().train;
    let archs = [("mlp3", &[784, 16, 16, 10][..]), ("mlp5", &[784, 200, 200, 200, 200, 10])];
    for (name, widths) in archs {
        bench_one::<f32>(c, &data, name, widths);
        bench_one::<f64>(c, &data, name, widths);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = block
}
criterion_main!(benches);
