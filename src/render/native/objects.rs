//! Helm's built-in objects as templates see them: `.Release`, `.Chart`, `.Capabilities`,
//! `.Files`, `.Template`, `.Values`, `.Subcharts`.
//!
//! Their shapes follow Helm's Go types because templates can observe them: `.Release` and
//! `.Template` are plain maps, `.Chart` is a struct in Helm 3 and a map of Go field names in
//! Helm 4, `.Capabilities` is a struct whose `APIVersions` has a `Has` method, and `.Files`
//! is a map of bytes with methods.

use super::chart::{Dependency, Maintainer, Metadata};
use super::glob::Glob;
use gotemplate::{Error, Object, Value};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// The Kubernetes version templates see, with each Helm's normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    pub version: String,
    /// What Helm 4 prints for `{{ .Capabilities.KubeVersion }}` (suffixes stripped).
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

/// A `--kube-version` value Helm refuses.
#[derive(Debug, thiserror::Error)]
#[error("invalid kube version {0:?}: expected a version such as 1.31 or v1.31.2")]
pub struct BadKubeVersion(pub String);

impl KubeVersion {
    /// The default of a helm build (`v1.32.0` for 3.17.3, `v1.35.0` for 4.1.4).
    pub fn default_for(major: u64, minor: u64) -> KubeVersion {
        let version = format!("v{major}.{minor}.0");
        KubeVersion {
            normalized: version.clone(),
            version,
            major: major.to_string(),
            minor: minor.to_string(),
        }
    }

    /// Helm 3: Masterminds semver, printed back in full (`1.29` is `v1.29.0`).
    pub fn parse_helm3(text: &str) -> Result<KubeVersion, BadKubeVersion> {
        let v = crate::semver::Version::parse(text).map_err(|_| BadKubeVersion(text.into()))?;
        let mut version = format!("v{}.{}.{}", v.major(), v.minor(), v.patch());
        if !v.prerelease().is_empty() {
            let pre: Vec<String> = v.prerelease().iter().map(|i| i.to_string()).collect();
            version.push('-');
            version.push_str(&pre.join("."));
        }
        if !v.build().is_empty() {
            version.push('+');
            version.push_str(v.build());
        }
        Ok(KubeVersion {
            normalized: version.clone(),
            version,
            major: v.major().to_string(),
            minor: v.minor().to_string(),
        })
    }

    /// Helm 4: Kubernetes' generic version parser; the text is kept (with a `v`), the
    /// normalised form keeps only the numeric components.
    pub fn parse_helm4(text: &str) -> Result<KubeVersion, BadKubeVersion> {
        let bad = || BadKubeVersion(text.into());
        let body = text.trim_start_matches('v');
        let digits_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let numeric = &body[..digits_end];
        let parts: Vec<&str> = numeric.split('.').collect();
        if parts.len() < 2
            || parts
                .iter()
                .any(|p| p.is_empty() || p.len() > 1 && p.starts_with('0'))
        {
            return Err(bad());
        }
        let rest = &body[digits_end..];
        if !rest.is_empty() && !rest.starts_with(['-', '+']) {
            return Err(bad());
        }
        let nums: Vec<u32> = parts
            .iter()
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let version = if text.starts_with('v') {
            text.to_string()
        } else {
            format!("v{text}")
        };
        let normalized = format!(
            "v{}",
            nums.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        );
        Ok(KubeVersion {
            version,
            normalized,
            major: nums[0].to_string(),
            minor: nums[1].to_string(),
        })
    }
}

/// Which helm's objects to imitate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmBuild {
    pub helm4: bool,
    pub version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub go_version: String,
    /// Helm 4 only.
    pub kube_client_version: String,
}

