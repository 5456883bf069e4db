//! Finds the tenant of an invocation and its variables.
//!
//! Precedence, lowest first: stack `vars`, the tenant directory's pattern, the tenant file's
//! `vars`, then the context (`ARGOCD_ENV_*`, plugin parameters, `--var`). A variable bound by the
//! tenant directory is the tenant's identity: a higher source that contradicts it is an error,
//! not an override, so a stray parameter can never render one tenant with another's files.

use crate::Error;
use crate::config::{Stack, TenantFileSpec};
use crate::context::{Context, Var, VarSource};
use crate::paths::{RepoRoot, is_safe_segment};
use crate::template::{Templater, referenced_variables};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Chart pins of a tenant file: component → (constraint, file:line).
pub type ChartPins = BTreeMap<String, (String, String)>;

/// A resolved tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Absolute path of the tenant directory.
    pub dir: PathBuf,
    /// The tenant directory relative to the repository root.
    pub shown_dir: String,
    pub vars: BTreeMap<String, Var>,
    /// Chart pins from the tenant file.
    pub chart_pins: ChartPins,
}

impl Tenant {
    /// The variables as plain text, for templates.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }
}

/// One segment of `tenants.path`: literal text, or text around exactly one variable.
#[derive(Debug)]
enum Segment {
    Literal(String),
    Var {
        prefix: String,
        name: String,
        suffix: String,
    },
}

fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    for raw in pattern.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let names = referenced_variables(raw);
        match names.as_slice() {
            [] => segments.push(Segment::Literal(raw.to_owned())),
            [name] => {
                let open = raw.find("{{").expect("has a variable");
                let close = raw.rfind("}}").expect("has a variable") + 2;
                segments.push(Segment::Var {
                    prefix: raw[..open].to_owned(),
                    name: name.clone(),
                    suffix: raw[close..].to_owned(),
                });
            }
            _ => {
                return Err(format!(
                    "segment {raw:?} uses more than one variable; give each variable its own directory level"
                ));
            }
        }
    }
    if raw_has_parent(pattern) {
        return Err("must stay below the stack directory (no '..')".into());
    }
    Ok(segments)
}

fn raw_has_parent(pattern: &str) -> bool {
    Path::new(pattern)
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::RootDir))
}

/// Matches a directory (relative to the stack) against the pattern, binding its variables.
fn match_dir(segments: &[Segment], rel: &[String]) -> Option<Vec<(String, String)>> {
    if segments.len() != rel.len() {
        return None;
    }
    let mut bound: Vec<(String, String)> = Vec::new();
    for (segment, part) in segments.iter().zip(rel) {
        match segment {
            Segment::Literal(text) if text == part => {}
            Segment::Literal(_) => return None,
            Segment::Var {
                prefix,
                name,
                suffix,
            } => {
                let value = part
                    .strip_prefix(prefix.as_str())?
                    .strip_suffix(suffix.as_str())?;
                if value.is_empty() {
                    return None;
                }
                if let Some((_, earlier)) = bound.iter().find(|(n, _)| n == name) {
                    if earlier != value {
                        return None;
                    }
                } else {
                    bound.push((name.clone(), value.to_owned()));
                }
            }
        }
    }
    Some(bound)
}

