//! What each component of a tenant will render: its chart, release, namespace and layer files.

use crate::Error;
use crate::argocd::release_name_from_app;
use crate::config::{ComponentSpec, Stack};
use crate::context::Context;
use crate::paths::RepoRoot;
use crate::template::Templater;
use crate::tenant::{Tenant, check_path_variables};
use std::path::PathBuf;

/// A layer file of a component, after templating.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// Repository-relative path, as shown in provenance.
    pub shown: String,
    pub path: PathBuf,
    pub optional: bool,
    /// Where strata.yaml declares it, for "missing layer" messages.
    pub declared_at: String,
}

/// One chart render of a tenant.
#[derive(Debug, Clone)]
pub struct ComponentPlan {
    pub name: String,
    pub chart: PathBuf,
    pub chart_shown: String,
    pub release: String,
    pub namespace: String,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub layers: Vec<LayerFile>,
}

/// Plans every component of the stack for the tenant, in declaration order.
pub fn plan_components(
    stack: &Stack,
    root: &RepoRoot,
    tenant: &Tenant,
    ctx: &Context,
    templater: &Templater,
) -> Result<Vec<ComponentPlan>, Error> {
    stack
        .spec
        .components
        .value
        .iter()
        .map(|c| plan_component(stack, root, tenant, ctx, templater, c))
        .collect()
}

fn plan_component(
    stack: &Stack,
    root: &RepoRoot,
    tenant: &Tenant,
    ctx: &Context,
    templater: &Templater,
    spec: &ComponentSpec,
) -> Result<ComponentPlan, Error> {
    let vars = tenant.values();
    let name = spec.name.value.clone();
    let at = |line: u64| format!("{}:{line}", stack.file_name);
    let render = |template: &str, line: u64, what: &str| {
        templater
            .render(template, &vars)
            .map_err(|source| Error::Template {
                context: format!("{}: component {name:?} {what}", at(line)),
                source,
            })
    };

    let chart_template = &spec.chart.path;
    check_path_variables(&chart_template.value, &tenant.vars)?;
    let chart_rel = render(
        &chart_template.value,
        chart_template.referenced.line(),
        "chart.path",
    )?;
    let chart = root.join(&stack.dir, &chart_rel, "chart path")?;
    let chart_shown = root.display(&chart);
    if !chart.exists() {
        return Err(Error::Input(format!(
            "{}: component {name:?}: chart {chart_shown} does not exist; fix chart.path",
            at(chart_template.referenced.line())
        )));
    }

    let line = spec.name.referenced.line();
    let release = match &spec.release_name {
        Some(t) => render(t, line, "releaseName")?,
        None => match &ctx.app_name {
            Some(app) => release_name_from_app(app).to_owned(),
            None => default_from_tenant(tenant, &at(line), &name, "releaseName")?,
        },
    };
    check_dns_name(&release, 53, true, &at(line), &name, "release name")?;
    let namespace = match &spec.namespace {
        Some(t) => render(t, line, "namespace")?,
        None => match &ctx.app_namespace {
            Some(ns) => ns.clone(),
            None => default_from_tenant(tenant, &at(line), &name, "namespace")?,
        },
    };
    check_dns_name(&namespace, 63, false, &at(line), &name, "namespace")?;

    let mut layers = Vec::new();
    for entry in &spec.values {
        let (template, optional) = match entry.value.strip_suffix('?') {
            Some(t) => (t, true),
            None => (entry.value.as_str(), false),
        };
        check_path_variables(template, &tenant.vars)?;
        let rel = render(template, entry.referenced.line(), "values layer")?;
        let path = root.join(&stack.dir, &rel, "values layer")?;
        layers.push(LayerFile {
            shown: root.display(&path),
            path,
            optional,
            declared_at: at(entry.referenced.line()),
        });
    }

    Ok(ComponentPlan {
        name,
        chart,
        chart_shown,
        release,
        namespace,
        include_crds: spec.include_crds,
        skip_tests: spec.skip_tests,
        layers,
    })
}

fn default_from_tenant(
    tenant: &Tenant,
    at: &str,
    component: &str,
    field: &str,
) -> Result<String, Error> {
    tenant.vars.get("tenant").map(|v| v.value.clone()).ok_or_else(|| {
        Error::Input(format!(
            "{at}: component {component:?} has no {field}, Argo CD gave none, and there is no `tenant` variable to default to; set {field} in strata.yaml"
        ))
    })
}

/// Release names and namespaces are DNS names; checking them here also keeps untrusted text
/// from reaching helm's command line as something that looks like a flag.
fn check_dns_name(
    value: &str,
    max: usize,
    dots: bool,
    at: &str,
    component: &str,
    what: &str,
) -> Result<(), Error> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let ok = value.len() <= max
        && if dots {
            value.split('.').all(label_ok)
        } else {
            label_ok(value)
        };
    if ok {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{at}: component {component:?}: {what} {value:?} is not a valid Kubernetes name (lower-case letters, digits and '-', at most {max} characters)"
        )))
    }
}
