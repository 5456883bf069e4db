//! Opt-in changes to the rendered objects: common labels and annotations, Argo CD sync waves,
//! and patches ([`patch`]). What to set is planned in [`crate::plan::post_render`]; here the
//! settings are rendered over the tenant's variables and applied to the renderer's output.
//!
//! Everything here is off unless strata.yaml asks for it, and a component with nothing to do
//! passes helm's output through byte for byte. A component with something to do has every
//! document parsed the way Argo CD's Go reader parses it, patched, and written back with YAML
//! that the same reader reads as the same values (see [`stream::emit`]), so a rewrite never
//! retypes a value (`"on"` stays a string, `0755` stays 493).

pub mod chart_meta;
pub mod patch;

use crate::plan::names;
use crate::plan::post_render::{MetadataTemplate, PostRenderPlan};
use crate::plan::{ChartPlan, ComponentPlan};
use crate::template::{TemplateError, Templater, referenced_variables};
use crate::yaml::stream;
use crate::yaml::{GoMap, GoValue, parse_go_document};
use chart_meta::ChartMeta;
use std::collections::BTreeMap;
use std::path::Path;

/// Argo CD applies lower waves first and waits for them to be healthy.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
/// Template variables set from the component's Chart.yaml.
pub const CHART_NAME_VAR: &str = "chartName";
pub const CHART_VERSION_VAR: &str = "chartVersion";

#[derive(Debug, thiserror::Error)]
pub enum PostRenderError {
    /// `context` is `strata.yaml:LINE: component "NAME" FIELD "KEY"`.
    #[error("{context}: {source}")]
    Template {
        context: String,
        #[source]
        source: Box<TemplateError>,
    },
    #[error("{context} is {value:?}, which Kubernetes refuses as a label value: {problem}")]
    LabelValue {
        context: String,
        value: String,
        problem: String,
    },
    #[error(
        "cannot read the chart name and version of {chart} for commonLabels/commonAnnotations: {message}"
    )]
    ChartMeta { chart: String, message: String },
    #[error(
        "component {component:?}: cannot set labels or annotations on document {document} of helm's output{}: {message}",
        origin.as_ref().map(|s| format!(" ({s})")).unwrap_or_default()
    )]
    HelmOutput {
        component: String,
        document: usize,
        origin: Option<String>,
        message: String,
    },
}

/// Rendering a component's post-render settings: the plan (see [`crate::plan::post_render`])
/// says what to set, this says with which values.
impl PostRenderPlan {
    /// Whether a template uses `chartName` or `chartVersion`, so Chart.yaml must be read.
    fn needs_chart(&self) -> bool {
        self.labels
            .iter()
            .chain(&self.annotations)
            .flat_map(|e| referenced_variables(&e.template))
            .any(|v| v == CHART_NAME_VAR || v == CHART_VERSION_VAR)
    }

    /// Renders the templates over the tenant's variables and the chart's name and version
    /// (empty for a component without a chart), which take precedence over tenant variables
    /// of the same name. `chart` is only called when a template needs it.
    pub fn resolve(
        &self,
        component: &str,
        templater: &Templater,
        vars: &BTreeMap<String, String>,
        chart: impl FnOnce() -> Result<Option<ChartMeta>, PostRenderError>,
    ) -> Result<PostRender, PostRenderError> {
        let mut vars = vars.clone();
        if self.needs_chart() {
            let meta = chart()?.unwrap_or_default();
            vars.insert(CHART_NAME_VAR.to_owned(), meta.name);
            vars.insert(CHART_VERSION_VAR.to_owned(), meta.version);
        }
        let context = |field: &str, entry: &MetadataTemplate| {
            format!(
                "{}: component {component:?} {field} {:?}",
                entry.at, entry.key
            )
        };
        let render = |field: &'static str, entry: &MetadataTemplate| {
            templater
                .render(&entry.template, &vars)
                .map_err(|source| PostRenderError::Template {
                    context: context(field, entry),
                    source: Box::new(source),
                })
        };
        let mut labels = Vec::new();
        for entry in &self.labels {
            let value = render("commonLabels", entry)?;
            if let Some(problem) = names::label_value_problem(&value) {
                return Err(PostRenderError::LabelValue {
                    context: context("commonLabels", entry),
                    value,
                    problem,
                });
            }
            labels.push((entry.key.clone(), value));
        }
        let mut annotations = Vec::new();
        for entry in &self.annotations {
            annotations.push((entry.key.clone(), render("commonAnnotations", entry)?));
        }
        if let Some(wave) = self.sync_wave {
            // The component's own setting is the most specific one, so it wins.
            annotations.retain(|(k, _)| k != SYNC_WAVE_ANNOTATION);
            annotations.push((SYNC_WAVE_ANNOTATION.to_owned(), wave.to_string()));
        }
        Ok(PostRender {
            labels,
            annotations,
        })
    }
}

