//! Chart version changes across tenants: "worker 1.2.1 → 1.3.0 in 37 tenants: prod 30,
//! preprod 7", with the chart's own change notes, so a chart bump reads as one line instead
//! of a `helm.sh/chart` label hunk in every tenant.

use super::inputs::SideTenant;
use serde::Serialize;
use std::collections::BTreeMap;

/// One version change of one component's chart, in every tenant where it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartBump {
    pub component: String,
    pub chart: String,
    /// `None` when the chart changed name or the component is new on that side.
    pub from: Option<String>,
    pub to: Option<String>,
    pub tenants: Vec<String>,
    /// Tenants per value of the first grouping variable (`env`): `{prod: 30, preprod: 7}`.
    pub by: BTreeMap<String, usize>,
    /// The variable `by` counts by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_variable: Option<String>,
    /// The head chart's `artifacthub.io/changes` annotation, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<String>,
}

impl ChartBump {
    /// `worker 1.2.1 → 1.3.0 in 37 tenants: prod 30, preprod 7`.
    pub fn line(&self) -> String {
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let mut out = format!(
            "{} {} → {} in {}",
            self.chart,
            side(&self.from),
            side(&self.to),
            super::report::plural(self.tenants.len(), "tenant")
        );
        if self.by.len() > 1 || self.by_variable.is_some() && !self.by.is_empty() {
            let mut parts: Vec<(&String, &usize)> = self.by.iter().collect();
            parts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let parts: Vec<String> = parts.iter().map(|(k, n)| format!("{k} {n}")).collect();
            out.push_str(&format!(": {}", parts.join(", ")));
        }
        if self.component != self.chart {
            out.push_str(&format!(" (component {})", self.component));
        }
        out
    }
}

/// Every chart version change between the paired tenants, the most widespread first.
pub fn bumps<'a>(
    pairs: impl IntoIterator<Item = (&'a SideTenant, &'a SideTenant)>,
    by_variable: Option<&str>,
) -> Vec<ChartBump> {
    let mut found: BTreeMap<(String, String, Option<String>, Option<String>), ChartBump> =
        BTreeMap::new();
    for (base, head) in pairs {
        for h in &head.components {
            let b = base.components.iter().find(|c| c.name == h.name);
            let (old, new) = (b.and_then(|c| c.chart.as_ref()), h.chart.as_ref());
            let Some(new) = new else { continue };
            let from = match old {
                Some(o) if o.name == new.name => Some(o.version.clone()),
                _ => None,
            };
            if from.as_deref() == Some(new.version.as_str()) || b.is_none() {
                continue;
            }
            let key = (
                h.name.clone(),
                new.name.clone(),
                from.clone(),
                Some(new.version.clone()),
            );
            let bump = found.entry(key).or_insert_with(|| ChartBump {
                component: h.name.clone(),
                chart: new.name.clone(),
                from,
                to: Some(new.version.clone()),
                tenants: Vec::new(),
                by: BTreeMap::new(),
                by_variable: by_variable.map(str::to_owned),
                changes: new.changes(),
            });
            bump.tenants.push(head.dir.clone());
            if let Some(var) = by_variable.and_then(|v| head.vars.get(v)) {
                *bump.by.entry(var.value.clone()).or_default() += 1;
            }
        }
    }
    let mut out: Vec<ChartBump> = found.into_values().collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.tenants.len()));
    out
}
