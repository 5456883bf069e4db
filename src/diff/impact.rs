//! What a change will do to a running tenant, read from its rendered objects: which pods
//! restart, which updates the API server refuses (immutable fields), what Argo CD's prune
//! deletes, and which configuration changes the pods will not pick up.
//!
//! The rules follow the Kubernetes controllers and validation: a workload's pods roll when
//! its pod template changes (a StatefulSet with `updateStrategy: OnDelete` waits for its pods
//! to be deleted; a CronJob's next run takes the new template); selector, StatefulSet spec,
//! Job template, Service cluster IP and PVC spec cannot be updated in place; a ConfigMap or
//! Secret change reaches running pods only through a template change such as a
//! `checksum/config` annotation.

use super::objects::ObjectId;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ImpactKind {
    /// The pod template changed: the controller replaces every pod.
    Restart,
    /// A StatefulSet with `updateStrategy: OnDelete`: pods run the old template until deleted.
    PendingRestart,
    /// A CronJob's job template changed: the next run uses it, running jobs are untouched.
    NextRun,
    /// An immutable field changed: the sync fails unless Argo CD replaces the object.
    NeedsReplace,
    /// Argo CD prunes the object.
    Deleted,
    /// Argo CD prunes an object whose deletion can delete data (PVC, StatefulSet volumes,
    /// CRD with its custom resources, Namespace).
    DataLoss,
    /// A CustomResourceDefinition is added or changed: cluster-wide, shared by every tenant.
    CrdChange,
    /// A ConfigMap or Secret changed without a pod template change: running pods keep the
    /// old configuration (environment variables until they restart).
    ConfigNotPickedUp,
}

impl ImpactKind {
    pub fn label(self) -> &'static str {
        match self {
            ImpactKind::Restart => "restarts pods",
            ImpactKind::PendingRestart => "pending restart (OnDelete)",
            ImpactKind::NextRun => "next CronJob run",
            ImpactKind::NeedsReplace => "immutable field (needs Replace)",
            ImpactKind::Deleted => "deleted by prune",
            ImpactKind::DataLoss => "deleted by prune, possible data loss",
            ImpactKind::CrdChange => "CRD change",
            ImpactKind::ConfigNotPickedUp => "config change pods will NOT pick up",
        }
    }
}

/// One object's rollout impact in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    #[serde(flatten)]
    pub id: ObjectId,
    pub kind: ImpactKind,
    /// Pods that restart (the head side's replicas, 1 when unset); `None` for a DaemonSet (one
    /// per node) and for impacts that restart nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<u64>,
    /// Why, in a few words: the fields that changed, what references a ConfigMap...
    pub detail: String,
}

type Objects = BTreeMap<ObjectId, Value>;

/// The impacts of going from `base` to `head` objects of one tenant, in object order.
pub fn assess(base: &Objects, head: &Objects) -> Vec<Impact> {
    let mut out = Vec::new();
    let mut restarting: BTreeSet<&ObjectId> = BTreeSet::new();
    let mut ids: Vec<&ObjectId> = base.keys().chain(head.keys()).collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        match (base.get(*id), head.get(*id)) {
            (Some(old), Some(new)) if old != new => {
                if let Some(impact) = workload_change(id, old, new) {
                    if impact.kind == ImpactKind::Restart {
                        restarting.insert(id);
                    }
                    out.push(impact);
                }
                if let Some(fields) = immutable_change(id, old, new) {
                    out.push(Impact {
                        id: (*id).clone(),
                        kind: ImpactKind::NeedsReplace,
                        pods: None,
                        detail: format!("{} changed", fields.join(", ")),
                    });
                }
                if is_crd(id) {
                    out.push(crd(id, "changed"));
                }
            }
            (Some(old), None) => out.push(deletion(id, old)),
            (None, Some(_)) if is_crd(id) => out.push(crd(id, "added")),
            _ => {}
        }
    }
    for id in &ids {
        if let (Some(old), Some(new)) = (base.get(*id), head.get(*id))
            && old != new
            && is_config(id)
            && !is_immutable_config(old)
            && config_data(old) != config_data(new)
            && let Some(detail) = not_picked_up(id, head, &restarting)
        {
            out.push(Impact {
                id: (*id).clone(),
                kind: ImpactKind::ConfigNotPickedUp,
                pods: None,
                detail,
            });
        }
    }
    out
}