/// Resolves the tenant for `ctx` in `stack`.
pub fn resolve(
    stack: &Stack,
    root: &RepoRoot,
    ctx: &Context,
    templater: &Templater,
) -> Result<Tenant, Error> {
    let pattern = &stack.spec.tenants.path;
    let segments = stack_pattern(stack)?;
    let mut vars = stack_vars(stack);
    let (stack_dir, start, rel) = start_in_stack(stack, ctx)?;
    let path_source = VarSource::TenantPath(pattern.value.clone());
    let dir = if let Some(bound) = match_dir(&segments, &rel) {
        for (name, value) in bound {
            vars.insert(
                name,
                Var {
                    value,
                    source: path_source.clone(),
                },
            );
        }
        start.clone()
    } else if rel.is_empty() {
        let dir = dir_from_variables(stack, root, ctx, templater, &stack_dir, &vars)?;
        // The variables that named the directory are now bound by it.
        let known = with_context_vars(&vars, ctx);
        for segment in &segments {
            if let Segment::Var { name, .. } = segment
                && let Some(var) = known.get(name)
            {
                vars.insert(
                    name.clone(),
                    Var {
                        value: var.value.clone(),
                        source: path_source.clone(),
                    },
                );
            }
        }
        dir
    } else {
        return Err(Error::Tenant(format!(
            "{} is not a tenant directory: it does not match tenants.path {:?} of {}. Run strata in a tenant directory, or at the stack root with the tenant's variables set",
            root.display(&start),
            pattern.value,
            stack.file_name
        )));
    };
    let shown_dir = root.display(&dir);
    let (mut higher, chart_pins) = read_tenant_file(stack, root, &dir)?;
    higher.extend(ctx.vars.iter().cloned());
    apply_higher_vars(&mut vars, &path_source, higher, &shown_dir)?;
    Ok(Tenant {
        dir,
        shown_dir,
        vars,
        chart_pins,
    })
}

/// The stack's own `vars`, the lowest layer of every tenant's variables.
fn stack_vars(stack: &Stack) -> BTreeMap<String, Var> {
    stack
        .spec
        .vars
        .iter()
        .map(|(name, value)| {
            let var = Var {
                value: value.0.clone(),
                source: VarSource::Stack(stack.file_name.clone()),
            };
            (name.clone(), var)
        })
        .collect()
}

/// The stack directory and the start directory (both canonical), and the start's path
/// below the stack as segments.
fn start_in_stack(stack: &Stack, ctx: &Context) -> Result<(PathBuf, PathBuf, Vec<String>), Error> {
    let stack_dir = stack
        .dir
        .canonicalize()
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", stack.dir.display())))?;
    let start = ctx
        .start_dir
        .canonicalize()
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", ctx.start_dir.display())))?;
    let rel: Vec<String> = start
        .strip_prefix(&stack_dir)
        .map_err(|_| {
            Error::Input(format!(
                "{} is not inside the stack {}",
                start.display(),
                stack.file_name
            ))
        })?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok((stack_dir, start, rel))
}

/// `vars` with the context's variables on top.
fn with_context_vars(vars: &BTreeMap<String, Var>, ctx: &Context) -> BTreeMap<String, Var> {
    let mut known = vars.clone();
    for (name, var) in &ctx.vars {
        known.insert(name.clone(), var.clone());
    }
    known
}

/// At the stack root, the variables name the tenant: `tenants.path` rendered over them must
/// be an existing directory.
fn dir_from_variables(
    stack: &Stack,
    root: &RepoRoot,
    ctx: &Context,
    templater: &Templater,
    stack_dir: &Path,
    vars: &BTreeMap<String, Var>,
) -> Result<PathBuf, Error> {
    let pattern = &stack.spec.tenants.path;
    let known = with_context_vars(vars, ctx);
    check_path_variables(&pattern.value, &known)?;
    let plain = known
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let rendered = templater
        .render(&pattern.value, &plain)
        .map_err(|source| Error::Template {
            context: format!(
                "{}:{}: cannot find the tenant from the stack root",
                stack.file_name,
                pattern.referenced.line()
            ),
            source,
        })?;
    let dir = root.join(stack_dir, &rendered, "tenant directory")?;
    if !dir.is_dir() {
        return Err(Error::Tenant(format!(
            "tenant directory {} does not exist (tenants.path {:?} in {})",
            root.display(&dir),
            pattern.value,
            stack.file_name
        )));
    }
    Ok(dir)
}

