//! The machine-readable format: the summary counts, the grouped value changes and every
//! differing tenant with its value changes and objects (each with its unified diff).

use super::super::charts::ChartBump;
use super::super::impact::{ImpactGroup, ImpactSummary};
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
    /// The headline and the counts behind it.
    impact: ImpactSummary,
    charts: &'a [ChartBump],
    impact_groups: Vec<ImpactGroup>,
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
        impact: report.impact_summary(),
        charts: &report.charts,
        impact_groups: report.impact_groups(),
        value_changes: report.value_groups(),
        tenants: &report.tenants,
    };
    serde_json::to_string_pretty(&view).expect("the report serializes") + "\n"
}