fn is_crd(id: &ObjectId) -> bool {
    id.group == "apiextensions.k8s.io" && id.kind == "CustomResourceDefinition"
}

fn crd(id: &ObjectId, verb: &str) -> Impact {
    Impact {
        id: id.clone(),
        kind: ImpactKind::CrdChange,
        pods: None,
        detail: format!("{verb}; a CRD is cluster-wide, shared by every tenant of the cluster"),
    }
}

fn is_config(id: &ObjectId) -> bool {
    id.group.is_empty() && (id.kind == "ConfigMap" || id.kind == "Secret")
}

fn is_immutable_config(object: &Value) -> bool {
    object.get("immutable") == Some(&Value::Bool(true))
}

fn config_data(object: &Value) -> [Option<&Value>; 3] {
    ["data", "binaryData", "stringData"].map(|f| object.get(f))
}

/// Where a workload kind keeps its pod template, and whether a change rolls the pods.
fn template_pointer(id: &ObjectId) -> Option<&'static str> {
    match (id.group.as_str(), id.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("/spec/template")
        }
        ("batch", "Job") => Some("/spec/template"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

fn workload_change(id: &ObjectId, old: &Value, new: &Value) -> Option<Impact> {
    let pointer = template_pointer(id)?;
    if old.pointer(pointer) == new.pointer(pointer) {
        return None;
    }
    let impact = |kind, pods, detail: &str| Impact {
        id: id.clone(),
        kind,
        pods,
        detail: detail.to_owned(),
    };
    let replicas = new
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    match id.kind.as_str() {
        // A Job's template is immutable: reported by `immutable_change`.
        "Job" => None,
        "CronJob" => Some(impact(
            ImpactKind::NextRun,
            None,
            "job template changed; the next run uses it",
        )),
        "DaemonSet" => Some(impact(
            ImpactKind::Restart,
            None,
            "pod template changed; one pod per node rolls",
        )),
        "StatefulSet"
            if new
                .pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("OnDelete") =>
        {
            Some(impact(
                ImpactKind::PendingRestart,
                Some(replicas),
                "pod template changed; updateStrategy OnDelete: pods change only when deleted",
            ))
        }
        _ => Some(impact(
            ImpactKind::Restart,
            Some(replicas),
            "pod template changed",
        )),
    }
}

/// The immutable fields that differ, as dotted paths; `None` when the update is allowed.
fn immutable_change(id: &ObjectId, old: &Value, new: &Value) -> Option<Vec<String>> {
    let differs = |pointer: &str| old.pointer(pointer) != new.pointer(pointer);
    let dotted = |pointer: &str| pointer.trim_start_matches('/').replace('/', ".");
    let mut fields: Vec<String> = Vec::new();
    match (id.group.as_str(), id.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") if differs("/spec/selector") => {
            fields.push("spec.selector".into());
        }
        ("apps", "StatefulSet") => {
            const MUTABLE: [&str; 7] = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
                "revisionHistoryLimit",
            ];
            let keys = spec_keys(old, new);
            for key in keys.iter().filter(|k| !MUTABLE.contains(&k.as_str())) {
                if differs(&format!("/spec/{key}")) {
                    fields.push(format!("spec.{key}"));
                }
            }
        }
        ("batch", "Job") => {
            for pointer in ["/spec/selector", "/spec/template", "/spec/completionMode"] {
                if differs(pointer) {
                    fields.push(dotted(pointer));
                }
            }
        }
        ("", "Service") => {
            for pointer in ["/spec/clusterIP", "/spec/clusterIPs"] {
                let set = old
                    .pointer(pointer)
                    .is_some_and(|v| !v.is_null() && v != "" && v != "None");
                if set && differs(pointer) {
                    fields.push(dotted(pointer));
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            let strip = |object: &Value| {
                let mut spec = object.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(map) = spec.as_object_mut() {
                    map.remove("volumeAttributesClassName");
                }
                if let Some(requests) = spec
                    .pointer_mut("/resources/requests")
                    .and_then(Value::as_object_mut)
                {
                    requests.remove("storage");
                }
                spec
            };
            let (a, b) = (strip(old), strip(new));
            for key in spec_keys(old, new) {
                if a.get(&key) != b.get(&key) {
                    fields.push(format!("spec.{key}"));
                }
            }
        }
        ("", "ConfigMap" | "Secret")
            if is_immutable_config(old) && config_data(old) != config_data(new) =>
        {
            fields.push("data of an immutable ConfigMap/Secret".into());
        }
        _ => {}
    }
    (!fields.is_empty()).then_some(fields)
}

fn spec_keys(old: &Value, new: &Value) -> BTreeSet<String> {
    [old, new]
        .iter()
        .filter_map(|o| o.get("spec").and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

fn deletion(id: &ObjectId, old: &Value) -> Impact {
    let protected = old
        .pointer("/metadata/annotations/argocd.argoproj.io~1sync-options")
        .and_then(Value::as_str)
        .is_some_and(|o| o.split(',').any(|opt| opt.trim() == "Prune=false"));
    let impact = |kind, detail: &str| Impact {
        id: id.clone(),
        kind,
        pods: None,
        detail: detail.to_owned(),
    };
    if protected {
        return impact(
            ImpactKind::Deleted,
            "removed from the manifests; Prune=false keeps it in the cluster",
        );
    }
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "PersistentVolumeClaim") => impact(
            ImpactKind::DataLoss,
            "deleting a PVC deletes its volume when the reclaim policy is Delete (the default for dynamic provisioning)",
        ),
        ("apps", "StatefulSet") => {
            let claims = old
                .pointer("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            let delete_claims = old
                .pointer("/spec/persistentVolumeClaimRetentionPolicy/whenDeleted")
                .and_then(Value::as_str)
                == Some("Delete");
            match (claims, delete_claims) {
                (true, true) => impact(
                    ImpactKind::DataLoss,
                    "its PVCs are deleted with it (persistentVolumeClaimRetentionPolicy.whenDeleted: Delete)",
                ),
                (true, false) => impact(
                    ImpactKind::DataLoss,
                    "its pods stop; its PVCs stay, orphaned, until deleted by hand",
                ),
                _ => impact(ImpactKind::Deleted, "its pods stop"),
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => impact(
            ImpactKind::DataLoss,
            "deleting a CRD deletes every custom resource of its kind in the cluster",
        ),
        ("", "Namespace") => impact(
            ImpactKind::DataLoss,
            "deleting a Namespace deletes everything in it",
        ),
        _ => impact(ImpactKind::Deleted, "pruned by Argo CD"),
    }
}

/// Why a changed ConfigMap/Secret does not reach the pods, or `None` when every workload that
/// reads it restarts anyway.
fn not_picked_up(
    id: &ObjectId,
    head: &Objects,
    restarting: &BTreeSet<&ObjectId>,
) -> Option<String> {
    let readers: Vec<&ObjectId> = head
        .iter()
        .filter(|(w, _)| w.namespace == id.namespace)
        .filter(|(w, object)| references(w, object, id))
        .map(|(w, _)| w)
        .collect();
    if readers.is_empty() {
        if !restarting.is_empty() {
            return None;
        }
        return Some(
            "no workload of the tenant restarts; pods that read it keep the old values until they restart"
                .into(),
        );
    }
    let stale: Vec<String> = readers
        .iter()
        .filter(|w| !restarting.contains(*w))
        .map(|w| format!("{}/{}", w.kind, w.name))
        .collect();
    if stale.is_empty() {
        return None;
    }
    Some(format!(
        "read by {} whose pod template does not change (no checksum annotation): running pods keep the old values",
        stale.join(", ")
    ))
}

/// Whether the workload's pod spec reads the ConfigMap or Secret `config` (volumes, projected
/// volumes, envFrom, env valueFrom).
fn references(workload: &ObjectId, object: &Value, config: &ObjectId) -> bool {
    let Some(pointer) = template_pointer(workload) else {
        return false;
    };
    let Some(pod) = object.pointer(&format!("{pointer}/spec")) else {
        return false;
    };
    let mut names = BTreeSet::new();
    collect_refs(pod, config.kind == "Secret", &mut names);
    names.contains(config.name.as_str())
}

fn collect_refs<'a>(value: &'a Value, secret: bool, out: &mut BTreeSet<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let field = match (secret, key.as_str()) {
                    (false, "configMap" | "configMapRef" | "configMapKeyRef") => Some("name"),
                    (true, "secretRef" | "secretKeyRef") => Some("name"),
                    // A volume names its Secret `secretName`, a projected source `name`.
                    (true, "secret") => Some("secretName"),
                    _ => None,
                };
                if let Some(field) = field {
                    for f in [field, "name"] {
                        if let Some(name) = inner.get(f).and_then(Value::as_str) {
                            out.insert(name);
                        }
                    }
                }
                collect_refs(inner, secret, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, secret, out)),
        _ => {}
    }
}

/// The same impact on the same kind of object, for the same reason, across tenants.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpactGroup {
    pub kind: ImpactKind,
    /// `apps/Deployment`.
    pub object_kind: String,
    pub detail: String,
    /// Pods restarting in all these tenants together; `None` when unknown or not a restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<u64>,
    /// (tenant, object) pairs.
    pub objects: Vec<(String, String)>,
}

