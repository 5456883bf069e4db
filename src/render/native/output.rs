//! helm's printing of a rendered chart: the bytes `helm template` writes to stdout.
//!
//! Rendered files go in (path and text, partials and NOTES included or not), the stream comes
//! out: files in byte-wise path order, each split into documents, documents classified into
//! manifests and hooks by their `helm.sh/hook` annotation, both sorted by kind with helm's
//! install order (stable, unknown kinds alphabetical), CRDs first with their raw bytes, the
//! block trimmed, hooks after it. Every rule is helm's (3.17.3 and 4.1.4, which differ only in
//! the install order) and is checked against real helm by the `native_output` tests.

mod head;
mod split;

use std::collections::HashMap;

/// The `helm template` flags and helm version that change the printing.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputOptions {
    /// `--include-crds`: print the charts' `crds/` files first.
    pub include_crds: bool,
    /// `--skip-tests`: drop hooks with the `test` event.
    pub skip_tests: bool,
    /// helm 4's install order (which knows webhook configurations) instead of helm 3's.
    pub helm4: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// helm's own wording, so the message reads the same whichever renderer failed.
    #[error("YAML parse error on {path}: {reason}")]
    Yaml { path: String, reason: String },
}

/// helm's `InstallOrder` (helm 3.17).
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// What helm 4 appends to the install order.
const INSTALL_ORDER_HELM4: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events helm knows; a document naming any other is dropped.
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    // helm 2's name, still read as `test`.
    "test-success",
];

const HOOK_ANNOTATION: &str = "helm.sh/hook";

/// One document on its way to the stream.
struct Document<'a> {
    path: &'a str,
    content: &'a str,
    kind: String,
    is_test: bool,
}

/// Prints a rendered chart exactly as `helm template` does. `files` are the rendered templates
/// as `<chart>/templates/<file>` (any order); `crds` the charts' CRD files in helm's order.
pub fn assemble(
    files: &[(String, String)],
    crds: &[(String, Vec<u8>)],
    opts: &OutputOptions,
) -> Result<Vec<u8>, OutputError> {
    let (mut manifests, mut hooks) = classify(files)?;
    sort_by_kind(&mut manifests, opts.helm4);
    sort_by_kind(&mut hooks, opts.helm4);

    let mut block = Vec::new();
    if opts.include_crds {
        for (path, bytes) in crds {
            block.extend_from_slice(b"---\n# Source: ");
            block.extend_from_slice(path.as_bytes());
            block.push(b'\n');
            block.extend_from_slice(bytes);
            block.push(b'\n');
        }
    }
    for doc in &manifests {
        write_document(&mut block, doc);
    }
    let mut out = split::trim_space_bytes(&block).to_vec();
    out.push(b'\n');
    for doc in hooks.iter().filter(|h| !(opts.skip_tests && h.is_test)) {
        write_document(&mut out, doc);
    }
    Ok(out)
}

