//! Algebraic laws of the Hessian operator (symmetry, linearity), block products against single
//! products, the SGD Jacobian against its definition and against differences of the SGD map,
//! and errors for malformed inputs.

mod common;

use common::*;
use dfdx::tensor::Cpu;
use gates_autodiff::{
    Block, Engine, Error, HvpParams, MinibatchLoss, SgdJacobian, SymmetricOperator,
};
use gates_models::{Activation, LossKind, Mlp, MlpConfig};
use proptest::prelude::*;

/// A smooth network with biases, where every Hessian entry is generic.
fn smooth_config() -> MlpConfig {
    MlpConfig { widths: vec![5, 6, 3], activation: Activation::Gelu, bias: true, init_seed: 2 }
}

fn loss_strategy() -> impl Strategy<Value = LossKind> {
    prop_oneof![Just(LossKind::CrossEntropy), Just(LossKind::Mse)]
}

fn engine_strategy() -> impl Strategy<Value = Engine> {
    prop_oneof![Just(Engine::Tape), Just(Engine::Host)]
}

fn activation_strategy() -> impl Strategy<Value = Activation> {
    prop_oneof![Just(Activation::Relu), Just(Activation::Gelu), Just(Activation::Tanh)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// uᵀHv = vᵀHu, to rounding relative to ‖u‖·‖v‖·‖H‖.
    #[test]
    fn hessian_is_symmetric(
        seeds in (0u64..1 << 32, 0u64..1 << 32),
        activation in activation_strategy(),
        loss in loss_strategy(),
        engine in engine_strategy(),
    ) {
        let dev = Cpu::default();
        let data = small_data();
        let cfg = MlpConfig { activation, ..smooth_config() };
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let batch = batch_loss(&model, &data, &all(&data), loss, engine);
        let (u, v) = (direction(batch.dim(), seeds.0), direction(batch.dim(), seeds.1));
        let (hu, hv) = (batch.hvp(&u).unwrap(), batch.hvp(&v).unwrap());
        let scale = norm(&hu).max(norm(&hv));
        F64_EXACT.assert_scalar("uᵀHv vs vᵀHu", dot(&u, &hv), dot(&v, &hu), scale);

        let model = Mlp::<f32, _>::init(&cfg, &dev).unwrap();
        let batch = batch_loss(&model, &data, &all(&data), loss, engine);
        let hu = widen(&batch.hvp(&cast::<f32>(&u)).unwrap());
        let hv = widen(&batch.hvp(&cast::<f32>(&v)).unwrap());
        F32_EXACT.assert_scalar("f32 uᵀHv vs vᵀHu", dot(&u, &hv), dot(&v, &hu), scale);
    }

    /// H(αu + βv) = αHu + βHv.
    #[test]
    fn hessian_is_linear(
        seeds in (0u64..1 << 32, 0u64..1 << 32),
        alpha in -3.0f64..3.0,
        beta in -3.0f64..3.0,
        loss in loss_strategy(),
        engine in engine_strategy(),
    ) {
        let dev = Cpu::default();
        let data = small_data();
        let model = Mlp::<f64, _>::init(&smooth_config(), &dev).unwrap();
        let batch = batch_loss(&model, &data, &all(&data), loss, engine);
        let (u, v) = (direction(batch.dim(), seeds.0), direction(batch.dim(), seeds.1));
        let mix: Vec<f64> = u.iter().zip(&v).map(|(a, b)| alpha * a + beta * b).collect();
        let (hu, hv) = (batch.hvp(&u).unwrap(), batch.hvp(&v).unwrap());
        let want: Vec<f64> = hu.iter().zip(&hv).map(|(a, b)| alpha * a + beta * b).collect();
        let tol = Tol { abs: F64_EXACT.rel * (alpha.abs() * norm(&hu) + beta.abs() * norm(&hv)), ..F64_EXACT };
        tol.assert_close("H(αu + βv)", &batch.hvp(&mix).unwrap(), &want);
    }

    /// Column j of a block product is the single product of column j, for any block size and
    /// any split into passes.
    #[test]
    fn block_products_equal_single_products(
        seed in 0u64..1 << 32,
        cols in 1usize..8,
        max_copies in 1usize..6,
        activation in activation_strategy(),
        bias in any::<bool>(),
        loss in loss_strategy(),
        engine in engine_strategy(),
    ) {
        let dev = Cpu::default();
        let data = small_data();
        let cfg = MlpConfig { widths: vec![5, 7, 4, 3], activation, bias, init_seed: 5 };
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let batch = MinibatchLoss::new(&model, &data, &all(&data), loss)
            .unwrap()
            .with_params(HvpParams { max_copies, engine })
            .unwrap();
        let vs: Vec<Vec<f64>> = (0..cols as u64).map(|j| direction(batch.dim(), seed + j)).collect();
        let refs: Vec<&[f64]> = vs.iter().map(Vec::as_slice).collect();
        let block = batch.hvp_block(&Block::from_columns(batch.dim(), &refs).unwrap()).unwrap();
        prop_assert_eq!(block.cols(), cols);
        for (j, v) in vs.iter().enumerate() {
            F64_EXACT.assert_close(&format!("column {j}"), block.col(j), &batch.hvp(v).unwrap());
        }
    }
}

#[test]
fn f32_block_products_equal_single_products() {
    let dev = Cpu::default();
    let data = small_data();
    for (cfg, engine) in configs().into_iter().flat_map(|c| ENGINES.map(|e| (c.clone(), e))) {
        let model = Mlp::<f32, _>::init(&cfg, &dev).unwrap();
        let batch = batch_loss(&model, &data, &all(&data), LossKind::CrossEntropy, engine);
        let vs: Vec<Vec<f32>> = (0..5).map(|j| cast(&direction(batch.dim(), j))).collect();
        let refs: Vec<&[f32]> = vs.iter().map(Vec::as_slice).collect();
        let block = batch.hvp_block(&Block::from_columns(batch.dim(), &refs).unwrap()).unwrap();
        for (j, v) in vs.iter().enumerate() {
            let single = widen(&batch.hvp(v).unwrap());
            let what = format!("{} {engine:?} column {j}", cfg.describe());
            F32_EXACT.assert_close(&what, &widen(block.col(j)), &single);
        }
    }
}

/// A block's passes run in parallel on the rayon pool; how they are split depends on the
/// network and the settings alone, so a product is the same to the last bit on one thread and
/// on four.
#[test]
fn block_products_do_not_depend_on_the_thread_count() {
    let dev = Cpu::default();
    let data = small_data();
    for cfg in configs() {
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let batch = MinibatchLoss::new(&model, &data, &all(&data), LossKind::CrossEntropy)
            .unwrap()
            .with_params(HvpParams { max_copies: 2, engine: Engine::Host })
            .unwrap();
        let vs: Vec<Vec<f64>> = (0..7).map(|j| direction(batch.dim(), 40 + j)).collect();
        let refs: Vec<&[f64]> = vs.iter().map(Vec::as_slice).collect();
        let block = Block::from_columns(batch.dim(), &refs).unwrap();
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| batch.hvp_block(&block).unwrap())
        };
        assert_eq!(on(1), on(4), "{}", cfg.describe());
    }
}

