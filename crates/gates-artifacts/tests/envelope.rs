//! Round trips, corruption and version checks of the artifact envelope, and a snapshot of the
//! encoded header so that a change of the on-disk format is never accidental.

use std::path::{Path, PathBuf};

use gates_artifacts::envelope::encode_header;
use gates_artifacts::*;
use proptest::prelude::*;

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn checkpoint(step: u64, values: Vec<f64>) -> Checkpoint {
    Checkpoint {
        step,
        params: vec![NamedTensor {
            name: "layers.0.weight".into(),
            shape: vec![values.len()],
            data: TensorData::F64(values),
        }],
        optimizer: OptimizerState { kind: "sgd".into(), updates: step, buffers: vec![] },
    }
}

fn write_checkpoint(path: &Path, values: Vec<f64>) -> Checkpoint {
    let body = checkpoint(3, values);
    write_blob(path, &producer!(), &serde_json::json!({"eta": 0.1}), &body).unwrap();
    body
}

fn fixed_header() -> Header {
    Header {
        format: "gates.trajectory".into(),
        format_version: 1,
        producer: Producer::new("gates-dynamics", "0.1.0"),
        created_unix_s: 1_790_000_000,
        settings_json: "{\"eta\": 0.1, \"batch_size\": 32}".into(),
        body: BodyLayout::Blob { len: 1234, crc32: 0xdead_beef },
    }
}

fn hex(bytes: &[u8]) -> String {
    let lines: Vec<String> = bytes
        .chunks(16)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect();
    lines.join("\n") + "\n"
}

/// The encoded header of format version 1. If this test fails, the on-disk format changed:
/// bump the version of the format (or of the envelope) and then refresh the snapshot with
/// `GATES_UPDATE_SNAPSHOTS=1 cargo test -p gates-artifacts`.
#[test]
fn header_encoding_matches_snapshot() {
    let encoded = hex(&encode_header(&fixed_header()).unwrap());
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/header_v1.hex");
    if std::env::var_os("GATES_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &encoded).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).expect("snapshot file exists");
    assert_eq!(encoded, expected, "encoded header changed; see this test's doc comment");
}

#[test]
fn blob_round_trips_with_header_and_settings() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    let body = write_checkpoint(&path, vec![1.0, -2.5, 3.25]);

    let read = read_blob::<Checkpoint>(&path).unwrap();
    assert_eq!(read.body, body);
    assert_eq!(read.header.format, "gates.checkpoint");
    assert_eq!(read.header.producer.name, "gates-artifacts");
    let settings: serde_json::Value = read.header.settings(&path).unwrap();
    assert_eq!(settings["eta"], 0.1);
}

#[test]
fn write_leaves_no_temporary_file_behind() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    write_checkpoint(&path, vec![1.0]);
    write_checkpoint(&path, vec![2.0]);
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("c.gates")]);
}

fn error_text(result: Result<impl std::fmt::Debug>) -> String {
    result.expect_err("reading should fail").to_string()
}

#[test]
fn flipped_body_byte_is_a_checksum_error_naming_the_file() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    write_checkpoint(&path, vec![1.0, 2.0, 3.0]);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();

    let text = error_text(read_blob::<Checkpoint>(&path));
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("body checksum mismatch"), "{text}");
}

#[test]
fn flipped_header_byte_is_a_checksum_error() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    write_checkpoint(&path, vec![1.0]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    assert!(error_text(read_blob::<Checkpoint>(&path)).contains("header checksum mismatch"));
}

#[test]
fn truncated_file_says_how_much_is_missing() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    write_checkpoint(&path, vec![1.0, 2.0, 3.0]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let text = error_text(read_blob::<Checkpoint>(&path));
    assert!(text.contains("truncated body"), "{text}");

    std::fs::write(&path, &bytes[..10]).unwrap();
    assert!(error_text(read_blob::<Checkpoint>(&path)).contains("truncated envelope"));
}

#[test]
fn other_files_are_not_artifacts() {
    let dir = dir();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, world").unwrap();
    let text = error_text(read_blob::<Checkpoint>(&path));
    assert!(text.contains("not a gates artifact"), "{text}");

    let missing = dir.path().join("missing.gates");
    let text = error_text(read_blob::<Checkpoint>(&missing));
    assert!(text.contains("missing.gates") && text.contains("opening"), "{text}");
}

