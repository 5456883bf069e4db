//! `strata appset`: an Argo CD ApplicationSet with one Application per tenant of a stack.
//!
//! The set uses a `list` generator whose elements strata computes, rather than a git generator
//! over `tenants.path`: the destination namespace and cluster depend on variables that only
//! strata resolves (stack `vars`, the tenant file, templated `namespace`), and a list can be
//! reviewed in a pull request before Argo CD acts on it. The template itself only copies element
//! fields, so it needs no Go template logic.

use crate::chart::lock::LOCK_FILE;
use crate::config::Stack;
use crate::context::Context;
use crate::pipeline;
use crate::plan::{ChartPlan, ComponentPlan};
use crate::selector::Selector;
use crate::tenant::{list_tenant_dirs, path_vars};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The plugin as Applications must name it: plugin.yaml's `metadata.name` and `spec.version`.
/// Naming it spares Argo CD from asking every installed plugin whether it wants the source.
pub const PLUGIN_NAME: &str = "strata-v1";

/// The in-cluster API server, Argo CD's name for "the cluster Argo CD runs in".
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// The namespace Argo CD watches for ApplicationSets in a default installation.
const ARGOCD_NAMESPACE: &str = "argocd";

#[derive(Debug, thiserror::Error)]
pub enum AppsetError {
    #[error(transparent)]
    Strata(#[from] crate::Error),
    #[error(
        "no tenant of {stack_file} matches the selector {selector}; an ApplicationSet without elements would delete every Application it made"
    )]
    NoTenants {
        stack_file: String,
        selector: String,
    },
    #[error("{stack_file} has no tenant directory (tenants.path {pattern:?})")]
    Empty { stack_file: String, pattern: String },
    #[error(
        "tenant {dir}: the Application name {name:?} is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', at most 253 characters); rename the tenant directories"
    )]
    BadName { dir: String, name: String },
    #[error(
        "the ApplicationSet name {name:?} is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', at most 253 characters); pass --name"
    )]
    BadSetName { name: String },
    #[error(
        "tenant {dir} lacks a variable that clusters.by ({by:?}) in {stack_file} uses to choose its cluster; set it in the tenant file or the stack's vars, or add clusters.default"
    )]
    NoClusterVar {
        dir: String,
        by: String,
        stack_file: String,
    },
    #[error(
        "tenant {dir} has {by}={value:?}, which clusters.servers in {stack_file} does not list; add a server for it or clusters.default"
    )]
    NoServer {
        dir: String,
        by: String,
        value: String,
        stack_file: String,
    },
    #[error("{what} {value:?} contains `{{{{`, which the ApplicationSet would read as a template")]
    Templated { what: &'static str, value: String },
    #[error(
        "tenants {first} and {second} would both be the Application {name:?}; Application names must be unique in an Argo CD instance, so rename one of the tenant directories"
    )]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "no --repo-url given and the repository at {dir} has no remote `origin` ({reason}); pass --repo-url with the URL Argo CD fetches"
    )]
    NoOrigin { dir: String, reason: String },
    #[error("--{flag} applies only to --sync automated")]
    ManualSyncFlag { flag: &'static str },
    #[error(
        "{file} cannot be read ({reason}); write it with the same command without --check: strata appset ... > {file}"
    )]
    CheckUnreadable { file: String, reason: String },
    #[error(
        "{file} is out of date (first difference at line {line}); regenerate it with the same command without --check: strata appset ... > {file}"
    )]
    OutOfDate { file: String, line: usize },
    #[error("{what} {value:?} is not a valid {kind}")]
    BadMetadata {
        what: &'static str,
        value: String,
        kind: &'static str,
    },
}

/// What the caller chooses; everything else comes from the stack.
#[derive(Debug, Clone)]
pub struct AppsetOptions {
    /// Only tenants whose variables match.
    pub selector: Option<Selector>,
    /// The name of the ApplicationSet, and the first part of every Application's name; the
    /// stack directory's name when absent.
    pub name: Option<String>,
    /// The repository URL Argo CD fetches; the `origin` remote of the stack's repository when
    /// absent.
    pub repo_url: Option<String>,
    pub revision: String,
    pub project: String,
    pub sync: SyncMode,
    /// `metadata.finalizers` of every Application (e.g. resources-finalizer.argocd.argoproj.io).
    pub finalizers: Vec<String>,
    /// Labels of the ApplicationSet and of every Application.
    pub labels: BTreeMap<String, String>,
}

