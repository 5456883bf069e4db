//! The pull-request comment format, built for review at scale.
//!
//! The summary table comes first, then the value changes grouped across tenants, then object
//! changes that are identical in several tenants (shown once, with the tenants listed), then
//! one collapsed `<details>` per tenant. GitHub refuses a comment over 65,536 characters, so
//! the text is cut into parts at block boundaries; every part starts with a marker line
//! (`<!-- strata-diff part N/M -->`) that a workflow can split on and find its comments by.

use super::super::git::short;
use super::super::objects::{Change, ObjectChange};
use super::super::values::{ValueGroup, show};
use super::super::{DiffReport, Revision, TenantDiff, TenantStatus};
use super::shared::{Shared, kind_of};
use super::{plural, secret_keys};
use std::path::{Path, PathBuf};

/// GitHub's limit for one comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Room kept in every part for its marker line and the "continued" note.
const PART_OVERHEAD: usize = 200;

/// One object's diff is cut after this many characters; the rest is for `strata diff` locally.
const MAX_DIFF_CHARS: usize = 20_000;

/// Rows of the value table and tenants listed under a shared change, at most.
const MAX_ROWS: usize = 100;
const MAX_LISTED_TENANTS: usize = 50;

/// The marker line that starts part `n` of `m`.
pub fn part_marker(n: usize, m: usize) -> String {
    format!("<!-- strata-diff part {n}/{m} -->")
}

/// The report as comment-sized parts, each starting with its marker line.
pub fn render(report: &DiffReport) -> Vec<String> {
    render_with_limit(report, COMMENT_LIMIT)
}

/// The parts joined for stdout: the marker lines separate them.
pub fn join(parts: &[String]) -> String {
    parts.concat()
}

/// Writes `strata-diff-N.md` for every part into `dir` (created if missing), each atomically,
/// and removes part files of an earlier, longer run, so a workflow can post exactly the files
/// it finds.
pub fn write_parts(dir: &Path, parts: &[String]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name
            .strip_prefix("strata-diff-")
            .and_then(|n| n.strip_suffix(".md"))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n > parts.len());
        if stale {
            std::fs::remove_file(entry.path())?;
        }
    }
    let mut written = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let path = dir.join(format!("strata-diff-{}.md", i + 1));
        // Written beside and renamed over: a reader never sees half a part, and a link left
        // at the part's name is replaced, never followed to a file elsewhere.
        crate::atomic_file::write(&path, part.as_bytes(), crate::atomic_file::Access::Ordinary)
            .map_err(|e| std::io::Error::new(e.source.kind(), e))?;
        written.push(path);
    }
    Ok(written)
}

fn render_with_limit(report: &DiffReport, limit: usize) -> Vec<String> {
    let budget = limit.saturating_sub(PART_OVERHEAD).max(1000);
    let shared = Shared::of(report);
    let mut blocks = vec![header(report)];
    blocks.extend(shared_blocks(&shared, budget));
    for tenant in &report.tenants {
        blocks.extend(tenant_blocks(tenant, &shared, budget));
    }
    let bodies = pack(blocks, budget);
    let total = bodies.len();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let more = if i + 1 < total {
                "\n_Continued in the next comment._\n"
            } else {
                ""
            };
            format!("{}\n{body}{more}", part_marker(i + 1, total))
        })
        .collect()
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Packs blocks greedily into parts of at most `budget` characters.
fn pack(blocks: Vec<String>, budget: usize) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut size = 0;
    for block in blocks {
        let n = chars(&block);
        if size > 0 && size + n > budget {
            parts.push(std::mem::take(&mut current));
            size = 0;
        }
        current.push_str(&block);
        size += n;
    }
    parts.push(current);
    parts
}

fn header(report: &DiffReport) -> String {
    let c = report.counts();
    let side = |r: &Revision| match &r.commit {
        Some(commit) => format!("{} ({})", code(&r.name), code(short(commit))),
        None => r.name.clone(),
    };
    let mut out = format!(
        "### strata diff\n\nBase {} → head {}.\n\n",
        side(&report.base),
        side(&report.head)
    );
    if report.has_changes() {
        out.push_str(&format!(
            "**Rollout:** {}.\n\n",
            html(&report.impact_summary().headline)
        ));
    }
    out.push_str(
        "| Tenants changed | Tenants added | Tenants removed | Tenants unchanged | Objects added | Objects removed | Objects changed |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n\n",
        c.tenants_changed,
        c.tenants_added,
        c.tenants_removed,
        c.tenants_unchanged,
        c.objects_added,
        c.objects_removed,
        c.objects_changed
    ));
    if !report.has_changes() {
        out.push_str(&format!(
            "No changes: the manifests of all {} are the same.\n",
            plural(c.tenants_compared, "tenant")
        ));
        return out;
    }
    out.push_str(&format!(
        "{} compared; {} with changed inputs rendered.\n\n",
        plural(c.tenants_compared, "tenant"),
        plural(c.tenants_rendered, "tenant")
    ));
    out.push_str(&chart_list(report));
    out.push_str(&impact_table(report));
    let groups = report.value_groups();
    if !groups.is_empty() {
        out.push_str(&value_table(&groups));
    }
    out
}

