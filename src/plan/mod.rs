//! What each component of a tenant will render: its chart, release, namespace and layer files.

pub mod names;
pub mod post_render;

pub use crate::chart::source::{ChartSource, RemoteChart, SourceKind};

use crate::Error;
use crate::config::{ComponentSpec, Stack};
use crate::context::{Context, release_name_from_app};
use crate::paths::RepoRoot;
use crate::template::Templater;
use crate::tenant::{Tenant, check_path_variables};
use post_render::PostRenderPlan;
use std::path::PathBuf;

/// The file-name suffix that marks a values layer as a template (rendered over the tenant's
/// variables by [`crate::values::template`] before it is merged).
pub const TEMPLATE_SUFFIX: &str = ".tmpl";

/// Whether a layer path names a template layer.
pub fn is_template_path(path: &str) -> bool {
    path.ends_with(TEMPLATE_SUFFIX)
}

/// A layer file of a component, after templating.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// Repository-relative path, as shown in provenance.
    pub shown: String,
    pub path: PathBuf,
    pub optional: bool,
    /// Where strata.yaml declares it, for "missing layer" messages.
    pub declared_at: String,
    /// The tenant's variables when the layer is a template (`*.tmpl`), see
    /// [`crate::values::template`].
    pub template_vars: Option<std::sync::Arc<std::collections::BTreeMap<String, String>>>,
}

/// A planned `manifests` component: a directory of plain YAML that strata renders itself.
#[derive(Debug, Clone)]
pub struct ManifestsPlan {
    /// Inside the repository (checked when planned).
    pub dir: PathBuf,
    /// Render each file with Handlebars over the tenant's variables first.
    pub template: bool,
}

/// Where a component's chart comes from, after templating and pin selection.
#[derive(Debug, Clone)]
pub enum ChartPlan {
    /// A directory or archive in the repository.
    Local(PathBuf),
    /// A versioned chart, resolved through the lock and the cache before rendering.
    Remote(RemoteChart),
    /// No chart: a directory of plain YAML that strata renders itself, without helm.
    Manifests(ManifestsPlan),
}

/// The most specific pin for a component: the tenant file, then `pins` by the number of
/// matching `when` keys (a component-specific pin beats a general one), then the component's
/// own `chart.version`. At equal specificity the later pin in strata.yaml wins.
fn select_constraint(stack: &Stack, tenant: &Tenant, spec: &ComponentSpec) -> (String, String) {
    let name = &spec.name.value;
    if let Some((version, at)) = tenant.chart_pins.get(name) {
        return (version.clone(), format!("{at} (tenant pin)"));
    }
    let mut best: Option<((usize, bool), &crate::config::PinSpec)> = None;
    for pin in &stack.spec.pins {
        if pin.component.as_ref().is_some_and(|c| c != name) {
            continue;
        }
        if !pin.when.matches(&tenant.vars) {
            continue;
        }
        let rank = (pin.when.len(), pin.component.is_some());
        if best.as_ref().is_none_or(|(r, _)| rank >= *r) {
            best = Some((rank, pin));
        }
    }
    if let Some((_, pin)) = best {
        let when = pin.when.to_string();
        let when = if when.is_empty() {
            "every tenant".to_owned()
        } else {
            format!("when {when}")
        };
        return (
            pin.version.value.clone(),
            format!(
                "{}:{} (pin {when})",
                stack.file_name,
                pin.version.referenced.line()
            ),
        );
    }
    match spec.chart.as_ref().and_then(|c| c.version.as_ref()) {
        Some(v) => (
            v.value.clone(),
            format!(
                "{}:{} (component chart.version)",
                stack.file_name,
                v.referenced.line()
            ),
        ),
        None => (
            "*".to_owned(),
            format!("{} (no version: newest stable)", stack.file_name),
        ),
    }
}