impl ImpactGroup {
    pub fn tenants(&self) -> usize {
        let mut tenants: Vec<&String> = self.objects.iter().map(|(t, _)| t).collect();
        tenants.dedup();
        tenants.len()
    }
}

/// Groups impacts across tenants: the gravest kind first, then the most widespread.
pub fn group<'a>(
    per_tenant: impl IntoIterator<Item = (&'a str, &'a [Impact])>,
) -> Vec<ImpactGroup> {
    let mut groups: BTreeMap<(ImpactKind, String, String), ImpactGroup> = BTreeMap::new();
    for (tenant, impacts) in per_tenant {
        for impact in impacts {
            let object_kind = kind_of(&impact.id);
            let group = groups
                .entry((impact.kind, object_kind.clone(), impact.detail.clone()))
                .or_insert_with(|| ImpactGroup {
                    kind: impact.kind,
                    object_kind,
                    detail: impact.detail.clone(),
                    pods: None,
                    objects: Vec::new(),
                });
            if let Some(pods) = impact.pods {
                *group.pods.get_or_insert(0) += pods;
            }
            group
                .objects
                .push((tenant.to_owned(), impact.id.to_string()));
        }
    }
    let mut out: Vec<ImpactGroup> = groups.into_values().collect();
    out.sort_by(|a, b| {
        gravity(a.kind)
            .cmp(&gravity(b.kind))
            .then(b.objects.len().cmp(&a.objects.len()))
    });
    out
}

