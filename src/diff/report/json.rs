//! The machine-readable format: the summary counts, the grouped value changes and every
//! differing tenant with its value changes and objects (each with its unified diff).

use super::super::values::ValueGroup;
use super::super::{Counts, DiffReport, Revision, TenantDiff};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    base: &'a Revision,
    head: &'a Revision,
    changed: bool,
    summary: Counts,
    value_changes: Vec<ValueGroup>,
    tenants: &'a [TenantDiff],
}

/// The report as pretty-printed JSON, with a final newline.
pub fn render(report: &DiffReport) -> String {
    let view = JsonReport {
        base: &report.base,
        head: &report.head,
        changed: report.has_changes(),
        summary: report.counts(),
        value_changes: report.value_groups(),
        tenants: &report.tenants,
    };
    serde_json::to_string_pretty(&view).expect("the report serializes") + "\n"
}
