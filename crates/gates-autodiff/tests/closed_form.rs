//! Hessians of one-layer models against their closed forms, built as dense matrices here from
//! plain loops: linear least squares (MSE) and softmax regression (cross-entropy), with and
//! without bias. Every column of H is compared, through single and block products.

mod common;

use common::*;
use dfdx::tensor::Cpu;
use gates_autodiff::{Block, HvpParams, MinibatchLoss};
use gates_models::data::Dataset;
use gates_models::{LossKind, Mlp, MlpConfig};

const FEATURES: usize = 5;
const CLASSES: usize = 3;

/// A dense d × d matrix, row-major.
struct Dense {
    d: usize,
    a: Vec<f64>,
}

impl Dense {
    fn zeros(d: usize) -> Self {
        Self { d, a: vec![0.0; d * d] }
    }

    fn col(&self, j: usize) -> Vec<f64> {
        (0..self.d).map(|i| self.a[i * self.d + j]).collect()
    }
}

/// Sample n's input with a trailing 1 when the layer has a bias.
fn augmented(data: &Dataset, n: usize, bias: bool) -> Vec<f64> {
    let mut x: Vec<f64> =
        data.inputs[n * FEATURES..(n + 1) * FEATURES].iter().map(|&v| v as f64).collect();
    if bias {
        x.push(1.0);
    }
    x
}

/// Flat index of "weight (o, i)" for i < FEATURES, or of "bias o" for the augmented i.
fn index(o: usize, i: usize) -> usize {
    if i < FEATURES {
        o * FEATURES + i
    } else {
        CLASSES * FEATURES + o
    }
}

/// H = (1/b)Σ_n C_n ⊗ x̃_n x̃_nᵀ, with C_n = I for least squares and diag(p_n) − p_n p_nᵀ for
/// softmax regression, laid out as gates-models' flat vector (weight row-major, then bias).
fn closed_form(model: &Mlp<f64, Cpu>, data: &Dataset, loss: LossKind) -> Dense {
    let bias = model.config().bias;
    let w = model.flat();
    let inputs = FEATURES + bias as usize;
    let mut h = Dense::zeros(w.len());
    let b = data.len() as f64;
    for n in 0..data.len() {
        let x = augmented(data, n, bias);
        let curvature = match loss {
            LossKind::Mse => identity(CLASSES),
            LossKind::CrossEntropy => {
                let z: Vec<f64> = (0..CLASSES)
                    .map(|o| (0..inputs).map(|i| w[index(o, i)] * x[i]).sum())
                    .collect();
                softmax_curvature(&z)
            }
        };
        for o in 0..CLASSES {
            for p in 0..CLASSES {
                for i in 0..inputs {
                    for j in 0..inputs {
                        h.a[index(o, i) * h.d + index(p, j)] +=
                            curvature[o * CLASSES + p] * x[i] * x[j] / b;
                    }
                }
            }
        }
    }
    h
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n).map(|k| if k / n == k % n { 1.0 } else { 0.0 }).collect()
}

/// diag(p) − ppᵀ with p = softmax(z).
fn softmax_curvature(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let total: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / total).collect();
    let n = z.len();
    (0..n * n).map(|k| if k / n == k % n { p[k / n] } else { 0.0 } - p[k / n] * p[k % n]).collect()
}

fn check(loss: LossKind) {
    let dev = Cpu::default();
    let data = small_data();
    let idx = all(&data);
    for bias in [false, true] {
        let cfg = MlpConfig { bias, init_seed: 3, ..MlpConfig::new(&[FEATURES, CLASSES]) };
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let want = closed_form(&model, &data, loss);
        let d = want.d;
        let what = format!("{loss:?} bias={bias}");

        for engine in ENGINES {
            let what = format!("{what} {engine:?}");
            let batch = batch_loss(&model, &data, &idx, loss, engine);
            for j in 0..d {
                let mut e = vec![0.0; d];
                e[j] = 1.0;
                let got = batch.hvp(&e).unwrap();
                F64_EXACT.assert_close(&format!("{what} column {j}"), &got, &want.col(j));
            }

            // All columns at once, in passes of 4 copies and in one pass.
            let identity = Block::from_col_major(d, identity(d)).unwrap();
            for max_copies in [4, d] {
                let blocked = MinibatchLoss::new(&model, &data, &idx, loss)
                    .unwrap()
                    .with_params(HvpParams { max_copies, engine })
                    .unwrap();
                let h = blocked.hvp_block(&identity).unwrap();
                for j in 0..d {
                    F64_EXACT.assert_close(
                        &format!("{what} block of {max_copies}, column {j}"),
                        h.col(j),
                        &want.col(j),
                    );
                }
            }
        }
    }
}

#[test]
fn least_squares_hessian_is_identity_kron_input_covariance() {
    check(LossKind::Mse);
}

#[test]
fn softmax_regression_hessian_matches_closed_form() {
    check(LossKind::CrossEntropy);
}
