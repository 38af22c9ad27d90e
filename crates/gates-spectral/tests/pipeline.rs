//! The spectrum pipeline on a real (small) trained run, against a Hessian built independently
//! from central differences of the model's gradients; minibatch and full-training-set
//! Hessians, and the progress events a display sees.

use std::path::PathBuf;
use std::sync::Mutex;

use dfdx::prelude::*;
use gates_artifacts::{read_blob, Checkpoint, MinibatchRef, SpectrumMethod, Trajectory};
use gates_dynamics::{train, Silent, TrainConfig, TrainOptions};
use gates_models::data::DataSpec;
use gates_models::{LossKind, Mlp};
use gates_spectral::hessian::{
    compute_spectrum, BatchChoice, CheckpointChoice, MethodRequest, Progress, SpectrumRequest,
};

const CONFIG: &str = r#"
dtype = "f64"
[data]
kind = "gaussian"
classes = 3
dim = 5
n_train = 60
n_test = 20
[model]
widths = [5, 6, 3]
activation = "tanh"
bias = true
[optimizer]
kind = "sgd"
lr = 0.3
[training]
batch_size = 10
epochs = 4
"#;

/// Central-difference Hessian of the minibatch loss, column by column from exact gradients.
fn finite_difference_hessian(
    config: &TrainConfig,
    ckpt: &Checkpoint,
    indices: &[usize],
) -> Vec<f64> {
    let split = DataSpec::load(&config.data).unwrap();
    let dev = Cpu::default();
    let mut model = Mlp::<f64, Cpu>::from_named(&config.model, &dev, &ckpt.params).unwrap();
    let w = model.flat();
    let d = w.len();
    let mut gradient_at = |w: &[f64]| -> Vec<f64> {
        model.set_flat(w);
        let x = split.train.inputs_tensor::<f64, _>(&dev, indices);
        let y = split.train.onehot_tensor::<f64, _>(&dev, indices);
        let grads = LossKind::CrossEntropy
            .batch_loss(model.forward(x.traced(Gradients::leaky())), y)
            .backward();
        model.params().iter().flat_map(|p| grads.get(p).as_vec()).collect()
    };
    let h = 1e-5;
    let mut out = vec![0.0; d * d];
    for j in 0..d {
        let mut wp = w.clone();
        wp[j] += h;
        let gp = gradient_at(&wp);
        wp[j] -= 2.0 * h;
        let gm = gradient_at(&wp);
        for i in 0..d {
            out[j * d + i] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    out
}

fn eigenvalues(mut m: Vec<f64>, d: usize) -> Vec<f64> {
    // Symmetrise, then all eigenvalues with faer.
    for i in 0..d {
        for j in 0..i {
            let s = 0.5 * (m[i * d + j] + m[j * d + i]);
            m[i * d + j] = s;
            m[j * d + i] = s;
        }
    }
    let mat = faer::MatRef::from_column_major_slice(&m, d, d);
    let mut e: Vec<f64> = mat.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    e.sort_by(f64::total_cmp);
    e
}

/// Trains the run of [`CONFIG`] into `dir`: its config, trajectory path and final checkpoint.
fn trained_run(dir: &std::path::Path) -> (TrainConfig, PathBuf, Checkpoint) {
    let config = TrainConfig::from_toml(CONFIG).unwrap();
    let options = TrainOptions { out_dir: dir.to_path_buf(), ..Default::default() };
    let outcome = train(&Cpu::default(), &config, &options, &mut Silent).unwrap();
    let traj_path = outcome.trajectory_path;
    let traj = read_blob::<Trajectory>(&traj_path).unwrap().body;
    let ckpt = read_blob::<Checkpoint>(&dir.join(&traj.checkpoints[0].file)).unwrap().body;
    (config, traj_path, ckpt)
}

/// A request at the final checkpoint, with the sharpness and `trace_probes` probes.
fn at_final(
    trajectory: &std::path::Path,
    method: MethodRequest,
    batch: BatchChoice,
    trace_probes: usize,
) -> SpectrumRequest {
    SpectrumRequest {
        trajectory: trajectory.to_path_buf(),
        checkpoint: CheckpointChoice::Final,
        method,
        batch,
        seed: 7,
        trace_probes,
        sharpness: true,
    }
}

#[test]
fn dense_slq_and_lanczos_spectra_of_a_trained_run() {
    let dir = tempfile::tempdir().unwrap();
    let (config, traj_path, ckpt) = trained_run(dir.path());
    let d = config.model.param_count();

    let request = |method| at_final(&traj_path, method, BatchChoice::Run, 400);
    let dense =
        compute_spectrum(&request(MethodRequest::Dense { minibatches: 2 }), &|_| ()).unwrap();
    assert_eq!(
        (dense.param_count as usize, dense.n_train, dense.batch_size, dense.eta),
        (d, 60, 10, 0.3)
    );
    let SpectrumMethod::Dense { minibatches } = &dense.method else { panic!() };
    assert_eq!(minibatches.len(), 2);

    // Each minibatch's eigenvalues equal those of the finite-difference Hessian of the same
    // samples (O(h²) + rounding/h error of central differences).
    for m in minibatches {
        let MinibatchRef::Indices { indices, .. } = &m.batch else { panic!("indices are stored") };
        assert_eq!(indices.len(), 10);
        let idx: Vec<usize> = indices.iter().map(|&i| i as usize).collect();
        let want = eigenvalues(finite_difference_hessian(&config, &ckpt, &idx), d);
        for (a, b) in m.eigenvalues.iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
    assert_ne!(minibatches[0].batch, minibatches[1].batch, "each Hessian has its own minibatch");

    // The classical sharpness and the trace are those of the first minibatch's Hessian.
    let first = &minibatches[0].eigenvalues;
    let top = dense.top_eigenvalue.unwrap();
    assert!((top.value - first.last().unwrap()).abs() < 1e-8 * (1.0 + top.value.abs()));
    assert!(top.residual < 1e-8 * (1.0 + top.value.abs()), "residual {}", top.residual);
    // Exact products assemble a matrix symmetric to rounding.
    for m in minibatches {
        assert!(m.asymmetry < 1e-13, "asymmetry {}", m.asymmetry);
    }
    let trace = dense.trace.unwrap();
    let exact: f64 = first.iter().sum();
    assert!(
        (trace.value - exact).abs() < 4.0 * trace.std_error + 1e-12,
        "{} ± {} vs {exact}",
        trace.value,
        trace.std_error
    );

    // SLQ with m = d steps on the same first minibatch integrates every moment exactly.
    let slq =
        compute_spectrum(&request(MethodRequest::Slq { runs: 3, steps: d }), &|_| ()).unwrap();
    let SpectrumMethod::Slq { runs, .. } = &slq.method else { panic!() };
    assert_eq!(runs[0].batch, minibatches[0].batch, "run i uses minibatch i");
    // With m = d steps the Ritz values are eigenvalues of that Hessian, and the weights sum to 1.
    // A run that stops before m steps says so: its Krylov space became invariant.
    for run in runs {
        assert_eq!(run.invariant, run.nodes.len() < d, "{} nodes of {d}", run.nodes.len());
    }
    let weight: f64 = runs[0].weights.iter().sum();
    assert!((weight - 1.0).abs() < 1e-12);
    for node in &runs[0].nodes {
        let nearest = first.iter().map(|a| (a - node).abs()).fold(f64::INFINITY, f64::min);
        assert!(nearest < 1e-8 * (1.0 + node.abs()), "Ritz value {node} is no eigenvalue");
    }

    // Lanczos extreme eigenvalues match the dense ones.
    let lz = compute_spectrum(
        &request(MethodRequest::Lanczos { top: 2, bottom: 2, max_steps: d, tolerance: 1e-10 }),
        &|_| (),
    )
    .unwrap();
    let SpectrumMethod::Lanczos { top, bottom, steps, converged, .. } = &lz.method else {
        panic!()
    };
    assert!(*converged && (1..=d as u32).contains(steps), "{steps} steps, converged {converged}");
    assert!((top[0].value - first[d - 1]).abs() < 1e-8);
    assert!((top[1].value - first[d - 2]).abs() < 1e-8);
    assert!((bottom[0].value - first[0]).abs() < 1e-8);
}

#[test]
fn full_training_set_hessians_and_progress_events() {
    let dir = tempfile::tempdir().unwrap();
    let (config, traj_path, ckpt) = trained_run(dir.path());
    let d = config.model.param_count();
    let request = |method| at_final(&traj_path, method, BatchChoice::Full, 20);
    let events = Mutex::new(Vec::new());
    let record = |event| events.lock().unwrap().push(event);

    // The Hessian of the whole training set (60 samples) against central differences of the
    // full-batch gradient.
    let full =
        compute_spectrum(&request(MethodRequest::Dense { minibatches: 1 }), &record).unwrap();
    assert_eq!(full.batch_size, 60, "the Hessian's batch is the training set");
    let SpectrumMethod::Dense { minibatches } = &full.method else { panic!() };
    assert_eq!(minibatches[0].batch, MinibatchRef::Full);
    let all: Vec<usize> = (0..60).collect();
    let want = eigenvalues(finite_difference_hessian(&config, &ckpt, &all), d);
    for (a, b) in minibatches[0].eigenvalues.iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let top = full.top_eigenvalue.unwrap().value;
    assert!((top - want[d - 1]).abs() < 1e-6, "sharpness of the full-batch Hessian");
    assert_eq!(
        events.lock().unwrap().drain(..).collect::<Vec<_>>(),
        [
            Progress::Assembling { index: 0, of: 1 },
            Progress::Eigenvalues { index: 0, of: 1 },
            Progress::HessianDone,
            Progress::Trace,
            Progress::Sharpness,
        ]
    );

    // K dense Hessians of the full set would be one Hessian K times: refused, naming the file.
    let err = compute_spectrum(&request(MethodRequest::Dense { minibatches: 2 }), &|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("full training set gives one Hessian"), "{err}");
    assert!(err.contains("trajectory"), "{err}");

    // SLQ on the full set: one operator, each run its own probe; every finished run reported.
    let slq =
        compute_spectrum(&request(MethodRequest::Slq { runs: 4, steps: 5 }), &record).unwrap();
    let SpectrumMethod::Slq { runs, .. } = &slq.method else { panic!() };
    assert!(runs.iter().all(|r| r.batch == MinibatchRef::Full));
    let mut seeds: Vec<u64> = runs.iter().map(|r| r.probe_seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 4, "each run has its own probe");
    let seen = events.lock().unwrap().clone();
    assert_eq!(seen[0], Progress::Slq { runs: 4 });
    assert_eq!(seen.iter().filter(|e| **e == Progress::HessianDone).count(), 4, "{seen:?}");
}
