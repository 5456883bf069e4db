//! Unpacking chart archives (`.tgz`) safely.
//!
//! A chart archive comes from a repository or registry strata does not control, and it is
//! unpacked into a cache other tenants' renders read from, so it is treated as hostile:
//! - only regular files and directories are created (no symlinks, hard links, devices or
//!   fifos, which could point outside the destination or at other charts);
//! - every path is relative, made of ordinary names only (no `..`, `.`, empty components,
//!   NUL bytes or backslashes), and inside the archive's single top-level directory;
//! - sizes are capped per file and per chart while streaming (Helm's own caps by default), and
//!   so is the number of entries, so a small download cannot fill the disk;
//! - nothing from the archive's metadata is kept: files are created `0644` and directories
//!   `0755`, with no owner, mtime or extended attributes restored, so the cache is the same
//!   whoever unpacked it.
//!
//! On any error the destination is emptied again, so a half-unpacked chart never looks like a
//! cached one.

use std::cell::Cell;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::quote::{QUOTE_MAX, bounded, quote};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use tar::EntryType;

const MIB: u64 = 1024 * 1024;

/// Entries (files, directories, extension headers) one chart archive may hold.
pub const MAX_ENTRIES: usize = 10_000;

/// Bytes of tar framing (headers, padding, long-name and PAX records) tolerated on top of
/// `max_total_bytes`; about 3 KiB for each of [`MAX_ENTRIES`]. It bounds data that is never
/// written out, such as skipped global headers, and what the tar reader buffers for long names.
const FRAMING_ALLOWANCE: u64 = 32 * MIB;

const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

/// Decompressed-size caps for one chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file.
    pub max_file_bytes: u64,
    /// All files together.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// Helm's: a chart Helm would refuse to load is refused here before it is written.
    fn default() -> Self {
        Limits {
            max_file_bytes: 5 * MIB,
            max_total_bytes: 100 * MIB,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot unpack a chart into {}: {problem}", bounded(&path.display().to_string(), QUOTE_MAX))]
    Destination {
        path: PathBuf,
        problem: &'static str,
    },
    #[error("chart archive is not a readable gzip-compressed tar file: {source}")]
    Read {
        #[source]
        source: io::Error,
    },
    #[error("chart archive ends in the middle of entry {}", quote(.entry))]
    Truncated { entry: String },
    #[error("chart archive entry {} {problem}", quote(.entry))]
    UnsafePath {
        entry: String,
        problem: &'static str,
    },
    #[error(
        "chart archive entry {} is a {kind}; only regular files and directories are allowed",
        quote(.entry)
    )]
    UnsupportedType { entry: String, kind: &'static str },
    #[error(
        "chart archive entry {} is outside the top-level directory {}; a chart archive holds exactly one top-level directory",
        quote(.entry),
        quote(.top)
    )]
    OutsideChart { entry: String, top: String },
    #[error(
        "chart archive entry {} is a file at the top level; a chart archive holds one directory with the chart inside",
        quote(.entry)
    )]
    TopLevelFile { entry: String },
    #[error("chart archive entry {} is larger than the limit of {limit} bytes per file", quote(.entry))]
    FileTooLarge { entry: String, limit: u64 },
    #[error(
        "chart archive expands to more than the limit of {limit} bytes (exceeded at entry {})",
        quote(.entry)
    )]
    TooLarge { entry: String, limit: u64 },
    #[error("chart archive holds more than {limit} bytes of tar headers and data")]
    StreamTooLarge { limit: u64 },
    #[error("chart archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("chart archive entry {} repeats or conflicts with an earlier entry", quote(.entry))]
    Duplicate { entry: String },
    #[error("chart archive is empty")]
    Empty,
    #[error("chart archive has no Chart.yaml in its top-level directory {}", quote(.top))]
    MissingChartYaml { top: String },
    #[error("cannot write {}: {source}", bounded(&path.display().to_string(), QUOTE_MAX))]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ArchiveError {
    /// Whether this is the local disk failing (full, read-only, no permission) rather than
    /// the archive: such errors must not be reported as a broken chart.
    pub fn is_local_io(&self) -> bool {
        match self {
            ArchiveError::Destination { .. } => true,
            // A name too long or invalid is the archive's doing; a full, read-only or
            // failing disk is not.
            ArchiveError::Write { source, .. } => matches!(
                source.raw_os_error(),
                Some(
                    libc::ENOSPC
                        | libc::EDQUOT
                        | libc::EROFS
                        | libc::EACCES
                        | libc::EPERM
                        | libc::EIO
                        | libc::EMFILE
                        | libc::ENFILE
                        | libc::ENOMEM
                )
            ),
            _ => false,
        }
    }
}

