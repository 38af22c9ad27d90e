//! The one error type of the artifact layer: every variant names the file it is about.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing an artifact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read, write or rename.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing ("reading", "writing", "renaming into").
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the gates magic bytes.
    #[error(
        "{path}: not a gates artifact (expected the magic bytes {expected}, found \"{found}\")"
    )]
    BadMagic {
        /// The file concerned.
        path: PathBuf,
        /// The magic every artifact starts with.
        expected: String,
        /// What the file starts with instead.
        found: String,
    },
    /// The file ends before a section it announces.
    #[error("{path}: truncated {section}: expected {expected} bytes, found {found}")]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// Which part is short ("header", "body", "record 12").
        section: String,
        /// How many bytes the file announced.
        expected: u64,
        /// How many bytes were there.
        found: u64,
    },
    /// A checksum does not match: the file was corrupted after it was written.
    #[error("{path}: {section} checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (the file is corrupted)")]
    Checksum {
        /// The file concerned.
        path: PathBuf,
        /// Which part is corrupt ("header", "body", "record 3").
        section: String,
        /// The checksum recorded in the file.
        stored: u32,
        /// The checksum of the bytes actually read.
        computed: u32,
    },
    /// The file holds another kind of artifact than the caller asked for.
    #[error("{path}: wrong artifact format: expected {expected:?}, found {found:?}")]
    WrongFormat {
        /// The file concerned.
        path: PathBuf,
        /// The format the caller can read.
        expected: String,
        /// The format named in the header.
        found: String,
    },
    /// The file was written by a newer or older version of the format.
    #[error(
        "{path}: unsupported {format} format version {found} (this build reads version {expected})"
    )]
    WrongVersion {
        /// The file concerned.
        path: PathBuf,
        /// Format or envelope name.
        format: String,
        /// The version this build understands.
        expected: u32,
        /// The version in the file.
        found: u32,
    },
    /// The bytes passed their checksum but do not decode into the expected type.
    #[error("{path}: cannot decode {section}: {message}")]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// Which part failed to decode.
        section: String,
        /// The decoder's explanation.
        message: String,
    },
    /// A value could not be encoded.
    #[error("cannot encode {what}: {message}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// The encoder's explanation.
        message: String,
    },
    /// A structural rule of the format is broken (for example a record of the wrong length).
    #[error("{path}: invalid {field}: expected {expected}, found {found}")]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// The field concerned.
        field: String,
        /// What the format requires.
        expected: String,
        /// What was found.
        found: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}
