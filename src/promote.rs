//! `strata promote`: makes the tenants of one selection (say env=prod) use exactly the chart
//! version, and archive digest, that another selection (env=preprod) uses today.
//!
//! It writes an exact pin into strata.yaml (a line edit that keeps comments and layout), adds
//! the matching lock entry copied from the source (same digest: what was tested is what ships),
//! and returns a summary for the commit message.

use crate::Error;
use crate::atomic_file::{self, Access};
use crate::chart::cache::Cache;
use crate::chart::lock::{LOCK_FILE, Lock, LockEntry};
use crate::chart::resolve::{Charts, Mode};
use crate::config::Stack;
use crate::context::Context;
use crate::pipeline::{self, Resolved};
use crate::plan::{ChartPlan, RemoteChart};
use crate::selector::Selection;
use crate::selector::Selector;
use std::collections::BTreeMap;

/// One component's promotion.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub component: String,
    pub chart: String,
    pub repository: String,
    /// Versions the target tenants used before, with how many tenants used each.
    pub before: BTreeMap<String, usize>,
    pub version: String,
    pub digest: String,
    /// The chart's own change notes (`artifacthub.io/changes` in Chart.yaml), when present.
    pub changes: Option<String>,
    /// Target tenants that still resolve another version (a more specific pin wins there).
    pub held_back: Vec<String>,
}

/// Promotes every versioned component (or `only`) from `from` tenants to `to` tenants.
pub fn promote(
    ctx: &Context,
    from: &Selector,
    to: &Selector,
    only: Option<&str>,
) -> Result<Vec<Promotion>, Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    let tenants = pipeline::resolve_every_tenant(ctx, &stack)?;
    let (sources, targets) = select_tenants(&stack, &tenants, from, to)?;
    let lock_path = stack.dir.join(LOCK_FILE);
    let lock_shown = tenants[0].root.display(&lock_path);
    let mut lock = Lock::load(&lock_path, &lock_shown)?.unwrap_or_default();
    let charts = Charts::new(
        Cache::from_env(),
        Some(lock.clone()),
        lock_shown.clone(),
        Mode::Locked,
        ctx.offline,
    );

    let mut stack_text = std::fs::read_to_string(stack.dir.join(crate::config::STACK_FILE))
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", stack.file_name)))?;
    let mut promotions = Vec::new();
    for spec in &stack.spec.components.value {
        let name = &spec.name.value;
        if only.is_some_and(|o| o != name)
            || spec.chart.as_ref().is_none_or(|c| c.repository.is_none())
        {
            continue;
        }
        let Some((entry, remote)) = source_version(&charts, &sources, name, from)? else {
            continue;
        };
        let before = versions_before(&lock, &targets, name);
        stack_text = set_pin(&stack_text, &stack, to, name, &entry.version)?;
        lock.upsert(LockEntry {
            constraint: entry.version.clone(),
            ..entry.clone()
        });
        let changes = charts
            .fetch(&remote, &entry)
            .ok()
            .and_then(|dir| chart_changes(&dir.join("Chart.yaml")));
        promotions.push(Promotion {
            component: name.clone(),
            chart: entry.chart.clone(),
            repository: entry.repository.clone(),
            before,
            version: entry.version.clone(),
            digest: entry.digest.clone(),
            changes,
            held_back: Vec::new(),
        });
    }
    if promotions.is_empty() {
        return Err(Error::Input(format!(
            "nothing to promote: no versioned chart{} in tenants matching --from {from}",
            only.map(|o| format!(" for component {o:?}"))
                .unwrap_or_default()
        )));
    }
    let stack_path = stack.dir.join(crate::config::STACK_FILE);
    write_atomically(&stack_path, &stack_text, &stack.file_name)?;
    lock.save(&lock_path, &lock_shown)?;
    // Re-read everything: the lock drops what no tenant uses, and tenants that a more specific
    // pin keeps on another version are reported rather than silently left behind.
    crate::lockfile::update_lock(ctx, false)?;
    mark_held_back(ctx, to, &mut promotions)?;
    Ok(promotions)
}