/// Lower-case hex SHA-256, the form Helm index digests and OCI digests use.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Unpacks a chart .tgz into `dest` (which must exist and be empty), stripping the single
/// top-level directory; returns that directory's name (the chart name).
///
/// Like Helm, concatenated gzip members are read as one stream and nothing after the tar
/// end-of-archive marker is read; the archive's digest, not this function, vouches for its
/// integrity. On error `dest` is left empty.
pub fn unpack_chart(
    reader: impl Read,
    dest: &Path,
    limits: &Limits,
) -> Result<String, ArchiveError> {
    let stream_limit = limits.max_total_bytes.saturating_add(FRAMING_ALLOWANCE);
    unpack_with_stream_limit(reader, dest, limits, stream_limit)
}

fn unpack_with_stream_limit(
    reader: impl Read,
    dest: &Path,
    limits: &Limits,
    stream_limit: u64,
) -> Result<String, ArchiveError> {
    check_destination(dest)?;
    let result = Unpacker {
        dest,
        limits,
        top: None,
        total: 0,
        buf: vec![0; 64 * 1024],
    }
    .run(reader, stream_limit);
    if result.is_err() {
        // Best effort: the error being reported matters more than a failed cleanup.
        let _ = empty_directory(dest);
    }
    result
}

fn check_destination(dest: &Path) -> Result<(), ArchiveError> {
    let problem = |problem| ArchiveError::Destination {
        path: dest.to_path_buf(),
        problem,
    };
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => {}
        Ok(meta) if meta.is_symlink() => return Err(problem("it is a symbolic link")),
        Ok(_) => return Err(problem("it is not a directory")),
        Err(_) => return Err(problem("it does not exist")),
    }
    let mut entries = fs::read_dir(dest).map_err(|_| problem("it cannot be listed"))?;
    if entries.next().is_some() {
        return Err(problem("it is not empty"));
    }
    Ok(())
}

/// Removes everything inside `dir` (which held nothing before unpacking started).
fn empty_directory(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

struct Unpacker<'a> {
    dest: &'a Path,
    limits: &'a Limits,
    /// The archive's top-level directory, from the first entry.
    top: Option<String>,
    /// File bytes written so far.
    total: u64,
    buf: Vec<u8>,
}

impl Unpacker<'_> {
    fn run(mut self, reader: impl Read, stream_limit: u64) -> Result<String, ArchiveError> {
        each_entry(reader, stream_limit, |entry| self.unpack_entry(entry))?;
        let top = self.top.ok_or(ArchiveError::Empty)?;
        let chart_yaml = fs::symlink_metadata(self.dest.join("Chart.yaml"));
        if !chart_yaml.is_ok_and(|meta| meta.is_file()) {
            return Err(ArchiveError::MissingChartYaml { top });
        }
        Ok(top)
    }

    fn unpack_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let Some((name, is_dir)) = checked_entry(entry, &mut self.top)? else {
            return Ok(());
        };
        let parts = components(&name, is_dir)?;
        let inside = &parts[1..];
        if inside.is_empty() {
            return match is_dir {
                true => Ok(()), // the top-level directory itself: `dest`
                false => Err(ArchiveError::TopLevelFile { entry: name }),
            };
        }
        if is_dir {
            self.create_dirs(inside, &name)
        } else {
            self.create_dirs(&inside[..inside.len() - 1], &name)?;
            let target = self.dest.join(inside.iter().collect::<PathBuf>());
            let declared = entry.size();
            self.write_file(entry, &target, &name, declared)
        }
    }

    /// Creates `dest/parts...` one level at a time, refusing to reuse anything that is not a
    /// directory this unpacking made.
    fn create_dirs(&self, parts: &[&str], entry: &str) -> Result<(), ArchiveError> {
        let mut dir = self.dest.to_path_buf();
        for part in parts {
            dir.push(part);
            match fs::DirBuilder::new().mode(DIR_MODE).create(&dir) {
                Ok(()) => set_mode(&dir, DIR_MODE)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                        return Err(ArchiveError::Duplicate {
                            entry: entry.to_string(),
                        });
                    }
                }
                Err(source) => return Err(ArchiveError::Write { path: dir, source }),
            }
        }
        Ok(())
    }

    /// Streams one file out, counting the bytes actually read against both caps rather than
    /// trusting the size the header declares.
    fn write_file(
        &mut self,
        data: &mut impl Read,
        path: &Path,
        entry: &str,
        declared: u64,
    ) -> Result<(), ArchiveError> {
        let file_limit = self.limits.max_file_bytes;
        let total_limit = self.limits.max_total_bytes;
        let too_large = |size: u64, total: u64| {
            if size > file_limit {
                Some(ArchiveError::FileTooLarge {
                    entry: entry.to_string(),
                    limit: file_limit,
                })
            } else if total > total_limit {
                Some(ArchiveError::TooLarge {
                    entry: entry.to_string(),
                    limit: total_limit,
                })
            } else {
                None
            }
        };
        // Refuse before creating anything when the header already says it is too big.
        if let Some(err) = too_large(declared, self.total.saturating_add(declared)) {
            return Err(err);
        }
        let write_error = |source| ArchiveError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(path)
            .map_err(|source| match source.kind() {
                io::ErrorKind::AlreadyExists => ArchiveError::Duplicate {
                    entry: entry.to_string(),
                },
                _ => write_error(source),
            })?;
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
            .map_err(write_error)?;

        let mut written = 0u64;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(ArchiveError::Read { source }),
            };
            written += n as u64;
            if let Some(err) = too_large(written, self.total.saturating_add(written)) {
                return Err(err);
            }
            file.write_all(&self.buf[..n]).map_err(write_error)?;
        }
        if written != declared {
            return Err(ArchiveError::Truncated {
                entry: entry.to_string(),
            });
        }
        self.total += written;
        Ok(())
    }
}

