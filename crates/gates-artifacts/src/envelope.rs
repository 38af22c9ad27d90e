//! The envelope every artifact file shares: magic, envelope version, a checksummed header, and
//! either one checksummed body or a stream of checksummed fixed-size records.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! offset  size  field
//! 0       8     magic  = 89 'G' 'A' 'T' 'E' 'S' 0d 0a
//! 8       4     envelope version (u32) = ENVELOPE_VERSION
//! 12      4     header length h (u32)
//! 16      h     header: bincode (standard config) of `Header`
//! 16+h    4     crc32 of the header bytes
//! 20+h    ...   body: a blob (`BodyLayout::Blob`), or a preamble followed by records
//!               of `record_len` bytes, each followed by its crc32 (`BodyLayout::Records`)
//! ```
//!
//! The first magic byte is non-ASCII and the last two are CR LF, so a file mangled by a text-mode
//! transfer is caught at once, as in PNG.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The eight bytes every artifact starts with.
pub const MAGIC: [u8; 8] = *b"\x89GATES\r\n";

/// Version of the envelope itself (magic, header framing, checksums), independent of the
/// version of each body format.
pub const ENVELOPE_VERSION: u32 = 1;

/// Headers larger than this are refused before allocation: a corrupted length field must not
/// make the reader allocate gigabytes.
const MAX_HEADER_LEN: u32 = 64 << 20;

/// A body format: a serde type with a stable name and a version bumped on every change to its
/// encoded form.
pub trait Format: Serialize + DeserializeOwned {
    /// Stable name written into the header, for example `gates.trajectory`.
    const NAME: &'static str;
    /// Version of the encoded form; readers refuse any other version.
    const VERSION: u32;
}

/// Which program wrote a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Producer {
    /// Crate or program name, for example `gates-dynamics`.
    pub name: String,
    /// Its version, for example `0.1.0`.
    pub version: String,
}

impl Producer {
    /// A producer from a name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self { name: name.into(), version: version.into() }
    }
}

/// The producer of the calling crate, taken from its Cargo metadata.
#[macro_export]
macro_rules! producer {
    () => {
        $crate::Producer::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
    };
}

/// How the body of a file is laid out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyLayout {
    /// One bincode-encoded value of the format's type.
    Blob {
        /// Length of the body in bytes.
        len: u64,
        /// crc32 of the body bytes.
        crc32: u32,
    },
    /// A bincode-encoded preamble (format-specific metadata), then any number of records of
    /// exactly `record_len` bytes, each followed by its own crc32. Records can be appended and
    /// read one at a time, so a stream larger than memory never has to be loaded whole.
    Records {
        /// Length of the preamble in bytes.
        preamble_len: u64,
        /// crc32 of the preamble bytes.
        preamble_crc32: u32,
        /// Length of each record in bytes, without its crc32.
        record_len: u64,
    },
}

/// The self-describing header at the start of every artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Body format name, for example `gates.trajectory`.
    pub format: String,
    /// Version of that format.
    pub format_version: u32,
    /// The program that wrote the file.
    pub producer: Producer,
    /// Seconds since the Unix epoch at writing time (provenance only, never compared).
    pub created_unix_s: u64,
    /// The full settings that made the file, as pretty JSON, so that any reader can show them
    /// without knowing their type.
    pub settings_json: String,
    /// How the body is laid out, with its checksum.
    pub body: BodyLayout,
}

impl Header {
    /// Decodes the settings into a typed value.
    pub fn settings<T: DeserializeOwned>(&self, path: &Path) -> Result<T> {
        serde_json::from_str(&self.settings_json).map_err(|e| Error::Decode {
            path: path.to_path_buf(),
            section: "settings".into(),
            message: e.to_string(),
        })
    }
}

pub(crate) fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a value with the artifact bincode configuration.
pub fn encode<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode_config())
        .map_err(|e| Error::Encode { what: what.into(), message: e.to_string() })
}

fn decode<T: DeserializeOwned>(bytes: &[u8], path: &Path, section: &str) -> Result<T> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, bincode_config()).map_err(|e| Error::Decode {
            path: path.to_path_buf(),
            section: section.into(),
            message: e.to_string(),
        })?;
    if used != bytes.len() {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            section: section.into(),
            message: format!("{} trailing bytes after the value", bytes.len() - used),
        });
    }
    Ok(value)
}

fn settings_to_json<S: Serialize>(settings: &S) -> Result<String> {
    serde_json::to_string_pretty(settings)
        .map_err(|e| Error::Encode { what: "settings".into(), message: e.to_string() })
}

fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Builds the header of a new file.
pub fn new_header<F: Format, S: Serialize>(
    producer: &Producer,
    settings: &S,
    body: BodyLayout,
) -> Result<Header> {
    Ok(Header {
        format: F::NAME.into(),
        format_version: F::VERSION,
        producer: producer.clone(),
        created_unix_s: now_unix_s(),
        settings_json: settings_to_json(settings)?,
        body,
    })
}

/// Encodes the magic, envelope version, header and header checksum.
pub fn encode_header(header: &Header) -> Result<Vec<u8>> {
    let bytes = encode(header, "header")?;
    let len =
        u32::try_from(bytes.len()).ok().filter(|&len| len <= MAX_HEADER_LEN).ok_or_else(|| {
            Error::Encode {
                what: "header".into(),
                message: format!("{} bytes exceeds the limit of {MAX_HEADER_LEN}", bytes.len()),
            }
        })?;

    let mut out = Vec::with_capacity(bytes.len() + 20);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&ENVELOPE_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&bytes);
    out.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    Ok(out)
}

/// The path a file is written to before it is renamed into place: same folder (so the rename is
/// atomic), hidden, and unique to this process.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same folder, flushed to disk,
/// then renamed over `path`. A crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        file.write_all(bytes).map_err(|e| Error::io("writing", &tmp, e))?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes one value of format `F` with its header, atomically.
pub fn write_blob<F: Format, S: Serialize>(
    path: &Path,
    producer: &Producer,
    settings: &S,
    body: &F,
) -> Result<Header> {
    let body_bytes = encode(body, F::NAME)?;
    let layout =
        BodyLayout::Blob { len: body_bytes.len() as u64, crc32: crc32fast::hash(&body_bytes) };
    let header = new_header::<F, S>(producer, settings, layout)?;

    let mut bytes = encode_header(&header)?;
    bytes.extend_from_slice(&body_bytes);
    write_atomic(path, &bytes)?;
    tracing::debug!(path = %path.display(), format = F::NAME, bytes = bytes.len(), "wrote artifact");
    Ok(header)
}

/// An artifact read from disk: its header and its decoded body.
#[derive(Clone, Debug)]
pub struct Artifact<F> {
    /// The header, as stored.
    pub header: Header,
    /// The decoded body.
    pub body: F,
}

fn read_exact_or_truncated(
    reader: &mut impl Read,
    buf: &mut [u8],
    path: &Path,
    section: &str,
) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    section: section.into(),
                    expected: buf.len() as u64,
                    found: filled as u64,
                })
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("reading", path, e)),
        }
    }
    Ok(())
}

/// Reads and checks the magic, envelope version and header; leaves `reader` at the body.
/// Returns the header and the body's offset in the file.
pub fn read_header_from(reader: &mut impl Read, path: &Path) -> Result<(Header, u64)> {
    let mut prefix = [0u8; 16];
    let mut got = 0;
    while got < prefix.len() {
        match reader.read(&mut prefix[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("reading", path, e)),
        }
    }
    if got < 8 || prefix[..8] != MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            expected: MAGIC.escape_ascii().to_string(),
            found: prefix[..got.min(8)].escape_ascii().to_string(),
        });
    }
    if got < 16 {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            section: "envelope".into(),
            expected: 16,
            found: got as u64,
        });
    }

    let version = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes"));
    if version != ENVELOPE_VERSION {
        return Err(Error::WrongVersion {
            path: path.to_path_buf(),
            format: "envelope".into(),
            expected: ENVELOPE_VERSION,
            found: version,
        });
    }
    let len = u32::from_le_bytes(prefix[12..16].try_into().expect("4 bytes"));
    if len > MAX_HEADER_LEN {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "header length".into(),
            expected: format!("at most {MAX_HEADER_LEN} bytes"),
            found: len.to_string(),
        });
    }

    let mut bytes = vec![0u8; len as usize + 4];
    read_exact_or_truncated(reader, &mut bytes, path, "header")?;
    let (bytes, crc) = bytes.split_at(len as usize);
    let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    let computed = crc32fast::hash(bytes);
    if stored != computed {
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            section: "header".into(),
            stored,
            computed,
        });
    }
    let header: Header = decode(bytes, path, "header")?;
    Ok((header, 16 + len as u64 + 4))
}

/// Reads only the header of any artifact (for `gates inspect`).
pub fn read_header(path: &Path) -> Result<Header> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    Ok(read_header_from(&mut file, path)?.0)
}

