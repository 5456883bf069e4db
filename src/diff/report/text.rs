//! The terminal format: a summary, the grouped value changes, the object changes shared by
//! several tenants (each shown once), then per tenant its value changes and a unified diff of
//! every object that differs, or the number of the shared change it is.
//!
//! Colour comes from the caller's [`Style`], decided once in [`crate::terminal`], so
//! redirected output and CI logs stay clean.

use super::super::impact::ImpactKind;
use super::super::objects::{Change, ObjectChange};
use super::super::values::summary_line;
use super::super::{DiffReport, TenantDiff, TenantStatus};
use super::shared::{Shared, kind_of};
use super::{plural, secret_keys};
use crate::terminal::Style;

/// Objects listed under an impact that is not a plain restart, at most.
const MAX_LISTED: usize = 10;

/// The whole report as terminal text.
pub fn render(report: &DiffReport, style: Style) -> String {
    let mut out = style.bold(&format!(
        "strata diff: base {} → head {}\n",
        report.base, report.head
    ));
    if !report.has_changes() {
        out.push_str(&no_changes(report));
        return out;
    }
    out.push_str(&summary(report, style));
    out.push_str(&charts(report, style));
    out.push_str(&impacts(report, style));
    out.push_str(&value_changes(report, style));
    let shared = Shared::of(report);
    out.push_str(&shared_changes(&shared, style));
    for tenant in &report.tenants {
        out.push_str(&tenant_section(tenant, &shared, style));
    }
    out
}

/// The one line of a report without changes: how many tenants were compared and rendered.
fn no_changes(report: &DiffReport) -> String {
    let counts = report.counts();
    let rendered = match counts.tenants_rendered {
        0 => "none has changed inputs".to_owned(),
        n => format!("{n} with changed inputs rendered the same manifests"),
    };
    format!(
        "no changes: {} compared, {rendered}\n",
        plural(counts.tenants_compared, "tenant"),
    )
}

/// The rollout headline and the counts of tenants and objects.
fn summary(report: &DiffReport, style: Style) -> String {
    let counts = report.counts();
    let mut out = format!(
        "{}\n",
        style.bold(&format!("rollout: {}", report.impact_summary().headline))
    );
    out.push_str(&format!(
        "{} compared: {} changed, {} added, {} removed, {} unchanged\n",
        plural(counts.tenants_compared, "tenant"),
        counts.tenants_changed,
        counts.tenants_added,
        counts.tenants_removed,
        counts.tenants_unchanged
    ));
    out.push_str(&format!(
        "objects: {} added, {} removed, {} changed\n",
        counts.objects_added, counts.objects_removed, counts.objects_changed
    ));
    out
}

/// The chart version bumps, each with its changelog lines.
fn charts(report: &DiffReport, style: Style) -> String {
    let mut out = String::new();
    if report.charts.is_empty() {
        return out;
    }
    out.push_str(&format!("\n{}\n", style.bold("charts:")));
    for bump in &report.charts {
        out.push_str(&format!("  {}\n", bump.line()));
        for line in bump.changes.iter().flat_map(|c| c.lines()) {
            if !line.trim().is_empty() {
                out.push_str(&format!("    {}\n", line.trim_end()));
            }
        }
    }
    out
}

/// What the change does to running workloads, grouped; the objects listed unless the
/// impact is a plain restart or waits for the next run.
fn impacts(report: &DiffReport, style: Style) -> String {
    let mut out = String::new();
    let impacts = report.impact_groups();
    if impacts.is_empty() {
        return out;
    }
    out.push_str(&format!("\n{}\n", style.bold("rollout impact:")));
    for g in &impacts {
        let pods = g
            .pods
            .map(|p| format!(", {}", plural(p as usize, "pod")))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}: {} ({}) in {}{pods}\n",
            g.kind.label(),
            g.object_kind,
            g.detail,
            plural(g.tenants(), "tenant")
        ));
        if !matches!(g.kind, ImpactKind::Restart | ImpactKind::NextRun) {
            for (tenant, object) in g.objects.iter().take(MAX_LISTED) {
                out.push_str(&format!("    {tenant}: {object}\n"));
            }
            if g.objects.len() > MAX_LISTED {
                out.push_str(&format!("    …and {} more\n", g.objects.len() - MAX_LISTED));
            }
        }
    }
    out
}

/// The value changes grouped across tenants.
fn value_changes(report: &DiffReport, style: Style) -> String {
    let mut out = String::new();
    let groups = report.value_groups();
    if groups.is_empty() {
        return out;
    }
    out.push_str(&format!("\n{}\n", style.bold("value changes:")));
    for group in &groups {
        out.push_str(&format!(
            "  {} ({})\n",
            summary_line(&group.change),
            plural(group.tenants.len(), "tenant")
        ));
    }
    out
}

