//! `strata snapshot`: every tenant's rendered manifests, kept in the repository.
//!
//! `update` writes what each tenant renders to now; `verify` renders again and compares. A
//! change to a shared layer, a chart or strata itself that alters any tenant's output then
//! fails `verify` in CI until the snapshots are updated in the same commit, so a reviewer sees
//! the effect on every tenant in the diff of the snapshot files.
//!
//! Files are named and written exactly as `strata render --all` writes them (one file per
//! tenant, its directory below the stack with `/` as `__`), through [`fleet::render_all`].

use crate::context::Context;
use crate::fleet::one_line;
use crate::fleet::{self, FailedTenant};
use crate::selector::Selection;
use crate::tenant::list_tenant_dirs;
use crate::terminal::{Progress, Style};
use crate::{Error, pipeline};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The snapshot directory under the stack when `--dir` is not given.
pub const DEFAULT_DIR: &str = "snapshots";

/// At most this many lines of diff per tenant: enough to see what changed, short enough that
/// a change to a shared layer does not bury the list of tenants.
const MAX_DIFF_LINES: usize = 40;

/// What `update` and `verify` work on.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    pub selection: Selection,
    /// The snapshot directory (default: `<stack>/snapshots`).
    pub dir: Option<PathBuf>,
    /// How many tenants render at once.
    pub jobs: usize,
    /// Counts the rendered tenants (on a terminal).
    pub progress: Progress,
}

/// What `update` did.
#[derive(Debug, Clone, Default)]
pub struct UpdateReport {
    /// The snapshot directory, as shown in messages.
    pub dir: String,
    /// Tenants whose snapshot was written.
    pub written: Vec<String>,
    /// Tenants that did not render; their snapshot was left as it was.
    pub failed: Vec<FailedTenant>,
    /// Snapshot files removed because their tenant no longer exists.
    pub removed: Vec<String>,
}

impl UpdateReport {
    pub fn summary(&self) -> String {
        let mut out = format!(
            "wrote {} snapshot(s) to {}, removed {}, {} failed\n",
            self.written.len(),
            self.dir,
            self.removed.len(),
            self.failed.len()
        );
        for file in &self.removed {
            out.push_str(&format!("  removed {file}: no such tenant\n"));
        }
        for f in &self.failed {
            out.push_str(&format!("  {}: {}\n", f.dir, one_line(&f.error)));
        }
        out
    }
}

/// One way the rendered fleet and the snapshots disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The tenant renders differently; a unified diff from the snapshot to the render.
    Changed { tenant: String, diff: String },
    /// The tenant has no snapshot.
    Missing { tenant: String, file: String },
    /// A snapshot whose tenant no longer exists.
    Extra { file: String },
    /// The tenant did not render.
    Failed { tenant: String, error: String },
}

/// What `verify` found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub dir: String,
    pub tenants: usize,
    pub matching: usize,
    pub differences: Vec<Difference>,
}

impl VerifyReport {
    /// The report for stdout; `style` colours the diffs as `strata diff` does.
    pub fn text(&self, style: Style) -> String {
        let mut out = String::new();
        for d in &self.differences {
            match d {
                Difference::Changed { tenant, diff } => {
                    out.push_str(&format!("changed  {tenant}\n"));
                    for line in diff.lines() {
                        out.push_str(&format!("    {}\n", style.diff_line(line)));
                    }
                }
                Difference::Missing { tenant, file } => {
                    out.push_str(&format!("missing  {tenant}: no snapshot {file}\n"));
                }
                Difference::Extra { file } => {
                    out.push_str(&format!("extra    {file}: no such tenant\n"));
                }
                Difference::Failed { tenant, error } => {
                    out.push_str(&format!("failed   {tenant}: {}\n", one_line(error)));
                }
            }
        }
        let count = |f: fn(&Difference) -> bool| self.differences.iter().filter(|d| f(d)).count();
        out.push_str(&format!(
            "{} tenant(s) against {}: {} match, {} changed, {} missing, {} extra, {} failed\n",
            self.tenants,
            self.dir,
            self.matching,
            count(|d| matches!(d, Difference::Changed { .. })),
            count(|d| matches!(d, Difference::Missing { .. })),
            count(|d| matches!(d, Difference::Extra { .. })),
            count(|d| matches!(d, Difference::Failed { .. })),
        ));
        out
    }
}