/// Checks that a header announces format `F` at the version this build reads.
pub fn check_format<F: Format>(header: &Header, path: &Path) -> Result<()> {
    if header.format != F::NAME {
        return Err(Error::WrongFormat {
            path: path.to_path_buf(),
            expected: F::NAME.into(),
            found: header.format.clone(),
        });
    }
    if header.format_version != F::VERSION {
        return Err(Error::WrongVersion {
            path: path.to_path_buf(),
            format: F::NAME.into(),
            expected: F::VERSION,
            found: header.format_version,
        });
    }
    Ok(())
}

/// Reads a blob artifact of format `F`, checking magic, versions and both checksums.
pub fn read_blob<F: Format>(path: &Path) -> Result<Artifact<F>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let (header, _) = read_header_from(&mut reader, path)?;
    check_format::<F>(&header, path)?;

    let BodyLayout::Blob { len, crc32 } = header.body else {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "body layout".into(),
            expected: "a blob".into(),
            found: "records".into(),
        });
    };
    let body = read_checked(&mut reader, len, crc32, path, "body")?;
    let mut rest = [0u8; 1];
    if reader.read(&mut rest).map_err(|e| Error::io("reading", path, e))? != 0 {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "file length".into(),
            expected: format!("the body to end the file after {len} bytes"),
            found: "trailing bytes".into(),
        });
    }
    let body = decode(&body, path, "body")?;
    Ok(Artifact { header, body })
}

fn read_checked(
    reader: &mut impl Read,
    len: u64,
    crc32: u32,
    path: &Path,
    section: &str,
) -> Result<Vec<u8>> {
    // Never trust a length field with an allocation: read in bounded chunks so a corrupted
    // length runs into the end of the file instead of into the allocator.
    let mut bytes = Vec::with_capacity(len.min(1 << 26) as usize);
    let got =
        reader.take(len).read_to_end(&mut bytes).map_err(|e| Error::io("reading", path, e))?;
    if (got as u64) < len {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            section: section.into(),
            expected: len,
            found: got as u64,
        });
    }
    let computed = crc32fast::hash(&bytes);
    if computed != crc32 {
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            section: section.into(),
            stored: crc32,
            computed,
        });
    }
    Ok(bytes)
}

/// Metadata stored in front of the records of a record stream.
pub trait RecordFormat: Format {
    /// Length in bytes of every record this preamble describes.
    fn record_len(&self) -> u64;
}

/// Appends fixed-size records to a new stream file. The stream is written under a temporary
/// name and only appears under its final name at [`RecordWriter::finish`].
pub struct RecordWriter {
    path: PathBuf,
    tmp: PathBuf,
    file: BufWriter<File>,
    record_len: u64,
    records: u64,
    records_offset: u64,
}

impl RecordWriter {
    /// Starts a stream whose preamble is `preamble`.
    pub fn create<F: RecordFormat, S: Serialize>(
        path: &Path,
        producer: &Producer,
        settings: &S,
        preamble: &F,
    ) -> Result<Self> {
        let tmp = partial_path_for(path);
        let pre = encode(preamble, F::NAME)?;
        let layout = BodyLayout::Records {
            preamble_len: pre.len() as u64,
            preamble_crc32: crc32fast::hash(&pre),
            record_len: preamble.record_len(),
        };
        let header = new_header::<F, S>(producer, settings, layout)?;
        let mut bytes = encode_header(&header)?;
        bytes.extend_from_slice(&pre);

        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut file = BufWriter::new(file);
        file.write_all(&bytes).map_err(|e| Error::io("writing", &tmp, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            file,
            record_len: preamble.record_len(),
            records: 0,
            records_offset: bytes.len() as u64,
        })
    }

    /// Reopens the partial stream of an interrupted run, keeping its first `keep` records and
    /// dropping the rest, so that a resumed run appends exactly where its checkpoint left off.
    pub fn resume<F: RecordFormat>(path: &Path, keep: u64) -> Result<Self> {
        let tmp = partial_path_for(path);
        let reader = RecordReader::<F>::open_at(&tmp, &tmp)?;
        if keep > reader.len() {
            return Err(Error::Invalid {
                path: tmp,
                field: "record count".into(),
                expected: format!("at least {keep} records to resume from"),
                found: reader.len().to_string(),
            });
        }
        let records_offset = reader.records_offset;
        let record_len = reader.record_len;
        drop(reader);

        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .map_err(|e| Error::io("opening", &tmp, e))?;
        let end = records_offset + keep * (record_len + 4);
        file.set_len(end).map_err(|e| Error::io("truncating", &tmp, e))?;
        let mut file = BufWriter::new(file);
        file.seek(SeekFrom::Start(end)).map_err(|e| Error::io("seeking", &tmp, e))?;
        Ok(Self { path: path.to_path_buf(), tmp, file, record_len, records: keep, records_offset })
    }