fn write_document(out: &mut Vec<u8>, doc: &Document) {
    out.extend_from_slice(b"---\n# Source: ");
    out.extend_from_slice(doc.path.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(doc.content.as_bytes());
    out.push(b'\n');
}

/// Splits every printable file into documents, in path order, and separates hooks from
/// manifests. Partials (`_` names), NOTES files and blank files print nothing.
fn classify(
    files: &[(String, String)],
) -> Result<(Vec<Document<'_>>, Vec<Document<'_>>), OutputError> {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let (mut manifests, mut hooks) = (Vec::new(), Vec::new());
    for (path, text) in sorted {
        let base = path.rsplit('/').next().unwrap_or(path);
        // helm takes NOTES out by suffix, so `templates/MY-NOTES.txt` goes too.
        if base.starts_with('_')
            || path.ends_with("NOTES.txt")
            || split::trim_space(text).is_empty()
        {
            continue;
        }
        for content in split::split_documents(text) {
            let head = head::read_head(content).map_err(|reason| OutputError::Yaml {
                path: path.clone(),
                reason,
            })?;
            let mut doc = Document {
                path,
                content,
                kind: head.kind,
                is_test: false,
            };
            match head.annotations.get(HOOK_ANNOTATION) {
                None => manifests.push(doc),
                Some(events) => match hook_is_test(events) {
                    Some(is_test) => {
                        doc.is_test = is_test;
                        hooks.push(doc);
                    }
                    None => tracing::info!("skipping unknown hook: {events:?} in {path}"),
                },
            }
        }
    }
    Ok((manifests, hooks))
}

/// Whether a hook runs on `test`; `None` when one of its events is unknown (helm drops it).
fn hook_is_test(events: &str) -> Option<bool> {
    let mut is_test = false;
    for event in events.split(',') {
        let event = split::trim_space(event).to_lowercase();
        if !HOOK_EVENTS.contains(&event.as_str()) {
            return None;
        }
        is_test |= event == "test" || event == "test-success";
    }
    Some(is_test)
}

/// helm's stable sort by kind: known kinds in install order, then unknown kinds by name.
fn sort_by_kind(docs: &mut [Document], helm4: bool) {
    let order: HashMap<&str, usize> = INSTALL_ORDER
        .iter()
        .chain(if helm4 { INSTALL_ORDER_HELM4 } else { &[] })
        .enumerate()
        .map(|(i, kind)| (*kind, i))
        .collect();
    docs.sort_by(
        |a, b| match (order.get(a.kind.as_str()), order.get(b.kind.as_str())) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.kind.cmp(&b.kind),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    fn print(list: &[(&str, &str)], opts: OutputOptions) -> String {
        String::from_utf8(assemble(&files(list), &[], &opts).unwrap()).unwrap()
    }

    #[test]
    fn nothing_rendered_prints_one_newline() {
        assert_eq!(print(&[], OutputOptions::default()), "\n");
        assert_eq!(
            print(&[("c/templates/a.yaml", " \n")], OutputOptions::default()),
            "\n"
        );
    }

    #[test]
    fn kinds_sort_stably_with_unknown_kinds_last_alphabetically() {
        let out = print(
            &[
                (
                    "c/templates/b.yaml",
                    "kind: Zed\n---\nkind: Service\nmetadata: {name: b}",
                ),
                (
                    "c/templates/a.yaml",
                    "kind: Service\nmetadata: {name: a}\n---\nkind: Abc\n---\n# c",
                ),
            ],
            OutputOptions::default(),
        );
        let kinds: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("kind:") || l.starts_with("# c"))
            .collect();
        assert_eq!(
            kinds,
            [
                "kind: Service",
                "kind: Service",
                "# c",
                "kind: Abc",
                "kind: Zed"
            ]
        );
        assert!(out.find("name: a").unwrap() < out.find("name: b").unwrap());
    }

    #[test]
    fn webhooks_are_known_kinds_for_helm4_only() {
        let list = [(
            "c/templates/a.yaml",
            "kind: ValidatingWebhookConfiguration\n---\nkind: Aaa",
        )];
        let v3 = print(&list, OutputOptions::default());
        let v4 = print(
            &list,
            OutputOptions {
                helm4: true,
                ..Default::default()
            },
        );
        assert!(v3.find("Aaa").unwrap() < v3.find("Validating").unwrap());
        assert!(v4.find("Validating").unwrap() < v4.find("Aaa").unwrap());
    }

    #[test]
    fn hooks_follow_the_manifests_and_unknown_events_drop_the_document() {
        let hook = |events: &str| {
            format!("kind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: \"{events}\"")
        };
        let (test, unknown, both) = (
            hook("Test-Success"),
            hook("pre-install, bogus"),
            hook(" post-install ,test"),
        );
        let list = [
            ("c/templates/h.yaml", test.as_str()),
            ("c/templates/i.yaml", unknown.as_str()),
            ("c/templates/j.yaml", both.as_str()),
            ("c/templates/z.yaml", "kind: ConfigMap"),
        ];
        let out = print(&list, OutputOptions::default());
        assert!(out.starts_with("---\n# Source: c/templates/z.yaml\nkind: ConfigMap\n---\n# Source: c/templates/h.yaml\n"));
        assert!(!out.contains("i.yaml"));
        let out = print(
            &list,
            OutputOptions {
                skip_tests: true,
                ..Default::default()
            },
        );
        assert_eq!(out, "---\n# Source: c/templates/z.yaml\nkind: ConfigMap\n");
    }

    #[test]
    fn crds_come_first_raw_and_only_when_asked() {
        let crds = vec![(
            "c/crds/a.yaml".to_string(),
            b"kind: CustomResourceDefinition\n".to_vec(),
        )];
        let list = files(&[("c/templates/a.yaml", "kind: Namespace")]);
        let with = OutputOptions {
            include_crds: true,
            ..Default::default()
        };
        let out = assemble(&list, &crds, &with).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "---\n# Source: c/crds/a.yaml\nkind: CustomResourceDefinition\n\n---\n# Source: c/templates/a.yaml\nkind: Namespace\n"
        );
        let out = assemble(&list, &crds, &OutputOptions::default()).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("crds"));
    }

    #[test]
    fn partials_and_notes_print_nothing() {
        let out = print(
            &[
                ("c/templates/_h.tpl", "kind: A"),
                ("c/templates/NOTES.txt", "hi"),
                ("c/templates/x/MY-NOTES.txt", "x"),
            ],
            OutputOptions::default(),
        );
        assert_eq!(out, "\n");
    }

    #[test]
    fn a_parse_error_names_the_file() {
        let err = assemble(
            &files(&[("c/templates/a.yaml", "a: [\n")]),
            &[],
            &OutputOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("YAML parse error on c/templates/a.yaml: "),
            "{err}"
        );
    }
}
