//! Hessian products and directional derivatives against central finite differences of
//! gates-models' own gradients and losses, for every activation × bias × loss, in f64 and f32.

mod common;

use common::*;
use dfdx::tensor::Cpu;
use gates_autodiff::{Block, Engine, MinibatchLoss};
use gates_models::data::synthetic::GaussianSpec;
use gates_models::data::DataSpec;
use gates_models::{Activation, Mlp, MlpConfig};

#[test]
fn f64_hvp_matches_central_differences_of_gradients() {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    for cfg in configs() {
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        for loss in LOSSES {
            for seed in [1, 2] {
                let v = direction(model.param_count(), seed);
                let fd = fd_hvp(&model, &data, &idx, loss, &v, FD_STEP_F64);
                for engine in ENGINES {
                    let hv = batch_loss(&model, &data, &idx, loss, engine).hvp(&v).unwrap();
                    let what = format!("{} {loss:?} v{seed} {engine:?}", cfg.describe());
                    F64_VS_FD.assert_close(&what, &hv, &fd);
                }
            }
        }
    }
}

#[test]
fn f32_hvp_matches_f32_differences_and_f64_products() {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    for cfg in configs() {
        let model = Mlp::<f32, _>::init(&cfg, &dev).unwrap();
        let mut wide = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        wide.set_flat(&widen(&model.flat()));
        for loss in LOSSES {
            let v = direction(model.param_count(), 3);
            let fd = fd_hvp(&model, &data, &idx, loss, &v, FD_STEP_F32);
            let exact = batch_loss(&wide, &data, &idx, loss, Engine::Tape).hvp(&v).unwrap();
            for engine in ENGINES {
                let what = format!("{} {loss:?} {engine:?}", cfg.describe());
                let batch = batch_loss(&model, &data, &idx, loss, engine);
                let hv = widen(&batch.hvp(&cast::<f32>(&v)).unwrap());
                F32_VS_FD.assert_close(&format!("{what} vs f32 differences"), &hv, &fd);
                F32_VS_F64.assert_close(&format!("{what} vs f64"), &hv, &exact);
            }
        }
    }
}

/// The tangent pass alone must give ∇L·v: against dfdx's gradient and against central
/// differences of the loss value.
#[test]
fn tangent_pass_gives_the_directional_derivative() {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    for cfg in configs() {
        let mut model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let w = model.flat();
        for loss in LOSSES {
            let what = format!("{} {loss:?}", cfg.describe());
            let v = direction(w.len(), 5);
            let batch = MinibatchLoss::new(&model, &data, &idx, loss).unwrap();
            let s = batch.directional_derivative(&v).unwrap();
            let g = batch.gradient();
            F64_EXACT.assert_scalar(&format!("{what}: s vs ∇L·v"), s, dot(&g, &v), norm(&g));

            let mut loss_at = |sign: f64| {
                let shifted: Vec<f64> =
                    w.iter().zip(&v).map(|(w, v)| w + sign * FD_STEP_F64 * v).collect();
                model.set_flat(&shifted);
                MinibatchLoss::new(&model, &data, &idx, loss).unwrap().loss()
            };
            let fd = (loss_at(1.0) - loss_at(-1.0)) / (2.0 * FD_STEP_F64);
            model.set_flat(&w);
            F64_VS_FD.assert_scalar(&format!("{what}: s vs differences"), s, fd, norm(&g));
        }
    }
}

/// The two implementations share no code beyond the data: they must agree to rounding.
#[test]
fn host_kernel_and_tape_agree() {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    for cfg in configs() {
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        for loss in LOSSES {
            let v = direction(model.param_count(), 9);
            let tape = batch_loss(&model, &data, &idx, loss, Engine::Tape).hvp(&v).unwrap();
            let host = batch_loss(&model, &data, &idx, loss, Engine::Host).hvp(&v).unwrap();
            F64_EXACT.assert_close(&format!("{} {loss:?}", cfg.describe()), &host, &tape);
        }
    }
}

/// A network wide enough that the host kernel runs its passes as parallel tasks and splits a
/// block of 6 into passes of 4 and 2 copies, against the tape, single and block.
#[test]
fn host_kernel_and_tape_agree_on_a_wide_network_in_parallel_passes() {
    let dev = Cpu::default();
    let data =
        GaussianSpec { classes: 10, dim: 64, n_train: 64, n_test: 1, separation: 1.0, seed: 2 }
            .generate()
            .unwrap()
            .train;
    let idx = all(&data);
    let cfg = MlpConfig {
        widths: vec![64, 128, 128, 10],
        activation: Activation::Tanh,
        bias: true,
        init_seed: 4,
    };
    let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
    let vs: Vec<Vec<f64>> = (0..6).map(|j| direction(model.param_count(), 20 + j)).collect();
    let refs: Vec<&[f64]> = vs.iter().map(Vec::as_slice).collect();
    let block = Block::from_columns(model.param_count(), &refs).unwrap();
    for loss in LOSSES {
        let tape = batch_loss(&model, &data, &idx, loss, Engine::Tape).hvp_block(&block).unwrap();
        let host = batch_loss(&model, &data, &idx, loss, Engine::Host);
        let blocked = host.hvp_block(&block).unwrap();
        for (j, v) in vs.iter().enumerate() {
            let what = format!("{loss:?} column {j}");
            F64_EXACT.assert_close(&format!("{what}: host block"), blocked.col(j), tape.col(j));
            F64_EXACT.assert_close(
                &format!("{what}: host single"),
                &host.hvp(v).unwrap(),
                tape.col(j),
            );
        }
    }
}

/// Shared between the threads of a spectral solver.
#[test]
fn minibatch_losses_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<MinibatchLoss<'static, f32, Cpu>>();
    check::<MinibatchLoss<'static, f64, Cpu>>();
}

/// The paper's MLPs on real digits (slow: `GATES_SLOW_TESTS=1`).
#[test]
fn paper_mlps_on_mnist_match_central_differences() {
    if !slow_tests() {
        return;
    }
    let dev = Cpu::default();
    let data = DataSpec::mnist_embedded().load().unwrap().train;
    let idx: Vec<usize> = (0..64).map(|i| i * 97 % data.len()).collect();
    for widths in [&[784, 16, 16, 10][..], &[784, 200, 200, 200, 200, 10]] {
        let model = Mlp::<f64, _>::init(&MlpConfig::new(widths), &dev).unwrap();
        for loss in LOSSES {
            let v = direction(model.param_count(), 7);
            let fd = fd_hvp(&model, &data, &idx, loss, &v, FD_STEP_F64);
            for engine in ENGINES {
                let batch = batch_loss(&model, &data, &idx, loss, engine);
                let what = format!("{widths:?} {loss:?} {engine:?}");
                let hv = batch.hvp(&v).unwrap();
                F64_VS_FD.assert_close(&what, &hv, &fd);

                let u = direction(model.param_count(), 8);
                let block = batch.hvp_block(&Block::from_columns(v.len(), &[&u, &v, &u]).unwrap());
                let block = block.unwrap();
                F64_EXACT.assert_close(&format!("{what} block column 1"), block.col(1), &hv);
                F64_EXACT.assert_close(
                    &format!("{what} block columns 0, 2"),
                    block.col(0),
                    block.col(2),
                );
            }
        }
    }
}
