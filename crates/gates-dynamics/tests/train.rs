//! Training end to end: accuracy of the paper's MLP, exact resume, divergence, output safety,
//! and configuration errors.

use std::path::Path;

use dfdx::tensor::Cpu;
use gates_artifacts::{
    read_blob, Checkpoint, RecordFormat, RecordReader, RunStatus, Trajectory, WindowPreamble,
    WindowRecord,
};
use gates_dynamics::{files, train, Silent, TrainConfig, TrainOptions};

fn options(dir: &Path) -> TrainOptions {
    TrainOptions { out_dir: dir.to_path_buf(), ..Default::default() }
}

const PAPER_MLP: &str = r#"
[data]
kind = "mnist-embedded"
[model]
widths = [784, 16, 16, 10]
[optimizer]
kind = "sgd"
lr = 0.1
[training]
batch_size = 32
epochs = 5
"#;

/// The acceptance run of the foundation issue: the paper's 3-layer MLP on the embedded subset,
/// 5 epochs at η = 0.1, b = 32, reaches over 85% test accuracy.
#[test]
fn paper_mlp_learns_embedded_mnist() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig::from_toml(PAPER_MLP).unwrap();
    let out = train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap();
    let traj = out.trajectory;
    assert_eq!(traj.status, RunStatus::Completed { steps: 1250 });
    assert_eq!(traj.step_loss.len(), 1250);
    let last = traj.final_evaluation().unwrap();
    assert_eq!(last.step, 1250);
    assert!(last.test.accuracy > 0.85, "test accuracy {}", last.test.accuracy);
    assert_eq!(traj.evaluations.len(), 6, "step 0 and every epoch");
    assert_eq!(traj.checkpoints.len(), 1, "the final checkpoint");
    let ckpt = read_blob::<Checkpoint>(&dir.path().join(&traj.checkpoints[0].file)).unwrap();
    assert_eq!(ckpt.body.param_count(), 12_960);
}

fn small_config(optimizer: &str, window: u64) -> TrainConfig {
    TrainConfig::from_toml(&small_toml(optimizer, window)).unwrap()
}

fn small_toml(optimizer: &str, window: u64) -> String {
    format!(
        r#"
dtype = "f64"
[data]
kind = "gaussian"
classes = 3
dim = 6
n_train = 50
n_test = 20
seed = 1
[model]
widths = [6, 8, 3]
activation = "tanh"
bias = true
[optimizer]
{optimizer}
[training]
batch_size = 8
epochs = 6
seed = 3
eval_every = 4
[record]
checkpoint_count = 3
window = {window}
window_eval_samples = 10
resume_every = 5
"#
    )
}

fn window_records(path: &Path) -> Vec<WindowRecord> {
    let mut reader = RecordReader::<WindowPreamble>::open(path).unwrap();
    let d = reader.preamble().param_count as usize;
    let n = reader.len();
    let mut buf = Vec::new();
    reader.read_block(0, n, &mut buf).unwrap();
    buf.chunks_exact(reader.preamble().record_len() as usize)
        .map(|c| WindowRecord::decode(c, d))
        .collect()
}

fn final_params(dir: &Path, traj: &Trajectory) -> Checkpoint {
    read_blob::<Checkpoint>(&dir.join(&traj.checkpoints.last().unwrap().file)).unwrap().body
}

