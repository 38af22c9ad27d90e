//! The `gates` binary end to end: a training run, inspect, export, resume, and every kind of bad
//! input, with the error text and exit code a user sees.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn gates() -> Command {
    Command::cargo_bin("gates").expect("the gates binary is built")
}

fn repo_config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs").join(name)
}

/// A small, fast config file in `dir`.
fn small_config(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo_config("gaussian-smoke.toml")).unwrap();
    let path = dir.join("run.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// `gates inspect --json FILE`, parsed.
fn inspect_json(file: impl AsRef<std::ffi::OsStr>) -> serde_json::Value {
    let out = gates()
        .arg("inspect")
        .arg("--json")
        .arg(file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// `gates bound --json --spectrum FILE`, parsed (the JSON comes before the `wrote` line).
fn bound_json(spectrum: impl AsRef<std::ffi::OsStr>) -> serde_json::Value {
    let out = gates()
        .args(["bound", "--json", "--spectrum"])
        .arg(spectrum)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    serde_json::from_str(text.split("\nwrote ").next().unwrap()).unwrap()
}

fn train(config: &Path, out: &Path) -> Command {
    let mut cmd = gates();
    cmd.arg("train").arg("--config").arg(config).arg("--out").arg(out);
    cmd
}

#[test]
fn train_inspect_and_export_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&small_config(dir.path(), ""), &out)
        .assert()
        .success()
        .stdout(contains("completed 320 steps").and(contains("test loss")));

    let traj = out.join("trajectory.gates");
    gates().arg("inspect").arg(&traj).assert().success().stdout(
        contains("format     gates.trajectory v1")
            .and(contains("lr = 0.2"))
            .and(contains("evaluations")),
    );

    let value = inspect_json(&traj);
    assert_eq!(value["header"]["format"], "gates.trajectory");
    assert_eq!(value["settings"]["optimizer"]["lr"], 0.2);
    assert_eq!(value["contents"]["status"]["state"], "completed");
    // Step 0, every epoch (10) and the checkpoints at 80 and 240 that fall between epochs.
    assert_eq!(value["contents"]["evaluations"].as_array().unwrap().len(), 13);
    let acc = value["contents"]["final"]["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));

    let st = dir.path().join("model.safetensors");
    gates()
        .args(["export"])
        .arg(&traj)
        .arg("--out")
        .arg(&st)
        .assert()
        .success()
        .stdout(contains("wrote 2 tensors of step 320"));
    let bytes = std::fs::read(&st).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = tensors.tensor("layers.0.weight").unwrap();
    assert_eq!(w.shape(), [32, 20]);
    assert_eq!(w.dtype(), safetensors::Dtype::F64);
    assert_eq!(tensors.tensor("layers.1.weight").unwrap().shape(), [4, 32]);
    gates()
        .arg("export")
        .arg(&traj)
        .arg("--out")
        .arg(&st)
        .assert()
        .failure()
        .stderr(contains("already exists"));
    gates()
        .arg("export")
        .arg(&traj)
        .args(["--checkpoint", "7", "--out"])
        .arg(dir.path().join("x.safetensors"))
        .assert()
        .failure()
        .stderr(contains("has no checkpoint 7; it has steps [80, 160, 240, 320]"));

    for file in ["window.gates", "checkpoint-00000160.gates"] {
        gates().arg("inspect").arg(out.join(file)).assert().success().stdout(contains("contents"));
    }
}

#[test]
fn flags_override_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&small_config(dir.path(), ""), &out)
        .args([
            "--lr",
            "0.05",
            "--steps",
            "7",
            "--set",
            "model.activation=relu",
            "--set",
            "record.window=0",
        ])
        .assert()
        .success()
        .stdout(contains("completed 7 steps").and(contains("relu")));
    let value = inspect_json(out.join("trajectory.gates"));
    assert_eq!(value["settings"]["optimizer"]["lr"], 0.05);
    assert_eq!(value["settings"]["training"]["steps"], 7);
    assert!(value["settings"]["training"]["epochs"].is_null());
}

#[test]
fn an_interrupted_run_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), "");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train(&config, &a).assert().success();
    train(&config, &b)
        .args(["--stop-after", "100"])
        .assert()
        .success()
        .stdout(contains("stopped at step 100"));
    train(&config, &b).arg("--resume").assert().success().stdout(contains("completed 320 steps"));

    let eval = |dir: &Path| {
        let v = inspect_json(dir.join("trajectory.gates"));
        (v["contents"]["evaluations"].clone(), v["contents"]["step_loss"].clone())
    };
    assert_eq!(eval(&a), eval(&b));
}