/// The tenants `from` and `to` select; each selector must name known variables and select
/// at least one tenant.
fn select_tenants<'a>(
    stack: &Stack,
    tenants: &'a [Resolved],
    from: &Selector,
    to: &Selector,
) -> Result<(Vec<&'a Resolved>, Vec<&'a Resolved>), Error> {
    let known: std::collections::BTreeSet<String> = stack
        .spec
        .vars
        .keys()
        .cloned()
        .chain(tenants.iter().flat_map(|t| t.tenant.vars.keys().cloned()))
        .collect();
    from.check_known(&known, &stack.file_name)?;
    to.check_known(&known, &stack.file_name)?;
    let sources: Vec<&Resolved> = tenants
        .iter()
        .filter(|t| from.matches(&t.tenant.vars))
        .collect();
    let targets: Vec<&Resolved> = tenants
        .iter()
        .filter(|t| to.matches(&t.tenant.vars))
        .collect();
    Selection::of(Some(from.clone())).check_found(sources.len(), &stack.file_name, "")?;
    Selection::of(Some(to.clone())).check_found(targets.len(), &stack.file_name, "")?;
    Ok((sources, targets))
}

/// What the source tenants run today of component `name`, from the lock: it must be one
/// version. `None` when no source tenant has the component as a versioned chart.
fn source_version(
    charts: &Charts,
    sources: &[&Resolved],
    name: &str,
    from: &Selector,
) -> Result<Option<(LockEntry, RemoteChart)>, Error> {
    let mut source_entries: BTreeMap<String, (LockEntry, Vec<String>)> = BTreeMap::new();
    let mut source_remote = None;
    for t in sources {
        if let Some(remote) = remote_of(t, name) {
            let resolved = charts.locked_entry(remote)?;
            source_remote.get_or_insert_with(|| remote.clone());
            source_entries
                .entry(resolved.digest.clone())
                .or_insert_with(|| (resolved.clone(), Vec::new()))
                .1
                .push(t.tenant.shown_dir.clone());
        }
    }
    match (source_entries.len(), source_remote) {
        (1, Some(remote)) => Ok(Some((
            source_entries.into_values().next().expect("one").0,
            remote,
        ))),
        (0, _) | (_, None) => Ok(None),
        _ => {
            let list: Vec<String> = source_entries
                .values()
                .map(|(e, ts)| format!("{} ({})", e.version, ts.join(", ")))
                .collect();
            Err(Error::Input(format!(
                "--from {from} tenants run different versions of {name}: {}; narrow --from so it names one version",
                list.join("; ")
            )))
        }
    }
}

/// The versions of component `name` the target tenants use before the promotion, with how
/// many tenants use each.
fn versions_before(lock: &Lock, targets: &[&Resolved], name: &str) -> BTreeMap<String, usize> {
    let mut before = BTreeMap::new();
    for t in targets {
        if let Some(remote) = remote_of(t, name) {
            let version = lock
                .get(&remote.source, &remote.name, &remote.constraint)
                .map_or_else(
                    || format!("unlocked {}", remote.constraint),
                    |e| e.version.clone(),
                );
            *before.entry(version).or_insert(0) += 1;
        }
    }
    before
}

/// Notes the target tenants that still resolve another version after the promotion.
fn mark_held_back(ctx: &Context, to: &Selector, promotions: &mut [Promotion]) -> Result<(), Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    for t in pipeline::resolve_every_tenant(ctx, &stack)?
        .iter()
        .filter(|t| to.matches(&t.tenant.vars))
    {
        for p in promotions.iter_mut() {
            if let Some(remote) = remote_of(t, &p.component)
                && remote.constraint != p.version
            {
                p.held_back
                    .push(format!("{} ({})", t.tenant.shown_dir, remote.chosen_by));
            }
        }
    }
    Ok(())
}