    /// Appends one record; `record` must be exactly the announced length.
    pub fn append(&mut self, record: &[u8]) -> Result<()> {
        if record.len() as u64 != self.record_len {
            return Err(Error::Invalid {
                path: self.tmp.clone(),
                field: "record length".into(),
                expected: format!("{} bytes", self.record_len),
                found: format!("{} bytes", record.len()),
            });
        }
        let crc = crc32fast::hash(record).to_le_bytes();
        self.file.write_all(record).map_err(|e| Error::io("writing", &self.tmp, e))?;
        self.file.write_all(&crc).map_err(|e| Error::io("writing", &self.tmp, e))?;
        self.records += 1;
        Ok(())
    }

    /// Number of records written so far.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether no record was written yet.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Flushes buffered records to disk (called at checkpoints).
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io("flushing", &self.tmp, e))?;
        self.file.get_ref().sync_data().map_err(|e| Error::io("syncing", &self.tmp, e))
    }

    /// Flushes and renames the stream to its final name.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.flush()?;
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| Error::io("renaming into", &self.path, e))?;
        tracing::debug!(path = %self.path.display(), records = self.records, offset = self.records_offset, "finished record stream");
        Ok(self.path)
    }
}

/// Where the stream for `path` lives while it is being written (kept across interruptions so a
/// resumed run can continue it).
pub fn partial_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.partial"))
}

/// Random access to the records of a finished stream, one record or one block at a time.
pub struct RecordReader<F> {
    path: PathBuf,
    file: File,
    header: Header,
    preamble: F,
    record_len: u64,
    records_offset: u64,
    count: u64,
}

impl<F: RecordFormat> RecordReader<F> {
    /// Opens a stream, checks its header and preamble, and counts its records. A trailing partial
    /// record is an error (the file was truncated).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_at(path, path)
    }

    fn open_at(path: &Path, shown: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io("opening", shown, e))?;
        let (header, offset) = read_header_from(&mut file, shown)?;
        check_format::<F>(&header, shown)?;
        let BodyLayout::Records { preamble_len, preamble_crc32, record_len } = header.body else {
            return Err(Error::Invalid {
                path: shown.to_path_buf(),
                field: "body layout".into(),
                expected: "a record stream".into(),
                found: "a blob".into(),
            });
        };
        let pre = read_checked(&mut file, preamble_len, preamble_crc32, shown, "preamble")?;
        let preamble: F = decode(&pre, shown, "preamble")?;
        if preamble.record_len() != record_len {
            return Err(Error::Invalid {
                path: shown.to_path_buf(),
                field: "record length".into(),
                expected: format!("{} bytes as the preamble implies", preamble.record_len()),
                found: format!("{record_len} bytes in the header"),
            });
        }

        let records_offset = offset + preamble_len;
        let total = file.metadata().map_err(|e| Error::io("reading metadata of", shown, e))?.len();
        let stride = record_len + 4;
        let body = total.saturating_sub(records_offset);
        if body % stride != 0 {
            return Err(Error::Truncated {
                path: shown.to_path_buf(),
                section: format!("record {}", body / stride),
                expected: stride,
                found: body % stride,
            });
        }
        Ok(Self {
            path: shown.to_path_buf(),
            file,
            header,
            preamble,
            record_len,
            records_offset,
            count: body / stride,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The stream's preamble.
    pub fn preamble(&self) -> &F {
        &self.preamble
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the stream holds no record.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Reads records `start..start + n` into `out` (resized to `n * record_len`), checking each
    /// record's checksum.
    pub fn read_block(&mut self, start: u64, n: u64, out: &mut Vec<u8>) -> Result<()> {
        if start + n > self.count {
            return Err(Error::Invalid {
                path: self.path.clone(),
                field: "record range".into(),
                expected: format!("within 0..{}", self.count),
                found: format!("{start}..{}", start + n),
            });
        }
        let stride = self.record_len + 4;
        let mut raw = vec![0u8; (n * stride) as usize];
        self.file
            .seek(SeekFrom::Start(self.records_offset + start * stride))
            .map_err(|e| Error::io("seeking", &self.path, e))?;
        read_exact_or_truncated(&mut self.file, &mut raw, &self.path, "records")?;

        out.clear();
        out.reserve((n * self.record_len) as usize);
        for (i, chunk) in raw.chunks_exact(stride as usize).enumerate() {
            let (record, crc) = chunk.split_at(self.record_len as usize);
            let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
            let computed = crc32fast::hash(record);
            if stored != computed {
                return Err(Error::Checksum {
                    path: self.path.clone(),
                    section: format!("record {}", start + i as u64),
                    stored,
                    computed,
                });
            }
            out.extend_from_slice(record);
        }
        Ok(())
    }
}
