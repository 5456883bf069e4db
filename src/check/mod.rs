//! `strata check`: test-driven deployment. Before a change reaches Argo CD, every selected
//! tenant is put through what would break it there or what policy forbids:
//!
//! 1. its values against each chart's `values.schema.json`, with the layer file and line of
//!    each bad value ([`schema`]);
//! 2. the render itself, through the same [`pipeline`] (and render cache) as `generate`;
//! 3. the policy rules strata.yaml turns on under `checks:` ([`spec`], [`rules`]);
//! 4. optionally, every rendered object against Kubernetes JSON schemas ([`kube`]).
//!
//! A tenant's failures never stop the other tenants; the [`report`] lists them all.

pub mod kube;
pub mod objects;
pub mod report;
pub mod rules;
pub mod schema;

use crate::budget::Budget;
use crate::context::Context;
use crate::fleet::{self, Candidate};
use crate::pipeline::{self, ComponentValues, FetchedChart, Resolved};
use crate::selector::Selection;
use crate::{Error, config::Stack};
use kube::{KubeOutcome, KubeSchemas};
use objects::ComponentSource;
use report::{CheckReport, Failure, KubeSummary, Skipped};
use rules::{ObjectRef, TenantRules};
use schema::ChartFiles;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What `strata check` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub selection: Selection,
    /// A directory of Kubernetes JSON schemas in kubeconform's layout.
    pub kube_schemas: Option<PathBuf>,
    /// How many tenants to check at once.
    pub jobs: usize,
    /// Counts the checked tenants (on a terminal).
    pub progress: crate::terminal::Progress,
}

/// Checks every selected tenant of the stack at `ctx.start_dir`. `Err` only when the stack
/// itself cannot be read or nothing is selected; everything else is a failure in the report.
pub fn run(ctx: &Context, options: &CheckOptions) -> Result<CheckReport, Error> {
    let (stack, found) = fleet::candidates(ctx, &options.selection)?;
    let kube = options
        .kube_schemas
        .as_deref()
        .map(KubeSchemas::open)
        .transpose()
        .map_err(Error::Input)?;
    // Fetch each versioned chart once before the tenants race for it; a chart that cannot be
    // fetched fails each tenant that uses it, with the same error, when it resolves its charts.
    fleet::warm_charts(ctx, &found);
    let shared = Shared {
        ctx,
        stack: &stack,
        kube: kube.as_ref(),
        charts: Mutex::new(HashMap::new()),
    };
    let phase = options.progress.phase(found.len());
    let outcomes = crate::parallel::map(options.jobs, &found, |c| {
        let outcome = shared.check_tenant(c);
        phase.step(&c.shown);
        outcome
    });
    drop(phase);

    let mut report = CheckReport {
        tenants: found.len(),
        ..CheckReport::default()
    };
    let mut kube_summary = kube.as_ref().map(|_| KubeSummary {
        dir: options
            .kube_schemas
            .as_deref()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        ..KubeSummary::default()
    });
    let mut skipped: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for outcome in outcomes {
        report.objects += outcome.objects;
        report.failures.extend(outcome.failures);
        for name in outcome.checks {
            *report.checks.entry(name.to_owned()).or_default() += 1;
        }
        if let Some(summary) = &mut kube_summary {
            summary.validated += outcome.kube_validated;
        }
        for key in outcome.kube_skipped {
            *skipped.entry(key).or_default() += 1;
        }
    }
    if let Some(summary) = &mut kube_summary {
        summary.skipped = skipped
            .into_iter()
            .map(|((kind, api_version, file), count)| Skipped {
                api_version,
                kind,
                file,
                count,
            })
            .collect();
    }
    report.kube_schemas = kube_summary;
    report.passed = report.failures.is_empty();
    Ok(report)
}

