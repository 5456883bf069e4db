//! A small, faithful model of how Argo CD's cmp-server runs a config
//! management plugin and how the repo-server reads its output.
//!
//! * The repository is copied into a fresh directory with every file mode
//!   0644 and directory mode 0755 (the cmp-server extracts the tarball that
//!   way unless `preserveFileMode` is set).
//! * The commands come from the repository's `plugin.yaml`
//!   (`spec.init`, `spec.generate`, `spec.parameters.dynamic`); argv is
//!   `command[0..] + args`, no shell, `command[0]` resolved through `PATH`
//!   (or against the app dir when it contains a slash), stdin is null and
//!   the working directory is the app path.
//! * The environment is a minimal sidecar environment plus the request
//!   variables Argo CD adds for the flow in question.
//! * stdout is split and parsed like the repo-server does.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::*;

pub const REPO_URL: &str = "https://git.example.com/platform/fleet.git";
pub const REVISION: &str = "4f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e";
pub const TARGET_REVISION: &str = "main";
pub const PROJECT: &str = "tenants";

/// One `spec.source.plugin.parameters` entry.
#[derive(Clone, Debug)]
pub enum Param {
    String(String, String),
    Map(String, BTreeMap<String, String>),
}

impl Param {
    pub fn string(name: &str, value: &str) -> Param {
        Param::String(name.into(), value.into())
    }