fn gravity(kind: ImpactKind) -> u8 {
    match kind {
        ImpactKind::DataLoss => 0,
        ImpactKind::NeedsReplace => 1,
        ImpactKind::CrdChange => 2,
        ImpactKind::Restart => 3,
        ImpactKind::ConfigNotPickedUp => 4,
        ImpactKind::Deleted => 5,
        ImpactKind::PendingRestart => 6,
        ImpactKind::NextRun => 7,
    }
}

/// `apps/Deployment`, `v1/ConfigMap`.
pub fn kind_of(id: &ObjectId) -> String {
    let group = if id.group.is_empty() { "v1" } else { &id.group };
    format!("{group}/{}", id.kind)
}

/// The numbers behind the headline.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpactSummary {
    /// One sentence: "restarts pods in 37 of 1,000 tenants (74 pods) across 2 regions; …".
    pub headline: String,
    pub restart_tenants: usize,
    pub restart_pods: u64,
    pub pending_restart_tenants: usize,
    pub needs_replace: usize,
    pub deletions: usize,
    pub data_loss: usize,
    pub crd_changes: usize,
    pub config_not_picked_up: usize,
    /// Restarting tenants per value of each grouping variable: `{env: {prod: 30, preprod: 7}}`.
    pub restarts_by: BTreeMap<String, BTreeMap<String, usize>>,
}

/// One tenant as the summary sees it: its directory, variables and impacts.
pub struct TenantImpacts<'a> {
    pub tenant: &'a str,
    pub vars: &'a BTreeMap<String, String>,
    pub impacts: &'a [Impact],
}

