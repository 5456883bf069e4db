//! The terminal format: a summary, the grouped value changes, then per tenant its value
//! changes and a unified diff of every object that differs.
//!
//! Colour is plain ANSI escapes, only when the caller says the output is a terminal, so
//! redirected output and CI logs stay clean.

use super::super::impact::ImpactKind;
use super::super::objects::{Change, ObjectChange};
use super::super::values::summary_line;
use super::super::{DiffReport, TenantStatus};
use super::{plural, secret_keys};

/// Objects listed under an impact that is not a plain restart, at most.
const MAX_LISTED: usize = 10;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// One line of a unified diff, coloured by its first character.
    fn diff_line(self, line: &str) -> String {
        match line.as_bytes().first() {
            Some(b'+') => self.paint("32", line),
            Some(b'-') => self.paint("31", line),
            Some(b'@') => self.paint("36", line),
            _ => line.to_owned(),
        }
    }
}

/// The whole report as terminal text.
pub fn render(report: &DiffReport, color: bool) -> String {
    let style = Style { color };
    let counts = report.counts();
    let mut out = style.bold(&format!(
        "strata diff: base {} → head {}\n",
        report.base, report.head
    ));
    if !report.has_changes() {
        let rendered = match counts.tenants_rendered {
            0 => "none has changed inputs".to_owned(),
            n => format!("{n} with changed inputs rendered the same manifests"),
        };
        out.push_str(&format!(
            "no changes: {} compared, {rendered}\n",
            plural(counts.tenants_compared, "tenant"),
        ));
        return out;
    }
    out.push_str(&format!(
        "{}\n",
        style.bold(&format!("rollout: {}", report.impact_summary().headline))
    ));
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
    if !report.charts.is_empty() {
        out.push_str(&format!("\n{}\n", style.bold("charts:")));
        for bump in &report.charts {
            out.push_str(&format!("  {}\n", bump.line()));
            for line in bump.changes.iter().flat_map(|c| c.lines()) {
                if !line.trim().is_empty() {
                    out.push_str(&format!("    {}\n", line.trim_end()));
                }
            }
        }
    }
    let impacts = report.impact_groups();
    if !impacts.is_empty() {
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
    }
    let groups = report.value_groups();
    if !groups.is_empty() {
        out.push_str(&format!("\n{}\n", style.bold("value changes:")));
        for group in &groups {
            out.push_str(&format!(
                "  {} ({})\n",
                summary_line(&group.change),
                plural(group.tenants.len(), "tenant")
            ));
        }
    }
    for tenant in &report.tenants {
        let status = match tenant.status {
            TenantStatus::Changed => "changed",
            TenantStatus::Added => "added",
            TenantStatus::Removed => "removed",
        };
        out.push_str(&format!(
            "\n{}\n",
            style.bold(&format!("# {} ({status})", tenant.tenant))
        ));
        for change in &tenant.values {
            out.push_str(&format!("  {}\n", summary_line(change)));
        }
        if tenant.objects.is_empty() {
            out.push_str("  no rendered object differs\n");
        }
        for object in &tenant.objects {
            out.push_str(&object_text(object, style));
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