/// Interrupt a run at several steps, resume it, and get exactly the uninterrupted run's files.
#[test]
fn resumed_runs_match_uninterrupted_runs_exactly() {
    for optimizer in [
        "kind = \"sgd\"\nlr = 0.2\nmomentum = 0.9\nweight_decay = 0.01\nnesterov = true",
        "kind = \"adamw\"\nlr = 0.01\nweight_decay = 0.1",
    ] {
        let config = small_config(optimizer, 12);
        let full_dir = tempfile::tempdir().unwrap();
        let full = train(&Cpu::default(), &config, &options(full_dir.path()), &mut Silent)
            .unwrap()
            .trajectory;
        assert_eq!(full.status, RunStatus::Completed { steps: 36 });
        assert_eq!(full.window.as_ref().unwrap().count, 12);

        for stop in [3, 10, 27, 30] {
            let dir = tempfile::tempdir().unwrap();
            let mut opts = options(dir.path());
            opts.stop_after = Some(stop);
            let partial = train(&Cpu::default(), &config, &opts, &mut Silent).unwrap().trajectory;
            assert_eq!(partial.status, RunStatus::InProgress { step: stop });

            opts.stop_after = None;
            opts.resume_from = Some(dir.path().join(files::RESUME));
            let resumed = train(&Cpu::default(), &config, &opts, &mut Silent).unwrap().trajectory;

            assert_eq!(resumed.step_loss, full.step_loss, "stop at {stop}");
            assert_eq!(resumed.evaluations, full.evaluations, "stop at {stop}");
            assert_eq!(resumed.checkpoints, full.checkpoints, "stop at {stop}");
            assert_eq!(resumed.window, full.window, "stop at {stop}");
            assert_eq!(final_params(dir.path(), &resumed), final_params(full_dir.path(), &full));
            assert_eq!(
                window_records(&dir.path().join(files::WINDOW)),
                window_records(&full_dir.path().join(files::WINDOW))
            );
            assert!(
                !dir.path().join(files::RESUME).exists(),
                "a finished run cleans up its resume file"
            );
        }

        // Resuming from a kept checkpoint in the middle works too.
        let mid = &full.checkpoints[0];
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(full_dir.path()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        let mut opts = options(dir.path());
        opts.resume_from = Some(dir.path().join(&mid.file));
        // The finished window has no partial stream to continue; re-create it from the copy.
        std::fs::rename(dir.path().join(files::WINDOW), dir.path().join("window.gates.partial"))
            .unwrap();
        let resumed = train(&Cpu::default(), &config, &opts, &mut Silent).unwrap().trajectory;
        assert_eq!(resumed.step_loss, full.step_loss);
        assert_eq!(final_params(dir.path(), &resumed), final_params(full_dir.path(), &full));
    }
}

#[test]
fn window_holds_the_last_iterates_with_their_losses() {
    let config = small_config("kind = \"sgd\"\nlr = 0.1", 5);
    let dir = tempfile::tempdir().unwrap();
    let traj =
        train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap().trajectory;
    let records = window_records(&dir.path().join(files::WINDOW));
    let steps: Vec<u64> = records.iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![32, 33, 34, 35, 36]);
    assert_eq!(traj.window.as_ref().unwrap().first_step, 32);

    // The last record is the final checkpoint's parameters, and its losses are the per-sample
    // losses of those parameters.
    let ckpt = final_params(dir.path(), &traj);
    let last = records.last().unwrap();
    let flat: Vec<f32> = ckpt.flat_params().iter().map(|&x| x as f32).collect();
    assert_eq!(last.params, flat);
    assert_eq!(last.losses.len(), 10);
    let mean: f64 = last.losses.iter().map(|&l| l as f64).sum::<f64>() / 10.0;
    assert!(mean.is_finite() && mean > 0.0);
}