/// `.Capabilities`, built once per render.
#[derive(Debug)]
pub struct Capabilities {
    pub kube: KubeVersion,
    pub api_versions: Vec<String>,
    pub helm: Arc<HelmBuild>,
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn get(&self, name: &str, _args: &[Value]) -> Option<Result<Value, Error>> {
        Some(Ok(match name {
            "KubeVersion" => Value::Object(Rc::new(KubeVersionObject {
                kube: self.kube.clone(),
                helm4: self.helm.helm4,
            })),
            "APIVersions" => Value::Object(Rc::new(VersionSet(self.api_versions.clone()))),
            "HelmVersion" => Value::Object(Rc::new(BuildInfo(self.helm.clone()))),
            _ => return None,
        }))
    }
    fn print(&self) -> String {
        let kube = KubeVersionObject {
            kube: self.kube.clone(),
            helm4: self.helm.helm4,
        };
        format!(
            "{{{} {} {}}}",
            kube.struct_text(),
            VersionSet(self.api_versions.clone()).print(),
            BuildInfo(self.helm.clone()).print()
        )
    }
}

struct KubeVersionObject {
    kube: KubeVersion,
    helm4: bool,
}

impl KubeVersionObject {
    fn struct_text(&self) -> String {
        let k = &self.kube;
        if self.helm4 {
            format!("{{{} {} {} {}}}", k.version, k.normalized, k.major, k.minor)
        } else {
            format!("{{{} {} {}}}", k.version, k.major, k.minor)
        }
    }
}

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn get(&self, name: &str, _args: &[Value]) -> Option<Result<Value, Error>> {
        let k = &self.kube;
        Some(Ok(Value::string(match name {
            "Version" | "GitVersion" => k.version.as_str(),
            "Major" => k.major.as_str(),
            "Minor" => k.minor.as_str(),
            "String" => self.printed(),
            _ => return None,
        })))
    }
    fn print(&self) -> String {
        self.printed().to_string()
    }
    fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert("Version".into(), Value::string(self.kube.version.as_str()));
        m.insert("Major".into(), Value::string(self.kube.major.as_str()));
        m.insert("Minor".into(), Value::string(self.kube.minor.as_str()));
        Value::map(m)
    }
}

impl KubeVersionObject {
    fn printed(&self) -> &str {
        if self.helm4 {
            &self.kube.normalized
        } else {
            &self.kube.version
        }
    }
}

/// `.Capabilities.APIVersions`: a list with a `Has` method.
struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, Error>> {
        match name {
            "Has" => Some(match args {
                [Value::String(s)] => Ok(Value::Bool(self.0.iter().any(|v| **v == **s))),
                _ => Err(Error::new(
                    "wrong number or type of args for Has: want string",
                )),
            }),
            _ => None,
        }
    }
    fn print(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn to_value(&self) -> Value {
        Value::list(self.0.iter().map(|s| Value::string(s.as_str())).collect())
    }
}

/// `.Capabilities.HelmVersion`.
struct BuildInfo(Arc<HelmBuild>);

impl Object for BuildInfo {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn get(&self, name: &str, _args: &[Value]) -> Option<Result<Value, Error>> {
        let h = &self.0;
        Some(Ok(Value::string(match name {
            "Version" => h.version.as_str(),
            "GitCommit" => h.git_commit.as_str(),
            "GitTreeState" => h.git_tree_state.as_str(),
            "GoVersion" => h.go_version.as_str(),
            "KubeClientVersion" if h.helm4 => h.kube_client_version.as_str(),
            _ => return None,
        })))
    }
    fn print(&self) -> String {
        let h = &self.0;
        let mut text = format!(
            "{{{} {} {} {}",
            h.version, h.git_commit, h.git_tree_state, h.go_version
        );
        if h.helm4 {
            text.push(' ');
            text.push_str(&h.kube_client_version);
        }
        text.push('}');
        text
    }
    fn to_value(&self) -> Value {
        let h = &self.0;
        let mut m = BTreeMap::new();
        m.insert("version".into(), Value::string(h.version.as_str()));
        m.insert("git_commit".into(), Value::string(h.git_commit.as_str()));
        m.insert(
            "git_tree_state".into(),
            Value::string(h.git_tree_state.as_str()),
        );
        m.insert("go_version".into(), Value::string(h.go_version.as_str()));
        Value::map(m)
    }
}