/// The labels and annotations to set on every object of a component, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PostRender {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

impl PostRender {
    pub fn is_active(&self) -> bool {
        !self.labels.is_empty() || !self.annotations.is_empty()
    }

    /// Sets the labels and annotations on one object's `metadata`, replacing values the chart
    /// set for the same keys. Pod templates and other nested metadata are left alone: a new
    /// pod label would change a Deployment's selector match and roll every pod.
    pub fn apply(&self, object: &mut GoValue) -> Result<(), String> {
        if !self.is_active() {
            return Ok(());
        }
        let GoValue::Map(map) = object else {
            return Err("not a Kubernetes object: a document must be a mapping".into());
        };
        let metadata = mapping(map, "metadata", "metadata")?;
        for (field, entries) in [("labels", &self.labels), ("annotations", &self.annotations)] {
            if entries.is_empty() {
                continue;
            }
            let target = mapping(metadata, field, &format!("metadata.{field}"))?;
            for (key, value) in entries {
                target.insert(key.clone(), GoValue::String(value.clone()));
            }
        }
        Ok(())
    }

    /// Rewrites helm's output for one component; without settings, returns it untouched.
    pub fn rewrite_helm_output(
        &self,
        component: &str,
        output: Vec<u8>,
    ) -> Result<Vec<u8>, PostRenderError> {
        if !self.is_active() {
            return Ok(output);
        }
        let fail =
            |document: usize, origin: Option<&str>, message: String| PostRenderError::HelmOutput {
                component: component.to_owned(),
                document,
                origin: origin.map(str::to_owned),
                message,
            };
        let text = String::from_utf8(output)
            .map_err(|_| fail(0, None, "helm's output is not UTF-8".into()))?;
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        for (index, chunk) in crate::manifests::split(&text).iter().enumerate() {
            let document = index + 1;
            let mut object = parse_go_document(chunk.text)
                .map_err(|e| fail(document, chunk.source, e.to_string()))?;
            if object == GoValue::Null {
                continue;
            }
            self.apply(&mut object)
                .map_err(|message| fail(document, chunk.source, message))?;
            stream::emit(&mut out, chunk.source, &object);
        }
        Ok(out.into_bytes())
    }
}

/// The mapping under `key`, created when absent or null.
fn mapping<'a>(map: &'a mut GoMap, key: &str, shown: &str) -> Result<&'a mut GoMap, String> {
    let slot = map.entry(key, GoValue::Null);
    if *slot == GoValue::Null {
        *slot = GoValue::Map(GoMap::default());
    }
    match slot {
        GoValue::Map(inner) => Ok(inner),
        _ => Err(format!("`{shown}` is not a mapping")),
    }
}

