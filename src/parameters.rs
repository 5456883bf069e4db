//! The dynamic parameter announcement Argo CD shows in its UI (argocd-cmp.md §4.1).
//!
//! The parameters flow gets only four build variables (no namespace, no cluster facts), so the
//! announcement is built from the stack and tenant alone. Announced values are display hints:
//! Argo CD never sends them back to `generate`.

use crate::Error;
use crate::context::{Context, Var, VarSource};
use crate::context::{VALUES_PARAM, VALUES_YAML_PARAM};
use crate::pipeline;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub name: String,
    pub title: String,
    pub tooltip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
}

/// Builds the announcement. A stack that cannot be read is an error; a tenant that cannot be
/// resolved still gets the stack's variables, so the UI can be used to fix the parameters.
pub fn announce(ctx: &Context) -> Result<Vec<Announcement>, Error> {
    let vars: BTreeMap<String, Var> = match pipeline::resolve(ctx) {
        Ok(resolved) => resolved.tenant.vars,
        Err(e) => {
            let (_, stack) = pipeline::load_stack(ctx)?;
            tracing::warn!("announcing stack variables only: {e}");
            let mut vars: BTreeMap<String, Var> = stack
                .spec
                .vars
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Var {
                            value: v.0.clone(),
                            source: VarSource::Stack(stack.file_name.clone()),
                        },
                    )
                })
                .collect();
            vars.extend(ctx.vars.iter().cloned());
            vars
        }
    };
    let mut out: Vec<Announcement> = vars
        .into_iter()
        .map(|(name, var)| Announcement {
            title: name.clone(),
            tooltip: format!(
                "strata variable `{name}`, now {:?} from {}",
                var.value, var.source
            ),
            name,
            collection_type: None,
            string: Some(var.value),
            map: None,
        })
        .collect();
    out.push(Announcement {
        name: VALUES_PARAM.into(),
        title: "Values".into(),
        tooltip: "Helm values above every layer file; dotted keys nest (image.tag)".into(),
        collection_type: Some("map".into()),
        string: None,
        map: Some(ctx.parameter_values.map.clone().unwrap_or_default()),
    });
    out.push(Announcement {
        name: VALUES_YAML_PARAM.into(),
        title: "Values (YAML)".into(),
        tooltip: "A YAML document of Helm values above every layer file, below `values`".into(),
        collection_type: None,
        string: Some(ctx.parameter_values.yaml.clone().unwrap_or_default()),
        map: None,
    });
    Ok(out)
}