#[test]
fn sgd_jacobian_is_identity_minus_lr_times_hessian() {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    let lr = 0.3;
    for cfg in configs() {
        let mut model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        for (loss, engine) in LOSSES.into_iter().flat_map(|l| ENGINES.map(|e| (l, e))) {
            let what = format!("{} {loss:?} {engine:?}", cfg.describe());
            let batch = batch_loss(&model, &data, &idx, loss, engine);
            let jac = SgdJacobian::new(&batch, lr);
            let vs: Vec<Vec<f64>> = (0..3).map(|j| direction(batch.dim(), 40 + j)).collect();

            let mut jvps = Vec::new();
            for v in &vs {
                let hv = batch.hvp(v).unwrap();
                let want: Vec<f64> = v.iter().zip(&hv).map(|(v, h)| v - lr * h).collect();
                let jv = jac.jvp(v).unwrap();
                F64_EXACT.assert_close(&format!("{what}: v − ηHv"), &jv, &want);
                F64_EXACT.assert_close(&format!("{what}: operator"), &jac.apply(v).unwrap(), &want);
                jvps.push(jv);
            }
            let refs: Vec<&[f64]> = vs.iter().map(Vec::as_slice).collect();
            let block = jac.jvp_block(&Block::from_columns(batch.dim(), &refs).unwrap()).unwrap();
            for (j, jv) in jvps.iter().enumerate() {
                F64_EXACT.assert_close(&format!("{what}: block column {j}"), block.col(j), jv);
            }
            drop(batch);

            // Against central differences of the SGD map ϕ(w) = w − η∇L(w) itself.
            let w = model.flat();
            let v = &vs[0];
            let mut step_at = |sign: f64| {
                let shifted: Vec<f64> =
                    w.iter().zip(v).map(|(w, v)| w + sign * FD_STEP_F64 * v).collect();
                model.set_flat(&shifted);
                let g = MinibatchLoss::new(&model, &data, &idx, loss).unwrap().gradient();
                shifted.iter().zip(&g).map(|(w, g)| w - lr * g).collect::<Vec<f64>>()
            };
            let (plus, minus) = (step_at(1.0), step_at(-1.0));
            model.set_flat(&w);
            let fd: Vec<f64> =
                plus.iter().zip(&minus).map(|(p, m)| (p - m) / (2.0 * FD_STEP_F64)).collect();
            F64_VS_FD.assert_close(&format!("{what}: differences of ϕ"), &jvps[0], &fd);
        }
    }
}