/// One chart render of a tenant.
#[derive(Debug, Clone)]
pub struct ComponentPlan {
    pub name: String,
    pub chart: ChartPlan,
    pub chart_shown: String,
    pub release: String,
    pub namespace: String,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub layers: Vec<LayerFile>,
    /// Labels, annotations and sync wave to set on the rendered objects; off when empty.
    pub post_render: PostRenderPlan,
    /// `chart.plainHttp`: also how a chart in the repository reaches the OCI registries of
    /// its dependencies.
    pub plain_http: bool,
    /// Patch files applied to the rendered objects, in order.
    pub patches: Vec<LayerFile>,
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

/// What planning one component needs at hand: the stack, tenant and the way to render a
/// templated field into a message-ready error.
struct ComponentPlanner<'a> {
    stack: &'a Stack,
    root: &'a RepoRoot,
    tenant: &'a Tenant,
    templater: &'a Templater,
    vars: std::collections::BTreeMap<String, String>,
    spec: &'a ComponentSpec,
}

impl ComponentPlanner<'_> {
    fn name(&self) -> &str {
        &self.spec.name.value
    }

    fn at(&self, line: u64) -> String {
        format!("{}:{line}", self.stack.file_name)
    }

    /// Renders one templated field of the component over the tenant's variables.
    fn render(&self, template: &str, line: u64, what: &str) -> Result<String, Error> {
        self.templater
            .render(template, &self.vars)
            .map_err(|source| Error::Template {
                context: format!("{}: component {:?} {what}", self.at(line), self.name()),
                source,
            })
    }

    /// A templated path (layer or patch file), a trailing `?` marking it optional, resolved
    /// inside the repository.
    fn layer_file(
        &self,
        entry: &serde_saphyr::Spanned<String>,
        what: &str,
        template_vars: Option<&std::sync::Arc<std::collections::BTreeMap<String, String>>>,
    ) -> Result<LayerFile, Error> {
        let (template, optional) = match entry.value.strip_suffix('?') {
            Some(t) => (t, true),
            None => (entry.value.as_str(), false),
        };
        check_path_variables(template, &self.tenant.vars)?;
        let rel = self.render(template, entry.referenced.line(), what)?;
        let path = self.root.join(&self.stack.dir, &rel, what)?;
        let template_vars = template_vars.filter(|_| is_template_path(&rel)).cloned();
        Ok(LayerFile {
            shown: self.root.display(&path),
            path,
            optional,
            declared_at: self.at(entry.referenced.line()),
            template_vars,
        })
    }

    /// A `manifests` component: no release and no namespace, since the files are rendered as
    /// they are and Argo CD puts namespaced objects without a namespace into the
    /// Application's destination namespace.
    fn manifests(
        &self,
        manifests: &crate::config::ManifestsSpec,
        post_render: PostRenderPlan,
        patches: Vec<LayerFile>,
    ) -> Result<ComponentPlan, Error> {
        let template = &manifests.path;
        check_path_variables(&template.value, &self.tenant.vars)?;
        let line = template.referenced.line();
        let rel = self.render(&template.value, line, "manifests.path")?;
        let dir = self.root.join(&self.stack.dir, &rel, "manifests path")?;
        let shown = self.root.display(&dir);
        if !dir.is_dir() {
            return Err(Error::Input(format!(
                "{}: component {:?}: manifests directory {shown} does not exist; fix manifests.path",
                self.at(line),
                self.name()
            )));
        }
        Ok(ComponentPlan {
            name: self.name().to_owned(),
            chart: ChartPlan::Manifests(ManifestsPlan {
                dir,
                template: manifests.template,
            }),
            chart_shown: shown,
            release: String::new(),
            namespace: String::new(),
            include_crds: false,
            skip_tests: false,
            layers: Vec::new(),
            post_render,
            plain_http: false,
            patches,
        })
    }

    /// The chart: a path in the repository, or a versioned chart and the constraint chosen
    /// for this tenant. Returns it with how it is shown in messages.
    fn chart(&self, chart_spec: &crate::config::ChartSpec) -> Result<(ChartPlan, String), Error> {
        if let Some(template) = &chart_spec.path {
            check_path_variables(&template.value, &self.tenant.vars)?;
            let line = template.referenced.line();
            let rel = self.render(&template.value, line, "chart.path")?;
            let path = self.root.join(&self.stack.dir, &rel, "chart path")?;
            let shown = self.root.display(&path);
            if !path.exists() {
                return Err(Error::Input(format!(
                    "{}: component {:?}: chart {shown} does not exist; fix chart.path",
                    self.at(line),
                    self.name()
                )));
            }
            return Ok((ChartPlan::Local(path), shown));
        }
        let repo = chart_spec
            .repository
            .as_ref()
            .expect("validated: path or repository");
        let url = self.render(&repo.value, repo.referenced.line(), "chart.repository")?;
        let chart_name = chart_spec
            .name
            .clone()
            .expect("validated: repository has a name");
        let source = ChartSource::parse(&url, chart_spec.plain_http).map_err(|m| {
            Error::Input(format!(
                "{}: component {:?}: {m}",
                self.at(repo.referenced.line()),
                self.name()
            ))
        })?;
        let (constraint, chosen_by) = select_constraint(self.stack, self.tenant, self.spec);
        let shown = format!("{}/{chart_name} {constraint}", source.url);
        let remote = RemoteChart {
            source,
            name: chart_name,
            constraint,
            chosen_by,
        };
        Ok((ChartPlan::Remote(remote), shown))
    }

    /// The release name and namespace: strata.yaml's templates, else Argo CD's application,
    /// else the `tenant` variable; both checked as Kubernetes names.
    fn release_and_namespace(&self, ctx: &Context) -> Result<(String, String), Error> {
        let (spec, name) = (self.spec, self.name());
        let line = spec.name.referenced.line();
        let at = self.at(line);
        let release = match &spec.release_name {
            Some(t) => self.render(t, line, "releaseName")?,
            None => match &ctx.app_name {
                Some(app) => release_name_from_app(app).to_owned(),
                None => default_from_tenant(self.tenant, &at, name, "releaseName")?,
            },
        };
        check_dns_name(&release, 53, true, &at, name, "release name")?;
        let namespace = match &spec.namespace {
            Some(t) => self.render(t, line, "namespace")?,
            None => match &ctx.app_namespace {
                Some(ns) => ns.clone(),
                None => default_from_tenant(self.tenant, &at, name, "namespace")?,
            },
        };
        check_dns_name(&namespace, 63, false, &at, name, "namespace")?;
        Ok((release, namespace))
    }
}