/// Each object change found in several tenants, once, with the tenants that have it.
fn shared_changes(shared: &Shared, style: Style) -> String {
    let mut out = String::new();
    for (i, change) in shared.changes.iter().enumerate() {
        let tenants = change.tenants();
        out.push_str(&format!(
            "\n{}\n",
            style.bold(&format!(
                "# shared change {}: {} {} in {}",
                i + 1,
                change.object.change.verb(),
                kind_of(change.object),
                plural(tenants.len(), "tenant")
            ))
        ));
        for (tenant, object) in change.uses.iter().take(MAX_LISTED) {
            out.push_str(&format!("  {tenant}: {}\n", object.id));
        }
        if change.uses.len() > MAX_LISTED {
            out.push_str(&format!("  …and {} more\n", change.uses.len() - MAX_LISTED));
        }
        out.push_str(&object_text(change.object, style));
    }
    out
}

/// One tenant: its value changes, then each object's diff or the shared change it is.
fn tenant_section(tenant: &TenantDiff, shared: &Shared, style: Style) -> String {
    let status = match tenant.status {
        TenantStatus::Changed => "changed",
        TenantStatus::Added => "added",
        TenantStatus::Removed => "removed",
    };
    let mut out = format!(
        "\n{}\n",
        style.bold(&format!("# {} ({status})", tenant.tenant))
    );
    for change in &tenant.values {
        out.push_str(&format!("  {}\n", summary_line(change)));
    }
    if tenant.objects.is_empty() {
        out.push_str("  no rendered object differs\n");
    }
    for object in &tenant.objects {
        match shared.number(object) {
            Some(n) => out.push_str(&format!(
                "  {} {}: shared change {n}\n",
                object.change.verb(),
                object.id
            )),
            None => out.push_str(&object_text(object, style)),
        }
    }
    out
}

fn object_text(object: &ObjectChange, style: Style) -> String {
    let absent = |missing: bool| if missing { " (absent)" } else { "" };
    let mut out = format!(
        "{}\n{}\n",
        style.bold(&format!(
            "--- base {}{}",
            object.id,
            absent(object.change == Change::Added)
        )),
        style.bold(&format!(
            "+++ head {}{}",
            object.id,
            absent(object.change == Change::Removed)
        )),
    );
    for at in &object.patched_by {
        out.push_str(&format!("# patched by {at}\n"));
    }
    if !object.secret_keys.is_empty() {
        out.push_str(&format!(
            "# Secret keys: {} (values hidden)\n",
            secret_keys(&object.secret_keys)
        ));
    }
    if object.hidden_only {
        out.push_str("# only Secret values held by this object differ (hidden)\n");
    }
    for line in object.diff.lines() {
        out.push_str(&style.diff_line(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::shared::deployment_report as report;
    use super::*;

    /// A ten-line hunk whose context names the tenant and whose change is `cpu: 1 → 2`.
    fn hunk(i: usize) -> String {
        let mut diff = format!("@@ -1,10 +1,10 @@\n metadata:\n   name: t{i}\n");
        for n in 0..6 {
            diff.push_str(&format!("   label{n}: t{i}\n"));
        }
        diff.push_str("-  cpu: 1\n+  cpu: 2\n");
        diff
    }

    #[test]
    fn one_change_in_many_tenants_is_printed_once() {
        let text = render(&report(180, hunk), Style::new(false));
        assert_eq!(text.matches("+  cpu: 2").count(), 1, "{text}");
        assert!(
            text.contains("\n# shared change 1: changed apps/Deployment in 180 tenants\n  customers/prod/t0: apps/Deployment ns0/t0\n"),
            "{text}"
        );
        assert!(text.contains("  …and 170 more\n"), "{text}");
        assert_eq!(
            text.matches(": shared change 1\n").count(),
            180,
            "every tenant points at the shared change"
        );
        assert!(
            text.contains(
                "# customers/prod/t7 (changed)\n  changed apps/Deployment ns7/t7: shared change 1\n"
            ),
            "{text}"
        );
        // Each tenant takes three lines (blank, title, pointer), the shared change one diff.
        let lines = text.lines().count();
        assert!(lines < 180 * 3 + 40, "{lines} lines");
    }

    #[test]
    fn a_change_in_one_tenant_only_is_printed_under_that_tenant() {
        let text = render(
            &report(2, |i| format!("@@ -1 +1 @@\n-cpu: {i}\n+cpu: {}\n", i + 10)),
            Style::new(false),
        );
        assert!(!text.contains("shared change"), "{text}");
        assert!(
            text.contains("# customers/prod/t1 (changed)\n--- base apps/Deployment ns1/t1\n"),
            "{text}"
        );
        assert!(text.contains("-cpu: 1\n+cpu: 11\n"), "{text}");
    }

    #[test]
    fn colour_only_when_the_style_says_so() {
        let r = report(1, |_| "@@ -1 +1 @@\n-cpu: 1\n+cpu: 2\n".into());
        let plain = render(&r, Style::new(false));
        assert!(!plain.contains('\x1b'), "{plain}");
        let coloured = render(&r, Style::new(true));
        assert!(coloured.contains("\x1b[32m+cpu: 2\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[31m-cpu: 1\x1b[0m"), "{coloured}");
    }
}