/// The stack's snapshot directory and how to show it, plus the file names of every tenant
/// that exists (selected or not): only a snapshot outside that set is stale.
struct Target {
    dir: PathBuf,
    shown: String,
    existing: BTreeSet<String>,
}

fn target(ctx: &Context, dir: Option<&Path>) -> Result<Target, Error> {
    let (root, stack) = pipeline::load_stack(ctx)?;
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => stack.dir.join(DEFAULT_DIR),
    };
    let existing = list_tenant_dirs(&stack)?
        .iter()
        .map(|d| fleet::file_name(&stack, d))
        .collect();
    Ok(Target {
        shown: root.display(&dir),
        dir,
        existing,
    })
}

/// Snapshot files in `dir`: every `*.yaml` that is not a hidden (temporary) file.
fn snapshot_files(dir: &Path) -> Result<BTreeSet<String>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => {
            return Err(Error::Input(format!(
                "cannot read snapshot directory {}: {e}",
                dir.display()
            )));
        }
    };
    Ok(entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml") && !name.starts_with('.'))
        .collect())
}

/// Renders the selected tenants into the snapshot directory and removes the snapshots of
/// tenants that no longer exist. A tenant that fails keeps its old snapshot.
pub fn update(ctx: &Context, options: &SnapshotOptions) -> Result<UpdateReport, Error> {
    let target = target(ctx, options.dir.as_deref())?;
    let rendered = fleet::render_all(
        ctx,
        &options.selection,
        &target.dir,
        options.jobs,
        &options.progress,
    )?;
    let mut removed = Vec::new();
    for name in snapshot_files(&target.dir)? {
        if !target.existing.contains(&name) {
            let path = target.dir.join(&name);
            std::fs::remove_file(&path).map_err(|e| {
                Error::Input(format!(
                    "cannot remove stale snapshot {}: {e}",
                    path.display()
                ))
            })?;
            removed.push(format!("{}/{name}", target.shown));
        }
    }
    Ok(UpdateReport {
        dir: target.shown,
        written: rendered.rendered.into_iter().map(|t| t.dir).collect(),
        failed: rendered.failed,
        removed,
    })
}

/// Renders the selected tenants into a temporary directory and compares each with its
/// snapshot; also lists snapshots of tenants that no longer exist.
pub fn verify(ctx: &Context, options: &SnapshotOptions) -> Result<VerifyReport, Error> {
    let target = target(ctx, options.dir.as_deref())?;
    if !target.dir.is_dir() {
        return Err(Error::Input(format!(
            "snapshot directory {} does not exist; run `strata snapshot update` and commit it",
            target.shown
        )));
    }
    // Private, removed on SIGTERM/SIGINT and, after a SIGKILL, by a later run.
    let (scratch, _registered) = crate::scratch::private_dir(&std::env::temp_dir(), "strata")
        .map_err(|e| Error::Input(format!("cannot create a temporary directory: {e}")))?;
    let rendered = fleet::render_all(
        ctx,
        &options.selection,
        scratch.path(),
        options.jobs,
        &options.progress,
    )?;
    let mut report = VerifyReport {
        dir: target.shown.clone(),
        tenants: rendered.rendered.len() + rendered.failed.len(),
        ..VerifyReport::default()
    };
    for tenant in rendered.rendered {
        let name = tenant
            .file
            .file_name()
            .expect("render_all names a file")
            .to_string_lossy()
            .into_owned();
        let now = read(&tenant.file)?;
        let shown = format!("{}/{name}", target.shown);
        match std::fs::read(target.dir.join(&name)) {
            Ok(before) if before == now => report.matching += 1,
            Ok(before) => report.differences.push(Difference::Changed {
                diff: short_diff(&before, &now, &shown, &tenant.dir),
                tenant: tenant.dir,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.differences.push(Difference::Missing {
                    tenant: tenant.dir,
                    file: shown,
                })
            }
            Err(e) => {
                return Err(Error::Input(format!("cannot read snapshot {shown}: {e}")));
            }
        }
    }
    for failed in rendered.failed {
        report.differences.push(Difference::Failed {
            tenant: failed.dir,
            error: failed.error,
        });
    }
    for name in snapshot_files(&target.dir)? {
        if !target.existing.contains(&name) {
            report.differences.push(Difference::Extra {
                file: format!("{}/{name}", target.shown),
            });
        }
    }
    Ok(report)
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))
}