/// `.Release` for `helm template`: a first install.
pub fn release(name: &str, namespace: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Name".into(), Value::string(name));
    m.insert("Namespace".into(), Value::string(namespace));
    m.insert("IsUpgrade".into(), Value::Bool(false));
    m.insert("IsInstall".into(), Value::Bool(true));
    m.insert("Revision".into(), Value::Int(1));
    m.insert("Service".into(), Value::string("Helm"));
    Value::map(m)
}

/// `.Template` of one file.
pub fn template(name: &str, base_path: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Name".into(), Value::string(name));
    m.insert("BasePath".into(), Value::string(base_path));
    Value::map(m)
}

/// `.Values` and every value read from YAML or JSON: numbers are float64.
pub fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::string(s.as_str()),
        serde_json::Value::Array(items) => Value::list(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => {
            Value::map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

fn strings(items: &[String]) -> Value {
    Value::list(items.iter().map(|s| Value::string(s.as_str())).collect())
}

/// Chart.yaml's annotations; a missing map is Go's nil map, which prints, ranges and answers
/// `hasKey` as an empty one.
fn annotations(a: &Option<BTreeMap<String, String>>) -> Value {
    match a {
        None => Value::empty_map(),
        Some(m) => Value::map(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::string(v.as_str())))
                .collect(),
        ),
    }
}

fn maintainer_map(m: &Maintainer) -> Value {
    let mut out = BTreeMap::new();
    out.insert("Name".into(), Value::string(m.name.as_str()));
    out.insert("Email".into(), Value::string(m.email.as_str()));
    out.insert("URL".into(), Value::string(m.url.as_str()));
    Value::map(out)
}

fn dependency_map(d: &Dependency) -> Value {
    let mut out = BTreeMap::new();
    out.insert("Name".into(), Value::string(d.name.as_str()));
    out.insert("Version".into(), Value::string(d.version.as_str()));
    out.insert("Repository".into(), Value::string(d.repository.as_str()));
    out.insert("Condition".into(), Value::string(d.condition.as_str()));
    out.insert("Tags".into(), strings(&d.tags));
    out.insert("Enabled".into(), Value::Bool(d.enabled));
    out.insert(
        "ImportValues".into(),
        Value::list(d.import_values.iter().map(from_json).collect()),
    );
    out.insert("Alias".into(), Value::string(d.alias.as_str()));
    Value::map(out)
}

/// The metadata as Go field names (Helm 4's `.Chart`, and Helm 3's struct fields).
fn metadata_fields(meta: &Metadata, is_root: bool) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    let s = |v: &str| Value::string(v);
    m.insert("Name".into(), s(&meta.name));
    m.insert("Home".into(), s(&meta.home));
    m.insert("Sources".into(), strings(&meta.sources));
    m.insert("Version".into(), s(&meta.version));
    m.insert("Description".into(), s(&meta.description));
    m.insert("Keywords".into(), strings(&meta.keywords));
    m.insert(
        "Maintainers".into(),
        Value::list(meta.maintainers.iter().map(maintainer_map).collect()),
    );
    m.insert("Icon".into(), s(&meta.icon));
    m.insert("APIVersion".into(), s(&meta.api_version));
    m.insert("Condition".into(), s(&meta.condition));
    m.insert("Tags".into(), s(&meta.tags));
    m.insert("AppVersion".into(), s(&meta.app_version));
    m.insert("Deprecated".into(), Value::Bool(meta.deprecated));
    m.insert("Annotations".into(), annotations(&meta.annotations));
    m.insert("KubeVersion".into(), s(&meta.kube_version));
    m.insert(
        "Dependencies".into(),
        Value::list(meta.dependencies.iter().map(dependency_map).collect()),
    );
    m.insert("Type".into(), s(&meta.chart_type));
    m.insert("IsRoot".into(), Value::Bool(is_root));
    m
}