fn plan_component(
    stack: &Stack,
    root: &RepoRoot,
    tenant: &Tenant,
    ctx: &Context,
    templater: &Templater,
    spec: &ComponentSpec,
) -> Result<ComponentPlan, Error> {
    let planner = ComponentPlanner {
        stack,
        root,
        tenant,
        templater,
        vars: tenant.values(),
        spec,
    };
    let post_render = PostRenderPlan::from_config(stack, spec).map_err(Box::new)?;
    let patches = spec
        .patches
        .iter()
        .map(|entry| planner.layer_file(entry, "patch file", None))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(manifests) = &spec.manifests {
        return planner.manifests(manifests, post_render, patches);
    }
    let chart_spec = spec.chart.as_ref().expect("validated: chart or manifests");
    let (chart, chart_shown) = planner.chart(chart_spec)?;
    let (release, namespace) = planner.release_and_namespace(ctx)?;
    let shared_vars = std::sync::Arc::new(planner.vars.clone());
    let layers = spec
        .values
        .iter()
        .map(|entry| planner.layer_file(entry, "values layer", Some(&shared_vars)))
        .collect::<Result<_, _>>()?;
    Ok(ComponentPlan {
        name: spec.name.value.clone(),
        chart,
        chart_shown,
        release,
        namespace,
        include_crds: spec.include_crds,
        skip_tests: spec.skip_tests,
        layers,
        post_render,
        plain_http: chart_spec.plain_http,
        patches,
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