/// Resolves a component's labels and annotations; `chart` is the directory (or archive) the
/// renderer reads, whose Chart.yaml names `chartName` and `chartVersion`.
pub fn prepare(
    component: &ComponentPlan,
    chart: &Path,
    templater: &Templater,
    vars: &BTreeMap<String, String>,
) -> Result<PostRender, PostRenderError> {
    component
        .post_render
        .resolve(&component.name, templater, vars, || {
            match &component.chart {
                ChartPlan::Manifests(_) => Ok(None),
                _ => chart_meta::read(chart, &component.chart_shown).map(Some),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{STACK_FILE, Stack};
    use crate::plan::post_render::MetadataKeyError;

    fn load(text: &str) -> Result<Stack, crate::config::ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(STACK_FILE);
        std::fs::write(&file, text).unwrap();
        Stack::load(&file, "strata.yaml".into())
    }

    const STACK: &str = "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\n";

    fn plan(text: &str) -> Result<PostRenderPlan, MetadataKeyError> {
        let stack = load(&format!("{STACK}{text}")).unwrap();
        PostRenderPlan::from_config(&stack, &stack.spec.components.value[0])
    }

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("tenant".to_owned(), "acme".to_owned())])
    }

    #[test]
    fn the_component_wins_over_the_stack_and_sync_wave_over_both() {
        let plan = plan(
            "commonLabels: {team: \"{{tenant}}\", tier: web}\n\
             commonAnnotations: {argocd.argoproj.io/sync-wave: \"5\", note: \"{{chartName}}@{{chartVersion}}\"}\n\
             components:\n  - name: db\n    chart: {path: c}\n    syncWave: -1\n    commonLabels: {tier: \"0755\"}\n",
        )
        .unwrap();
        assert!(plan.is_active());
        let post = plan
            .resolve("db", &Templater::default(), &vars(), || {
                Ok(Some(ChartMeta {
                    name: "pg".into(),
                    version: "1.2.3".into(),
                }))
            })
            .unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(post.labels, pairs(&[("team", "acme"), ("tier", "0755")]));
        assert_eq!(
            post.annotations,
            pairs(&[("note", "pg@1.2.3"), (SYNC_WAVE_ANNOTATION, "-1")])
        );
    }

    #[test]
    fn chart_yaml_is_read_only_when_a_template_needs_it() {
        let plan = plan(
            "commonLabels: {team: \"{{tenant}}\"}\ncomponents:\n  - name: a\n    chart: {path: c}\n",
        )
        .unwrap();
        let post = plan
            .resolve("a", &Templater::default(), &vars(), || {
                panic!("Chart.yaml read without need")
            })
            .unwrap();
        assert!(post.is_active());
    }

    #[test]
    fn nothing_set_is_inactive_and_leaves_helm_output_alone() {
        let plan =
            plan("components:\n  - name: a\n    chart: {path: c}\n    commonLabels: {}\n").unwrap();
        assert!(!plan.is_active());
        let post = plan
            .resolve("a", &Templater::default(), &vars(), || Ok(None))
            .unwrap();
        let helm = b"---\n# Source: c/templates/x.yaml\nkind: A   # as helm wrote it\n".to_vec();
        assert_eq!(post.rewrite_helm_output("a", helm.clone()).unwrap(), helm);
    }

    #[test]
    fn bad_keys_values_and_templates_name_the_line() {
        let err = plan(
            "commonLabels:\n  \"Bad Key\": x\ncomponents:\n  - name: a\n    chart: {path: c}\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("strata.yaml:5: commonLabels key \"Bad Key\" is not a valid"),
            "{err}"
        );
        let plan = plan(
            "components:\n  - name: a\n    chart: {path: c}\n    commonLabels:\n      team: \"{{tenant}} x\"\n",
        )
        .unwrap();
        let err = plan
            .resolve("a", &Templater::default(), &vars(), || Ok(None))
            .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "strata.yaml:8: component \"a\" commonLabels \"team\" is \"acme x\", which Kubernetes refuses"
            ),
            "{err}"
        );
        let err = plan
            .resolve("a", &Templater::default(), &BTreeMap::new(), || Ok(None))
            .unwrap_err();
        assert!(err.to_string().contains("`tenant`"), "{err}");
    }

    #[test]
    fn labels_go_on_the_object_not_on_its_pod_template() {
        let post = PostRender {
            labels: vec![("team".into(), "on".into())],
            annotations: vec![(SYNC_WAVE_ANNOTATION.into(), "1".into())],
        };
        let helm = "---\n# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: {app: d, team: old}\nspec:\n  template:\n    metadata:\n      labels: {app: d}\n---\n# Source: c/templates/empty.yaml\n---\n# Source: c/templates/s.yaml\nkind: Service\nmetadata: null\n";
        let out = post
            .rewrite_helm_output("web", helm.as_bytes().to_vec())
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "---\n# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    app: d\n    team: \"on\"\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\nspec:\n  template:\n    metadata:\n      labels:\n        app: d\n\
             ---\n# Source: c/templates/s.yaml\nkind: Service\nmetadata:\n  labels:\n    team: \"on\"\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n"
        );
        let err = post
            .rewrite_helm_output("web", b"---\n# Source: c/x.yaml\n- a\n".to_vec())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "component \"web\": cannot set labels or annotations on document 1 of helm's output (c/x.yaml): not a Kubernetes object: a document must be a mapping"
        );
        let err = post
            .rewrite_helm_output("web", b"kind: A\nmetadata: {labels: [a]}\n".to_vec())
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("`metadata.labels` is not a mapping"),
            "{err}"
        );
    }

    #[test]
    fn the_published_json_schema_agrees() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/strata.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let stack = |top: serde_json::Value, component: serde_json::Value| {
            let mut stack = serde_json::json!({
                "apiVersion": "strata/v1", "kind": "Stack",
                "tenants": {"path": "t/{{tenant}}"},
                "components": [component],
            });
            stack
                .as_object_mut()
                .unwrap()
                .extend(top.as_object().unwrap().clone());
            stack
        };
        let good = [
            stack(
                serde_json::json!({"commonLabels": {"team": "{{team}}", "app.kubernetes.io/version": 1.5},
                    "commonAnnotations": {"example.com/x": true}}),
                serde_json::json!({"name": "a", "chart": {"path": "c"}, "syncWave": -1,
                    "commonLabels": {"tier": "web"}, "commonAnnotations": {}}),
            ),
            stack(
                serde_json::json!({}),
                serde_json::json!({"name": "m", "manifests": {"path": "m/{{env}}", "template": true}}),
            ),
        ];
        for s in &good {
            assert!(validator.is_valid(s), "{s}");
        }
        let bad = [
            stack(
                serde_json::json!({}),
                serde_json::json!({"name": "a", "chart": {"path": "c"}, "manifests": {"path": "m"}}),
            ),
            stack(serde_json::json!({}), serde_json::json!({"name": "a"})),
            stack(
                serde_json::json!({}),
                serde_json::json!({"name": "a", "manifests": {"path": "m", "tempalte": true}}),
            ),
            stack(
                serde_json::json!({}),
                serde_json::json!({"name": "a", "chart": {"path": "c"}, "syncWave": "1"}),
            ),
            stack(
                serde_json::json!({"commonLabels": {"Bad Key": "x"}}),
                serde_json::json!({"name": "a", "chart": {"path": "c"}}),
            ),
        ];
        for s in &bad {
            assert!(!validator.is_valid(s), "{s}");
        }
    }

    #[test]
    fn a_component_needs_exactly_one_of_chart_and_manifests() {
        let err = load(&format!(
            "{STACK}components:\n  - name: a\n    chart: {{path: c}}\n    manifests: {{path: m}}\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "strata.yaml:5: component \"a\" needs exactly one of `chart` (a Helm chart) or `manifests` (a directory of plain YAML)"
        );
        assert!(load(&format!("{STACK}components:\n  - name: a\n")).is_err());
        let err = load(&format!(
            "{STACK}components:\n  - name: a\n    manifests: {{path: m}}\n    values: [v.yaml]\n"
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("`values` applies to a chart"),
            "{err}"
        );
        let stack = load(&format!(
            "{STACK}components:\n  - name: a\n    manifests: {{path: m, template: true}}\n    syncWave: 2\n"
        ))
        .unwrap();
        let c = &stack.spec.components.value[0];
        assert!(c.chart.is_none() && c.manifests.as_ref().unwrap().template);
        assert_eq!(c.sync_wave, Some(2));
    }
}