/// `.Chart`: a map in Helm 4, a struct in Helm 3.
pub fn chart(meta: &Metadata, is_root: bool, helm4: bool) -> Value {
    let fields = metadata_fields(meta, is_root);
    if helm4 {
        Value::map(fields)
    } else {
        Value::Object(Rc::new(ChartStruct {
            meta: meta.clone(),
            fields,
        }))
    }
}

/// Helm 3's `.Chart`: `chart.Metadata` embedded in a struct with `IsRoot`.
struct ChartStruct {
    meta: Metadata,
    fields: BTreeMap<String, Value>,
}

/// Go's `%v` of a list of strings.
fn print_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

impl Object for ChartStruct {
    fn type_name(&self) -> &str {
        "struct { *chart.Metadata; IsRoot bool }"
    }
    fn get(&self, name: &str, _args: &[Value]) -> Option<Result<Value, Error>> {
        self.fields.get(name).cloned().map(Ok)
    }
    fn print(&self) -> String {
        let m = &self.meta;
        let annotations = match &m.annotations {
            None => "map[]".to_string(),
            Some(a) => format!(
                "map[{}]",
                a.iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let pointers = |n: usize| print_list(&vec!["0xc000000000".to_string(); n]);
        format!(
            "{{{{{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}}} {}}}",
            m.name,
            m.home,
            print_list(&m.sources),
            m.version,
            m.description,
            print_list(&m.keywords),
            pointers(m.maintainers.len()),
            m.icon,
            m.api_version,
            m.condition,
            m.tags,
            m.app_version,
            m.deprecated,
            annotations,
            m.kube_version,
            pointers(m.dependencies.len()),
            m.chart_type,
            self.fields.get("IsRoot").is_some_and(Value::truth),
        )
    }
    fn to_value(&self) -> Value {
        // `toJson .Chart` in Helm 3: json tags, empty fields left out.
        let m = &self.meta;
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                out.insert(k.to_string(), Value::string(v));
            }
        };
        put("name", &m.name);
        put("home", &m.home);
        put("version", &m.version);
        put("description", &m.description);
        put("icon", &m.icon);
        put("apiVersion", &m.api_version);
        put("condition", &m.condition);
        put("tags", &m.tags);
        put("appVersion", &m.app_version);
        put("kubeVersion", &m.kube_version);
        put("type", &m.chart_type);
        if !m.sources.is_empty() {
            out.insert("sources".into(), strings(&m.sources));
        }
        if !m.keywords.is_empty() {
            out.insert("keywords".into(), strings(&m.keywords));
        }
        if m.deprecated {
            out.insert("deprecated".into(), Value::Bool(true));
        }
        if let Some(a) = &m.annotations
            && !a.is_empty()
        {
            out.insert("annotations".into(), annotations(&m.annotations));
        }
        out.insert(
            "IsRoot".into(),
            self.fields
                .get("IsRoot")
                .cloned()
                .unwrap_or(Value::Bool(false)),
        );
        Value::map(out)
    }
}

/// `.Files`: the chart's files other than templates, values and Chart.yaml.
pub struct Files {
    pub files: Arc<BTreeMap<String, Vec<u8>>>,
    /// When set, only these names (the result of `.Files.Glob`).
    pub subset: Option<Rc<Vec<String>>>,
    /// Helm's toYaml, for `AsConfig` and `AsSecrets`.
    pub to_yaml: Rc<dyn Fn(&Value) -> String>,
}

impl Files {
    fn names(&self) -> Vec<&str> {
        match &self.subset {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => self.files.keys().map(String::as_str).collect(),
        }
    }

    fn data(&self, name: &str) -> Option<&[u8]> {
        if let Some(names) = &self.subset
            && !names.iter().any(|n| n == name)
        {
            return None;
        }
        self.files.get(name).map(Vec::as_slice)
    }