/// A chart's files as read from an archive: (path inside the top-level directory, bytes).
pub type ChartFiles = Vec<(String, Vec<u8>)>;

/// Reads a chart .tgz into memory with the same checks and caps as [`unpack_chart`]: every
/// file in archive order, plus the top-level directory's name. For renderers that load a
/// chart without writing it anywhere.
pub fn read_chart_files(
    reader: impl Read,
    limits: &Limits,
) -> Result<(String, ChartFiles), ArchiveError> {
    let stream_limit = limits.max_total_bytes.saturating_add(FRAMING_ALLOWANCE);
    let mut memory = MemoryReader {
        limits,
        top: None,
        files: Vec::new(),
        seen: std::collections::HashSet::new(),
        total: 0,
    };
    each_entry(reader, stream_limit, |entry| memory.entry(entry))?;
    let top = memory.top.ok_or(ArchiveError::Empty)?;
    if !memory.files.iter().any(|(path, _)| path == "Chart.yaml") {
        return Err(ArchiveError::MissingChartYaml { top });
    }
    Ok((top, memory.files))
}

/// [`read_chart_files`]' state: the entries read so far and their total size.
struct MemoryReader<'a> {
    limits: &'a Limits,
    top: Option<String>,
    files: ChartFiles,
    seen: std::collections::HashSet<String>,
    total: u64,
}

impl MemoryReader<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let Some((name, is_dir)) = checked_entry(entry, &mut self.top)? else {
            return Ok(());
        };
        let parts = components(&name, is_dir)?;
        if is_dir {
            return Ok(());
        }
        if parts.len() == 1 {
            return Err(ArchiveError::TopLevelFile { entry: name });
        }
        let inside = parts[1..].join("/");
        let data = self.read_data(entry, &name)?;
        if !self.seen.insert(inside.clone()) {
            return Err(ArchiveError::Duplicate { entry: name });
        }
        self.files.push((inside, data));
        Ok(())
    }

    /// The entry's bytes, counted against both caps as they are read.
    fn read_data(&mut self, entry: &mut impl Read, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let limits = self.limits;
        let check = |size: u64, total: u64| {
            if size > limits.max_file_bytes {
                Err(ArchiveError::FileTooLarge {
                    entry: name.to_string(),
                    limit: limits.max_file_bytes,
                })
            } else if total > limits.max_total_bytes {
                Err(ArchiveError::TooLarge {
                    entry: name.to_string(),
                    limit: limits.max_total_bytes,
                })
            } else {
                Ok(())
            }
        };
        let mut data = Vec::new();
        entry
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|source| ArchiveError::Read { source })?;
        let size = data.len() as u64;
        check(size, self.total.saturating_add(size))?;
        self.total += size;
        Ok(data)
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ArchiveError> {
    // Explicit, so the process umask does not decide what a shared cache looks like.
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| {
        ArchiveError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The entry's path as text (after long-name and PAX records), refusing bytes that have no
/// business in a chart file name.
fn entry_name(raw: &[u8]) -> Result<String, ArchiveError> {
    let unsafe_path = |problem| ArchiveError::UnsafePath {
        entry: String::from_utf8_lossy(raw).into_owned(),
        problem,
    };
    if raw.contains(&0) {
        return Err(unsafe_path("contains a NUL byte"));
    }
    let name = std::str::from_utf8(raw).map_err(|_| unsafe_path("is not valid UTF-8"))?;
    if name.contains('\\') {
        return Err(unsafe_path(
            "contains a backslash, which archives made on Windows use as a separator",
        ));
    }
    Ok(name.to_string())
}

/// Splits `name` into ordinary path components; a directory may end with `/`.
fn components(name: &str, is_dir: bool) -> Result<Vec<&str>, ArchiveError> {
    let unsafe_path = |problem| ArchiveError::UnsafePath {
        entry: name.to_string(),
        problem,
    };
    if name.starts_with('/') {
        return Err(unsafe_path("is an absolute path"));
    }
    let trimmed = match is_dir {
        true => name.strip_suffix('/').unwrap_or(name),
        false => name,
    };
    if trimmed.is_empty() {
        return Err(unsafe_path("has an empty name"));
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    for part in &parts {
        match *part {
            "" => return Err(unsafe_path("has an empty path component")),
            "." => return Err(unsafe_path("has a `.` path component")),
            ".." => {
                return Err(unsafe_path(
                    "has a `..` path component, which could escape the destination",
                ));
            }
            _ => {}
        }
    }
    Ok(parts)
}

fn describe_type(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "fifo",
        EntryType::GNUSparse => "sparse file",
        EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink => {
            "misplaced extension header"
        }
        _ => "entry of an unsupported type",
    }
}

/// Fails the decompressed stream once it passes `remaining` bytes, whatever the tar reader
/// does with them (file data, padding, or metadata it buffers or skips).
struct CappedReader<R> {
    inner: R,
    remaining: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // One more byte would exceed the cap: peek for it.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.tripped.set(true);
                    Err(io::Error::other("decompressed chart archive is too large"))
                }
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Runs `visit` on each entry of a gzipped tar stream, refusing more than [`MAX_ENTRIES`]
/// entries and more than `stream_limit` bytes of decompressed stream (a read error past that
/// limit is reported as the limit, not as the I/O error the cap causes).
fn each_entry<R: Read>(
    reader: R,
    stream_limit: u64,
    mut visit: impl FnMut(
        &mut tar::Entry<'_, CappedReader<MultiGzDecoder<R>>>,
    ) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let tripped = Rc::new(Cell::new(false));
    let stream = CappedReader {
        inner: MultiGzDecoder::new(reader),
        remaining: stream_limit,
        tripped: Rc::clone(&tripped),
    };
    let read_error = |source: io::Error| {
        if tripped.get() {
            ArchiveError::StreamTooLarge {
                limit: stream_limit,
            }
        } else {
            ArchiveError::Read { source }
        }
    };
    let mut archive = tar::Archive::new(stream);
    for (count, entry) in archive.entries().map_err(read_error)?.enumerate() {
        let mut entry = entry.map_err(read_error)?;
        if count >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries { limit: MAX_ENTRIES });
        }
        visit(&mut entry).map_err(|e| match e {
            ArchiveError::Read { source } => read_error(source),
            other => other,
        })?;
    }
    Ok(())
}

