//! What `strata check` found, as data and as text.
//!
//! Every failure is listed, not only the first: a CI run should show the whole bill at once,
//! each line naming the tenant, component, rule, object and what is wrong.

use super::rules::ObjectRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// Check names besides the policy rules (see [`super::rules`]).
pub const RESOLVE: &str = "resolve";
pub const VALUES: &str = "values";
pub const VALUES_SCHEMA: &str = "valuesSchema";
pub const RENDER: &str = "render";
pub const KUBE_SCHEMA: &str = "kubeSchema";
pub const ROLLOUT_GUARD: &str = "rolloutGuard";

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The tenant directory, relative to the repository root.
    pub tenant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    pub message: String,
    /// For a values schema failure: the layer file and line that set the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

/// Objects whose kind and version had no schema in `--schemas`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub api_version: String,
    pub kind: String,
    /// The schema file looked for.
    pub file: String,
    pub count: usize,
}

/// The Kubernetes schema pass, when `--schemas` was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeSummary {
    pub dir: String,
    pub validated: usize,
    pub skipped: Vec<Skipped>,
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub passed: bool,
    pub tenants: usize,
    pub objects: usize,
    /// Each check that ran, with the number of tenants it ran on.
    pub checks: BTreeMap<String, usize>,
    pub failures: Vec<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_schemas: Option<KubeSummary>,
}

impl CheckReport {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes") + "\n"
    }

    /// Failures grouped by tenant, then a summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut tenants: Vec<&str> = Vec::new();
        for f in &self.failures {
            if !tenants.contains(&f.tenant.as_str()) {
                tenants.push(&f.tenant);
            }
        }
        for tenant in &tenants {
            out.push_str(&format!("FAIL {tenant}\n"));
            let rows: Vec<&Failure> = self
                .failures
                .iter()
                .filter(|f| f.tenant == *tenant)
                .collect();
            let component = |f: &Failure| f.component.clone().unwrap_or_else(|| "-".into());
            let w0 = rows.iter().map(|f| component(f).len()).max().unwrap_or(0);
            let w1 = rows.iter().map(|f| f.rule.len()).max().unwrap_or(0);
            for f in rows {
                let what = match &f.object {
                    Some(object) => format!("{object}: {}", f.message),
                    None => f.message.clone(),
                };
                let indent = " ".repeat(w0 + w1 + 6);
                let what = what.trim_end().replace('\n', &format!("\n{indent}"));
                out.push_str(&format!(
                    "  {:<w0$}  {:<w1$}  {what}\n",
                    component(f),
                    f.rule
                ));
            }
        }
        if !tenants.is_empty() {
            out.push('\n');
        }
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        out.push_str(&format!(
            "checked {} tenant(s), {} object(s); tenants per check: {}\n",
            self.tenants,
            self.objects,
            checks.join(", ")
        ));
        if let Some(kube) = &self.kube_schemas {
            let skipped: usize = kube.skipped.iter().map(|s| s.count).sum();
            out.push_str(&format!(
                "kubernetes schemas in {}: {} object(s) validated, {skipped} skipped without a schema",
                kube.dir, kube.validated
            ));
            if !kube.skipped.is_empty() {
                let kinds: Vec<String> = kube
                    .skipped
                    .iter()
                    .map(|s| format!("{} {} ×{}", s.kind, s.api_version, s.count))
                    .collect();
                out.push_str(&format!(" ({})", kinds.join(", ")));
            }
            out.push('\n');
        }
        if self.failures.is_empty() {
            out.push_str("no failures\n");
        } else {
            out.push_str(&format!(
                "{} failure(s) in {} tenant(s)\n",
                self.failures.len(),
                tenants.len()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_groups_by_tenant_and_aligns_columns() {
        let report = CheckReport {
            passed: false,
            tenants: 2,
            objects: 5,
            checks: [("render".into(), 2), ("noLatestTag".into(), 2)].into(),
            failures: vec![
                Failure {
                    tenant: "t/a".into(),
                    component: Some("web".into()),
                    rule: "noLatestTag".into(),
                    object: Some(ObjectRef {
                        api_version: "apps/v1".into(),
                        kind: "Deployment".into(),
                        namespace: Some("ns".into()),
                        name: "a".into(),
                    }),
                    message: "container \"web\" image \"x\" has no tag".into(),
                    set_by: None,
                },
                Failure {
                    tenant: "t/a".into(),
                    component: None,
                    rule: "render".into(),
                    object: None,
                    message: "helm failed:\nError: boom".into(),
                    set_by: None,
                },
            ],
            kube_schemas: None,
        };
        let indent = " ".repeat(20);
        let expected = format!(
            "FAIL t/a\n  \
               web  noLatestTag  Deployment ns/a: container \"web\" image \"x\" has no tag\n  \
               -    render       helm failed:\n{indent}Error: boom\n\n\
             checked 2 tenant(s), 5 object(s); tenants per check: noLatestTag 2, render 2\n\
             2 failure(s) in 1 tenant(s)\n"
        );
        assert_eq!(report.text(), expected);
    }
}
