//! What `strata values` and `strata explain` print for a tenant: the values shaped per
//! component, the explanation of each leaf under a key with the chart choice and the patches
//! that act after helm, and the comparison of two tenants. The command line only picks the
//! format; the content is decided here so that every front end shows the same thing.

use super::{Difference, compare, compare_text, computed_values, explained};
use crate::Error;
use crate::context::Context;
use crate::pipeline::{self, Resolved};
use crate::plan::ComponentPlan;
use crate::values::explain::{self, Explanation, join_key_path};
use crate::values::split_key_path;
use std::collections::BTreeMap;

/// The components a command looks at: all of them, or the one `--component` names. A name the
/// stack does not have is an error listing the names it has.
pub fn select_components<'a>(
    resolved: &'a Resolved,
    only: Option<&str>,
) -> Result<Vec<&'a ComponentPlan>, Error> {
    let all: Vec<_> = resolved.components.iter().collect();
    let Some(name) = only else {
        return Ok(all);
    };
    match all.iter().find(|c| c.name == name) {
        Some(c) => Ok(vec![*c]),
        None => Err(Error::Input(format!(
            "{} has no component {name:?}; components: {}",
            resolved.stack.file_name,
            all.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A tenant's values as `strata values` prints them: the merged layers (or, with `computed`,
/// what helm's templates see), as one document for one component and keyed by component
/// name for several, so the common single-component stack reads like a values file.
pub fn values(
    ctx: &Context,
    only: Option<&str>,
    computed: bool,
) -> Result<serde_json::Value, Error> {
    let resolved = pipeline::resolve(ctx)?;
    let wanted = select_components(&resolved, only)?;
    let mut per_component = BTreeMap::new();
    if computed {
        let names: Vec<&str> = wanted.iter().map(|c| c.name.as_str()).collect();
        for (name, values) in computed_values(&resolved, ctx)? {
            if let (true, Some(values)) = (names.contains(&name.as_str()), values) {
                per_component.insert(name, values);
            }
        }
    } else {
        for component in wanted {
            let values = pipeline::component_values(component, ctx)?;
            per_component.insert(component.name.clone(), values.merged.to_json());
        }
    }
    Ok(if per_component.len() == 1 {
        per_component.into_values().next().expect("one entry")
    } else {
        serde_json::Value::Object(per_component.into_iter().collect())
    })
}

/// `strata explain` for one tenant.
pub struct ExplainReport {
    /// Per component, every leaf under the key with the layer that set it; the JSON format
    /// prints exactly this.
    pub found: BTreeMap<String, Vec<Explanation>>,
    /// Per component, the comment lines above its explanation: the chart and how its version
    /// was chosen, and the patches applied after helm.
    headers: BTreeMap<String, String>,
    /// Whether the tenant has several components, so each block is named.
    several: bool,
}

impl ExplainReport {
    /// The text format: per component, its comment lines and one line per leaf.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (name, list) in &self.found {
            if self.several {
                out.push_str(&format!("# component {name}\n"));
            }
            if let Some(header) = self.headers.get(name) {
                out.push_str(header);
            }
            out.push_str(&explain::to_text(list));
        }
        out
    }
}

/// Explains every leaf under `key` (everything when `None`) of the selected components. A key
/// that neither the chart nor any layer sets is an error, so a typo is not an empty answer.
pub fn explain_tenant(
    ctx: &Context,
    key: Option<&str>,
    only: Option<&str>,
) -> Result<ExplainReport, Error> {
    let resolved = pipeline::resolve(ctx)?;
    let path = key.map(split_key_path).unwrap_or_default();
    let components = select_components(&resolved, only)?;
    let choices = pipeline::chart_choices(&resolved, ctx)?;
    let mut found = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for values in explained(&resolved, ctx)? {
        if !components.iter().any(|c| c.name == values.component) {
            continue;
        }
        let Some(list) = explain::explain(&values.merged, &values.layers, &path) else {
            continue;
        };
        let index = resolved
            .components
            .iter()
            .position(|c| c.name == values.component);
        let mut header = match (index.map(|i| &choices[i]), &values.chart) {
            (Some(Some(choice)), _) => {
                let version = match &choice.version {
                    Ok(v) => v.clone(),
                    Err(e) => format!("not locked: {e}"),
                };
                format!(
                    "# chart {} {:?} → {version}, chosen by {}\n",
                    choice.chart, choice.constraint, choice.chosen_by
                )
            }
            (_, Some(chart)) => format!("# chart {chart}\n"),
            (_, None) => String::new(),
        };
        for p in &values.patches {
            header.push_str(&format!(
                "# patched after helm by {} ({} on {})\n",
                p.at,
                p.kind_name(),
                p.target
            ));
        }
        headers.insert(values.component.clone(), header);
        found.insert(values.component, list);
    }
    if found.is_empty() && !path.is_empty() {
        return Err(Error::Input(format!(
            "neither the chart nor any layer of tenant {} sets {}; `strata values --all {}` lists what is set",
            resolved.tenant.shown_dir,
            join_key_path(&path),
            resolved.tenant.shown_dir
        )));
    }
    Ok(ExplainReport {
        found,
        headers,
        several: components.len() > 1,
    })
}

/// `strata explain --compare`: every value that differs between two tenants.
pub struct Comparison {
    /// The two tenants as the user knows them (their directories relative to the stack).
    pub a: String,
    pub b: String,
    pub differences: Vec<Difference>,
    /// The key the comparison was limited to, for the "same values" sentence.
    key: Option<String>,
    /// Whether a side has several components, so each difference names its component.
    several: bool,
}

impl Comparison {
    /// The text format: one block per differing key, or one sentence when nothing differs.
    pub fn text(&self) -> String {
        if self.differences.is_empty() {
            let under = self
                .key
                .as_ref()
                .map(|k| format!(" under {k}"))
                .unwrap_or_default();
            return format!("{} and {} have the same values{under}\n", self.a, self.b);
        }
        compare_text(&self.differences, &self.a, &self.b, self.several)
    }
}

/// Compares the values of the tenants of two contexts under `key`, optionally of one
/// component only.
pub fn compare_tenants(
    sides: [&Context; 2],
    key: Option<&str>,
    only: Option<&str>,
) -> Result<Comparison, Error> {
    let path = key.map(split_key_path).unwrap_or_default();
    let mut shown = Vec::new();
    let mut values = Vec::new();
    for ctx in sides {
        let resolved = pipeline::resolve(ctx)?;
        let mut explained = explained(&resolved, ctx)?;
        if let Some(only) = only {
            select_components(&resolved, Some(only))?;
            explained.retain(|e| e.component == only);
        }
        shown.push(resolved.tenant.shown_dir.clone());
        values.push(explained);
    }
    let several = values.iter().any(|e| e.len() > 1);
    let differences = compare(&values[0], &values[1], &path);
    let [a, b]: [String; 2] = shown.try_into().expect("two sides");
    Ok(Comparison {
        a,
        b,
        differences,
        key: key.map(str::to_string),
        several,
    })
}
