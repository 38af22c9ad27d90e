//! Reader for IDX files, the format of the original MNIST distribution.
//!
//! An IDX file is a 4-byte big-endian magic `00 00 TT RR` (`TT` the element
//! type, `RR` the number of dimensions), then `RR` big-endian `u32` dimension
//! sizes, then the elements in row-major order. Only the unsigned-byte element
//! type (`0x08`) is supported; it is the only one MNIST uses.
//!
//! Files may be raw or gzip-compressed; gzip is detected by its `1f 8b` magic,
//! never by the file extension.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// IDX element-type code for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An n-dimensional array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Size of each dimension, outermost first (MNIST images: `[n, 28, 28]`).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Why an IDX file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that was being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file starts like gzip but does not decompress.
    #[error("{file}: corrupt gzip data: {error}")]
    CorruptGzip {
        /// The file name.
        file: String,
        /// The decompressor's complaint.
        error: std::io::Error,
    },
    /// The first two bytes are not the zero bytes every IDX magic starts with.
    #[error("{file}: bad magic: expected 00 00 <type> <rank>, found {found}")]
    BadMagic {
        /// The file name.
        file: String,
        /// The first four bytes, as hex.
        found: String,
    },
    /// The element type is not unsigned byte.
    #[error("{file}: unsupported element type 0x{found:02x}: expected 0x08 (unsigned byte)")]
    UnsupportedType {
        /// The file name.
        file: String,
        /// The element-type code found.
        found: u8,
    },
    /// The file ends before a complete part (header or data) was read.
    #[error("{file}: truncated {part}: expected {expected} bytes, found {found}")]
    Truncated {
        /// The file name.
        file: String,
        /// Which part was cut short: `header` or `data`.
        part: &'static str,
        /// How many bytes that part needs.
        expected: usize,
        /// How many bytes were there.
        found: usize,
    },
    /// The file continues after the last element.
    #[error("{file}: {extra} trailing bytes: expected {expected} data bytes, found {found}")]
    TrailingBytes {
        /// The file name.
        file: String,
        /// `found - expected`.
        extra: usize,
        /// How many data bytes the dimensions call for.
        expected: usize,
        /// How many bytes follow the header.
        found: usize,
    },
    /// The product of the dimensions does not fit in memory addresses.
    #[error("{file}: dimensions {dims:?} are too large")]
    TooLarge {
        /// The file name.
        file: String,
        /// The dimensions read from the header.
        dims: Vec<usize>,
    },
    /// The array is well formed but not of the shape the caller needs.
    #[error("{file}: unexpected shape: expected {expected}, found {found:?}")]
    Shape {
        /// The file name.
        file: String,
        /// The shape wanted, in words or as a list.
        expected: String,
        /// The dimensions found.
        found: Vec<usize>,
    },
}

/// Reads an IDX file, raw or gzip-compressed, from disk.
///
/// Error messages name the file by `path` as given.
pub fn read_idx_file(path: &Path) -> Result<IdxArray, IdxError> {
    let bytes =
        std::fs::read(path).map_err(|source| IdxError::Io { path: path.to_path_buf(), source })?;
    parse_idx(&bytes, &path.display().to_string())
}

/// Parses the bytes of an IDX file, raw or gzip-compressed.
///
/// `source` is the file name used in error messages.
pub fn parse_idx(bytes: &[u8], source: &str) -> Result<IdxArray, IdxError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut raw = Vec::new();
        MultiGzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(|error| IdxError::CorruptGzip { file: source.to_owned(), error })?;
        parse_raw(&raw, source)
    } else {
        parse_raw(bytes, source)
    }
}