/// A commit-message-ready summary.
pub fn summary(promotions: &[Promotion], from: &Selector, to: &Selector) -> String {
    let mut out = format!("Promote charts from {from} to {to}\n\n");
    for p in promotions {
        let before: Vec<String> = p
            .before
            .iter()
            .map(|(v, n)| format!("{v} ({n} tenant{})", if *n == 1 { "" } else { "s" }))
            .collect();
        out.push_str(&format!(
            "- {}: {} {} → {} ({})\n",
            p.component,
            p.chart,
            if before.is_empty() {
                "none".into()
            } else {
                before.join(", ")
            },
            p.version,
            p.digest
        ));
        if let Some(changes) = &p.changes {
            for line in changes.lines().filter(|l| !l.trim().is_empty()) {
                out.push_str(&format!("    {}\n", line.trim_end()));
            }
        }
        for held in &p.held_back {
            out.push_str(&format!("    not moved: {held}\n"));
        }
    }
    out
}

fn remote_of<'a>(t: &'a Resolved, component: &str) -> Option<&'a crate::plan::RemoteChart> {
    t.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| match &c.chart {
            ChartPlan::Remote(r) => Some(r),
            ChartPlan::Local(_) | ChartPlan::Manifests(_) => None,
        })
}

/// Sets the exact version of the pin `when: <to>, component: <name>` in the stack's text,
/// editing the existing pin's version line or adding a pin at the end of `pins:`.
fn set_pin(
    text: &str,
    stack: &Stack,
    to: &Selector,
    component: &str,
    version: &str,
) -> Result<String, Error> {
    let quoted = format!("{version:?}");
    let existing = stack
        .spec
        .pins
        .iter()
        .find(|p| p.component.as_deref() == Some(component) && p.when.0 == *to);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(pin) = existing {
        let index = pin.version.referenced.line() as usize - 1;
        let line = lines.get_mut(index).ok_or_else(|| {
            Error::Input(format!(
                "{}: cannot find pin line {}",
                stack.file_name,
                index + 1
            ))
        })?;
        let Some(pos) = line.find("version:") else {
            return Err(Error::Input(format!(
                "{}:{}: write this pin's version as `version: …` on its own line so promote can edit it",
                stack.file_name,
                index + 1
            )));
        };
        line.truncate(pos);
        line.push_str(&format!("version: {quoted}"));
    } else {
        // A plain equality stays a map, as pins are usually written; anything else is the
        // selector's own text.
        let when = match to.equalities() {
            Some(pairs) => {
                let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
                format!("{{{}}}", pairs.join(", "))
            }
            None => format!("{:?}", to.to_string()),
        };
        let item = [
            format!("  - when: {when}"),
            format!("    component: {component}"),
            format!("    version: {quoted}"),
        ];
        match lines.iter().position(|l| l.trim_end() == "pins:") {
            Some(start) => {
                // The block ends at the next top-level key.
                let end = lines[start + 1..]
                    .iter()
                    .position(|l| !l.is_empty() && !l.starts_with([' ', '-', '#']))
                    .map_or(lines.len(), |i| start + 1 + i);
                let mut at = end;
                while at > start + 1 && lines[at - 1].trim().is_empty() {
                    at -= 1;
                }
                for (i, l) in item.into_iter().enumerate() {
                    lines.insert(at + i, l);
                }
            }
            None if stack.spec.pins.is_empty() => {
                lines.push(String::new());
                lines.push("pins:".into());
                lines.extend(item);
            }
            None => {
                return Err(Error::Input(format!(
                    "{}: write `pins:` as a block list (one `- when: …` item per pin) so promote can add a pin",
                    stack.file_name
                )));
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

fn chart_changes(chart_yaml: &std::path::Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ChartMeta {
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(chart_yaml).ok()?;
    let meta: ChartMeta = crate::yaml::parse_config(&text).ok()?;
    meta.annotations.get("artifacthub.io/changes").cloned()
}

/// strata.yaml is the user's file: it keeps ordinary permissions (0666 less the umask).
fn write_atomically(path: &std::path::Path, text: &str, shown: &str) -> Result<(), Error> {
    atomic_file::write(path, text.as_bytes(), Access::Ordinary)
        .map_err(|e| Error::Input(format!("cannot write {shown}: {}", e.source)))
}