/// The tenant file's variables (above the directory's) and chart pins (component →
/// constraint and file:line); nothing when the stack has no tenant file or this tenant none.
fn read_tenant_file(
    stack: &Stack,
    root: &RepoRoot,
    dir: &Path,
) -> Result<(Vec<(String, Var)>, ChartPins), Error> {
    let mut vars = Vec::new();
    let mut chart_pins = BTreeMap::new();
    let Some(file) = &stack.spec.tenants.file else {
        return Ok((vars, chart_pins));
    };
    let path = root.join(dir, file, "tenants.file")?;
    if !path.is_file() {
        return Ok((vars, chart_pins));
    }
    let shown = root.display(&path);
    let spec = TenantFileSpec::load(&path, &shown)?;
    for (component, pin) in spec.chart {
        let line = pin.version.referenced.line();
        if !stack
            .spec
            .components
            .value
            .iter()
            .any(|c| c.name.value == component)
        {
            return Err(Error::Tenant(format!(
                "{shown}:{line}: chart pin for component {component:?}, which {} does not have",
                stack.file_name
            )));
        }
        if let Err(e) = crate::semver::Constraint::parse(&pin.version.value) {
            return Err(Error::Tenant(format!(
                "{shown}:{line}: chart pin for {component:?}: {e}"
            )));
        }
        chart_pins.insert(component, (pin.version.value, format!("{shown}:{line}")));
    }
    for (name, value) in spec.vars {
        let var = Var {
            value: value.0,
            source: VarSource::TenantFile(shown.clone()),
        };
        vars.push((name, var));
    }
    Ok((vars, chart_pins))
}

/// Sets the variables of higher sources (tenant file, then the context) over `vars`; one
/// that contradicts a variable the tenant directory binds is an error, not an override.
fn apply_higher_vars(
    vars: &mut BTreeMap<String, Var>,
    path_source: &VarSource,
    higher: Vec<(String, Var)>,
    shown_dir: &str,
) -> Result<(), Error> {
    let bound_by_path: BTreeMap<String, String> = vars
        .iter()
        .filter(|(_, v)| v.source == *path_source)
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    for (name, var) in higher {
        if let Some(bound) = bound_by_path.get(&name)
            && *bound != var.value
        {
            return Err(Error::Tenant(format!(
                "variable `{name}` is {} for tenant directory {shown_dir}, but {} sets it to {}; remove that setting or use the other tenant's directory",
                crate::quote::quote(bound),
                var.source,
                crate::quote::quote(&var.value)
            )));
        }
        vars.insert(name, var);
    }
    Ok(())
}

/// Refuses variables that a path template uses when their value is not one plain path segment.
pub fn check_path_variables(template: &str, vars: &BTreeMap<String, Var>) -> Result<(), Error> {
    for name in referenced_variables(template) {
        if let Some(var) = vars.get(&name)
            && !is_safe_segment(&var.value)
        {
            return Err(Error::Input(format!(
                "variable `{name}` = {} (from {}) cannot be used in the path {template:?}: a path variable must be one directory name, without '/', '..' or NUL",
                crate::quote::quote(&var.value),
                var.source
            )));
        }
    }
    Ok(())
}

/// The variables a tenant directory binds through `tenants.path`, without reading any file.
///
/// Fleet commands use it to tell whether a selector already rules out a tenant that cannot be
/// resolved (say, a broken tenant file), so one broken tenant does not poison every selection.
/// `None` when `dir` is not a tenant directory of the stack.
pub fn path_vars(stack: &Stack, dir: &Path) -> Option<BTreeMap<String, String>> {
    let segments = parse_pattern(&stack.spec.tenants.path.value).ok()?;
    let rel: Vec<String> = dir
        .strip_prefix(&stack.dir)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match_dir(&segments, &rel).map(|bound| bound.into_iter().collect())
}

/// The stack's `tenants.path`, parsed; an error names strata.yaml and the line.
fn stack_pattern(stack: &Stack) -> Result<Vec<Segment>, Error> {
    let pattern = &stack.spec.tenants.path;
    parse_pattern(&pattern.value).map_err(|m| {
        Error::Tenant(format!(
            "{}:{}: tenants.path {:?} {m}",
            stack.file_name,
            pattern.referenced.line(),
            pattern.value
        ))
    })
}

