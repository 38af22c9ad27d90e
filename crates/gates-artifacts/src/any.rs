//! Reading an artifact of unknown kind, for tools such as `gates inspect`.

use std::path::Path;

use crate::bound::{BoundReport, ComplexityReport};
use crate::checkpoint::Checkpoint;
use crate::envelope::{read_blob, read_header, Format, Header, RecordReader};
use crate::error::{Error, Result};
use crate::spectrum::Spectrum;
use crate::trajectory::Trajectory;
use crate::window::WindowPreamble;

/// Any artifact this build can read.
#[derive(Clone, Debug)]
pub enum AnyArtifact {
    /// A trajectory.
    Trajectory(Trajectory),
    /// A checkpoint.
    Checkpoint(Checkpoint),
    /// A window: its preamble and record count (records stay on disk).
    Window {
        /// The preamble.
        preamble: WindowPreamble,
        /// Iterates stored.
        records: u64,
    },
    /// A spectrum.
    Spectrum(Spectrum),
    /// A bound report.
    Bound(BoundReport),
    /// A complexity report.
    Complexity(ComplexityReport),
}

/// Every format this build reads, with the one version of it that it reads.
pub const KNOWN_FORMATS: [(&str, u32); 6] = [
    (Trajectory::NAME, Trajectory::VERSION),
    (Checkpoint::NAME, Checkpoint::VERSION),
    (WindowPreamble::NAME, WindowPreamble::VERSION),
    (Spectrum::NAME, Spectrum::VERSION),
    (BoundReport::NAME, BoundReport::VERSION),
    (ComplexityReport::NAME, ComplexityReport::VERSION),
];

/// Reads any known artifact, fully checked.
pub fn read_any(path: &Path) -> Result<(Header, AnyArtifact)> {
    let header = read_header(path)?;
    let body = match header.format.as_str() {
        Trajectory::NAME => AnyArtifact::Trajectory(read_blob(path)?.body),
        Checkpoint::NAME => AnyArtifact::Checkpoint(read_blob(path)?.body),
        Spectrum::NAME => AnyArtifact::Spectrum(read_blob(path)?.body),
        BoundReport::NAME => AnyArtifact::Bound(read_blob(path)?.body),
        ComplexityReport::NAME => AnyArtifact::Complexity(read_blob(path)?.body),
        WindowPreamble::NAME => {
            let mut reader = RecordReader::<WindowPreamble>::open(path)?;
            let records = reader.len();
            // Verify every record's checksum, a block at a time.
            let mut buf = Vec::new();
            let mut start = 0;
            while start < records {
                let n = (records - start).min(64);
                reader.read_block(start, n, &mut buf)?;
                start += n;
            }
            AnyArtifact::Window { preamble: reader.preamble().clone(), records }
        }
        other => {
            return Err(Error::WrongFormat {
                path: path.to_path_buf(),
                expected: format!("one of {}", KNOWN_FORMATS.map(|(name, _)| name).join(", ")),
                found: other.to_string(),
            })
        }
    };
    Ok((header, body))
}
