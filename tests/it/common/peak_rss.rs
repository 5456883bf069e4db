//! Peak resident memory of one command, as the kernel accounts it.
//!
//! The command is not started by the test process itself: Linux carries the memory high-water
//! mark of the process that forks (and execs) into the child's `ru_maxrss`, and the one test
//! binary, running many tests on many threads, is far larger than any command it measures. A
//! small python3 parent forks the command and reports what `wait4` says of that child alone.

use std::path::Path;
use std::process::{Command, ExitStatus};

const PARENT: &str = r#"
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"#;

/// Runs `program` with what `configure` adds (arguments, environment, stdio) and returns its
/// exit status and peak resident set size in bytes (its own, and its waited-for children's).
pub fn peak_rss(program: &Path, configure: impl FnOnce(&mut Command)) -> (ExitStatus, u64) {
    let python = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("python3"))
        .find(|p| p.is_file())
        .expect("python3 must be on PATH (.ci/run needs it)");
    let report = tempfile::NamedTempFile::new().expect("report file");
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(PARENT).arg(report.path()).arg(program);
    configure(&mut cmd);
    let status = cmd.status().expect("start python3");
    let kib: u64 = std::fs::read_to_string(report.path())
        .expect("python3 wrote no report")
        .trim()
        .parse()
        .expect("a number of KiB");
    (status, kib * 1024)
}