fn chart_list(report: &DiffReport) -> String {
    if report.charts.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### Charts\n\n");
    for bump in &report.charts {
        out.push_str(&format!("- {}\n", html(&bump.line())));
        for line in bump.changes.iter().flat_map(|c| c.lines()) {
            if !line.trim().is_empty() {
                out.push_str(&format!("  {}\n", html(line.trim_end())));
            }
        }
    }
    out.push('\n');
    out
}

fn impact_table(report: &DiffReport) -> String {
    let groups = report.impact_groups();
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "#### Rollout impact\n\n| Impact | Kind | Why | Tenants | Pods | Examples |\n|---|---|---|---:|---:|---|\n",
    );
    for g in groups.iter().take(MAX_ROWS) {
        let examples: Vec<String> = g
            .objects
            .iter()
            .take(3)
            .map(|(t, o)| cell_code(&format!("{t}: {o}")))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            g.kind.label(),
            cell_code(&g.object_kind),
            html(&g.detail).replace('|', "\\|"),
            g.tenants(),
            g.pods.map(|p| p.to_string()).unwrap_or_default(),
            examples.join("<br>")
        ));
    }
    out.push('\n');
    out
}

fn value_table(groups: &[ValueGroup]) -> String {
    let mut out = String::from(
        "#### Value changes\n\n| Component | Key | Old | New | Set by | Tenants |\n|---|---|---|---|---|---:|\n",
    );
    for group in groups.iter().take(MAX_ROWS) {
        let c = &group.change;
        let via = if c.new.is_none() {
            format!("{} (removed)", cell_code(&c.via))
        } else {
            cell_code(&c.via)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {via} | {} |\n",
            cell_code(&c.component),
            cell_code(&c.key),
            cell_code(&show(c.old.as_ref())),
            cell_code(&show(c.new.as_ref())),
            group.tenants.len()
        ));
    }
    if groups.len() > MAX_ROWS {
        out.push_str(&format!(
            "\n…and {} more value changes; `strata diff --format json` lists them all.\n",
            groups.len() - MAX_ROWS
        ));
    }
    out.push('\n');
    out
}

fn shared_blocks(shared: &Shared, budget: usize) -> Vec<String> {
    let mut blocks = Vec::new();
    for (i, change) in shared.changes.iter().enumerate() {
        let (object, uses) = (change.object, &change.uses);
        let mut out = String::new();
        if i == 0 {
            out.push_str("#### Changes shared by several tenants\n\n");
        }
        let tenants = change.tenants();
        out.push_str(&format!(
            "<details><summary>Shared change {}: {} <code>{}</code> in {}</summary>\n\n",
            i + 1,
            object.change.verb(),
            html(&kind_of(object)),
            plural(tenants.len(), "tenant")
        ));
        for (tenant, o) in uses.iter().take(MAX_LISTED_TENANTS) {
            out.push_str(&format!(
                "- {}: {}\n",
                code(tenant),
                code(&o.id.to_string())
            ));
        }
        if uses.len() > MAX_LISTED_TENANTS {
            out.push_str(&format!(
                "- …and {} more\n",
                uses.len() - MAX_LISTED_TENANTS
            ));
        }
        out.push('\n');
        out.push_str(&object_body(object, budget / 2));
        out.push_str("</details>\n\n");
        blocks.push(out);
    }
    blocks
}

/// A tenant's `<details>`, cut into several (marked "continued") when it would not fit a part.
fn tenant_blocks(tenant: &TenantDiff, shared: &Shared, budget: usize) -> Vec<String> {
    let status = match tenant.status {
        TenantStatus::Changed => "changed",
        TenantStatus::Added => "added",
        TenantStatus::Removed => "removed",
    };
    let counts = [Change::Changed, Change::Added, Change::Removed]
        .iter()
        .map(|c| (tenant.count(*c), c.verb()))
        .filter(|(n, _)| *n > 0)
        .map(|(n, verb)| format!("{n} {verb}"))
        .collect::<Vec<_>>();
    let counts = if counts.is_empty() {
        "no object differs".to_owned()
    } else {
        format!("objects: {}", counts.join(", "))
    };
    let summary = format!("<b>{}</b>: tenant {status}, {counts}", html(&tenant.tenant));

    let mut sections = Vec::new();
    if !tenant.values.is_empty() {
        let mut values = String::from("Values:\n\n");
        for change in tenant.values.iter().take(MAX_ROWS) {
            let via = if change.new.is_none() {
                format!("was set by {}", code(&change.via))
            } else {
                format!("via {}", code(&change.via))
            };
            values.push_str(&format!(
                "- {} {} → {} {via}\n",
                code(&format!("{}: {}", change.component, change.key)),
                code(&show(change.old.as_ref())),
                code(&show(change.new.as_ref()))
            ));
        }
        if tenant.values.len() > MAX_ROWS {
            values.push_str(&format!("- …and {} more\n", tenant.values.len() - MAX_ROWS));
        }
        values.push('\n');
        sections.push(values);
    }
    for object in &tenant.objects {
        let title = format!(
            "**{}** {}",
            object.change.verb(),
            code(&object.id.to_string())
        );
        match shared.number(object) {
            Some(n) => sections.push(format!("{title}: shared change {n}\n\n")),
            None => sections.push(format!("{title}\n\n{}", object_body(object, budget / 2))),
        }
    }

    let open = |continued: bool| {
        let more = if continued { " (continued)" } else { "" };
        format!("<details><summary>{summary}{more}</summary>\n\n")
    };
    let close = "</details>\n\n";
    let room = budget.saturating_sub(chars(&open(true)) + chars(close));
    let mut blocks = Vec::new();
    for chunk in pack(sections, room) {
        blocks.push(format!("{}{chunk}{close}", open(!blocks.is_empty())));
    }
    blocks
}