    fn as_map(&self, encode: impl Fn(&[u8]) -> String) -> String {
        let names = self.names();
        let mut m = BTreeMap::new();
        for name in names {
            let base = name.rsplit('/').next().unwrap_or(name);
            let data = self.files.get(name).map(Vec::as_slice).unwrap_or_default();
            m.insert(base.to_string(), Value::string(encode(data)));
        }
        (self.to_yaml)(&Value::map(m))
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn one_string<'a>(method: &str, args: &'a [Value]) -> Result<&'a str, Error> {
    match args {
        [Value::String(s)] => Ok(s),
        _ => Err(Error::new(format!(
            "wrong number or type of args for {method}: want 1 string"
        ))),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, Error>> {
        let result = match name {
            "Get" => one_string(name, args)
                .map(|path| Value::string(self.data(path).map(text).unwrap_or_default())),
            "GetBytes" => one_string(name, args).map(|path| {
                Value::list(
                    self.data(path)
                        .unwrap_or_default()
                        .iter()
                        .map(|b| Value::Int(i64::from(*b)))
                        .collect(),
                )
            }),
            "Glob" => one_string(name, args).and_then(|pattern| {
                // Helm matches everything when the pattern does not compile.
                let glob = Glob::compile(pattern)
                    .or_else(|_| Glob::compile("**"))
                    .map_err(Error::new)?;
                let names = self
                    .names()
                    .into_iter()
                    .filter(|n| glob.matches(n))
                    .map(str::to_string)
                    .collect();
                Ok(Value::Object(Rc::new(Files {
                    files: self.files.clone(),
                    subset: Some(Rc::new(names)),
                    to_yaml: self.to_yaml.clone(),
                })))
            }),
            "Lines" => one_string(name, args).and_then(|path| match self.data(path) {
                None => Ok(Value::list(Vec::new())),
                // Helm indexes the last byte without checking: an empty file panics.
                Some([]) => Err(Error::new("runtime error: index out of range [-1]")),
                Some(data) => {
                    let s = text(data);
                    let s = s.strip_suffix('\n').unwrap_or(&s);
                    Ok(Value::list(s.split('\n').map(Value::string).collect()))
                }
            }),
            "AsConfig" => Ok(Value::string(self.as_map(text))),
            "AsSecrets" => Ok(Value::string(self.as_map(|d| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(d)
            }))),
            _ => return None,
        };
        Some(result)
    }
    fn print(&self) -> String {
        let names = self.names();
        let entries: Vec<String> = names
            .iter()
            .map(|n| {
                let bytes: Vec<String> = self
                    .files
                    .get(*n)
                    .map(|d| d.iter().map(u8::to_string).collect())
                    .unwrap_or_default();
                format!("{n}:[{}]", bytes.join(" "))
            })
            .collect();
        format!("map[{}]", entries.join(" "))
    }
    /// A map of path to bytes (Go's `map[string][]byte`), which `range` walks in path order.
    fn to_value(&self) -> Value {
        Value::map(
            self.names()
                .into_iter()
                .map(|n| {
                    let bytes = self.files.get(n).map(Vec::as_slice).unwrap_or_default();
                    let list = bytes.iter().map(|b| Value::Int(i64::from(*b))).collect();
                    (n.to_string(), Value::list(list))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_normalise_per_helm() {
        let k3 = KubeVersion::parse_helm3("1.29").unwrap();
        assert_eq!((k3.version.as_str(), k3.minor.as_str()), ("v1.29.0", "29"));
        let k4 = KubeVersion::parse_helm4("1.29").unwrap();
        assert_eq!(
            (k4.version.as_str(), k4.normalized.as_str()),
            ("v1.29", "v1.29")
        );
        let k4 = KubeVersion::parse_helm4("v1.29.3-gke.100").unwrap();
        assert_eq!(k4.version, "v1.29.3-gke.100");
        assert_eq!(k4.normalized, "v1.29.3");
        let k3 = KubeVersion::parse_helm3("v1.29.3-gke.100").unwrap();
        assert_eq!(k3.version, "v1.29.3-gke.100");
        assert!(KubeVersion::parse_helm4("1").is_err());
    }
}