#[test]
fn wrong_format_and_version_are_refused() {
    let dir = dir();
    let path = dir.path().join("c.gates");
    write_checkpoint(&path, vec![1.0]);
    let text = error_text(read_blob::<Trajectory>(&path));
    assert!(text.contains("expected \"gates.trajectory\", found \"gates.checkpoint\""), "{text}");

    // Rewrite the header with a future format version, checksums kept valid.
    let mut header = read_header(&path).unwrap();
    header.format_version = 99;
    let bytes = std::fs::read(&path).unwrap();
    let old_len = encode_header(&read_header(&path).unwrap()).unwrap().len();
    let mut out = encode_header(&header).unwrap();
    out.extend_from_slice(&bytes[old_len..]);
    std::fs::write(&path, out).unwrap();
    let text = error_text(read_blob::<Checkpoint>(&path));
    assert!(text.contains("unsupported gates.checkpoint format version 99"), "{text}");
    assert!(text.contains("reads version 1"), "{text}");

    // And a future envelope version.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8] = 7;
    std::fs::write(&path, bytes).unwrap();
    assert!(error_text(read_blob::<Checkpoint>(&path)).contains("envelope format version 7"));
}

fn window_preamble(d: u64, n_eval: usize) -> WindowPreamble {
    WindowPreamble {
        kind: WindowKind::Backward,
        param_count: d,
        eval_indices: (0..n_eval as u32).collect(),
        capacity: 10,
    }
}

fn record(step: u64, d: usize, n_eval: usize) -> WindowRecord {
    WindowRecord {
        step,
        params: (0..d).map(|i| (step * 100 + i as u64) as f32).collect(),
        losses: (0..n_eval).map(|i| i as f32 * 0.5 + step as f32).collect(),
    }
}

#[test]
fn window_stream_round_trips_block_by_block() {
    let dir = dir();
    let path = dir.path().join("w.gates");
    let pre = window_preamble(5, 3);
    let mut writer = RecordWriter::create(&path, &producer!(), &"s", &pre).unwrap();
    for step in 0..7 {
        writer.append(&record(step, 5, 3).encode()).unwrap();
    }
    assert!(!path.exists(), "the stream appears only when finished");
    writer.finish().unwrap();

    let mut reader = RecordReader::<WindowPreamble>::open(&path).unwrap();
    assert_eq!(reader.len(), 7);
    assert_eq!(reader.preamble(), &pre);
    let mut buf = Vec::new();
    reader.read_block(2, 3, &mut buf).unwrap();
    let len = pre.record_len() as usize;
    for (i, chunk) in buf.chunks_exact(len).enumerate() {
        assert_eq!(WindowRecord::decode(chunk, 5), record(2 + i as u64, 5, 3));
    }
    assert!(reader.read_block(5, 3, &mut buf).is_err());
}

#[test]
fn window_stream_resumes_after_a_kept_prefix() {
    let dir = dir();
    let path = dir.path().join("w.gates");
    let pre = window_preamble(2, 1);
    let mut writer = RecordWriter::create(&path, &producer!(), &"s", &pre).unwrap();
    for step in 0..5 {
        writer.append(&record(step, 2, 1).encode()).unwrap();
    }
    writer.flush().unwrap();
    drop(writer); // an interruption

    let mut writer = RecordWriter::resume::<WindowPreamble>(&path, 3).unwrap();
    assert_eq!(writer.len(), 3);
    writer.append(&record(30, 2, 1).encode()).unwrap();
    writer.finish().unwrap();

    let mut reader = RecordReader::<WindowPreamble>::open(&path).unwrap();
    let mut buf = Vec::new();
    reader.read_block(0, 4, &mut buf).unwrap();
    let steps: Vec<u64> = buf
        .chunks_exact(pre.record_len() as usize)
        .map(|c| WindowRecord::decode(c, 2).step)
        .collect();
    assert_eq!(steps, vec![0, 1, 2, 30]);
}

#[test]
fn corrupt_or_partial_window_records_are_reported() {
    let dir = dir();
    let path = dir.path().join("w.gates");
    let pre = window_preamble(3, 2);
    let mut writer = RecordWriter::create(&path, &producer!(), &"s", &pre).unwrap();
    for step in 0..4 {
        writer.append(&record(step, 3, 2).encode()).unwrap();
    }
    assert!(writer.append(&[0u8; 3]).unwrap_err().to_string().contains("invalid record length"));
    writer.finish().unwrap();

    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff; // inside the last record
    std::fs::write(&path, &bytes).unwrap();
    let text = error_text(read_any(&path));
    assert!(text.contains("record 3 checksum mismatch"), "{text}");

    std::fs::write(&path, &bytes[..n - 7]).unwrap();
    let text = error_text(RecordReader::<WindowPreamble>::open(&path).map(|r| r.len()));
    assert!(text.contains("truncated record 3"), "{text}");
}

