//! MLP forward passes and gradients against an independent host implementation and finite
//! differences; parameter naming; losses.

use dfdx::prelude::*;
use gates_models::data::synthetic::GaussianSpec;
use gates_models::data::{DataSpec, Dataset};
use gates_models::{loss, Activation, LossKind, Mlp, MlpConfig};

/// Tolerance for comparing two f64 computations of the same quantity.
const F64_TOL: f64 = 1e-10;

fn act(a: Activation, x: f64) -> f64 {
    match a {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Gelu => {
            0.5 * x
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
        }
    }
}

/// A plain-loops forward pass over the flat parameter vector, written from the layout doc.
fn host_forward(cfg: &MlpConfig, w: &[f64], x: &[f64]) -> Vec<f64> {
    let mut a = x.to_vec();
    let mut off = 0;
    let layers = cfg.widths.len() - 1;
    for (l, win) in cfg.widths.windows(2).enumerate() {
        let (fi, fo) = (win[0], win[1]);
        let weight = &w[off..off + fi * fo];
        off += fi * fo;
        let mut h: Vec<f64> =
            (0..fo).map(|o| (0..fi).map(|i| weight[o * fi + i] * a[i]).sum()).collect();
        if cfg.bias {
            for o in 0..fo {
                h[o] += w[off + o];
            }
            off += fo;
        }
        a = if l + 1 < layers {
            h.into_iter().map(|v| act(cfg.activation, v)).collect()
        } else {
            h
        };
    }
    a
}

fn small_data() -> Dataset {
    GaussianSpec { classes: 3, dim: 5, n_train: 12, n_test: 3, separation: 1.0, seed: 4 }
        .generate()
        .unwrap()
        .train
}

fn configs() -> Vec<MlpConfig> {
    let mut out = Vec::new();
    for activation in [Activation::Relu, Activation::Gelu, Activation::Tanh] {
        for bias in [false, true] {
            out.push(MlpConfig { widths: vec![5, 7, 4, 3], activation, bias, init_seed: 11 });
        }
    }
    out
}

#[test]
fn paper_architectures_have_the_paper_parameter_counts() {
    assert_eq!(MlpConfig::new(&[784, 16, 16, 10]).param_count(), 12_960);
    assert_eq!(MlpConfig::new(&[784, 200, 200, 200, 200, 10]).param_count(), 278_800);
}

#[test]
fn forward_matches_a_host_implementation() {
    let dev = Cpu::default();
    let data = small_data();
    let idx: Vec<usize> = (0..data.len()).collect();
    for cfg in configs() {
        let model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
        let w = model.flat();
        assert_eq!(w.len(), cfg.param_count());
        let logits = model.forward(data.inputs_tensor::<f64, _>(&dev, &idx)).as_vec();
        for (row, &i) in logits.chunks(3).zip(&idx) {
            let x: Vec<f64> = data.inputs[i * 5..(i + 1) * 5].iter().map(|&v| v as f64).collect();
            let want = host_forward(&cfg, &w, &x);
            for (a, b) in row.iter().zip(&want) {
                assert!((a - b).abs() < F64_TOL, "{}: {a} vs {b}", cfg.describe());
            }
        }
    }
}

fn batch_loss(model: &Mlp<f64, Cpu>, data: &Dataset, loss: LossKind) -> f64 {
    let dev = model.device();
    let idx: Vec<usize> = (0..data.len()).collect();
    let logits = model.forward(data.inputs_tensor::<f64, _>(&dev, &idx));
    loss.batch_loss(logits, data.onehot_tensor(&dev, &idx)).array()
}

