//! Hessians against their closed forms: one-layer models, built as dense matrices here from
//! plain loops (linear least squares (MSE) and softmax regression (cross-entropy), with and
//! without bias), and the 2-D toy loss of figure 6 against gates-models' analytic Hessian.
//! Every column of H is compared, through single and block products.

mod common;

use common::*;
use dfdx::tensor::Cpu;
use gates_autodiff::{Block, HvpParams, MinibatchLoss, ToyLoss};
use gates_models::data::Dataset;
use gates_models::{toy, LossKind, Mlp, MlpConfig};

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

/// Points of the toy loss where its curvature is negative in both directions (the origin shifted
/// by π/4 in x₁), past the edge of stability (the origin: α = 33 > 2/0.15), of both signs, and
/// generic.
const TOY_POINTS: [[f64; 2]; 6] = [
    [0.0, 0.0],
    [std::f64::consts::FRAC_PI_4, 0.0],
    [0.3, -0.7],
    [1.1, 0.2],
    [-0.05, 0.9],
    [2.5, -1.9],
];

/// The 2 × 2 matrix h times v.
fn times(h: [[f64; 2]; 2], v: &[f64; 2]) -> Vec<f64> {
    h.iter().map(|row| row[0] * v[0] + row[1] * v[1]).collect()
}

#[test]
fn toy_loss_hessian_matches_its_closed_form() {
    let dev = Cpu::default();
    let columns = [[1.0, 0.0], [0.0, 1.0], [0.6, -0.8], [-2.0, 0.5]];
    for x in TOY_POINTS {
        let want: Vec<Vec<f64>> = columns.iter().map(|v| times(toy::hessian(x), v)).collect();

        let f64_loss = ToyLoss::new(x, &dev);
        F64_EXACT.assert_scalar("toy loss", f64_loss.loss(), toy::loss(x), 1.0);
        let f32_loss = ToyLoss::new(x.map(|c| c as f32), &dev);
        let block = Block::from_columns(2, &columns.each_ref().map(|c| c.as_slice())).unwrap();
        let f64_block = f64_loss.hvp_block(&block).unwrap();

        for (j, v) in columns.iter().enumerate() {
            let what = format!("toy at {x:?}, direction {v:?}");
            let g = toy::gradient(x);
            let slope = f64_loss.directional_derivative(v).unwrap();
            F64_EXACT.assert_scalar(
                &format!("{what}: ∇L·v"),
                slope,
                g[0] * v[0] + g[1] * v[1],
                10.0,
            );
            F64_EXACT.assert_close(&what, &f64_loss.hvp(v).unwrap(), &want[j]);
            F64_EXACT.assert_close(&format!("{what}, block"), f64_block.col(j), &want[j]);

            // The f32 point is x rounded to f32, so compare with the closed form there.
            let want32 = times(toy::hessian(x.map(|c| c as f32 as f64)), v);
            let got32: Vec<f64> =
                f32_loss.hvp(&v.map(|c| c as f32)).unwrap().into_iter().map(f64::from).collect();
            F32_EXACT.assert_close(&format!("{what}, f32"), &got32, &want32);
        }
    }
}

#[test]
fn toy_loss_reaches_negative_curvature_and_the_edge_of_stability() {
    // The closed form's extremes, seen through the products: H = 33·I at the origin and
    // H = −31·I at (π/4, 0), so e₁ is an eigenvector of both with those eigenvalues.
    let dev = Cpu::default();
    let e1 = [1.0, 0.0];
    let top = ToyLoss::new([0.0, 0.0], &dev).hvp(&e1).unwrap();
    F64_EXACT.assert_close("H e₁ at the origin", &top, &[33.0, 0.0]);
    let quarter = std::f64::consts::FRAC_PI_4;
    let bottom = ToyLoss::new([quarter, 0.0], &dev).hvp(&e1).unwrap();
    F64_EXACT.assert_close("H e₁ at (π/4, 0)", &bottom, &[-31.0, 0.0]);
    assert!(ToyLoss::new([0.0, 0.0], &dev).hvp(&[1.0]).is_err(), "a direction of length 1");
}