/// How the Applications sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Only when someone syncs them.
    Manual,
    /// On every change, optionally deleting what disappeared (`prune`) and undoing changes made
    /// in the cluster (`self_heal`).
    Automated { prune: bool, self_heal: bool },
}

impl Default for SyncMode {
    fn default() -> Self {
        SyncMode::Automated {
            prune: true,
            self_heal: true,
        }
    }
}

/// The annotation that tells Argo CD which paths can change an Application's manifests: with
/// a webhook, a commit touching none of them does not regenerate the Application.
pub const GENERATE_PATHS_ANNOTATION: &str = "argocd.argoproj.io/manifest-generate-paths";

/// One generator element: everything the template needs about one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Element {
    /// The Application name: the ApplicationSet's name, then the tenant directory's segments
    /// below the stack, joined by '-' (unique across stacks and within one).
    pub name: String,
    /// The tenant directory relative to the repository root, Argo CD's `source.path`.
    pub path: String,
    /// The first component's namespace, as strata resolves it.
    pub namespace: String,
    /// The destination cluster's API server.
    pub server: String,
    /// The tenant's variables, for `templatePatch` or a generator `selector`.
    pub vars: BTreeMap<String, String>,
    /// Everything strata reads to render the tenant, `;`-separated, absolute from the
    /// repository root: the stack file, the tenant directory, every layer file (optional ones
    /// too: creating one changes the render), every chart or manifests directory in the
    /// repository and, for versioned charts, the lock file.
    pub generate_paths: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSet {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: AppSetSpec,
}

#[derive(Debug, Serialize)]
struct Metadata {
    name: String,
    namespace: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AppSetSpec {
    go_template: bool,
    go_template_options: Vec<&'static str>,
    generators: Vec<Generator>,
    template: Template,
}

#[derive(Debug, Serialize)]
struct Generator {
    list: ListGenerator,
}

#[derive(Debug, Serialize)]
struct ListGenerator {
    elements: Vec<Element>,
}

#[derive(Debug, Serialize)]
struct Template {
    metadata: TemplateMetadata,
    spec: ApplicationSpec,
}

#[derive(Debug, Serialize)]
struct TemplateMetadata {
    name: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<&'static str, &'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    finalizers: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSpec {
    project: String,
    source: Source,
    destination: Destination,
    sync_policy: SyncPolicy,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "repoURL")]
    repo_url: String,
    target_revision: String,
    path: &'static str,
    plugin: Plugin,
}

#[derive(Debug, Serialize)]
struct Plugin {
    name: &'static str,
}