/// Parses an uncompressed IDX file.
fn parse_raw(bytes: &[u8], file: &str) -> Result<IdxArray, IdxError> {
    let truncated = |part, expected, found| IdxError::Truncated {
        file: file.to_owned(),
        part,
        expected,
        found,
    };

    if bytes.len() < 4 {
        return Err(truncated("header", 4, bytes.len()));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        let found = bytes[..4].iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        return Err(IdxError::BadMagic { file: file.to_owned(), found });
    }
    if bytes[2] != TYPE_U8 {
        return Err(IdxError::UnsupportedType { file: file.to_owned(), found: bytes[2] });
    }
    let rank = usize::from(bytes[3]);
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(truncated("header", header_len, bytes.len()));
    }

    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        // A u32 that does not fit a usize (16-bit targets) cannot be addressed anyway.
        .map(|d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| IdxError::TooLarge { file: file.to_owned(), dims: dims.clone() })?;

    let body = &bytes[header_len..];
    if body.len() < expected {
        return Err(truncated("data", expected, body.len()));
    }
    if body.len() > expected {
        return Err(IdxError::TrailingBytes {
            file: file.to_owned(),
            extra: body.len() - expected,
            expected,
            found: body.len(),
        });
    }
    Ok(IdxArray { dims, data: body.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    /// A 2x3x2 u8 array encoded by hand.
    fn sample_raw() -> Vec<u8> {
        let mut bytes = vec![0x00, 0x00, 0x08, 0x03];
        for d in [2u32, 3, 2] {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend(0u8..12);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn err(bytes: &[u8]) -> String {
        parse_idx(bytes, "t.idx").unwrap_err().to_string()
    }

    fn expected_sample() -> IdxArray {
        IdxArray { dims: vec![2, 3, 2], data: (0u8..12).collect() }
    }

    #[test]
    fn raw_round_trip() {
        assert_eq!(parse_idx(&sample_raw(), "t.idx").unwrap(), expected_sample());
    }

    #[test]
    fn gzip_round_trip() {
        assert_eq!(parse_idx(&gzip(&sample_raw()), "t.idx.gz").unwrap(), expected_sample());
    }

    #[test]
    fn gzip_detected_by_magic_not_extension() {
        // Compressed bytes under a raw-looking name, raw bytes under a .gz name.
        assert_eq!(parse_idx(&gzip(&sample_raw()), "t.idx").unwrap(), expected_sample());
        assert_eq!(parse_idx(&sample_raw(), "t.idx.gz").unwrap(), expected_sample());
    }

    #[test]
    fn concatenated_gzip_members_are_read_whole() {
        let raw = sample_raw();
        let (a, b) = raw.split_at(7);
        let mut two = gzip(a);
        two.extend(gzip(b));
        assert_eq!(parse_idx(&two, "t.idx.gz").unwrap(), expected_sample());
    }

    #[test]
    fn labels_rank_one_and_empty_arrays() {
        let mut bytes = vec![0x00, 0x00, 0x08, 0x01, 0, 0, 0, 3];
        bytes.extend([7, 8, 9]);
        let a = parse_idx(&bytes, "l.idx").unwrap();
        assert_eq!(a, IdxArray { dims: vec![3], data: vec![7, 8, 9] });

        let empty = [0x00, 0x00, 0x08, 0x01, 0, 0, 0, 0];
        assert_eq!(parse_idx(&empty, "e.idx").unwrap(), IdxArray { dims: vec![0], data: vec![] });
    }

    #[test]
    fn file_round_trip_and_io_error() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("gates-idx-test-{}.gz", std::process::id()));
        std::fs::write(&path, gzip(&sample_raw())).unwrap();
        let got = read_idx_file(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(got.unwrap(), expected_sample());

        let missing = dir.join(format!("gates-idx-missing-{}.idx", std::process::id()));
        let msg = read_idx_file(&missing).unwrap_err().to_string();
        let prefix = format!("cannot read {}: ", missing.display());
        assert!(msg.starts_with(&prefix), "{msg}");
    }

    #[test]
    fn error_names_file_from_path() {
        let path = std::env::temp_dir().join(format!("gates-idx-bad-{}.idx", std::process::id()));
        std::fs::write(&path, [0x00, 0x00, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap();
        let msg = read_idx_file(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            msg,
            format!(
                "{}: unsupported element type 0x0d: expected 0x08 (unsigned byte)",
                path.display()
            )
        );
    }

    #[test]
    fn bad_magic() {
        assert_eq!(
            err(b"PK\x03\x04rest"),
            "t.idx: bad magic: expected 00 00 <type> <rank>, found 50 4b 03 04"
        );
    }

    #[test]
    fn unsupported_element_type() {
        let mut bytes = sample_raw();
        bytes[2] = 0x0d; // float
        assert_eq!(
            err(&bytes),
            "t.idx: unsupported element type 0x0d: expected 0x08 (unsigned byte)"
        );
    }

    #[test]
    fn truncated_header() {
        assert_eq!(err(&[0x00, 0x00]), "t.idx: truncated header: expected 4 bytes, found 2");
        assert_eq!(
            err(&sample_raw()[..10]),
            "t.idx: truncated header: expected 16 bytes, found 10"
        );
    }

    #[test]
    fn truncated_data() {
        let bytes = sample_raw();
        assert_eq!(
            err(&bytes[..bytes.len() - 2]),
            "t.idx: truncated data: expected 12 bytes, found 10"
        );
    }

    #[test]
    fn trailing_bytes() {
        let mut bytes = sample_raw();
        bytes.extend([0xaa, 0xbb, 0xcc]);
        assert_eq!(err(&bytes), "t.idx: 3 trailing bytes: expected 12 data bytes, found 15");
    }

    #[test]
    fn too_large() {
        let mut bytes = vec![0x00, 0x00, 0x08, 0x03];
        for _ in 0..3 {
            bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        assert_eq!(
            err(&bytes),
            "t.idx: dimensions [4294967295, 4294967295, 4294967295] are too large"
        );
    }

    #[test]
    fn corrupt_gzip() {
        let gz = gzip(&sample_raw());
        // Cut short: the stream ends early.
        let msg = err(&gz[..gz.len() / 2]);
        assert!(msg.starts_with("t.idx: corrupt gzip data: "), "{msg}");
        // Damaged CRC in the trailer.
        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 8] ^= 0xff;
        let msg = err(&bad);
        assert!(msg.starts_with("t.idx: corrupt gzip data: "), "{msg}");
    }
}