/// The name of an entry and whether it is a directory, after the checks every reader of an
/// untrusted chart archive makes: a file or directory only, a safe relative path, under the
/// one top-level directory (`top`, set by the first entry). `None` for archiver metadata
/// (the commit `git archive` records), which Helm skips too.
fn checked_entry<R: Read>(
    entry: &tar::Entry<'_, R>,
    top: &mut Option<String>,
) -> Result<Option<(String, bool)>, ArchiveError> {
    let kind = entry.header().entry_type();
    if kind == EntryType::XGlobalHeader {
        return Ok(None);
    }
    let name = entry_name(&entry.path_bytes())?;
    let is_dir = match kind {
        EntryType::Regular | EntryType::Continuous => false,
        EntryType::Directory => true,
        other => {
            return Err(ArchiveError::UnsupportedType {
                entry: name,
                kind: describe_type(other),
            });
        }
    };
    let first = components(&name, is_dir)?[0].to_string();
    match top {
        None => *top = Some(first),
        Some(top) if *top != first => {
            return Err(ArchiveError::OutsideChart {
                entry: name,
                top: top.clone(),
            });
        }
        Some(_) => {}
    }
    Ok(Some((name, is_dir)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use std::collections::BTreeSet;
    use std::os::unix::fs::MetadataExt;
    use std::time::{Duration, Instant, SystemTime};
    use tar::{Builder, Header};

    /// A tar archive under construction. Entries are written with raw headers whose path bytes
    /// are copied verbatim, so hostile names get past the builder's own checks.
    struct Tgz {
        tar: Builder<Vec<u8>>,
    }

    impl Tgz {
        fn new() -> Self {
            Tgz {
                tar: Builder::new(Vec::new()),
            }
        }

        fn file(mut self, path: &str, data: &[u8]) -> Self {
            self.raw(path.as_bytes(), EntryType::Regular, data, None);
            self
        }

        fn dir(mut self, path: &str) -> Self {
            self.raw(path.as_bytes(), EntryType::Directory, b"", None);
            self
        }

        fn entry(mut self, path: &[u8], kind: EntryType, link: Option<&[u8]>) -> Self {
            self.raw(path, kind, b"", link);
            self
        }

        /// A PAX extended header that renames the next entry.
        fn pax_path(mut self, path: &[u8]) -> Self {
            let record = pax_record("path", path);
            self.raw(b"PaxHeader/x", EntryType::XHeader, &record, None);
            self
        }

        fn raw(&mut self, path: &[u8], kind: EntryType, data: &[u8], link: Option<&[u8]>) {
            self.tar
                .append(&raw_header(path, kind, data.len() as u64, link), data)
                .expect("append");
        }

        fn tar(self) -> Vec<u8> {
            self.tar.into_inner().expect("finish tar")
        }

        fn gz(self) -> Vec<u8> {
            gzip(&self.tar())
        }
    }

    fn raw_header(path: &[u8], kind: EntryType, size: u64, link: Option<&[u8]>) -> Header {
        let mut header = Header::new_gnu();
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name[..path.len()].copy_from_slice(path);
        if let Some(link) = link {
            gnu.linkname[..link.len()].copy_from_slice(link);
        }
        header.set_entry_type(kind);
        header.set_size(size);
        // Metadata an archive may carry but that must not reach the disk.
        header.set_mode(0o6777);
        header.set_uid(0);
        header.set_mtime(1);
        header.set_cksum();
        header
    }

    /// `"<len> key=value\n"`, where `len` counts the whole record including itself.
    fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let base = key.len() + value.len() + 3;
        let mut len = base + 1;
        while base + len.to_string().len() != len {
            len = base + len.to_string().len();
        }
        let mut record = format!("{len} {key}=").into_bytes();
        record.extend_from_slice(value);
        record.push(b'\n');
        record
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        gzip_with(bytes, Compression::fast())
    }

    /// Debug builds of the deflate code are slow; stored blocks keep big tests quick.
    fn gzip_with(bytes: &[u8], level: Compression) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
        encoder.write_all(bytes).expect("gzip");
        encoder.finish().expect("gzip")
    }

    fn chart() -> Tgz {
        Tgz::new().dir("mychart/").file(
            "mychart/Chart.yaml",
            b"apiVersion: v2\nname: mychart\nversion: 1.0.0\n",
        )
    }

    /// A temporary directory holding only `dest/`, so writes outside `dest` are visible.
    struct Sandbox {
        parent: tempfile::TempDir,
    }

    impl Sandbox {
        fn new() -> Self {
            let parent = tempfile::tempdir().expect("temp dir");
            fs::create_dir(parent.path().join("dest")).expect("create dest");
            Sandbox { parent }
        }

        fn dest(&self) -> PathBuf {
            self.parent.path().join("dest")
        }

        fn unpack(&self, reader: impl Read, limits: &Limits) -> Result<String, ArchiveError> {
            unpack_chart(reader, &self.dest(), limits)
        }

        /// Every path below the parent directory, relative to it.
        fn listing(&self) -> BTreeSet<String> {
            fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
                for entry in fs::read_dir(dir).expect("read dir") {
                    let path = entry.expect("entry").path();
                    out.insert(path.strip_prefix(root).unwrap().display().to_string());
                    if fs::symlink_metadata(&path).unwrap().is_dir() {
                        walk(&path, root, out);
                    }
                }
            }
            let mut out = BTreeSet::new();
            walk(self.parent.path(), self.parent.path(), &mut out);
            out
        }

        /// Unpacks `bytes`, expecting failure, and checks nothing was left behind anywhere.
        fn refuse(&self, bytes: &[u8]) -> ArchiveError {
            self.refuse_with(bytes, &Limits::default())
        }

        fn refuse_with(&self, bytes: &[u8], limits: &Limits) -> ArchiveError {
            let err = self
                .unpack(bytes, limits)
                .expect_err("unpacking should fail");
            assert_eq!(
                self.listing(),
                BTreeSet::from(["dest".to_string()]),
                "after: {err}"
            );
            err
        }
    }

    #[test]
    fn unpacks_a_good_chart_without_keeping_archive_metadata() {
        let long_name = format!("mychart/templates/{}.yaml", "n".repeat(120));
        let pax_name = format!("mychart/files/{}.txt", "p".repeat(150));
        let mut tgz = chart()
            .file("mychart/values.yaml", b"replicas: 1\n")
            .file(
                "mychart/templates/deep/nested/cm.yaml",
                b"kind: ConfigMap\n",
            )
            .dir("mychart/charts")
            .pax_path(pax_name.as_bytes())
            .file("mychart/placeholder", b"from pax\n");
        // The builder's own long-name support (GNU long-name records).
        let mut header = Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o600);
        tgz.tar
            .append_data(&mut header, &long_name, &b"long\n"[..])
            .expect("append long name");
        let sandbox = Sandbox::new();
        let name = sandbox
            .unpack(&tgz.gz()[..], &Limits::default())
            .expect("unpack");
        assert_eq!(name, "mychart");

        let dest = sandbox.dest();
        let read = |rel: &str| fs::read_to_string(dest.join(rel)).expect(rel);
        assert!(read("Chart.yaml").contains("name: mychart"));
        assert_eq!(read("values.yaml"), "replicas: 1\n");
        assert_eq!(read("templates/deep/nested/cm.yaml"), "kind: ConfigMap\n");
        assert_eq!(read(long_name.strip_prefix("mychart/").unwrap()), "long\n");
        assert_eq!(
            read(pax_name.strip_prefix("mychart/").unwrap()),
            "from pax\n"
        );
        assert!(!dest.join("placeholder").exists());
        assert!(dest.join("charts").is_dir());

        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for rel in sandbox.listing() {
            let path = sandbox.parent.path().join(&rel);
            let meta = fs::symlink_metadata(&path).unwrap();
            if rel == "dest" {
                continue;
            }
            assert!(rel.starts_with("dest/"), "{rel} outside dest");
            let expected = if meta.is_dir() { 0o755 } else { 0o644 };
            assert!(
                meta.is_dir() || meta.is_file(),
                "{rel} is neither file nor dir"
            );
            assert_eq!(meta.mode() & 0o7777, expected, "mode of {rel}");
            assert!(
                meta.modified().unwrap() > an_hour_ago,
                "mtime of {rel} was kept"
            );
        }
    }

    #[test]
    fn skips_pax_global_headers() {
        let mut tgz = Tgz::new();
        let record = pax_record("comment", b"0123456789abcdef");
        tgz.raw(
            b"pax_global_header",
            EntryType::XGlobalHeader,
            &record,
            None,
        );
        let tgz = tgz.file("c/Chart.yaml", b"name: c\n");
        let sandbox = Sandbox::new();
        assert_eq!(
            sandbox.unpack(&tgz.gz()[..], &Limits::default()).unwrap(),
            "c"
        );
    }

    #[test]
    fn refuses_parent_directory_components() {
        for path in [
            "../evil",
            "mychart/../../evil",
            "mychart/templates/../../../evil",
        ] {
            let sandbox = Sandbox::new();
            let err = sandbox.refuse(&chart().file(path, b"owned\n").gz());
            assert!(
                matches!(&err, ArchiveError::UnsafePath { entry, .. } if entry == path),
                "{err}"
            );
            assert!(err.to_string().contains("`..`"), "{err}");
        }
    }

    #[test]
    fn refuses_absolute_paths() {
        let sandbox = Sandbox::new();
        let target = sandbox.parent.path().join("evil");
        let absolute = target.to_str().unwrap().to_string();
        let err = sandbox.refuse(&chart().file(&absolute, b"owned\n").gz());
        assert!(
            matches!(&err, ArchiveError::UnsafePath { entry, .. } if *entry == absolute),
            "{err}"
        );
        assert!(err.to_string().contains("absolute"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn refuses_odd_path_components() {
        let cases: &[(&[u8], &str)] = &[
            (b"./mychart/values.yaml", "`.`"),
            (b"mychart/./values.yaml", "`.`"),
            (b"mychart//values.yaml", "empty path component"),
            (b"mychart/values.yaml/", "empty path component"),
            (b"mychart\\values.yaml", "backslash"),
            (b"mychart/\xff.yaml", "UTF-8"),
        ];
        for &(path, needle) in cases {
            let mut tgz = chart();
            tgz.raw(path, EntryType::Regular, b"x", None);
            let err = Sandbox::new().refuse(&tgz.gz());
            assert!(
                matches!(err, ArchiveError::UnsafePath { .. }) && err.to_string().contains(needle),
                "{}: {err}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn refuses_nul_bytes_in_long_names() {
        let tgz = chart()
            .pax_path(b"mychart/a\0/../../evil")
            .file("mychart/placeholder", b"x");
        let err = Sandbox::new().refuse(&tgz.gz());
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn refuses_links_devices_and_fifos() {
        let cases: &[(EntryType, Option<&[u8]>, &str)] = &[
            (
                EntryType::Symlink,
                Some(b"../../etc/passwd"),
                "symbolic link",
            ),
            (EntryType::Symlink, Some(b"Chart.yaml"), "symbolic link"),
            (EntryType::Link, Some(b"mychart/Chart.yaml"), "hard link"),
            (EntryType::Char, None, "character device"),
            (EntryType::Block, None, "block device"),
            (EntryType::Fifo, None, "fifo"),
        ];
        for &(kind, link, what) in cases {
            let tgz = chart().entry(b"mychart/templates", kind, link);
            let err = Sandbox::new().refuse(&tgz.gz());
            match &err {
                ArchiveError::UnsupportedType { entry, kind } => {
                    assert_eq!(entry, "mychart/templates");
                    assert_eq!(*kind, what);
                }
                other => panic!("{what}: unexpected error {other}"),
            }
            assert!(err.to_string().contains("\"mychart/templates\""), "{err}");
        }
    }

    #[test]
    fn refuses_more_than_one_top_level_directory() {
        let tgz = chart().file("other/Chart.yaml", b"name: other\n");
        let err = Sandbox::new().refuse(&tgz.gz());
        assert!(
            matches!(&err, ArchiveError::OutsideChart { entry, top }
                if entry == "other/Chart.yaml" && top == "mychart"),
            "{err}"
        );
    }

    #[test]
    fn refuses_files_at_the_top_level() {
        let tgz = Tgz::new().file("Chart.yaml", b"name: flat\n");
        let err = Sandbox::new().refuse(&tgz.gz());
        assert!(matches!(err, ArchiveError::TopLevelFile { .. }), "{err}");
    }

    #[test]
    fn requires_chart_yaml_at_the_top() {
        let cases = [
            Tgz::new().file("mychart/values.yaml", b"a: 1\n"),
            Tgz::new().file("mychart/sub/Chart.yaml", b"name: sub\n"),
            Tgz::new().dir("mychart/Chart.yaml/"),
        ];
        for tgz in cases {
            let err = Sandbox::new().refuse(&tgz.gz());
            assert!(
                matches!(&err, ArchiveError::MissingChartYaml { top } if top == "mychart"),
                "{err}"
            );
        }
        let err = Sandbox::new().refuse(&Tgz::new().gz());
        assert!(matches!(err, ArchiveError::Empty), "{err}");
    }

    #[test]
    fn refuses_duplicate_and_conflicting_entries() {
        for tgz in [
            chart().file("mychart/Chart.yaml", b"name: again\n"),
            chart().file("mychart/a", b"x").dir("mychart/a/"),
            chart().file("mychart/a", b"x").file("mychart/a/b", b"y"),
        ] {
            let err = Sandbox::new().refuse(&tgz.gz());
            assert!(matches!(err, ArchiveError::Duplicate { .. }), "{err}");
        }
    }

    #[test]
    fn enforces_the_per_file_limit_at_the_boundary() {
        let limits = Limits {
            max_file_bytes: 1000,
            max_total_bytes: 10_000,
        };
        let ok = chart().file("mychart/exact.bin", &[7u8; 1000]).gz();
        Sandbox::new()
            .unpack(&ok[..], &limits)
            .expect("1000 bytes fit");
        let over = chart().file("mychart/over.bin", &[7u8; 1001]).gz();
        let err = Sandbox::new().refuse_with(&over, &limits);
        assert!(
            matches!(&err, ArchiveError::FileTooLarge { entry, limit: 1000 }
                if entry == "mychart/over.bin"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_file_over_helms_5_mib() {
        let big = vec![b'a'; 5 * 1024 * 1024 + 1];
        let err = Sandbox::new().refuse(&chart().file("mychart/big.txt", &big).gz());
        assert!(
            err.to_string()
                .contains("\"mychart/big.txt\" is larger than the limit of 5242880 bytes"),
            "{err}"
        );
    }

    #[test]
    fn enforces_the_total_limit() {
        let limits = Limits {
            max_file_bytes: 1024 * 1024,
            max_total_bytes: 3 * 1024 * 1024 + 512 * 1024,
        };
        let mut tgz = chart();
        for i in 0..4 {
            tgz = tgz.file(&format!("mychart/f{i}.bin"), &vec![0u8; 1024 * 1024]);
        }
        let err = Sandbox::new().refuse_with(&tgz.gz(), &limits);
        assert!(
            matches!(&err, ArchiveError::TooLarge { entry, .. } if entry == "mychart/f3.bin"),
            "{err}"
        );
    }

    /// The bytes of a tar stream with `prefix` followed by an endless supply of zeros (file
    /// data, padding, end-of-archive blocks), generated as they are read.
    struct ZeroTail {
        prefix: Vec<u8>,
        len: u64,
        produced: Rc<Cell<u64>>,
    }

    impl Read for ZeroTail {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let at = self.produced.get();
            let n = buf.len().min((self.len - at) as usize);
            for (i, byte) in buf[..n].iter_mut().enumerate() {
                *byte = self.prefix.get(at as usize + i).copied().unwrap_or(0);
            }
            self.produced.set(at + n as u64);
            Ok(n)
        }
    }

    /// A chart whose second entry is a `size`-byte file of zeros (or a PAX global header of
    /// that size), generated and gzipped on the fly so nothing of that size is ever held in
    /// memory. The gzip uses stored blocks, so the bytes generated (the counter returned) track
    /// the bytes the unpacker decompressed; a real bomb would compress about 1000:1.
    fn zero_bomb(kind: EntryType, size: u64) -> (impl Read, Rc<Cell<u64>>) {
        let mut tar = chart().tar;
        let header = raw_header(b"mychart/zeros.bin", kind, size, None);
        let mut prefix = tar.get_mut().clone();
        prefix.extend_from_slice(header.as_bytes());
        let len = prefix.len() as u64 + size.div_ceil(512) * 512 + 1024;
        let produced = Rc::new(Cell::new(0));
        let source = ZeroTail {
            prefix,
            len,
            produced: Rc::clone(&produced),
        };
        (
            flate2::read::GzEncoder::new(source, Compression::none()),
            produced,
        )
    }

    #[test]
    fn aborts_a_200_mib_file_without_reading_it() {
        let (reader, produced) = zero_bomb(EntryType::Regular, 200 * 1024 * 1024);
        let sandbox = Sandbox::new();
        let started = Instant::now();
        let err = sandbox
            .unpack(reader, &Limits::default())
            .expect_err("must refuse");
        assert!(
            matches!(&err, ArchiveError::FileTooLarge { entry, .. } if entry == "mychart/zeros.bin"),
            "{err}"
        );
        assert!(
            produced.get() < 1024 * 1024,
            "read {} bytes of the 200 MiB stream",
            produced.get()
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(sandbox.listing(), BTreeSet::from(["dest".to_string()]));
    }

    #[test]
    fn caps_bytes_that_are_never_written() {
        // A PAX global header is skipped, not written, yet its data is still decompressed.
        let (reader, produced) = zero_bomb(EntryType::XGlobalHeader, 64 * 1024 * 1024);
        let sandbox = Sandbox::new();
        let err = unpack_with_stream_limit(reader, &sandbox.dest(), &Limits::default(), 256 * 1024)
            .expect_err("must refuse");
        assert!(
            matches!(err, ArchiveError::StreamTooLarge { limit: 262_144 }),
            "{err}"
        );
        assert!(produced.get() < 2 * 1024 * 1024, "read {}", produced.get());
        assert_eq!(sandbox.listing(), BTreeSet::from(["dest".to_string()]));
    }

    #[test]
    fn caps_the_number_of_entries() {
        // Global headers count as entries but touch no disk, which keeps this test quick.
        let with_fillers = |n: usize| {
            let mut tgz = chart(); // two entries
            for _ in 0..n {
                tgz.raw(b"pax_global_header", EntryType::XGlobalHeader, b"", None);
            }
            gzip_with(&tgz.tar(), Compression::none())
        };
        let sandbox = Sandbox::new();
        sandbox
            .unpack(&with_fillers(MAX_ENTRIES - 2)[..], &Limits::default())
            .expect("exactly the maximum");
        let err = Sandbox::new().refuse(&with_fillers(MAX_ENTRIES - 1));
        assert!(
            matches!(err, ArchiveError::TooManyEntries { limit: MAX_ENTRIES }),
            "{err}"
        );
        assert!(err.to_string().contains("more than 10000 entries"), "{err}");
    }

    #[test]
    fn refuses_broken_archives() {
        let err = Sandbox::new().refuse(b"this is not gzip");
        assert!(matches!(err, ArchiveError::Read { .. }), "{err}");

        let tar = chart().file("mychart/values.yaml", &[b'v'; 4000]).tar();
        let cut = gzip(&tar[..512 * 4 + 1000]); // inside values.yaml's data
        let err = Sandbox::new().refuse(&cut);
        assert!(
            matches!(&err, ArchiveError::Truncated { entry } if entry == "mychart/values.yaml"),
            "{err}"
        );

        let gz = chart().gz();
        let err = Sandbox::new().refuse(&gz[..gz.len() / 2]);
        assert!(matches!(err, ArchiveError::Read { .. }), "{err}");
    }

    #[test]
    fn requires_an_empty_existing_destination() {
        let sandbox = Sandbox::new();
        fs::write(sandbox.dest().join("keep"), b"mine").unwrap();
        let err = sandbox
            .unpack(&chart().gz()[..], &Limits::default())
            .expect_err("not empty");
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(fs::read(sandbox.dest().join("keep")).unwrap(), b"mine");

        let link = sandbox.parent.path().join("link");
        std::os::unix::fs::symlink(sandbox.parent.path().join("empty"), &link).unwrap();
        fs::create_dir(sandbox.parent.path().join("empty")).unwrap();
        let err = unpack_chart(&chart().gz()[..], &link, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            fs::read_dir(sandbox.parent.path().join("empty"))
                .unwrap()
                .next()
                .is_none()
        );

        let missing = sandbox.parent.path().join("missing");
        let err = unpack_chart(&chart().gz()[..], &missing, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!missing.exists());
    }

    #[test]
    fn default_limits_are_helms() {
        let limits = Limits::default();
        assert_eq!(limits.max_file_bytes, 5 * 1024 * 1024);
        assert_eq!(limits.max_total_bytes, 100 * 1024 * 1024);
    }

    #[test]
    fn sha256_hex_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn reads_a_chart_into_memory_with_the_same_checks() {
        let good = chart().file("mychart/templates/a.yaml", b"a").gz();
        let (top, files) = read_chart_files(&good[..], &Limits::default()).unwrap();
        assert_eq!(top, "mychart");
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"Chart.yaml") && names.contains(&"templates/a.yaml"));

        let escaping = chart().file("mychart/../evil", b"x").gz();
        let err = read_chart_files(&escaping[..], &Limits::default()).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{err}");
        let linked = chart()
            .entry(b"mychart/l", EntryType::Symlink, Some(b"/etc/passwd"))
            .gz();
        let err = read_chart_files(&linked[..], &Limits::default()).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsupportedType { .. }), "{err}");
        let limits = Limits {
            max_file_bytes: 10,
            max_total_bytes: 100,
        };
        let big = chart().file("mychart/big", &[1u8; 11]).gz();
        let err = read_chart_files(&big[..], &limits).unwrap_err();
        assert!(matches!(err, ArchiveError::FileTooLarge { .. }), "{err}");
        let limits = Limits {
            max_file_bytes: 100,
            max_total_bytes: 150,
        };
        let total = chart()
            .file("mychart/a", &[1u8; 100])
            .file("mychart/b", &[1u8; 100])
            .gz();
        let err = read_chart_files(&total[..], &limits).unwrap_err();
        assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
        let twice = chart().file("mychart/a", b"1").file("mychart/a", b"2").gz();
        let err = read_chart_files(&twice[..], &Limits::default()).unwrap_err();
        assert!(matches!(err, ArchiveError::Duplicate { .. }), "{err}");
    }
}
