//! MNIST: from the four standard IDX files, or from the embedded subset.
//!
//! Pixels are scaled to [0, 1] by dividing by 255 and flattened row by row to 784 features; no
//! further normalisation is applied. [`pooled`] averages p×p blocks of pixels for smaller
//! inputs (14×14 = 196 features at p = 2), which keeps exact Hessians of small networks cheap.

use std::path::{Path, PathBuf};

use super::embedded::{embedded_mnist, is_embedded_test_index};
use super::idx::{read_idx_file, IdxArray, IdxError};
use super::{Dataset, Split};
use crate::error::{Error, Result};

/// Pixels per image.
pub const PIXELS: usize = 28 * 28;

fn to_dataset(images: &IdxArray, labels: &IdxArray, keep: impl Fn(usize) -> bool) -> Dataset {
    let n = labels.data.len();
    let mut inputs = Vec::new();
    let mut ys = Vec::new();
    for i in (0..n).filter(|&i| keep(i)) {
        let row = &images.data[i * PIXELS..(i + 1) * PIXELS];
        inputs.extend(row.iter().map(|&p| p as f32 / 255.0));
        ys.push(labels.data[i] as u32);
    }
    Dataset { inputs, labels: ys, input_dim: PIXELS, classes: 10 }
}

fn check_pair(images: &IdxArray, labels: &IdxArray, source: &str) -> Result<()> {
    let n = labels.data.len();
    if images.dims != [n, 28, 28] || labels.dims.len() != 1 {
        return Err(Error::Data {
            file: source.into(),
            expected: format!("images [{n}, 28, 28] matching labels [{n}]"),
            found: format!("images {:?}, labels {:?}", images.dims, labels.dims),
        });
    }
    if let Some(bad) = labels.data.iter().find(|&&l| l > 9) {
        return Err(Error::Data {
            file: source.into(),
            expected: "labels in 0..=9".into(),
            found: format!("label {bad}"),
        });
    }
    Ok(())
}

/// The embedded subset: 8,000 training and 2,000 test digits (test = every index ≡ 4 mod 5).
pub fn embedded() -> Result<Split> {
    let (images, labels) = embedded_mnist()?;
    check_pair(&images, &labels, "embedded mnist-subset")?;
    Ok(Split {
        name: "mnist-embedded".into(),
        train: to_dataset(&images, &labels, |i| !is_embedded_test_index(i)),
        test: to_dataset(&images, &labels, is_embedded_test_index),
    })
}

/// Stems of the four files; each may end in `-idx3-ubyte` or `.idx3-ubyte` (two common
/// spellings), with or without `.gz`.
const FILES: [(&str, &str); 4] = [
    ("train-images", "idx3-ubyte"),
    ("train-labels", "idx1-ubyte"),
    ("t10k-images", "idx3-ubyte"),
    ("t10k-labels", "idx1-ubyte"),
];

fn find(dir: &Path, stem: &str, kind: &str) -> Result<PathBuf> {
    let candidates = [
        format!("{stem}-{kind}"),
        format!("{stem}-{kind}.gz"),
        format!("{stem}.{kind}"),
        format!("{stem}.{kind}.gz"),
    ];
    candidates.iter().map(|name| dir.join(name)).find(|p| p.is_file()).ok_or_else(|| {
        Error::MissingData {
            what: format!("MNIST file {stem}"),
            expected: candidates.join(" or "),
            dir: dir.to_path_buf(),
        }
    })
}

/// Full MNIST (60,000 training, 10,000 test digits) from the standard files in `dir`.
pub fn load_dir(dir: &Path) -> Result<Split> {
    if !dir.is_dir() {
        return Err(Error::MissingDir { what: "MNIST folder".into(), dir: dir.to_path_buf() });
    }
    let paths: Vec<PathBuf> =
        FILES.iter().map(|(stem, kind)| find(dir, stem, kind)).collect::<Result<_>>()?;
    let arrays: Vec<IdxArray> =
        paths.iter().map(|p| read_idx_file(p)).collect::<Result<_, IdxError>>()?;

    check_pair(&arrays[0], &arrays[1], &paths[0].display().to_string())?;
    check_pair(&arrays[2], &arrays[3], &paths[2].display().to_string())?;
    Ok(Split {
        name: "mnist".into(),
        train: to_dataset(&arrays[0], &arrays[1], |_| true),
        test: to_dataset(&arrays[2], &arrays[3], |_| true),
    })
}

/// The default pooling factor: none.
pub(crate) fn full_resolution() -> usize {
    1
}

/// `split` with every 28×28 image averaged over `pool`×`pool` blocks, giving (28/`pool`)²
/// features; `pool` must divide 28.
pub fn pooled(split: Split, pool: usize) -> Result<Split> {
    if pool == 1 {
        return Ok(split);
    }
    if pool == 0 || 28 % pool != 0 {
        return Err(Error::config("data.pool", "a divisor of 28 (1, 2, 4, 7, 14 or 28)", pool));
    }
    let pool_set = |set: Dataset| -> Dataset {
        let side = 28 / pool;
        let scale = 1.0 / (pool * pool) as f32;
        let mut inputs = Vec::with_capacity(set.len() * side * side);
        for image in set.inputs.chunks_exact(PIXELS) {
            for by in 0..side {
                for bx in 0..side {
                    let mut sum = 0.0f32;
                    for y in by * pool..(by + 1) * pool {
                        sum +=
                            image[y * 28 + bx * pool..y * 28 + (bx + 1) * pool].iter().sum::<f32>();
                    }
                    inputs.push(sum * scale);
                }
            }
        }
        Dataset { inputs, input_dim: side * side, ..set }
    };
    Ok(Split {
        name: format!("{}-pool{pool}", split.name),
        train: pool_set(split.train),
        test: pool_set(split.test),
    })
}