/// What every tenant's check reads: the stack, the schemas and each chart's files, loaded
/// once for the whole run.
struct Shared<'a> {
    ctx: &'a Context,
    stack: &'a Stack,
    kube: Option<&'a KubeSchemas>,
    charts: Mutex<HashMap<PathBuf, Arc<Result<ChartFiles, String>>>>,
}

/// What checking one tenant found.
#[derive(Default)]
struct TenantOutcome {
    tenant: String,
    failures: Vec<Failure>,
    objects: usize,
    checks: Vec<&'static str>,
    kube_validated: usize,
    /// (kind, apiVersion, schema file) of each object without a schema.
    kube_skipped: Vec<(String, String, String)>,
}

impl TenantOutcome {
    fn failure(
        &self,
        component: Option<&str>,
        rule: &str,
        object: Option<&ObjectRef>,
        message: String,
    ) -> Failure {
        Failure {
            tenant: self.tenant.clone(),
            component: component.map(str::to_owned),
            rule: rule.to_owned(),
            object: object.cloned(),
            message,
            set_by: None,
        }
    }

    fn fail(
        &mut self,
        component: Option<&str>,
        rule: &str,
        object: Option<&ObjectRef>,
        message: String,
    ) {
        let failure = self.failure(component, rule, object, message);
        self.failures.push(failure);
    }
}

