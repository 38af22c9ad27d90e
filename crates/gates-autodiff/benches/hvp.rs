//! Hessian-vector products of the paper's MLPs (784-16-16-10 and 784-200-200-200-200-10, ReLU,
//! no bias, cross-entropy) at batch 128 on the embedded MNIST subset, in f32 and f64.
//!
//! Ids are `hvp/<mlp3|mlp5>_<f32|f64>_<case>`, with cases
//! - `single`: one product on a minibatch whose primal pass is already cached (the Lanczos
//!   situation: many products on one minibatch), host kernel;
//! - `cold`: a fresh minibatch loss and one product, primal pass included (what a jitted JAX
//!   product recomputes on every call), host kernel;
//! - `block16`: 16 products in one call, host kernel;
//! - `tape_single`, `tape_block16`: the same on the dfdx tape, the path other devices take.
//!
//! Block iterations compute 16 products, so time per vector is the estimate over 16.
//! `bench/compare.sh` runs this bench and the JAX reference and prints the ratios. Measurement
//! windows are short so that the whole comparison takes a few minutes.

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
const BLOCK: usize = 16;

fn bench_one<E: Scalar>(c: &mut Criterion, data: &Dataset, name: &str, widths: &[usize])
where
    Cpu: Backend<E>,
{
    let dev = Cpu::default();
    let model = Mlp::<E, _>::init(&MlpConfig::new(widths), &dev).unwrap();
    let idx = common::minibatch(data);
    let loss_with = |engine| {
        MinibatchLoss::new(&model, data, &idx, LossKind::CrossEntropy)
            .unwrap()
            .with_params(HvpParams { max_copies: BLOCK, engine })
            .unwrap()
    };
    let (host, tape) = (loss_with(Engine::Host), loss_with(Engine::Tape));
    let vs = common::directions::<E>(host.dim(), BLOCK);
    let refs: Vec<&[E]> = vs.iter().map(Vec::as_slice).collect();
    let block = Block::from_columns(host.dim(), &refs).unwrap();
    let id = |case: &str| format!("{name}_{}_{case}", std::any::type_name::<E>());

    // Products go to buffers allocated once, as a Lanczos loop would keep them.
    let mut hv = vec![E::zero(); host.dim()];
    let mut hvs = Block::filled(host.dim(), BLOCK, E::zero());
    let mut group = c.benchmark_group("hvp");
    group.bench_function(id("single"), |b| b.iter(|| host.hvp_into(&vs[0], &mut hv).unwrap()));
    group.bench_function(id("cold"), |b| {
        b.iter(|| loss_with(Engine::Host).hvp_into(&vs[0], &mut hv).unwrap())
    });
    group.bench_function(id("block16"), |b| {
        b.iter(|| host.hvp_block_into(&block, &mut hvs).unwrap())
    });
    group.bench_function(id("tape_single"), |b| b.iter(|| tape.hvp_into(&vs[0], &mut hv).unwrap()));
    group.bench_function(id("tape_block16"), |b| {
        b.iter(|| tape.hvp_block_into(&block, &mut hvs).unwrap())
    });
    group.finish();
}

fn hvp(c: &mut Criterion) {
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
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    targets = hvp
}
criterion_main!(benches);