fn arb_tensor() -> impl Strategy<Value = NamedTensor> {
    let f32s = prop::collection::vec(any::<f32>().prop_filter("finite", |x| x.is_finite()), 0..40)
        .prop_map(TensorData::F32);
    let f64s = prop::collection::vec(any::<f64>().prop_filter("finite", |x| x.is_finite()), 0..40)
        .prop_map(TensorData::F64);
    ("[a-z.0-9]{1,20}", prop_oneof![f32s, f64s]).prop_map(|(name, data)| NamedTensor {
        name,
        shape: vec![data.len()],
        data,
    })
}

fn arb_eval() -> impl Strategy<Value = Evaluation> {
    (any::<u64>(), 0.0..1e3f64, 0.0..10.0f64, 0.0..1.0f64, 0.0..10.0f64, 0.0..1.0f64).prop_map(
        |(step, epoch, trl, tra, tel, tea)| Evaluation {
            step,
            epoch,
            train: SplitMetrics { loss: trl, accuracy: tra },
            test: SplitMetrics { loss: tel, accuracy: tea },
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn checkpoints_round_trip(params in prop::collection::vec(arb_tensor(), 0..5), step in any::<u64>()) {
        let dir = dir();
        let path = dir.path().join("c.gates");
        let body = Checkpoint {
            step,
            params: params.clone(),
            optimizer: OptimizerState { kind: "adamw".into(), updates: step, buffers: params },
        };
        write_blob(&path, &producer!(), &serde_json::json!({"seed": step}), &body).unwrap();
        prop_assert_eq!(read_blob::<Checkpoint>(&path).unwrap().body, body);
    }

    #[test]
    fn trajectories_round_trip(
        step_loss in prop::collection::vec(-1e6..1e6f64, 0..200),
        evaluations in prop::collection::vec(arb_eval(), 0..10),
        diverged in any::<bool>(),
    ) {
        let dir = dir();
        let path = dir.path().join("t.gates");
        let steps = step_loss.len() as u64;
        let body = Trajectory {
            model: ModelSummary {
                description: "mlp".into(),
                param_count: 3,
                params: vec![ParamSpec { name: "w".into(), shape: vec![3] }],
            },
            dataset: DatasetSummary { name: "toy".into(), n_train: 10, n_test: 5, input_dim: 2, classes: 2 },
            dtype: DType::F32,
            steps_per_epoch: 7,
            planned_steps: steps + 1,
            status: if diverged {
                RunStatus::Diverged { step: steps, loss: f64::INFINITY }
            } else {
                RunStatus::Completed { steps }
            },
            step_loss,
            evaluations,
            checkpoints: vec![CheckpointEntry { step: 0, file: "checkpoint-0.gates".into() }],
            window: Some(WindowEntry { file: "window.gates".into(), first_step: 1, count: 2 }),
            wall_time_s: 1.5,
        };
        write_blob(&path, &producer!(), &"settings", &body).unwrap();
        prop_assert_eq!(read_blob::<Trajectory>(&path).unwrap().body, body);
    }

    #[test]
    fn spectra_round_trip(
        eigs in prop::collection::vec(-1e3..1e3f64, 1..50),
        nodes in prop::collection::vec(-1e3..1e3f64, 1..20),
        seed in any::<u64>(),
    ) {
        let dir = dir();
        let path = dir.path().join("s.gates");
        let weights = vec![1.0 / nodes.len() as f64; nodes.len()];
        for method in [
            SpectrumMethod::Dense { minibatches: vec![DenseSpectrum { batch: MinibatchRef::Full, eigenvalues: eigs.clone(), asymmetry: 3e-16 }] },
            SpectrumMethod::Lanczos {
                batch: MinibatchRef::Full,
                top: vec![RitzValue { value: eigs[0], residual: 1e-9 }],
                bottom: vec![],
                steps: 40,
                converged: seed % 2 == 0,
            },
            SpectrumMethod::Slq { steps: 20, runs: vec![SlqRun {
                batch: MinibatchRef::Indices { seed, indices: vec![1, 5, 9] },
                probe_seed: seed,
                nodes: nodes.clone(),
                weights: weights.clone(),
                invariant: nodes.len() < 20,
            }] },
        ] {
            let body = Spectrum {
                source: SourceRef { trajectory: "t.gates".into(), trajectory_crc32: 7, checkpoint_step: 100 },
                eta: 0.1,
                batch_size: 32,
                param_count: eigs.len() as u64,
                n_train: 1000,
                method,
                trace: Some(Estimate { value: 1.0, std_error: 0.1, samples: 10 }),
                top_eigenvalue: eigs.iter().copied().reduce(f64::max).map(|value| RitzValue { value, residual: 1e-8 }),
            };
            write_blob(&path, &producer!(), &"s", &body).unwrap();
            prop_assert_eq!(read_blob::<Spectrum>(&path).unwrap().body, body);
        }
    }
}