#[test]
fn malformed_inputs_are_errors() {
    let dev = Cpu::default();
    let data = small_data();
    let model = Mlp::<f64, _>::init(&configs()[0], &dev).unwrap();
    let loss = LossKind::Mse;

    let err = MinibatchLoss::new(&model, &data, &[], loss).err().unwrap();
    assert!(matches!(err, Error::EmptyBatch), "{err}");
    let err = MinibatchLoss::new(&model, &data, &[0, 12], loss).err().unwrap();
    assert!(matches!(err, Error::Index { index: 12, len: 12 }), "{err}");

    let wide = Mlp::<f64, _>::init(&MlpConfig::new(&[6, 3]), &dev).unwrap();
    let err = MinibatchLoss::new(&wide, &data, &[0], loss).err().unwrap();
    assert_eq!(err.to_string(), "input features: expected 6, got 5");
    let many = Mlp::<f64, _>::init(&MlpConfig::new(&[5, 4]), &dev).unwrap();
    let err = MinibatchLoss::new(&many, &data, &[0], loss).err().unwrap();
    assert_eq!(err.to_string(), "classes: expected 4, got 3");

    let batch = MinibatchLoss::new(&model, &data, &[0, 1], loss).unwrap();
    let err = batch.hvp(&[0.0; 3]).unwrap_err();
    assert_eq!(err.to_string(), format!("direction: expected length {}, got 3", batch.dim()));
    let block = Block::filled(3, 2, 0.0);
    assert!(matches!(batch.hvp_block(&block), Err(Error::Length { got: 3, .. })));
    let mut short = vec![0.0; 2];
    let err = batch.hvp_into(&vec![0.0; batch.dim()], &mut short).unwrap_err();
    assert_eq!(err.to_string(), format!("product: expected length {}, got 2", batch.dim()));
    let (vs, mut one) = (Block::filled(batch.dim(), 2, 0.0), Block::filled(batch.dim(), 1, 0.0));
    assert!(matches!(batch.hvp_block_into(&vs, &mut one), Err(Error::Length { .. })));
    let err = batch.with_params(HvpParams { max_copies: 0, ..HvpParams::default() }).err().unwrap();
    assert!(matches!(err, Error::Param { key: "max_copies", .. }), "{err}");
    assert!(Block::from_col_major(4, vec![0.0; 7]).is_err());
}
