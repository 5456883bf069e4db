//! Object changes that are the same in several tenants, found once for every format: the text
//! and markdown reports show each such change once, with its tenants, and have each tenant
//! point at it by number instead of repeating the diff (one change to a shared layer in 180
//! tenants is one diff, not 180).

use super::super::DiffReport;
use super::super::objects::{Change, ObjectChange};
use super::secret_keys;
use std::collections::BTreeMap;

/// What makes two object changes the same: the same change of the same kind with the same
/// added and removed lines, Secret keys and patches. Context lines and line numbers are left
/// out, since they differ between tenants (names, other values) while the change itself is
/// the same; a shared change is shown with its first tenant's context.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ShareKey {
    change: Change,
    kind: String,
    lines: String,
    secret_keys: String,
    patched_by: Vec<String>,
}

impl ShareKey {
    fn of(object: &ObjectChange) -> ShareKey {
        ShareKey {
            change: object.change,
            kind: kind_of(object),
            lines: object
                .diff
                .lines()
                .filter(|l| l.starts_with(['+', '-']))
                .collect::<Vec<_>>()
                .join("\n"),
            secret_keys: secret_keys(&object.secret_keys),
            patched_by: object.patched_by.clone(),
        }
    }
}

/// One change found in at least two tenants.
pub struct SharedChange<'a> {
    /// The change as the first tenant has it, the one shown.
    pub object: &'a ObjectChange,
    /// Every (tenant, object) with this change, in report order.
    pub uses: Vec<(&'a str, &'a ObjectChange)>,
}

impl SharedChange<'_> {
    /// The tenants with this change, each once.
    pub fn tenants(&self) -> Vec<&str> {
        let mut tenants: Vec<&str> = self.uses.iter().map(|(t, _)| *t).collect();
        tenants.dedup();
        tenants
    }
}

/// The shared changes of a report, the most widespread first, numbered from 1.
pub struct Shared<'a> {
    numbers: BTreeMap<ShareKey, usize>,
    pub changes: Vec<SharedChange<'a>>,
}

impl<'a> Shared<'a> {
    pub fn of(report: &'a DiffReport) -> Shared<'a> {
        let mut seen: BTreeMap<ShareKey, Vec<(&str, &ObjectChange)>> = BTreeMap::new();
        for tenant in &report.tenants {
            for object in &tenant.objects {
                seen.entry(ShareKey::of(object))
                    .or_default()
                    .push((tenant.tenant.as_str(), object));
            }
        }
        let mut groups: Vec<(ShareKey, SharedChange)> = seen
            .into_iter()
            .map(|(key, uses)| {
                let change = SharedChange {
                    object: uses[0].1,
                    uses,
                };
                (key, change)
            })
            .filter(|(_, change)| change.tenants().len() > 1)
            .collect();
        groups.sort_by(|a, b| {
            b.1.uses
                .len()
                .cmp(&a.1.uses.len())
                .then_with(|| a.0.cmp(&b.0))
        });
        let mut numbers = BTreeMap::new();
        let mut changes = Vec::new();
        for (i, (key, change)) in groups.into_iter().enumerate() {
            numbers.insert(key, i + 1);
            changes.push(change);
        }
        Shared { numbers, changes }
    }

    /// The number of the shared change `object` is, if it is one.
    pub fn number(&self, object: &ObjectChange) -> Option<usize> {
        self.numbers.get(&ShareKey::of(object)).copied()
    }
}

/// `apps/Deployment`, `v1/Secret`.
pub fn kind_of(object: &ObjectChange) -> String {
    let group = if object.id.group.is_empty() {
        "v1"
    } else {
        &object.id.group
    };
    format!("{group}/{}", object.id.kind)
}

/// `tenants` tenants, each with one changed Deployment whose diff is `diff(i)`: the report
/// the tests of every format read.
#[cfg(test)]
pub(super) fn deployment_report(tenants: usize, diff: impl Fn(usize) -> String) -> DiffReport {
    use super::super::objects::ObjectId;
    use super::super::{Revision, TenantDiff, TenantStatus};
    DiffReport {
        base: Revision {
            name: "main".into(),
            commit: None,
        },
        head: Revision {
            name: "working tree".into(),
            commit: None,
        },
        compared: tenants,
        rendered: tenants,
        tenants: (0..tenants)
            .map(|i| TenantDiff {
                tenant: format!("customers/prod/t{i}"),
                status: TenantStatus::Changed,
                values: Vec::new(),
                objects: vec![ObjectChange {
                    id: ObjectId {
                        group: "apps".into(),
                        kind: "Deployment".into(),
                        namespace: format!("ns{i}"),
                        name: format!("t{i}"),
                    },
                    change: Change::Changed,
                    diff: diff(i),
                    secret_keys: Vec::new(),
                    hidden_only: false,
                    patched_by: Vec::new(),
                }],
                vars: BTreeMap::new(),
                impact: Vec::new(),
            })
            .collect(),
        charts: Vec::new(),
        group_vars: Vec::new(),
    }
}