/// Counts the impacts of every tenant; `compared` is the number of tenants compared, and
/// `group_vars` the variables to break restarts down by (env, region).
pub fn summarize<'a>(
    tenants: impl IntoIterator<Item = TenantImpacts<'a>>,
    compared: usize,
    group_vars: &[String],
) -> ImpactSummary {
    let mut s = ImpactSummary::default();
    for t in tenants {
        let has = |k: ImpactKind| t.impacts.iter().any(|i| i.kind == k);
        let count = |k: ImpactKind| t.impacts.iter().filter(|i| i.kind == k).count();
        if has(ImpactKind::Restart) {
            s.restart_tenants += 1;
            for var in group_vars {
                if let Some(value) = t.vars.get(var) {
                    *s.restarts_by
                        .entry(var.clone())
                        .or_default()
                        .entry(value.clone())
                        .or_default() += 1;
                }
            }
        }
        s.restart_pods += t
            .impacts
            .iter()
            .filter(|i| i.kind == ImpactKind::Restart)
            .filter_map(|i| i.pods)
            .sum::<u64>();
        if has(ImpactKind::PendingRestart) {
            s.pending_restart_tenants += 1;
        }
        s.needs_replace += count(ImpactKind::NeedsReplace);
        s.deletions += count(ImpactKind::Deleted) + count(ImpactKind::DataLoss);
        s.data_loss += count(ImpactKind::DataLoss);
        s.crd_changes += count(ImpactKind::CrdChange);
        s.config_not_picked_up += count(ImpactKind::ConfigNotPickedUp);
    }
    s.headline = headline(&s, compared, group_vars);
    s
}

fn headline(s: &ImpactSummary, compared: usize, group_vars: &[String]) -> String {
    let mut parts = Vec::new();
    if s.restart_tenants == 0 {
        parts.push("restarts no pods".to_owned());
    } else {
        let mut restart = format!(
            "restarts pods in {} of {} ({})",
            thousands(s.restart_tenants as u64),
            plural_n(compared as u64, "tenant"),
            plural_n(s.restart_pods, "pod")
        );
        let across: Vec<String> = group_vars
            .iter()
            .filter_map(|v| s.restarts_by.get(v).map(|m| plural_n(m.len() as u64, v)))
            .collect();
        if let Some((last, rest)) = across.split_last() {
            let list = match rest {
                [] => last.clone(),
                _ => format!("{} and {last}", rest.join(", ")),
            };
            restart.push_str(&format!(" across {list}"));
        }
        parts.push(restart);
    }
    if s.pending_restart_tenants > 0 {
        parts.push(format!(
            "pending restarts (OnDelete) in {}",
            plural_n(s.pending_restart_tenants as u64, "tenant")
        ));
    }
    parts.push(match s.needs_replace {
        0 => "no immutable-field change".to_owned(),
        n => format!(
            "{} (needs Replace)",
            plural_n(n as u64, "immutable-field change")
        ),
    });
    parts.push(match (s.deletions, s.data_loss) {
        (0, _) => "no deletions".to_owned(),
        (n, 0) => plural_n(n as u64, "deletion"),
        (n, d) => format!(
            "{} ({d} possible data loss)",
            plural_n(n as u64, "deletion")
        ),
    });
    if s.crd_changes > 0 {
        parts.push(plural_n(s.crd_changes as u64, "CRD change"));
    }
    if s.config_not_picked_up > 0 {
        parts.push(format!(
            "{} pods will NOT pick up",
            plural_n(s.config_not_picked_up as u64, "config change")
        ));
    }
    parts.join("; ")
}

/// "1 tenant", "1,000 tenants".
pub fn plural_n(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
}