    pub fn map(name: &str, entries: &[(&str, &str)]) -> Param {
        Param::Map(
            name.into(),
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn name(&self) -> &str {
        match self {
            Param::String(n, _) | Param::Map(n, _) => n,
        }
    }
}

/// What the Application (and the cluster) contribute to a request.
#[derive(Clone, Debug)]
pub struct App {
    /// Application name as Argo CD passes it (may carry a `<ns>_` prefix).
    pub name: String,
    /// `spec.destination.namespace`.
    pub namespace: String,
    /// `spec.source.path`, relative to the repository root.
    pub source_path: String,
    /// `spec.source.plugin.env` entries (name without the prefix, value).
    pub plugin_env: Vec<(String, String)>,
    /// `spec.source.plugin.parameters`.
    pub params: Vec<Param>,
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

impl App {
    pub fn new(name: &str, namespace: &str, source_path: &str) -> App {
        App {
            name: name.into(),
            namespace: namespace.into(),
            source_path: source_path.into(),
            plugin_env: Vec::new(),
            params: Vec::new(),
            kube_version: "1.30.11".into(),
            api_versions: default_api_versions(),
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> App {
        self.plugin_env.push((name.into(), value.into()));
        self
    }

    pub fn param(mut self, p: Param) -> App {
        self.params.push(p);
        self
    }
}

/// A cluster's API list the way Argo CD builds KUBE_API_VERSIONS: both
/// `group/version` and `group/version/Kind`, sorted, de-duplicated.
pub fn default_api_versions() -> Vec<String> {
    let served: &[(&str, &[&str])] = &[
        (
            "v1",
            &[
                "ConfigMap",
                "Namespace",
                "Pod",
                "Secret",
                "Service",
                "ServiceAccount",
            ],
        ),
        (
            "apps/v1",
            &["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
        ),
        ("batch/v1", &["CronJob", "Job"]),
        ("apiextensions.k8s.io/v1", &["CustomResourceDefinition"]),
        ("networking.k8s.io/v1", &["Ingress", "NetworkPolicy"]),
        ("widgets.example.com/v1", &["Widget"]),
    ];
    let mut all: Vec<String> = Vec::new();
    for (gv, kinds) in served {
        all.push(gv.to_string());
        for kind in *kinds {
            all.push(format!("{gv}/{kind}"));
        }
    }
    all.sort();
    all.dedup();
    all
}

/// `esc()` of Argo CD's PARAM_* name mangling: upper-case, then every
/// character outside `[A-Z0-9_]` becomes one `_`.
pub fn param_env_name(s: &str) -> String {
    s.to_uppercase()
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// ARGOCD_APP_PARAMETERS exactly as Argo CD encodes it: compact JSON, object
/// keys sorted, Go's HTML escaping, `null` when there are no parameters.
pub fn encode_parameters(params: &[Param]) -> String {
    if params.is_empty() {
        return "null".into();
    }
    let list: Vec<BTreeMap<&str, Value>> = params
        .iter()
        .map(|p| {
            let mut obj = BTreeMap::new();
            obj.insert("name", Value::String(p.name().into()));
            match p {
                Param::String(_, v) => {
                    obj.insert("string", Value::String(v.clone()));
                }
                Param::Map(_, entries) => {
                    let m: serde_json::Map<String, Value> = entries
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    obj.insert("map", Value::Object(m));
                }
            }
            obj
        })
        .collect();
    let json = serde_json::to_string(&list).expect("encode parameters");
    go_html_escape(&json)
}

/// Go's encoding/json escapes these even inside compact output.
fn go_html_escape(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn param_vars(params: &[Param]) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for p in params {
        match p {
            Param::String(n, v) => vars.push((format!("PARAM_{}", param_env_name(n)), v.clone())),
            Param::Map(n, entries) => {
                for (k, v) in entries {
                    vars.push((
                        format!("PARAM_{}_{}", param_env_name(n), param_env_name(k)),
                        v.clone(),
                    ));
                }
            }
        }
    }
    vars
}

/// Which RPC flow the command runs in (decides the request variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// GenerateManifest: init + generate.
    Generate,
    /// GetParametersAnnouncement: the dynamic parameters command.
    Parameters,
}

/// A repository checkout as the cmp-server extracts it, plus the plugin
/// definition read from the project's `plugin.yaml`.
///
/// The checkout is `<tmp>/repo`; `<tmp>/strata.yaml` is a decoy that strata
/// must never reach, since Argo CD's extraction directory is the root of
/// everything a plugin may read.
pub struct Sidecar {
    work: Tree,
    pub plugin: Value,
    pub helm: Helm,
    bin_dir: PathBuf,
}

pub fn plugin_yaml_path() -> PathBuf {
    manifest_dir().join("plugin.yaml")
}

pub fn load_plugin() -> Value {
    let path = plugin_yaml_path();
    let raw = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the repository must ship {}: {e}", path.display()));
    let plugin: Value = serde_saphyr::from_str(&raw)
        .unwrap_or_else(|e| panic!("plugin.yaml is not valid YAML: {e}"));
    assert_eq!(
        plugin["kind"], "ConfigManagementPlugin",
        "plugin.yaml kind must be ConfigManagementPlugin"
    );
    assert!(
        plugin["metadata"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "plugin.yaml needs metadata.name"
    );
    assert!(
        argv_of(&plugin["spec"]["generate"]).is_some(),
        "plugin.yaml needs spec.generate.command"
    );
    plugin
}

/// `command + args` of a plugin.yaml command block, if it has a command.
fn argv_of(block: &Value) -> Option<Vec<String>> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        s.as_str()
                            .expect("plugin.yaml command entries are strings")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut argv = strings(&block["command"]);
    if argv.is_empty() {
        return None;
    }
    argv.extend(strings(&block["args"]));
    Some(argv)
}

impl Sidecar {
    /// Extracts `stack_src` into `<checkout>/<stack_rel>` with 0644/0755
    /// modes and loads `plugin.yaml`.
    pub fn new(stack_src: &Path, stack_rel: &str, helm: Helm) -> Sidecar {
        let plugin = load_plugin();
        let work = Tree::new();
        work.write(
            "strata.yaml",
            "# decoy above the repository root: strata must never read this\n\
             apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"{{tenant}}\"}\ncomponents: []\n",
        );
        copy_tree(
            stack_src,
            &work.path("repo").join(stack_rel),
            Some((0o644, 0o755)),
        );
        // The rest of a typical repository, shipped along by Argo CD.
        work.write("repo/README.md", "# fleet\n");
        work.write("repo/docs/index.md", "# docs\n");
        for f in ["repo/README.md", "repo/docs/index.md"] {
            set_mode(&work.path(f), 0o644);
        }
        let bin_dir = strata_bin().parent().expect("strata bin dir").to_path_buf();
        Sidecar {
            work,
            plugin,
            helm,
            bin_dir,
        }
    }

    /// The repository root (the cmp-server's extraction directory).
    pub fn repo(&self) -> PathBuf {
        self.work.path("repo")
    }

    /// The sidecar container's own environment.
    fn base_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "PATH".into(),
                format!("{}:{BASE_PATH}", self.bin_dir.display()),
            ),
            ("HOME".into(), test_home().display().to_string()),
            ("STRATA_HELM".into(), self.helm.path().display().to_string()),
        ]
    }

    /// Full environment for a command of `flow` for `app`.
    pub fn env_for(&self, app: &App, flow: Flow) -> Vec<(String, String)> {
        let mut env = self.base_env();
        let mut push = |k: &str, v: &str| env.push((k.to_string(), v.to_string()));
        push("ARGOCD_APP_NAME", &app.name);
        if flow == Flow::Generate {
            push("ARGOCD_APP_NAMESPACE", &app.namespace);
            push("ARGOCD_APP_PROJECT_NAME", PROJECT);
            push("ARGOCD_APP_REVISION", REVISION);
            push("ARGOCD_APP_REVISION_SHORT", &REVISION[..7]);
            push("ARGOCD_APP_REVISION_SHORT_8", &REVISION[..8]);
        }
        push("ARGOCD_APP_SOURCE_REPO_URL", REPO_URL);
        push("ARGOCD_APP_SOURCE_PATH", &app.source_path);
        push("ARGOCD_APP_SOURCE_TARGET_REVISION", TARGET_REVISION);
        if flow == Flow::Generate {
            push("KUBE_VERSION", &app.kube_version);
            push("KUBE_API_VERSIONS", &app.api_versions.join(","));
        }
        for (name, value) in &app.plugin_env {
            push(&format!("ARGOCD_ENV_{name}"), value);
        }
        push("ARGOCD_APP_PARAMETERS", &encode_parameters(&app.params));
        for (k, v) in param_vars(&app.params) {
            push(&k, &v);
        }
        env
    }

    pub fn app_dir(&self, app: &App) -> PathBuf {
        let dir = self.repo().join(&app.source_path);
        assert!(dir.is_dir(), "app path {} does not exist", app.source_path);
        dir
    }

    /// Runs one plugin command the way the cmp-server does.
    pub fn exec(&self, argv: &[String], app: &App, flow: Flow) -> Output {
        let env = self.env_for(app, flow);
        let cwd = self.app_dir(app);
        let path_var = &env.iter().find(|(k, _)| k == "PATH").unwrap().1;
        let program = resolve_program(&argv[0], path_var, &cwd);
        let mut cmd = Command::new(&program);
        cmd.arg0(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&cwd)
            .stdin(Stdio::null());
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(RUN_LIMIT);
        cmd.output()
            .unwrap_or_else(|e| panic!("exec {argv:?}: {e}"))
    }

    fn command(&self, pointer: &str) -> Vec<String> {
        argv_of(self.plugin.pointer(pointer).unwrap_or(&Value::Null))
            .unwrap_or_else(|| panic!("plugin.yaml has no {pointer}.command"))
    }

    /// GenerateManifest: init (if configured, must succeed) then generate.
    /// Returns generate's output.
    pub fn generate(&self, app: &App) -> Output {
        // A named plugin with discovery configured must match first, or the
        // repo-server refuses to use it.
        if let Some(matched) = self.discover(app) {
            assert!(
                matched,
                "discovery does not match app path {:?}; Argo CD would report \
                 `could not find cmp-server plugin ... supporting the given repository`",
                app.source_path
            );
        }
        if let Some(init) = argv_of(&self.plugin["spec"]["init"]) {
            let out = self.exec(&init, app, Flow::Generate);
            assert_success(&out, &format!("plugin init {init:?}"));
        }
        let argv = self.command("/spec/generate");
        self.exec(&argv, app, Flow::Generate)
    }

    /// Only the generate command, without init: for requests init would already refuse,
    /// to check that generate refuses them on its own too.
    pub fn generate_only(&self, app: &App) -> Output {
        let argv = self.command("/spec/generate");
        self.exec(&argv, app, Flow::Generate)
    }

    /// Only the init command.
    pub fn init_only(&self, app: &App) -> Option<Output> {
        let init = argv_of(&self.plugin["spec"]["init"])?;
        Some(self.exec(&init, app, Flow::Generate))
    }

    /// MatchRepository: `None` when plugin.yaml configures no discovery,
    /// else whether the plugin claims the app path. Only `find.command` is
    /// modelled (match = exit 0 and non-empty stdout after trimming one
    /// trailing newline; a failing command is an error, i.e. no match).
    pub fn discover(&self, app: &App) -> Option<bool> {
        let discover = &self.plugin["spec"]["discover"];
        if discover.is_null() {
            return None;
        }
        let argv = argv_of(&discover["find"]).unwrap_or_else(|| {
            panic!("the harness models discover.find.command only; plugin.yaml has {discover}")
        });
        let out = self.exec(&argv, app, Flow::Generate);
        let stdout = text(&out.stdout);
        let stdout = stdout.strip_suffix('\n').unwrap_or(&stdout);
        Some(out.status.success() && !stdout.is_empty())
    }

    /// GenerateManifest that must succeed; returns the parsed objects and
    /// the raw stdout.
    pub fn generate_ok(&self, app: &App) -> (Vec<Value>, Vec<u8>) {
        let out = self.generate(app);
        assert_success(&out, "plugin generate");
        let stdout = text(&out.stdout);
        let objects = parse_manifests(&stdout)
            .unwrap_or_else(|e| panic!("the repo-server would reject this output: {e}\n{stdout}"));
        assert!(!objects.is_empty(), "generate produced no objects");
        (objects, out.stdout)
    }

    /// GetParametersAnnouncement via spec.parameters.dynamic.
    pub fn parameters(&self, app: &App) -> Output {
        let argv = self.command("/spec/parameters/dynamic");
        self.exec(&argv, app, Flow::Parameters)
    }
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// exec.LookPath: a name with a slash is taken relative to the cwd,
/// otherwise every PATH entry is tried for an executable regular file.
fn resolve_program(name: &str, path_var: &str, cwd: &Path) -> PathBuf {
    if name.contains('/') {
        return cwd.join(name);
    }
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        if fs::metadata(&candidate)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        {
            return candidate;
        }
    }
    panic!("exec: {name:?}: executable file not found in $PATH ({path_var})");
}

/// The repo-server's reading of a plugin's stdout: split the stream into
/// documents, parse each with YAML 1.1 scalar rules, skip empty documents,
/// require mappings with a non-empty `kind`, flatten `items` lists.
pub fn parse_manifests(stdout: &str) -> Result<Vec<Value>, String> {
    let docs = split_stream(stdout)?;
    let mut objects = Vec::new();
    for doc in docs {
        let value = if doc.trim_start().starts_with('{') {
            serde_json::from_str::<Value>(&doc)
                .map_err(|e| format!("failed to unmarshal manifest: {e}"))?
        } else {
            let meaningful = doc
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
            if !meaningful {
                continue;
            }
            let options = serde_saphyr::options! {
                budget: None,
                legacy_octal_numbers: true,
            };
            serde_saphyr::from_str_with_options::<Value>(&doc, options)
                .map_err(|e| format!("failed to unmarshal manifest: {e}\n{doc}"))?
        };
        if value.is_null() {
            continue;
        }
        let Value::Object(map) = &value else {
            return Err(format!(
                "cannot unmarshal {value} into Go value of type map[string]interface {{}}"
            ));
        };
        if map
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("Object 'Kind' is missing in '{value}'"));
        }
        match map.get("items") {
            Some(Value::Array(items)) => {
                for item in items {
                    if !item.is_object() {
                        return Err("items member is not an object".into());
                    }
                    objects.push(item.clone());
                }
            }
            Some(Value::Null) if !map.contains_key("spec") && !map.contains_key("status") => {}
            _ => objects.push(value),
        }
    }
    Ok(objects)
}

fn split_stream(stdout: &str) -> Result<Vec<String>, String> {
    if stdout.trim_start().starts_with('{') {
        let mut docs = Vec::new();
        for value in serde_json::Deserializer::from_str(stdout).into_iter::<Value>() {
            let value = value.map_err(|e| format!("invalid JSON stream: {e}"))?;
            docs.push(value.to_string());
        }
        return Ok(docs);
    }
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in stdout.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(format!(
                    "invalid Yaml document separator: {}",
                    line.trim_end()
                ));
            }
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
        }
    }
    docs.push(current);
    Ok(docs)
}

/// Finds the single object of `kind` named `name`.
#[track_caller]
pub fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind} {name}; objects: {}",
        summary(objects)
    );
    found[0]
}

pub fn has_object(objects: &[Value], kind: &str, name: &str) -> bool {
    objects
        .iter()
        .any(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

/// `Kind/namespace/name` of every object, for messages.
pub fn summary(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn container_image(deployment: &Value) -> &str {
    deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_else(|| panic!("no container image in {deployment}"))
}