/// Every tenant directory of the stack: the directories that match `tenants.path`, sorted.
pub fn list_tenant_dirs(stack: &Stack) -> Result<Vec<PathBuf>, Error> {
    let segments = stack_pattern(stack)?;
    let mut level = vec![stack.dir.clone()];
    for segment in &segments {
        let mut next = Vec::new();
        for dir in &level {
            match segment {
                Segment::Literal(name) => {
                    let candidate = dir.join(name);
                    if candidate.is_dir() {
                        next.push(candidate);
                    }
                }
                Segment::Var { prefix, suffix, .. } => {
                    // One level, links not followed; an unreadable directory holds no tenant.
                    let entries = walkdir::WalkDir::new(dir).min_depth(1).max_depth(1);
                    for entry in entries.into_iter().filter_map(Result::ok) {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let matches = name.len() > prefix.len() + suffix.len()
                            && name.starts_with(prefix.as_str())
                            && name.ends_with(suffix.as_str())
                            && !name.starts_with('.');
                        // Symlinked directories are skipped: they could point anywhere.
                        if matches && entry.file_type().is_dir() {
                            next.push(entry.into_path());
                        }
                    }
                }
            }
        }
        level = next;
    }
    level.sort();
    Ok(level)
}

/// Sets the tenant's `wave` variable from `rollout.waves`. A tenant that no wave, or more than
/// one, selects is an error: a change rolled out wave by wave would skip it or move it twice.
/// It is part of resolving the tenant, so the render pipeline needs nothing from [`crate::rollout`].
pub fn assign_wave(stack: &Stack, tenant: &mut Tenant) -> Result<(), Error> {
    let Some(spec) = &stack.spec.rollout else {
        return Ok(());
    };
    if spec.waves.is_empty() {
        return Ok(());
    }
    if let Some(var) = tenant.vars.get(crate::config::rollout::WAVE_VAR) {
        return Err(Error::Tenant(format!(
            "tenant {}: variable `wave` is set by {} but {} rollout.waves defines it; rename the variable",
            tenant.shown_dir, var.source, stack.file_name
        )));
    }
    let matching: Vec<&crate::config::rollout::WaveSpec> = spec
        .waves
        .iter()
        .filter(|w| w.when.matches(&tenant.vars))
        .collect();
    match matching[..] {
        [wave] => {
            tenant.vars.insert(
                crate::config::rollout::WAVE_VAR.to_owned(),
                Var {
                    value: wave.name.value.clone(),
                    source: VarSource::Stack(format!(
                        "{}:{} rollout.waves",
                        stack.file_name,
                        wave.name.referenced.line()
                    )),
                },
            );
            Ok(())
        }
        [] => Err(Error::Tenant(format!(
            "tenant {} is in no wave of {} rollout.waves; every tenant must be in exactly one: widen a wave's `when` or add a wave",
            tenant.shown_dir, stack.file_name
        ))),
        _ => Err(Error::Tenant(format!(
            "tenant {} is in several waves of {} rollout.waves ({}); every tenant must be in exactly one: narrow their `when`",
            tenant.shown_dir,
            stack.file_name,
            matching
                .iter()
                .map(|w| format!("{} at line {}", w.name.value, w.name.referenced.line()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_directories_against_the_pattern() {
        let segs = parse_pattern("customers/{{env}}/t-{{tenant}}").unwrap();
        let rel = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            match_dir(&segs, &rel("customers/prod/t-acme")).unwrap(),
            vec![
                ("env".to_string(), "prod".to_string()),
                ("tenant".to_string(), "acme".to_string())
            ]
        );
        assert!(match_dir(&segs, &rel("customers/prod/acme")).is_none());
        assert!(match_dir(&segs, &rel("other/prod/t-acme")).is_none());
        assert!(parse_pattern("a/{{x}}{{y}}").is_err());
        assert!(parse_pattern("../{{x}}").is_err());
    }

    #[test]
    fn tenant_discovery_skips_links_hidden_and_plain_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("strata.yaml"),
            "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: charts/app}\n",
        )
        .unwrap();
        for tenant in ["globex", "acme", ".hidden"] {
            std::fs::create_dir_all(root.join("t").join(tenant)).unwrap();
        }
        std::fs::write(root.join("t/notes"), "").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("t/linked")).unwrap();
        let stack = Stack::load(&root.join("strata.yaml"), "strata.yaml".into()).unwrap();
        let found = list_tenant_dirs(&stack).unwrap();
        assert_eq!(found, vec![root.join("t/acme"), root.join("t/globex")]);
    }
}
