//! The on-disk contract of `gates`.
//!
//! Crates of the workspace talk to each other only through the files defined here, so that any
//! of them can be replaced by another implementation that reads and writes the same files.
//! Every file is an *artifact*: an [envelope](envelope) with magic bytes, a versioned,
//! self-describing header (format name and version, producer, the full settings that made the
//! file) protected by a checksum, and a checksummed body.
//!
//! | format | type | written by |
//! |---|---|---|
//! | `gates.trajectory` | [`Trajectory`] | `gates-dynamics` |
//! | `gates.checkpoint` | [`Checkpoint`] | `gates-dynamics` |
//! | `gates.window` | [`WindowPreamble`] + [`WindowRecord`] stream | `gates-dynamics` |
//! | `gates.spectrum` | [`Spectrum`] | `gates-spectral` |
//! | `gates.bound` | [`BoundReport`] | `gates-bound` |
//! | `gates.complexity` | [`ComplexityReport`] | `gates-bound` |
//!
//! Writes are atomic (temporary file, then rename); reads check magic, versions and checksums
//! and name the file in every error.
//!
//! ```
//! use gates_artifacts::{read_blob, write_blob, producer, Checkpoint, OptimizerState};
//!
//! let dir = std::env::temp_dir().join(format!("gates-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("ckpt.gates");
//! let body = Checkpoint {
//!     step: 0,
//!     params: vec![],
//!     optimizer: OptimizerState { kind: "sgd".into(), updates: 0, buffers: vec![] },
//! };
//! write_blob(&path, &producer!(), &"settings", &body).unwrap();
//! assert_eq!(read_blob::<Checkpoint>(&path).unwrap().body, body);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod any;
pub mod bound;
pub mod checkpoint;
pub mod envelope;
pub mod error;
pub mod spectrum;
pub mod tensor;
pub mod trajectory;
pub mod window;

pub use any::{read_any, AnyArtifact, KNOWN_FORMATS};
pub use bound::{
    BoundForm, BoundInputsRecord, BoundReport, BoundTerm, ComplexityReport, SdEstimate, TermSource,
};
pub use checkpoint::{Checkpoint, OptimizerState};
pub use envelope::{
    partial_path_for, read_blob, read_header, write_atomic, write_blob, Artifact, BodyLayout,
    Format, Header, Producer, RecordFormat, RecordReader, RecordWriter, ENVELOPE_VERSION, MAGIC,
};
pub use error::{Error, Result};
pub use spectrum::{
    DenseSpectrum, Estimate, MinibatchRef, RitzValue, SlqRun, SourceRef, Spectrum, SpectrumMethod,
};
pub use tensor::{DType, NamedTensor, TensorData};
pub use trajectory::{
    CheckpointEntry, DatasetSummary, Evaluation, ModelSummary, ParamSpec, RunStatus, SplitMetrics,
    Trajectory, WindowEntry,
};
pub use window::{WindowKind, WindowPreamble, WindowRecord};