/// A unified diff from the snapshot to the new render, cut at [`MAX_DIFF_LINES`].
fn short_diff(before: &[u8], now: &[u8], snapshot: &str, tenant: &str) -> String {
    let (before, now) = (
        String::from_utf8_lossy(before),
        String::from_utf8_lossy(now),
    );
    let full = similar::TextDiff::from_lines(before.as_ref(), now.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(snapshot, &format!("{tenant} (rendered now)"))
        .to_string();
    let lines: Vec<&str> = full.lines().collect();
    if lines.len() <= MAX_DIFF_LINES {
        return full;
    }
    let mut out = lines[..MAX_DIFF_LINES].join("\n");
    out.push_str(&format!(
        "\n… {} more diff line(s); `strata render {tenant}` shows the whole output\n",
        lines.len() - MAX_DIFF_LINES
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_diffs_are_cut_with_a_pointer_to_the_whole_output() {
        let before: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let now = before.replace("line 5\n", "changed\n");
        let diff = short_diff(before.as_bytes(), now.as_bytes(), "snaps/t.yaml", "t");
        assert!(
            diff.starts_with("--- snaps/t.yaml\n+++ t (rendered now)\n"),
            "{diff}"
        );
        assert!(diff.contains("-line 5\n+changed\n"), "{diff}");
        let all_new: String = (0..100).map(|i| format!("new {i}\n")).collect();
        let cut = short_diff(before.as_bytes(), all_new.as_bytes(), "s", "t");
        assert_eq!(cut.lines().count(), MAX_DIFF_LINES + 1, "{cut}");
        assert!(cut.contains("more diff line(s)"), "{cut}");
    }

    #[test]
    fn the_text_report_counts_each_kind_of_difference() {
        let report = VerifyReport {
            dir: "fleet/snapshots".into(),
            tenants: 3,
            matching: 1,
            differences: vec![
                Difference::Changed {
                    tenant: "a".into(),
                    diff: "--- x\n+++ y\n".into(),
                },
                Difference::Extra {
                    file: "fleet/snapshots/gone.yaml".into(),
                },
                Difference::Failed {
                    tenant: "b".into(),
                    error: "helm:\n boom".into(),
                },
            ],
        };
        assert_eq!(
            report.text(Style::new(false)),
            "changed  a\n    --- x\n    +++ y\n\
             extra    fleet/snapshots/gone.yaml: no such tenant\n\
             failed   b: helm: boom\n\
             3 tenant(s) against fleet/snapshots: 1 match, 1 changed, 0 missing, 1 extra, 1 failed\n"
        );
    }

    #[test]
    fn verify_diffs_are_coloured_when_the_style_says_so() {
        let report = VerifyReport {
            dir: "snaps".into(),
            tenants: 1,
            matching: 0,
            differences: vec![Difference::Changed {
                tenant: "a".into(),
                diff: "@@ -1 +1 @@\n-old\n+new\n".into(),
            }],
        };
        let coloured = report.text(Style::new(true));
        assert!(
            coloured.contains(
                "    \x1b[36m@@ -1 +1 @@\x1b[0m\n    \x1b[31m-old\x1b[0m\n    \x1b[32m+new\x1b[0m\n"
            ),
            "{coloured:?}"
        );
        assert!(!report.text(Style::new(false)).contains('\x1b'));
    }
}