impl Shared<'_> {
    fn chart(&self, dir: &Path, shown: &str) -> Arc<Result<ChartFiles, String>> {
        if let Some(found) = self.charts.lock().expect("chart lock").get(dir) {
            return found.clone();
        }
        // Loaded outside the lock: compiling a schema is the slow part, and a duplicate load by
        // two tenants at once is harmless.
        let loaded = Arc::new(ChartFiles::load(dir, shown).map_err(|e| e.to_string()));
        self.charts
            .lock()
            .expect("chart lock")
            .entry(dir.to_path_buf())
            .or_insert(loaded)
            .clone()
    }

    fn check_tenant(&self, candidate: &Candidate) -> TenantOutcome {
        let mut out = TenantOutcome {
            tenant: candidate.shown.clone(),
            ..TenantOutcome::default()
        };
        let resolved = match &candidate.resolved {
            Ok(resolved) => resolved,
            Err(e) => {
                out.fail(None, report::RESOLVE, None, e.to_string());
                return out;
            }
        };
        let ctx = fleet::tenant_context(self.ctx, &candidate.dir);
        let charts = match pipeline::resolve_charts(resolved, &ctx) {
            Ok(charts) => charts,
            Err(e) => {
                out.fail(None, report::RENDER, None, e.to_string());
                return out;
            }
        };
        let Some((sources, values)) = self.check_values(&mut out, resolved, &charts, &ctx) else {
            // A broken layer fails the render with the same message; once is enough.
            return out;
        };
        out.checks.push(report::RENDER);
        // The render starts from the charts and values checked above: nothing is merged twice.
        let ctx = pipeline::tenant_context(resolved, &ctx);
        let budget = Budget::starting_now(pipeline::render_budget(resolved, &ctx));
        let rendered = pipeline::prepare_fetched(resolved, &ctx, charts, values)
            .and_then(|prepared| pipeline::render_prepared(resolved, &prepared, &ctx, budget));
        match rendered {
            Ok(stream) => self.check_objects(&mut out, resolved, &stream, &sources),
            Err(e) => out.fail(None, report::RENDER, None, e.to_string()),
        }
        out
    }

    /// Checks each component's values against its chart's schema. Returns how each
    /// component's rendered documents name their source and the merged values, or `None`
    /// when a layer cannot be read.
    fn check_values(
        &self,
        out: &mut TenantOutcome,
        resolved: &Resolved,
        charts: &[FetchedChart],
        ctx: &Context,
    ) -> Option<(Vec<ComponentSource>, Vec<ComponentValues>)> {
        let mut sources = Vec::new();
        let mut merged = Vec::new();
        let mut values_ok = true;
        let mut schema_ran = false;
        for (component, chart) in resolved.components.iter().zip(charts) {
            let files = self.chart(&chart.dir, &component.chart_shown);
            sources.push(ComponentSource {
                chart_name: files.as_ref().as_ref().ok().and_then(|f| f.name.clone()),
                dir: component.chart_shown.clone(),
            });
            let name = Some(component.name.as_str());
            let values = match pipeline::merge_component(resolved, component, ctx) {
                Ok(values) => values,
                Err(e) => {
                    values_ok = false;
                    out.fail(name, report::VALUES, None, e.to_string());
                    continue;
                }
            };
            let files = match files.as_ref() {
                Ok(files) => files,
                Err(e) => {
                    out.fail(name, report::VALUES_SCHEMA, None, e.clone());
                    merged.push(values);
                    continue;
                }
            };
            schema_ran |= files.schema.is_some();
            for problem in files.validate(&values.merged) {
                let failure = Failure {
                    set_by: problem.set_by.as_ref().map(ToString::to_string),
                    ..out.failure(name, report::VALUES_SCHEMA, None, problem.to_string())
                };
                out.failures.push(failure);
            }
            merged.push(values);
        }
        if schema_ran {
            out.checks.push(report::VALUES_SCHEMA);
        }
        values_ok.then_some((sources, merged))
    }

    /// Applies the tenant's rules and the Kubernetes schemas to every rendered object.
    fn check_objects(
        &self,
        out: &mut TenantOutcome,
        resolved: &Resolved,
        stream: &[u8],
        sources: &[ComponentSource],
    ) {
        let (objects, bad) = objects::split(&String::from_utf8_lossy(stream), sources);
        let component_name = |i: usize| resolved.components.get(i).map(|c| c.name.as_str());
        for doc in bad {
            let source = doc.source.map(|s| format!(" ({s})")).unwrap_or_default();
            let message = format!("a rendered document{source} is not YAML: {}", doc.error);
            out.fail(component_name(doc.component), report::RENDER, None, message);
        }
        out.objects = objects.len();

        let rules =
            TenantRules::for_tenant(&self.stack.spec.checks.rules, &resolved.tenant.values());
        out.checks.extend(rules.names());
        if self.kube.is_some() {
            out.checks.push(report::KUBE_SCHEMA);
        }
        for object in &objects {
            let component = &resolved.components[object.component];
            let name = Some(component.name.as_str());
            let reference = ObjectRef::of(&object.value);
            for violation in rules.check(&object.value, &component.namespace) {
                out.fail(name, violation.rule, Some(&reference), violation.message);
            }
            let Some(kube) = self.kube else { continue };
            match kube.validate(&object.value) {
                KubeOutcome::Valid => out.kube_validated += 1,
                KubeOutcome::NoSchema(file) => out.kube_skipped.push((
                    reference.kind.clone(),
                    reference.api_version.clone(),
                    file,
                )),
                KubeOutcome::Invalid(errors) => {
                    out.kube_validated += 1;
                    for message in errors {
                        out.fail(name, report::KUBE_SCHEMA, Some(&reference), message);
                    }
                }
                KubeOutcome::Unusable(message) => {
                    out.fail(name, report::KUBE_SCHEMA, Some(&reference), message);
                }
            }
        }
    }
}

/// Adds what `rollout.guards` says about the change in `diff` to the report: one failure per
/// broken guard, under the change itself rather than a tenant, since a guard counts tenants.
pub fn add_rollout_failures(
    report: &mut CheckReport,
    diff: &crate::diff::DiffReport,
    broken: Vec<crate::rollout::GuardFailure>,
) {
    report
        .checks
        .insert(report::ROLLOUT_GUARD.to_owned(), diff.compared);
    for f in broken {
        report.failures.push(Failure {
            tenant: format!("change since {}", diff.base.name),
            component: None,
            rule: report::ROLLOUT_GUARD.to_owned(),
            object: None,
            message: f.message,
            set_by: None,
        });
    }
    report.passed = report.failures.is_empty();
}