#[test]
fn gradients_match_central_differences() {
    let dev = Cpu::default();
    let data = small_data();
    let idx: Vec<usize> = (0..data.len()).collect();
    for cfg in configs() {
        for kind in [LossKind::CrossEntropy, LossKind::Mse] {
            let mut model = Mlp::<f64, _>::init(&cfg, &dev).unwrap();
            let x = data.inputs_tensor::<f64, _>(&dev, &idx);
            let logits = model.forward(x.traced(Gradients::leaky()));
            let grads = kind.batch_loss(logits, data.onehot_tensor(&dev, &idx)).backward();
            let g: Vec<f64> = model.params().iter().flat_map(|p| grads.get(p).as_vec()).collect();

            let w = model.flat();
            let h = 1e-6;
            for k in (0..w.len()).step_by(7) {
                let mut wp = w.clone();
                wp[k] += h;
                model.set_flat(&wp);
                let lp = batch_loss(&model, &data, kind);
                wp[k] -= 2.0 * h;
                model.set_flat(&wp);
                let lm = batch_loss(&model, &data, kind);
                let fd = (lp - lm) / (2.0 * h);
                // ReLU kinks are measure-zero; central differences of a smooth piece agree
                // to O(h²) plus rounding.
                assert!(
                    (fd - g[k]).abs() < 1e-6 * (1.0 + g[k].abs()),
                    "{} {kind:?} param {k}: {fd} vs {}",
                    cfg.describe(),
                    g[k]
                );
            }
            model.set_flat(&w);
        }
    }
}

#[test]
fn per_sample_losses_average_to_the_batch_loss() {
    let dev = Cpu::default();
    let data = small_data();
    let idx: Vec<usize> = (0..data.len()).collect();
    let model = Mlp::<f64, _>::init(&configs()[3], &dev).unwrap();
    for kind in [LossKind::CrossEntropy, LossKind::Mse] {
        let per = loss::per_sample_losses(&model, &data, &idx, kind);
        let mean = per.iter().sum::<f64>() / per.len() as f64;
        assert!((mean - batch_loss(&model, &data, kind)).abs() < F64_TOL);
        assert!((loss::evaluate(&model, &data, kind).loss - mean).abs() < F64_TOL);
    }
}

#[test]
fn named_parameters_round_trip_and_mismatches_are_errors() {
    let dev = Cpu::default();
    let cfg =
        MlpConfig { widths: vec![4, 3, 2], activation: Activation::Tanh, bias: true, init_seed: 1 };
    let model = Mlp::<f32, _>::init(&cfg, &dev).unwrap();
    let named = model.to_named();
    let names: Vec<&str> = named.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]);
    assert_eq!(named[0].shape, vec![3, 4]);
    let back = Mlp::<f32, _>::from_named(&cfg, &dev, &named).unwrap();
    assert_eq!(back.flat(), model.flat());

    let err = Mlp::<f64, _>::from_named(&cfg, &dev, &named).unwrap_err().to_string();
    assert!(err.contains("expected f64 values, found f32 values"), "{err}");
    let other = MlpConfig { widths: vec![4, 5, 2], ..cfg.clone() };
    let err = Mlp::<f32, _>::from_named(&other, &dev, &named).unwrap_err().to_string();
    assert!(err.contains("layers.0.weight") && err.contains("[5, 4]"), "{err}");
}

#[test]
fn same_seed_same_network_other_seed_other_network() {
    let dev = Cpu::default();
    let cfg = MlpConfig::new(&[6, 5, 2]);
    let a = Mlp::<f32, _>::init(&cfg, &dev).unwrap().flat();
    let b = Mlp::<f32, _>::init(&cfg, &dev).unwrap().flat();
    let c = Mlp::<f32, _>::init(&MlpConfig { init_seed: 9, ..cfg }, &dev).unwrap().flat();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let bound = 1.0 / 6f32.sqrt();
    assert!(a[..30].iter().all(|w| w.abs() <= bound));
}

#[test]
fn bad_widths_are_errors_naming_the_key() {
    for widths in [vec![784], vec![784, 0, 10]] {
        let err = MlpConfig::new(&widths).validate().unwrap_err().to_string();
        assert!(err.starts_with("invalid model.widths"), "{err}");
    }
}

#[test]
fn data_specs_parse_from_toml_and_reject_unknown_keys() {
    let spec: DataSpec =
        toml::from_str("kind = \"modular\"\nmodulus = 7\ntrain_fraction = 0.4").unwrap();
    let split = spec.load().unwrap();
    assert_eq!(split.train.len() + split.test.len(), 49);
    assert_eq!(split.train.len(), 20);
    assert_eq!(split.train.input_dim, 14);
    let err = toml::from_str::<DataSpec>(
        "kind = \"modular\"\nmodulus = 7\ntrain_fraction = 0.4\nfoo = 1",
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `foo`"), "{err}");
}