#[test]
fn an_existing_run_is_never_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let config = small_config(dir.path(), "");
    train(&config, &out).args(["--steps", "5", "--set", "record.window=0"]).assert().success();
    let before = std::fs::read(out.join("trajectory.gates")).unwrap();
    train(&config, &out).assert().code(1).stderr(
        contains("trajectory.gates already exists")
            .or(contains("already exists"))
            .and(contains("--force")),
    );
    assert_eq!(std::fs::read(out.join("trajectory.gates")).unwrap(), before, "untouched");
    train(&config, &out)
        .args(["--steps", "5", "--set", "record.window=0", "--force"])
        .assert()
        .success();
}

#[test]
fn bad_configs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");

    train(&dir.path().join("missing.toml"), &out)
        .assert()
        .code(1)
        .stderr(contains("cannot read config file").and(contains("missing.toml")));

    let unknown = small_config(dir.path(), "[extras]\nfoo = 1");
    train(&unknown, &out)
        .assert()
        .code(1)
        .stderr(contains("run.toml").and(contains("unknown field `extras`")));

    let cases: [(&[&str], &str); 6] = [
        (&["--lr", "-0.1"], "invalid optimizer.lr: expected a positive learning rate, found -0.1"),
        (&["--lr", "0"], "invalid optimizer.lr"),
        (
            &["--batch-size", "100000"],
            "invalid training.batch_size: expected at most the 512 training samples, found 100000",
        ),
        (
            &["--set", "model.widths=[20, 0, 4]"],
            "invalid model.widths: expected every width at least 1",
        ),
        (
            &["--set", "model.widths=[21, 8, 4]"],
            "expected first width 20 (the data's input size), found 21",
        ),
        (&["--dtype", "f16"], "expected \"f32\" or \"f64\", found \"f16\""),
    ];
    let config = small_config(dir.path(), "");
    for (args, message) in cases {
        train(&config, &out).args(args).assert().code(1).stderr(contains(message));
    }

    train(&config, &out)
        .arg("--data-dir")
        .arg(dir.path().join("no-mnist-here"))
        .assert()
        .code(1)
        .stderr(contains("MNIST folder").and(contains("no-mnist-here does not exist")));

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    train(&config, &out)
        .arg("--data-dir")
        .arg(&empty)
        .args(["--set", "model.widths=[784, 8, 10]"])
        .assert()
        .code(1)
        .stderr(
            contains("MNIST file train-images not found")
                .and(contains("train-images-idx3-ubyte.gz")),
        );
}

#[test]
fn usage_errors_exit_with_2() {
    gates().args(["train", "--config"]).assert().code(2);
    gates().args(["frobnicate"]).assert().code(2);
}

#[test]
fn broken_artifacts_are_named_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&small_config(dir.path(), ""), &out)
        .args(["--steps", "5", "--set", "record.window=0"])
        .assert()
        .success();
    let traj = out.join("trajectory.gates");
    let bytes = std::fs::read(&traj).unwrap();
    let inspect = |path: &Path| gates().arg("inspect").arg(path).assert().code(1);

    let truncated = dir.path().join("truncated.gates");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    inspect(&truncated).stderr(contains("truncated.gates: truncated body: expected"));

    let corrupted = dir.path().join("corrupted.gates");
    let mut c = bytes.clone();
    let n = c.len();
    c[n - 20] ^= 0x10;
    std::fs::write(&corrupted, c).unwrap();
    inspect(&corrupted).stderr(contains("corrupted.gates: body checksum mismatch"));

    let future = dir.path().join("future.gates");
    let mut f = bytes.clone();
    f[8] = 2; // the envelope version
    std::fs::write(&future, f).unwrap();
    inspect(&future).stderr(contains(
        "future.gates: unsupported envelope format version 2 (this build reads version 1)",
    ));

    let text = dir.path().join("notes.gates");
    std::fs::write(&text, "just some text").unwrap();
    inspect(&text).stderr(contains("notes.gates: not a gates artifact"));

    inspect(&dir.path().join("absent.gates"))
        .stderr(contains("absent.gates").and(contains("No such file")));
}