#[derive(Debug, Serialize)]
struct Destination {
    server: &'static str,
    namespace: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    automated: Option<Automated>,
    sync_options: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

/// Builds the ApplicationSet for the stack at `ctx.start_dir`.
pub fn application_set(
    ctx: &Context,
    options: &AppsetOptions,
) -> Result<ApplicationSet, AppsetError> {
    check_untemplated(options)?;
    check_metadata(options)?;
    let (root, stack) = pipeline::load_stack(ctx)?;
    let name = set_name(options, &stack)?;
    if let Some(selector) = &options.selector {
        let (_, all) = crate::fleet::candidates(ctx, &crate::selector::Selection::every())?;
        selector
            .check_known(&crate::fleet::known_vars(&stack, &all), &stack.file_name)
            .map_err(crate::Error::from)?;
    }
    let repo_url = match &options.repo_url {
        Some(url) => url.clone(),
        None => origin_url(root.path())?,
    };
    let elements = elements(ctx, &stack, &name, options.selector.as_ref())?;
    Ok(document(options, name, repo_url, elements))
}

/// The repository URL, revision and project are written into the set as they are: a `{{`
/// in them would be read by the ApplicationSet controller's own templating.
fn check_untemplated(options: &AppsetOptions) -> Result<(), AppsetError> {
    for (what, value) in [
        (
            "--repo-url",
            options.repo_url.as_deref().unwrap_or_default(),
        ),
        ("--revision", options.revision.as_str()),
        ("--project", options.project.as_str()),
    ] {
        if value.contains("{{") {
            return Err(AppsetError::Templated {
                what,
                value: value.to_owned(),
            });
        }
    }
    Ok(())
}

/// `--name`, else the stack directory's name; either must be a Kubernetes name.
fn set_name(options: &AppsetOptions, stack: &Stack) -> Result<String, AppsetError> {
    let name = match &options.name {
        Some(name) => name.clone(),
        None => stack
            .dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    };
    if !is_kubernetes_name(&name) {
        return Err(AppsetError::BadSetName { name });
    }
    Ok(name)
}

/// The ApplicationSet: a list generator of the tenants and one Application template that
/// points every tenant at the plugin.
fn document(
    options: &AppsetOptions,
    name: String,
    repo_url: String,
    elements: Vec<Element>,
) -> ApplicationSet {
    let automated = match options.sync {
        SyncMode::Manual => None,
        SyncMode::Automated { prune, self_heal } => Some(Automated { prune, self_heal }),
    };
    ApplicationSet {
        api_version: "argoproj.io/v1alpha1",
        kind: "ApplicationSet",
        metadata: Metadata {
            name,
            namespace: ARGOCD_NAMESPACE,
            labels: options.labels.clone(),
        },
        spec: AppSetSpec {
            go_template: true,
            // A misspelt key fails the generation instead of producing "<no value>".
            go_template_options: vec!["missingkey=error"],
            generators: vec![Generator {
                list: ListGenerator { elements },
            }],
            template: Template {
                metadata: TemplateMetadata {
                    name: "{{ .name }}",
                    labels: options.labels.clone(),
                    annotations: BTreeMap::from([(
                        GENERATE_PATHS_ANNOTATION,
                        "{{ .generatePaths }}",
                    )]),
                    finalizers: options.finalizers.clone(),
                },
                spec: ApplicationSpec {
                    project: options.project.clone(),
                    source: Source {
                        repo_url,
                        target_revision: options.revision.clone(),
                        path: "{{ .path }}",
                        plugin: Plugin { name: PLUGIN_NAME },
                    },
                    destination: Destination {
                        server: "{{ .server }}",
                        namespace: "{{ .namespace }}",
                    },
                    sync_policy: SyncPolicy {
                        automated,
                        // A new tenant's namespace need not exist before its first sync.
                        sync_options: vec!["CreateNamespace=true"],
                    },
                },
            },
        },
    }
}

/// Labels and finalizers end up in Kubernetes metadata: refuse what the API server would.
fn check_metadata(options: &AppsetOptions) -> Result<(), AppsetError> {
    for (key, value) in &options.labels {
        if !is_qualified_name(key) {
            return Err(AppsetError::BadMetadata {
                what: "label",
                value: key.clone(),
                kind: "label key ([prefix/]name, name at most 63 characters of letters, digits, '-', '_', '.')",
            });
        }
        let ok_value = value.is_empty()
            || (value.len() <= 63
                && value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value.ends_with(|c: char| c.is_ascii_alphanumeric())
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        if !ok_value || value.contains("{{") {
            return Err(AppsetError::BadMetadata {
                what: "label value",
                value: value.clone(),
                kind: "label value (at most 63 letters, digits, '-', '_', '.')",
            });
        }
    }
    for finalizer in &options.finalizers {
        if !is_qualified_name(finalizer) || !finalizer.contains('/') && !finalizer.contains('.') {
            return Err(AppsetError::BadMetadata {
                what: "finalizer",
                value: finalizer.clone(),
                kind: "finalizer (a domain-qualified name such as resources-finalizer.argocd.argoproj.io)",
            });
        }
    }
    Ok(())
}

/// `[prefix/]name` as Kubernetes accepts it for label keys and finalizers.
fn is_qualified_name(text: &str) -> bool {
    let (prefix, name) = match text.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, text),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    name_ok && prefix.is_none_or(is_kubernetes_name)
}

/// The URL of the repository's `origin` remote, without user info (a token in a remote URL
/// must not end up in the ApplicationSet).
fn origin_url(root: &Path) -> Result<String, AppsetError> {
    let no_origin = |reason: String| AppsetError::NoOrigin {
        dir: root.display().to_string(),
        reason,
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["remote", "get-url", "origin"])
        .output()
        .map_err(|e| no_origin(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(no_origin(crate::fleet::one_line(stderr.trim())));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if url.is_empty() {
        return Err(no_origin("it is empty".into()));
    }
    Ok(without_user_info(&url))
}

/// `https://user:token@host/path` → `https://host/path`; scp-like `git@host:path` is kept.
fn without_user_info(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                // ssh://git@host/… names the ssh user, not a secret.
                Some((user, host)) if scheme != "ssh" || user.contains(':') => {
                    format!("{scheme}://{host}{path}")
                }
                _ => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// One element per tenant of `stack` that the selector matches, in tenant-directory order,
/// so the output only changes when the fleet does.
pub fn elements(
    ctx: &Context,
    stack: &Stack,
    set_name: &str,
    selector: Option<&Selector>,
) -> Result<Vec<Element>, AppsetError> {
    let dirs = list_tenant_dirs(stack)?;
    if dirs.is_empty() {
        return Err(AppsetError::Empty {
            stack_file: stack.file_name.clone(),
            pattern: stack.spec.tenants.path.value.clone(),
        });
    }
    let mut out: Vec<Element> = Vec::new();
    let mut owners = ReleaseOwners::default();
    for dir in dirs {
        let name = match application_name(stack, &dir).as_str() {
            "" => set_name.to_owned(),
            below => format!("{set_name}-{below}"),
        };
        // Resolved as Argo CD will run it: the Application name is ARGOCD_APP_NAME there, and
        // a component without `releaseName` defaults to it.
        let tenant_ctx = Context {
            start_dir: dir.clone(),
            app_name: Some(name.clone()),
            ..ctx.clone()
        };
        let resolved = match (pipeline::resolve(&tenant_ctx), selector) {
            (Ok(r), Some(s)) if !s.matches(&r.tenant.vars) => continue,
            (Ok(r), _) => r,
            // As for `strata tenants`: a broken tenant is skipped only when the variables its
            // directory binds already rule it out; otherwise the caller must hear about it.
            (Err(_), Some(s)) if !s.could_match(&path_vars(stack, &dir).unwrap_or_default()) => {
                continue;
            }
            (Err(e), _) => return Err(e.into()),
        };
        let shown = resolved.tenant.shown_dir.clone();
        if !is_kubernetes_name(&name) {
            return Err(AppsetError::BadName { dir: shown, name });
        }
        let vars = resolved.tenant.values();
        let server = server_for(stack, &shown, &vars)?;
        // A manifests component has no namespace of its own; the first chart's is the one.
        let namespace = resolved
            .components
            .iter()
            .find(|c| !c.namespace.is_empty())
            .map(|c| c.namespace.clone())
            .unwrap_or_default();
        owners.claim(&name, &server, &resolved.components, &stack.file_name);
        if let Some(first) = out.iter().find(|e| e.name == name) {
            return Err(AppsetError::DuplicateName {
                name,
                first: first.path.clone(),
                second: shown,
            });
        }
        out.push(Element {
            name,
            path: if shown.is_empty() { ".".into() } else { shown },
            namespace,
            server,
            vars,
            generate_paths: generate_paths(&resolved),
        });
    }
    if out.is_empty() {
        return Err(AppsetError::NoTenants {
            stack_file: stack.file_name.clone(),
            selector: selector.map(|s| s.to_string()).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// What strata reads to render the tenant, as Argo CD's manifest-generate-paths: absolute
/// from the repository root, sorted, without paths inside another listed directory.
fn generate_paths(resolved: &pipeline::Resolved) -> String {
    let root = &resolved.root;
    let mut paths = BTreeSet::new();
    paths.insert(resolved.stack.file_name.clone());
    paths.insert(resolved.tenant.shown_dir.clone());
    let mut remote = false;
    for c in &resolved.components {
        for layer in &c.layers {
            paths.insert(root.display(&layer.path));
        }
        match &c.chart {
            ChartPlan::Local(path) => {
                paths.insert(root.display(path));
            }
            ChartPlan::Manifests(plan) => {
                paths.insert(root.display(&plan.dir));
            }
            ChartPlan::Remote(_) => remote = true,
        }
    }
    if remote {
        paths.insert(root.display(&resolved.stack.dir.join(LOCK_FILE)));
    }
    let paths: Vec<String> = paths
        .into_iter()
        .map(|p| p.trim_matches('/').to_owned())
        .collect();
    let inside = |p: &str, dir: &str| dir.is_empty() || p.starts_with(&format!("{dir}/"));
    paths
        .iter()
        .filter(|p| !paths.iter().any(|d| d != *p && inside(p, d)))
        .map(|p| format!("/{p}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Which Application deploys each release, to spot two that would deploy the same one.
#[derive(Default)]
struct ReleaseOwners {
    /// (server, namespace, release) → the first Application that deploys it.
    first: BTreeMap<(String, String, String), String>,
}

impl ReleaseOwners {
    /// Records the Application's releases and warns once per earlier Application that already
    /// deploys one of them. A warning, not an error: the set is still valid and the cluster map
    /// may be about to change, but with automated sync the two would overwrite each other.
    fn claim(&mut self, app: &str, server: &str, components: &[ComponentPlan], stack_file: &str) {
        let mut warned = BTreeSet::new();
        // A manifests component is no helm release, so it cannot collide as one.
        for c in components.iter().filter(|c| !c.release.is_empty()) {
            let key = (server.to_owned(), c.namespace.clone(), c.release.clone());
            match self.first.get(&key) {
                Some(other) if other != app && warned.insert(other.clone()) => {
                    tracing::warn!(
                        "Applications {other} and {app} both deploy release {:?} to namespace {:?} on {server}; with automated sync they would overwrite each other. Give them different clusters (clusters in {stack_file}) or namespaces",
                        c.release,
                        c.namespace,
                    );
                }
                Some(_) => {}
                None => {
                    self.first.insert(key, app.to_owned());
                }
            }
        }
    }
}

/// The tenant directory's path below the stack, `/` replaced by `-`: unique within the stack
/// and readable in the Argo CD UI (`customers/prod/acme` → `customers-prod-acme`).
fn application_name(stack: &Stack, dir: &Path) -> String {
    let base = stack
        .dir
        .canonicalize()
        .unwrap_or_else(|_| stack.dir.clone());
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.strip_prefix(&base)
        .unwrap_or(&dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The destination server: `clusters.servers[<clusters.by>]`, else `clusters.default`;
/// the in-cluster server when the stack has no `clusters`.
fn server_for(
    stack: &Stack,
    dir: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, AppsetError> {
    let Some(clusters) = &stack.spec.clusters else {
        return Ok(IN_CLUSTER_SERVER.to_owned());
    };
    let by = &clusters.by.value;
    let default = clusters.default.as_ref().map(|d| d.value.clone());
    let Some(value) = crate::clusters::cluster_key(stack, vars) else {
        return default.ok_or_else(|| AppsetError::NoClusterVar {
            dir: dir.to_owned(),
            by: by.clone(),
            stack_file: stack.file_name.clone(),
        });
    };
    let value = &value;
    match clusters.servers.get(value) {
        Some(server) => Ok(server.value.url().to_owned()),
        None => default.ok_or_else(|| AppsetError::NoServer {
            dir: dir.to_owned(),
            by: by.clone(),
            value: value.clone(),
            stack_file: stack.file_name.clone(),
        }),
    }
}

/// A DNS-1123 subdomain, what Kubernetes accepts as `metadata.name`.
fn is_kubernetes_name(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 253
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
}

/// `strata appset --check`: whether `file` holds exactly `yaml`, so CI notices an
/// ApplicationSet that was not regenerated after the tenants changed. The error names the
/// first line that differs.
pub fn check_file(file: &Path, yaml: &str) -> Result<(), AppsetError> {
    let shown = file.display().to_string();
    let committed = std::fs::read(file).map_err(|e| AppsetError::CheckUnreadable {
        file: shown.clone(),
        reason: e.to_string(),
    })?;
    if committed == yaml.as_bytes() {
        return Ok(());
    }
    let committed = String::from_utf8_lossy(&committed);
    let line = committed
        .lines()
        .zip(yaml.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(yaml.lines().count()))
        + 1;
    Err(AppsetError::OutOfDate { file: shown, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names() {
        assert!(is_kubernetes_name("customers-prod-acme"));
        assert!(is_kubernetes_name("a.b-1"));
        for bad in ["", "-a", "a-", "Acme", "a_b", "a/b"] {
            assert!(!is_kubernetes_name(bad), "{bad:?}");
        }
        assert!(!is_kubernetes_name(&"a".repeat(254)));
    }

    #[test]
    fn origin_urls_lose_their_user_info() {
        for (url, want) in [
            (
                "https://deploy:token@git.example.com/a/b.git",
                "https://git.example.com/a/b.git",
            ),
            (
                "https://token@git.example.com/a",
                "https://git.example.com/a",
            ),
            ("https://git.example.com/a", "https://git.example.com/a"),
            (
                "ssh://git@git.example.com/a.git",
                "ssh://git@git.example.com/a.git",
            ),
            (
                "ssh://git:pw@git.example.com/a.git",
                "ssh://git.example.com/a.git",
            ),
            ("git@git.example.com:a/b.git", "git@git.example.com:a/b.git"),
        ] {
            assert_eq!(without_user_info(url), want, "{url}");
        }
    }

    #[test]
    fn qualified_names() {
        for good in [
            "team",
            "example.com/tier",
            "resources-finalizer.argocd.argoproj.io/background",
        ] {
            assert!(is_qualified_name(good), "{good}");
        }
        for bad in [
            "",
            "Bad Key",
            "-a",
            "a/",
            "/a",
            "Example.com/a",
            &"a".repeat(64),
        ] {
            assert!(!is_qualified_name(bad), "{bad:?}");
        }
    }
}