/// The Secret key list and the fenced diff of one object, cut at `max` characters.
fn object_body(object: &ObjectChange, max: usize) -> String {
    let mut out = String::new();
    if !object.patched_by.is_empty() {
        out.push_str(&format!(
            "Patched by {}.\n\n",
            object
                .patched_by
                .iter()
                .map(|at| format!("`{at}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if object.hidden_only {
        out.push_str("Only Secret values held by this object differ (hidden).\n\n");
        return out;
    }
    if !object.secret_keys.is_empty() {
        out.push_str(&format!(
            "Secret keys: {} (values hidden)\n\n",
            secret_keys(&object.secret_keys)
        ));
    }
    let limit = max.min(MAX_DIFF_CHARS);
    let mut diff = String::new();
    let mut omitted = 0;
    for line in object.diff.lines() {
        if omitted > 0 || chars(&diff) + chars(line) + 1 > limit {
            omitted += 1;
            continue;
        }
        diff.push_str(line);
        diff.push('\n');
    }
    let fence = fence_for(&diff);
    out.push_str(&format!("{fence}diff\n{diff}{fence}\n"));
    if omitted > 0 {
        out.push_str(&format!(
            "\n…{} not shown; run `strata diff` locally for the whole diff.\n",
            plural(omitted, "more line")
        ));
    }
    out.push('\n');
    out
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A code fence longer than any run of backticks in `text`, so a diff cannot close it.
fn fence_for(text: &str) -> String {
    "`".repeat((longest_backtick_run(text) + 1).max(3))
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    if !text.contains('`') {
        return format!("`{text}`");
    }
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    format!("{ticks} {text} {ticks}")
}

/// Inline code in a table cell, where `|` would end the cell.
fn cell_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::shared::deployment_report;
    use super::*;

    fn report(tenants: usize, diff_lines: usize) -> DiffReport {
        let diff: String = (0..diff_lines)
            .map(|i| format!("+  line{i}: {}\n", "x".repeat(60)))
            .collect();
        let mut report = deployment_report(tenants, |i| format!("@@ -1 +1 @@\n+tenant{i}\n{diff}"));
        report.base.commit = Some("0123456789abcdef".into());
        report
    }

    #[test]
    fn a_link_at_a_part_name_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "keep me").unwrap();
        let parts = dir.path().join("parts");
        std::fs::create_dir(&parts).unwrap();
        let part = parts.join("strata-diff-1.md");
        std::os::unix::fs::symlink(&outside, &part).unwrap();
        let written = write_parts(&parts, &["part one".to_owned()]).unwrap();
        assert_eq!(written, std::slice::from_ref(&part));
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&part).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&part).unwrap(), "part one");
    }

    #[test]
    fn large_reports_split_into_marked_parts_under_the_limit() {
        let parts = render_with_limit(&report(40, 60), 20_000);
        assert!(parts.len() > 1, "{}", parts.len());
        for (i, part) in parts.iter().enumerate() {
            assert!(chars(part) <= 20_000, "part {i} has {}", chars(part));
            assert!(part.starts_with(&part_marker(i + 1, parts.len())));
            assert_eq!(
                part.matches("<details>").count(),
                part.matches("</details>").count()
            );
        }
        assert!(parts[0].contains("| Tenants changed |"));
        let all = join(&parts);
        for i in 0..40 {
            assert!(
                all.contains(&format!("customers/prod/t{i}")),
                "t{i} missing"
            );
        }
    }

    #[test]
    fn one_huge_object_is_cut_not_split() {
        let parts = render_with_limit(&report(1, 5000), COMMENT_LIMIT);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].contains("run `strata diff` locally"));
    }

    #[test]
    fn the_same_change_in_several_tenants_is_shown_once() {
        let mut r = report(3, 0);
        for t in &mut r.tenants {
            t.objects[0].diff = format!("@@ -1,3 +1,3 @@\n name: {}\n-cpu: 1\n+cpu: 2\n", t.tenant);
        }
        let all = join(&render(&r));
        assert!(all.contains("Shared change 1: changed <code>apps/Deployment</code> in 3 tenants"));
        assert_eq!(all.matches("+cpu: 2").count(), 1, "{all}");
        assert_eq!(all.matches(": shared change 1").count(), 3, "{all}");
    }

    #[test]
    fn inline_code_survives_backticks_and_pipes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(fence_for("```x"), "````");
    }
}
