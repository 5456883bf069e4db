//! SIGTERM and SIGINT: stop helm, remove temporary files, exit with 128 + the signal number.
//!
//! Argo CD cancels a request by terminating the plugin command, and a terminal user presses
//! Ctrl-C. helm runs in a process group of its own (so a timeout can kill what it started),
//! which also means a signal to strata does not reach it: strata forwards the signal to every
//! helm group, gives them a moment, kills what is left, removes the temporary directories it
//! registered and exits. Whatever a SIGKILL leaves behind is removed by a later run
//! ([`crate::scratch`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long helm gets to exit after the forwarded signal before its group is killed.
const GRACE: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Live {
    /// Process groups of running helm commands (each group's id is its leader's pid).
    groups: Vec<i32>,
    /// Temporary directories to remove.
    dirs: Vec<PathBuf>,
    /// Set once a signal is being handled: nothing new may start.
    stopping: bool,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    groups: Vec::new(),
    dirs: Vec::new(),
    stopping: false,
});

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the thread that handles SIGTERM and SIGINT. Call once, early in `main`.
pub fn install() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ]) else {
        tracing::warn!("cannot handle SIGTERM and SIGINT; helm may outlive an interrupted strata");
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            stop(signal);
        }
    });
}

/// Forwards `signal` to every helm group, removes the registered directories and exits.
fn stop(signal: i32) -> ! {
    let mut live = live();
    live.stopping = true;
    for &group in &live.groups {
        // SAFETY: killpg only sends a signal to a process group strata started.
        unsafe {
            libc::killpg(group, signal);
        }
    }
    let deadline = Instant::now() + GRACE;
    for &group in &live.groups {
        while group_alive(group) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if group_alive(group) {
            // SAFETY: as above.
            unsafe {
                libc::killpg(group, libc::SIGKILL);
            }
        }
    }
    for dir in &live.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let name = match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "a signal",
    };
    eprintln!("strata: stopped by {name}: helm stopped, temporary files removed");
    std::process::exit(128 + signal)
}

/// Whether any process of the group still exists (a reaped leader with no children left
/// means the group is gone).
fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    unsafe { libc::killpg(group, 0) == 0 }
}

/// A helm process group registered for forwarding; unregistered when dropped.
pub struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        live().groups.retain(|g| *g != self.0);
    }
}

/// Spawns `cmd` (which must start its own process group) and registers the group, both under
/// the lock the signal handler takes, so a signal never misses a helm that is starting.
pub fn spawn_group(cmd: &mut Command) -> std::io::Result<(Child, GroupGuard)> {
    let mut live = live();
    if live.stopping {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "strata is stopping",
        ));
    }
    let child = cmd.spawn()?;
    let group = child.id() as i32;
    live.groups.push(group);
    Ok((child, GroupGuard(group)))
}

/// A temporary directory removed on a signal; unregistered when dropped.
#[derive(Debug)]
pub struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        live().dirs.retain(|d| *d != self.0);
    }
}

/// Creates a directory through `create` and registers the path it returns, under the
/// handler's lock.
pub fn create_dir<T>(
    create: impl FnOnce() -> std::io::Result<T>,
    path_of: impl Fn(&T) -> &Path,
) -> std::io::Result<(T, DirGuard)> {
    let mut live = live();
    let made = create()?;
    let path = path_of(&made).to_path_buf();
    live.dirs.push(path.clone());
    Ok((made, DirGuard(path)))
}
