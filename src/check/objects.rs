//! A tenant's rendered stream as objects, each attributed to the component that rendered it.
//!
//! The render is one stream with the components joined in declaration order. helm starts
//! every document with `# Source: <chart name>/…` (a manifests component with the file's
//! path), so walking the documents in order and moving forward to the next component whose
//! source matches recovers each object's component without rendering the components apart.

use crate::yaml::{YamlError, parse_manifest_stream};
use serde_json::Value;

/// One Kubernetes object of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedObject {
    /// Index of the component (declaration order) that rendered it.
    pub component: usize,
    pub value: Value,
}

/// A document of the stream that is not YAML, with the component it came from.
#[derive(Debug, Clone)]
pub struct BadDocument {
    pub component: usize,
    pub source: Option<String>,
    pub error: YamlError,
}

/// How a component's documents name their source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentSource {
    /// The chart's name, the first segment of helm's source paths; `None` when unknown.
    pub chart_name: Option<String>,
    /// The component's chart or manifests directory as shown (repository-relative), the
    /// prefix of a manifests component's source paths.
    pub dir: String,
}

impl ComponentSource {
    fn matches(&self, source: &str) -> bool {
        let by_chart =
            self.chart_name.is_some() && source.split('/').next() == self.chart_name.as_deref();
        let by_dir = !self.dir.is_empty()
            && source
                .strip_prefix(self.dir.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
        by_chart || by_dir
    }
}

/// Splits `stream` into objects, `sources[i]` telling component `i`'s documents apart.
pub fn split(stream: &str, sources: &[ComponentSource]) -> (Vec<RenderedObject>, Vec<BadDocument>) {
    let mut objects = Vec::new();
    let mut bad = Vec::new();
    let mut current = 0;
    for chunk in crate::manifests::split(stream) {
        let document = chunk.text;
        let source = chunk.source.map(str::to_owned);
        if let Some(source) = &source
            && let Some(offset) = sources[current..].iter().position(|c| c.matches(source))
        {
            current += offset;
        }
        match parse_manifest_stream(document) {
            Ok(values) => {
                objects.extend(values.into_iter().filter(Value::is_object).map(|value| {
                    RenderedObject {
                        component: current,
                        value,
                    }
                }))
            }
            Err(error) => bad.push(BadDocument {
                component: current,
                source,
                error,
            }),
        }
    }
    (objects, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(name: &str) -> ComponentSource {
        ComponentSource {
            chart_name: Some(name.into()),
            dir: format!("stack/charts/{name}"),
        }
    }

    #[test]
    fn objects_follow_their_charts_in_order() {
        let stream = "---\n# Source: web/templates/a.yaml\nkind: A\n---\n# Source: web/templates/b.yaml\nkind: B\n\
                      ---\n# Source: worker/templates/c.yaml\nkind: C\n---\n# Source: web/templates/d.yaml\nkind: D\n";
        let names = [chart("web"), chart("worker"), chart("web")];
        let (objects, bad) = split(stream, &names);
        assert!(bad.is_empty());
        let got: Vec<(usize, &str)> = objects
            .iter()
            .map(|o| (o.component, o.value["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(got, [(0, "A"), (0, "B"), (1, "C"), (2, "D")]);
    }

    #[test]
    fn manifests_components_match_by_directory() {
        let stream = "---\n# Source: web/templates/a.yaml\nkind: A\n\
                      ---\n# Source: stack/base/ns.yaml\nkind: Namespace\n\
                      ---\n# Source: stack/base-extra/x.yaml\nkind: X\n";
        let manifests = |dir: &str| ComponentSource {
            chart_name: None,
            dir: dir.into(),
        };
        let sources = [
            chart("web"),
            manifests("stack/base"),
            manifests("stack/base-extra"),
        ];
        let (objects, _) = split(stream, &sources);
        let got: Vec<usize> = objects.iter().map(|o| o.component).collect();
        assert_eq!(got, [0, 1, 2]);
    }

    #[test]
    fn empty_documents_are_skipped_and_bad_ones_reported() {
        let stream = "---\n# Source: web/templates/empty.yaml\n---\n# Source: web/templates/x.yaml\nkind: [\n";
        let (objects, bad) = split(stream, &[chart("web")]);
        assert!(objects.is_empty());
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].source.as_deref(), Some("web/templates/x.yaml"));
    }
}
