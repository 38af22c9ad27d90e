//! Data sets: the embedded MNIST split, IDX folders, modular arithmetic, Gaussian mixtures.

use std::io::Write;

use gates_models::data::modular::ModularSpec;
use gates_models::data::synthetic::GaussianSpec;
use gates_models::data::{mnist, DataSpec};

#[test]
fn embedded_mnist_has_the_documented_split() {
    let split = DataSpec::mnist_embedded().load().unwrap();
    assert_eq!((split.train.len(), split.test.len()), (8_000, 2_000));
    assert_eq!(split.train.input_dim, 784);
    assert!(split.train.inputs.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mut counts = [0usize; 10];
    for &l in &split.test.labels {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [200, 225, 198, 207, 196, 172, 203, 214, 189, 196]);
}

#[test]
fn pooling_averages_pixel_blocks_and_rejects_non_divisors() {
    let full = DataSpec::mnist_embedded().load().unwrap();
    let half: DataSpec = toml::from_str("kind = \"mnist-embedded\"\npool = 2").unwrap();
    let half = half.load().unwrap();
    assert_eq!(half.train.input_dim, 196);
    assert_eq!(half.train.labels, full.train.labels);
    assert_eq!(half.test.len(), full.test.len());
    // Feature (row 3, column 5) of image 17 is the mean of pixels (6..8, 10..12).
    let image = &full.train.inputs[17 * 784..18 * 784];
    let block = [6 * 28 + 10, 6 * 28 + 11, 7 * 28 + 10, 7 * 28 + 11];
    let mean = block.iter().map(|&i| image[i]).sum::<f32>() / 4.0;
    assert!((half.train.inputs[17 * 196 + 3 * 14 + 5] - mean).abs() < 1e-6);
    // One block per image: the image's mean brightness.
    let whole = DataSpec::MnistEmbedded { pool: 28 }.load().unwrap();
    let mean: f32 = image.iter().sum::<f32>() / 784.0;
    assert!((whole.train.inputs[17] - mean).abs() < 1e-5);

    let err = DataSpec::MnistEmbedded { pool: 5 }.load().unwrap_err().to_string();
    assert!(err.contains("data.pool") && err.contains("divisor of 28"), "{err}");
}

fn idx_bytes(magic_type: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, magic_type, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn mnist_folder_reads_raw_and_gzip_files_and_names_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3u32;
    let images: Vec<u8> = (0..n * 784).map(|i| (i % 256) as u8).collect();
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte.gz"),
        gz(&idx_bytes(8, &[n, 28, 28], &images)),
    )
    .unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), idx_bytes(8, &[n], &[1, 2, 3]))
        .unwrap();
    std::fs::write(
        dir.path().join("t10k-images.idx3-ubyte"),
        idx_bytes(8, &[1, 28, 28], &[255; 784]),
    )
    .unwrap();

    let err = mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("MNIST file t10k-labels not found"), "{err}");
    assert!(err.contains("t10k-labels-idx1-ubyte.gz"), "{err}");

    std::fs::write(dir.path().join("t10k-labels.idx1-ubyte"), idx_bytes(8, &[1], &[12])).unwrap();
    let err = mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("expected labels in 0..=9, found label 12"), "{err}");

    std::fs::write(dir.path().join("t10k-labels.idx1-ubyte"), idx_bytes(8, &[1], &[7])).unwrap();
    let split = mnist::load_dir(dir.path()).unwrap();
    assert_eq!(split.train.labels, vec![1, 2, 3]);
    assert_eq!(split.train.inputs[1], 1.0 / 255.0);
    assert_eq!(split.test.inputs[0], 1.0);

    let missing = dir.path().join("nope");
    let err = mnist::load_dir(&missing).unwrap_err().to_string();
    assert!(err.contains("MNIST folder") && err.contains("nope does not exist"), "{err}");
}

#[test]
fn modular_addition_is_exact_and_seeded() {
    let spec = ModularSpec { modulus: 97, train_fraction: 0.4, seed: 0 };
    let split = spec.generate().unwrap();
    assert_eq!(split.train.len(), 3764);
    assert_eq!(split.test.len(), 97 * 97 - 3764);
    for (set, i) in [(&split.train, 0), (&split.test, 10)] {
        let row = &set.inputs[i * 194..(i + 1) * 194];
        let a = row[..97].iter().position(|&v| v == 1.0).unwrap();
        let b = row[97..].iter().position(|&v| v == 1.0).unwrap();
        assert_eq!(row.iter().sum::<f32>(), 2.0);
        assert_eq!(set.labels[i] as usize, (a + b) % 97);
    }
    assert_eq!(spec.generate().unwrap(), split);
    let other = ModularSpec { seed: 1, ..spec }.generate().unwrap();
    assert_ne!(other.train.labels, split.train.labels);
    let err = ModularSpec { modulus: 97, train_fraction: 1.5, seed: 0 }.generate().unwrap_err();
    assert!(err.to_string().starts_with("invalid data.train_fraction"));
}

#[test]
fn gaussian_mixture_is_balanced_and_seeded() {
    let spec =
        GaussianSpec { classes: 4, dim: 3, n_train: 40, n_test: 8, separation: 3.0, seed: 2 };
    let split = spec.generate().unwrap();
    assert_eq!(split.train.inputs.len(), 120);
    assert_eq!(split.train.labels.iter().filter(|&&l| l == 3).count(), 10);
    assert_eq!(spec.generate().unwrap(), split);
}
