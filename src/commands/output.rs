//! The one way the commands write stdout, and the file a command writes instead of stdout.

use anyhow::{Context as _, Result};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Writes to stdout. A reader that stopped reading (`strata render | head`) is not an error:
/// Rust ignores SIGPIPE, so the write fails with EPIPE, and the output simply ends there,
/// with the command's usual exit status and nothing on stderr, as with a program killed by
/// SIGPIPE minus the signal status that `set -o pipefail` would report.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    match write_all(bytes) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        result => result.context("cannot write to stdout"),
    }
}

/// Writes `generate`'s manifests. Argo CD reads stdout to its end and prunes what is missing,
/// so a reader that stops early means the manifests did not arrive whole: unlike a terminal
/// pipe, that is an error (exit 1), never a silent success.
pub fn write_manifests(bytes: &[u8]) -> Result<()> {
    write_all(bytes).context("cannot write the manifests to stdout: the reader closed it early")
}

fn write_all(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush())
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a reader sees
/// the old content or the new one, never a half-written file. An output file gets the
/// permissions the shell would give it (0666 less the umask), like `render --all`.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    strata::atomic_file::write(path, bytes, strata::atomic_file::Access::Ordinary)?;
    Ok(())
}