#[test]
fn complexity_of_both_windows_and_both_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&small_config(dir.path(), ""), &out).assert().success();
    let traj = out.join("trajectory.gates");
    for (measure, metric, window) in
        [("ph-dim", "euclidean", "bwd"), ("ph-dim", "rho", "fwd"), ("e-alpha", "rho", "bwd")]
    {
        gates()
            .args(["complexity", "--trajectory"])
            .arg(&traj)
            .args(["--measure", measure, "--metric", metric, "--window", window])
            .assert()
            .success()
            .stdout(contains(format!(
                "{measure} ({metric} metric, {window} window of 64 iterates"
            )));
        let file = out.join(format!("complexity-{measure}-{metric}-{window}.gates"));
        let v = inspect_json(&file);
        assert_eq!(v["header"]["format"], "gates.complexity");
        assert_eq!(
            v["header"]["producer"].as_str().unwrap().split(' ').next(),
            Some("gates-bound")
        );
        let value = v["contents"]["value"].as_f64().unwrap();
        assert!(value.is_finite() && value > 0.0, "{measure} {metric} {window}: {value}");
    }
    assert!(out.join("window-fwd.gates").exists());

    let bare = dir.path().join("bare");
    train(&small_config(dir.path(), ""), &bare)
        .args(["--set", "record.window=0"])
        .assert()
        .success();
    gates()
        .args(["complexity", "--measure", "ph-dim", "--trajectory"])
        .arg(bare.join("trajectory.gates"))
        .assert()
        .code(1)
        .stderr(contains("recorded no iterate window"));
}

fn write_spectrum(path: &Path, method: gates_artifacts::SpectrumMethod, d: u64) {
    let body = gates_artifacts::Spectrum {
        source: gates_artifacts::SourceRef {
            trajectory: "t.gates".into(),
            trajectory_crc32: 0,
            checkpoint_step: 10,
        },
        eta: 0.1,
        batch_size: 4,
        param_count: d,
        n_train: 1000,
        method,
        trace: None,
        top_eigenvalue: Some(gates_artifacts::RitzValue { value: 30.0, residual: 1e-9 }),
    };
    gates_artifacts::write_blob(
        path,
        &gates_artifacts::Producer::new("test", "0"),
        &"hand-made",
        &body,
    )
    .unwrap();
}

#[test]
fn bound_from_dense_and_slq_spectra() {
    use gates_artifacts::{DenseSpectrum, MinibatchRef, SlqRun, SpectrumMethod};
    let dir = tempfile::tempdir().unwrap();

    // Two minibatches of a d = 4 model at η = 0.1: eigenvalue 30 expands (|1 − 3| = 2),
    // 0 is neutral, 4 and 8 contract.
    let dense = dir.path().join("dense.gates");
    let spectra = vec![vec![0.0, 4.0, 8.0, 30.0], vec![0.5, 4.0, 7.0, 25.0]];
    let minibatches = spectra
        .iter()
        .map(|e| DenseSpectrum {
            batch: MinibatchRef::Full,
            eigenvalues: e.clone(),
            asymmetry: 0.0,
        })
        .collect();
    write_spectrum(&dense, SpectrumMethod::Dense { minibatches }, 4);
    let expected = gates_bound::sd::sd_from_dense_spectra(&spectra, 0.1).unwrap();
    assert!(expected.sd > 1.0 && expected.sd < 4.0, "{expected:?}");

    let v = bound_json(&dense);
    assert_eq!(v["estimator"], "exact");
    let sd = v["sharpness_dimension"][0]["sd"].as_f64().unwrap();
    assert!((sd - expected.sd).abs() < 1e-12);
    // The SD term with the defaults B = 1, δ = 1/n: 2·sqrt(4·SD·ln(n)/n).
    let main = &v["forms"][0];
    assert_eq!(main["name"], "mutual-information");
    let sd_term = main["terms"].as_array().unwrap().iter().find(|t| t["name"] == "sd").unwrap();
    let want = 2.0 * (4.0 * sd * (1000f64).ln() / 1000.0).sqrt();
    assert!((sd_term["value"].as_f64().unwrap() - want).abs() < 1e-12);
    assert_eq!(main["partial"], true, "L, I_∞ and C are not given");

    gates()
        .args(["bound", "--spectrum"])
        .arg(&dense)
        .assert()
        .code(1)
        .stderr(contains("dense.bound.gates already exists"));
    gates()
        .args([
            "bound",
            "--force",
            "--lipschitz",
            "2",
            "--mutual-information",
            "3",
            "--constant-c",
            "1",
            "--spectrum",
        ])
        .arg(&dense)
        .assert()
        .success()
        .stdout(
            contains("← used in the bound")
                .and(contains("(supplied)"))
                .and(contains("mutual-information form")),
        );
    gates()
        .arg("inspect")
        .arg(dir.path().join("dense.bound.gates"))
        .assert()
        .success()
        .stdout(contains("gates.bound"));

    // SLQ: every estimator is reported, SD-SLQ enters the bound; exact is refused.
    let slq = dir.path().join("slq.gates");
    let runs = (0..3)
        .map(|i| SlqRun {
            batch: MinibatchRef::Indices { seed: i, indices: vec![0, 1, 2, 3] },
            probe_seed: i,
            nodes: vec![-1.0, 0.0, 5.0, 30.0 + i as f64],
            weights: vec![0.1, 0.6, 0.2, 0.1],
            invariant: false,
        })
        .collect();
    write_spectrum(&slq, SpectrumMethod::Slq { steps: 4, runs }, 1000);
    gates().args(["bound", "--spectrum"]).arg(&slq).assert().success().stdout(
        contains("slq")
            .and(contains("kde"))
            .and(contains("ps"))
            .and(contains("← used in the bound")),
    );
    gates()
        .args(["bound", "--estimator", "exact", "--out"])
        .arg(dir.path().join("x.gates"))
        .arg("--spectrum")
        .arg(&slq)
        .assert()
        .code(1)
        .stderr(contains("the exact estimate needs a dense spectrum"));
    gates()
        .args(["bound", "--delta", "1.5", "--out"])
        .arg(dir.path().join("y.gates"))
        .arg("--spectrum")
        .arg(&slq)
        .assert()
        .code(1)
        .stderr(contains("δ"));
}