/// 1000 → "1,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::objects::parse;
    use super::*;

    fn objects(yaml: &str) -> Objects {
        parse(yaml.as_bytes()).unwrap()
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: web:1\n          envFrom: [{configMapRef: {name: cfg}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: ns}\ndata: {A: '1'}\n";

    fn kinds(impacts: &[Impact]) -> Vec<(String, ImpactKind)> {
        impacts
            .iter()
            .map(|i| (i.id.kind.clone(), i.kind))
            .collect()
    }

    #[test]
    fn a_template_change_restarts_replicas_pods() {
        let head = DEPLOY.replace("web:1", "web:2");
        let impacts = assess(&objects(DEPLOY), &objects(&head));
        assert_eq!(
            kinds(&impacts),
            [("Deployment".into(), ImpactKind::Restart)]
        );
        assert_eq!(impacts[0].pods, Some(3));
        // Replicas alone do not restart anything.
        let head = DEPLOY.replace("replicas: 3", "replicas: 5");
        assert!(assess(&objects(DEPLOY), &objects(&head)).is_empty());
    }

    #[test]
    fn a_config_change_without_a_checksum_is_not_picked_up() {
        let head = DEPLOY.replace("A: '1'", "A: '2'");
        let impacts = assess(&objects(DEPLOY), &objects(&head));
        assert_eq!(
            kinds(&impacts),
            [("ConfigMap".into(), ImpactKind::ConfigNotPickedUp)]
        );
        assert!(impacts[0].detail.contains("Deployment/web"), "{impacts:?}");
        // With a checksum annotation the template changes too: a restart, nothing stale.
        let with_sum = |v: &str| {
            DEPLOY
                .replace(
                    "labels: {app: web}}",
                    &format!("labels: {{app: web}}, annotations: {{checksum/config: '{v}'}}}}"),
                )
                .replace("A: '1'", &format!("A: '{v}'"))
        };
        let impacts = assess(&objects(&with_sum("1")), &objects(&with_sum("2")));
        assert_eq!(
            kinds(&impacts),
            [("Deployment".into(), ImpactKind::Restart)]
        );
    }

    #[test]
    fn selectors_and_statefulset_specs_are_immutable() {
        let head = DEPLOY.replace("{app: web}}\n  template", "{app: web2}}\n  template");
        let impacts = assess(&objects(DEPLOY), &objects(&head));
        assert!(
            impacts
                .iter()
                .any(|i| i.kind == ImpactKind::NeedsReplace && i.detail == "spec.selector changed"),
            "{impacts:?}"
        );
        let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n  updateStrategy: {type: OnDelete}\n  template: {spec: {containers: [{name: db, image: db:1}]}}\n  volumeClaimTemplates: [{metadata: {name: data}, spec: {resources: {requests: {storage: 1Gi}}}}]\n";
        let head = sts
            .replace("storage: 1Gi", "storage: 2Gi")
            .replace("db:1", "db:2");
        let impacts = assess(&objects(sts), &objects(&head));
        assert_eq!(
            kinds(&impacts),
            [
                ("StatefulSet".into(), ImpactKind::PendingRestart),
                ("StatefulSet".into(), ImpactKind::NeedsReplace)
            ]
        );
        assert_eq!(impacts[1].detail, "spec.volumeClaimTemplates changed");
        let gone = assess(&objects(sts), &Objects::new());
        assert_eq!(gone[0].kind, ImpactKind::DataLoss);
    }

    #[test]
    fn the_headline_counts_tenants_pods_and_grouping_variables() {
        let restart = Impact {
            id: ObjectId {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "ns".into(),
                name: "web".into(),
            },
            kind: ImpactKind::Restart,
            pods: Some(2),
            detail: "pod template changed".into(),
        };
        let impacts = vec![restart];
        let vars: Vec<BTreeMap<String, String>> = ["den1", "yul1"]
            .iter()
            .map(|r| [("region".to_owned(), r.to_string())].into())
            .collect();
        let tenants = vars.iter().map(|v| TenantImpacts {
            tenant: "t",
            vars: v,
            impacts: &impacts,
        });
        let s = summarize(tenants, 1000, &["region".into()]);
        assert_eq!(
            s.headline,
            "restarts pods in 2 of 1,000 tenants (4 pods) across 2 regions; no immutable-field change; no deletions"
        );
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn deletions_respect_prune_false() {
        let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {resources: {requests: {storage: 1Gi}}}\n";
        assert_eq!(
            assess(&objects(pvc), &Objects::new())[0].kind,
            ImpactKind::DataLoss
        );
        let kept = pvc.replace(
            "{name: data}",
            "{name: data, annotations: {argocd.argoproj.io/sync-options: Prune=false}}",
        );
        assert_eq!(
            assess(&objects(&kept), &Objects::new())[0].kind,
            ImpactKind::Deleted
        );
        // Growing a PVC is allowed; changing its class is not.
        let grown = pvc.replace("1Gi", "2Gi");
        assert!(assess(&objects(pvc), &objects(&grown)).is_empty());
        let class = pvc.replace("spec: {", "spec: {storageClassName: fast, ");
        assert_eq!(
            assess(&objects(pvc), &objects(&class))[0].detail,
            "spec.storageClassName changed"
        );
    }
}