#[test]
fn a_diverging_run_is_recorded_not_a_crash() {
    let text = small_toml("kind = \"sgd\"\nlr = 1e3", 0)
        .replace("activation = \"tanh\"", "activation = \"relu\"")
        .replace("dtype = \"f64\"", "dtype = \"f64\"\nloss = \"mse\"");
    let config = TrainConfig::from_toml(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let traj =
        train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap().trajectory;
    let RunStatus::Diverged { step, loss } = traj.status else {
        panic!("status {:?}", traj.status)
    };
    assert!(!loss.is_finite());
    assert_eq!(traj.step_loss.len() as u64, step + 1);
    let stored = read_blob::<Trajectory>(&dir.path().join(files::TRAJECTORY)).unwrap().body;
    assert_eq!(stored.status, traj.status);
}

#[test]
fn an_existing_run_is_not_overwritten_unless_asked() {
    let config = small_config("kind = \"sgd\"\nlr = 0.1", 0);
    let dir = tempfile::tempdir().unwrap();
    train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap();
    let err =
        train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap_err().to_string();
    assert!(err.contains("already exists") && err.contains("--force"), "{err}");
    let mut opts = options(dir.path());
    opts.overwrite = true;
    train(&Cpu::default(), &config, &opts, &mut Silent).unwrap();
}

#[test]
fn resuming_with_other_settings_is_refused() {
    let config = small_config("kind = \"sgd\"\nlr = 0.1", 0);
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.stop_after = Some(4);
    train(&Cpu::default(), &config, &opts, &mut Silent).unwrap();
    let other = small_config("kind = \"sgd\"\nlr = 0.3", 0);
    opts.stop_after = None;
    opts.resume_from = Some(dir.path().join(files::RESUME));
    let err = train(&Cpu::default(), &other, &opts, &mut Silent).unwrap_err().to_string();
    assert!(err.contains("cannot resume") && err.contains("[optimizer] settings differ"), "{err}");
}

#[test]
fn impossible_settings_name_their_key() {
    let cases = [
        ("lr = 0.1", "lr = -1.0", "invalid optimizer.lr"),
        (
            "batch_size = 8",
            "batch_size = 500",
            "invalid training.batch_size: expected at most the 50 training samples",
        ),
        ("widths = [6, 8, 3]", "widths = [6, 0, 3]", "invalid model.widths"),
        ("widths = [6, 8, 3]", "widths = [7, 8, 3]", "expected first width 6"),
        ("epochs = 6", "epochs = 6\nsteps = 3", "either epochs or steps"),
    ];
    let base = small_toml("kind = \"sgd\"\nlr = 0.1", 0);
    for (from, to, message) in cases {
        assert!(base.contains(from), "{from} in {base}");
        let config = TrainConfig::from_toml(&base.replacen(from, to, 1)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = train(&Cpu::default(), &config, &options(dir.path()), &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{err}");
    }
    let err = TrainConfig::from_toml(&base.replacen("lr = 0.1", "lr = 0.1\nlearning_rate = 2", 1))
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `learning_rate`"), "{err}");
}

/// The forward window continues the run exactly: simulating K iterates from a T-step run gives
/// the last K iterates of the same run trained for T + K − 1 steps.
#[test]
fn forward_window_continues_the_run_exactly() {
    let short = small_config("kind = \"sgd\"\nlr = 0.1\nmomentum = 0.5", 0);
    let dir = tempfile::tempdir().unwrap();
    let traj = train(&Cpu::default(), &short, &options(dir.path()), &mut Silent).unwrap();
    let fwd = gates_dynamics::forward_window_path(&traj.trajectory_path);
    gates_dynamics::simulate_forward(&Cpu::default(), &traj.trajectory_path, 6, &fwd).unwrap();
    let forward = window_records(&fwd);
    let header = gates_artifacts::read_header(&fwd).unwrap();
    assert!(header.settings_json.contains("\"from_step\": 36"), "{}", header.settings_json);

    let mut long = small_config("kind = \"sgd\"\nlr = 0.1\nmomentum = 0.5", 6);
    long.training.epochs = None;
    long.training.steps = Some(36 + 5);
    let long_dir = tempfile::tempdir().unwrap();
    train(&Cpu::default(), &long, &options(long_dir.path()), &mut Silent).unwrap();
    let backward = window_records(&long_dir.path().join(files::WINDOW));

    let steps: Vec<u64> = forward.iter().map(|r| r.step).collect();
    assert_eq!(steps, (36..42).collect::<Vec<_>>());
    assert_eq!(forward, backward);
}

/// Simulating onward from an intermediate checkpoint retraces training: the iterate reached
/// after as many steps as separate two kept checkpoints equals the later checkpoint.
#[test]
fn forward_window_from_an_intermediate_checkpoint_retraces_training() {
    let config = small_config("kind = \"sgd\"\nlr = 0.1\nmomentum = 0.5", 0);
    let dir = tempfile::tempdir().unwrap();
    let traj = train(&Cpu::default(), &config, &options(dir.path()), &mut Silent).unwrap();
    let kept: Vec<u64> = traj.trajectory.checkpoints.iter().map(|c| c.step).collect();
    assert!(kept.len() >= 2, "{kept:?}");
    let (from, to) = (kept[0], kept[1]);
    let fwd = dir.path().join("from-first.gates");
    gates_dynamics::simulate_forward_from(
        &Cpu::default(),
        &traj.trajectory_path,
        Some(from),
        to - from + 1,
        &fwd,
    )
    .unwrap();
    let records = window_records(&fwd);
    assert_eq!(records.first().unwrap().step, from);
    let last = records.last().unwrap();
    assert_eq!(last.step, to);
    let later = read_blob::<Checkpoint>(&dir.path().join(files::checkpoint(to))).unwrap().body;
    let expected: Vec<f64> = later.params.iter().flat_map(|t| t.data.to_f64()).collect();
    let got: Vec<f64> = last.params.iter().map(|&x| x as f64).collect();
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(*g, *e as f32 as f64);
    }

    let err = gates_dynamics::simulate_forward_from(
        &Cpu::default(),
        &traj.trajectory_path,
        Some(from + 1),
        3,
        &dir.path().join("none.gates"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(&format!("no checkpoint at step {}", from + 1)), "{err}");
}