/// train → spectrum (dense, SLQ, Lanczos) → bound, through the files alone.
#[test]
fn spectrum_then_bound_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&small_config(dir.path(), ""), &out)
        .args(["--set", "record.window=0"])
        .assert()
        .success();
    let traj = out.join("trajectory.gates");
    let spectrum = |method: &str, file: &str, extra: &[&str]| {
        gates()
            .args(["spectrum", "--method", method, "--trajectory"])
            .arg(&traj)
            .arg("--out")
            .arg(out.join(file))
            .args(extra)
            .assert()
    };
    spectrum("dense", "dense.gates", &["--minibatches", "2", "--trace-probes", "20"])
        .success()
        .stdout(
            contains("2 dense spectra").and(contains("classical sharpness")).and(contains("trace")),
        );
    spectrum("slq", "slq.gates", &["--runs", "8", "--steps", "30"])
        .success()
        .stdout(contains("8 SLQ runs of 30 steps"));
    spectrum("lanczos", "lanczos.gates", &["--top", "3", "--bottom", "2", "--checkpoint", "160"])
        .success()
        .stdout(
            contains("checkpoint step 160")
                .and(contains("residual"))
                .and(contains("Lanczos steps, converged")),
        );
    spectrum("dense", "x.gates", &["--checkpoint", "7"])
        .code(1)
        .stderr(contains("no checkpoint Step(7)").and(contains("[80, 160, 240, 320]")));
    spectrum("dense", "dense.gates", &[]).code(1).stderr(contains("already exists"));
    // The whole training set is one Hessian: one by default, more are refused.
    spectrum("dense", "full.gates", &["--batch-size", "full"])
        .success()
        .stdout(contains("1 dense spectra"));
    spectrum("dense", "full3.gates", &["--batch-size", "full", "--minibatches", "3"])
        .code(1)
        .stderr(contains("the full training set gives one Hessian"));

    let v = inspect_json(out.join("dense.gates"));
    assert_eq!(v["header"]["format"], "gates.spectrum");
    assert_eq!(v["contents"]["param_count"], 32 * 20 + 4 * 32);
    assert_eq!(v["contents"]["method"], "dense");
    assert_eq!(v["settings"]["method"]["dense"]["minibatches"], 2);
    // The header also says how: the solvers' own settings.
    let solvers = &v["settings"]["solvers"];
    assert!(solvers["dense_reduction"].as_str().unwrap().contains("TwoStage"), "{solvers}");
    assert_eq!(solvers["sharpness_tolerance"], 1e-8);
    // Exact products assemble a Hessian symmetric to rounding.
    let asymmetry = v["contents"]["detail"]["max_asymmetry"].as_f64().unwrap();
    assert!((0.0..1e-12).contains(&asymmetry), "asymmetry {asymmetry}");
    let top = &v["contents"]["top_eigenvalue"];
    assert!(top["value"].as_f64().unwrap() > 0.0 && top["residual"].as_f64().unwrap() < 1e-6);
    let v = inspect_json(out.join("lanczos.gates"));
    assert_eq!(v["contents"]["detail"]["converged"], true);
    assert!(v["contents"]["detail"]["steps"].as_u64().unwrap() > 0);
    let v = inspect_json(out.join("slq.gates"));
    assert_eq!(v["contents"]["detail"]["invariant_runs"], 0);

    for (file, estimator) in [("dense.gates", "exact"), ("slq.gates", "slq")] {
        let v = bound_json(out.join(file));
        assert_eq!(v["estimator"], estimator);
        let sd = v["sharpness_dimension"][0]["sd"].as_f64().unwrap();
        assert!((0.0..=768.0).contains(&sd), "{file}: SD {sd}");
    }
    gates()
        .args(["bound", "--spectrum"])
        .arg(out.join("lanczos.gates"))
        .assert()
        .code(1)
        .stderr(contains("a Lanczos spectrum holds only extreme eigenvalues"));
}
