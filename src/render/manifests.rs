//! The `manifests` component: a directory of plain Kubernetes YAML that strata renders itself,
//! without helm, for the objects that are not worth a chart (a namespace, a secret store, a
//! database claim).
//!
//! Files are read in path order, optionally templated over the tenant's variables, checked to
//! be Kubernetes objects, and written out like rewritten helm output: each object as
//! `---`, `# Source: <file>` and YAML that Go's reader reads back unchanged.

use crate::manifests::split;
use crate::paths::RepoRoot;
use crate::plan::ManifestsPlan;
use crate::template::{TemplateError, Templater, referenced_variables};
use crate::yaml::stream;
use crate::yaml::{GoValue, parse_go_document};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a manifests component cannot be rendered; each message names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum ManifestsError {
    #[error("manifests directory {dir}: {message}")]
    Dir { dir: String, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}:{line}: document {document}: {message}")]
    Document {
        file: String,
        line: usize,
        document: usize,
        message: String,
    },
}

/// Directory nesting beyond this is taken for a symlink loop.
const MAX_DEPTH: usize = 32;

/// Renders every object of the component into one stream. `apply` changes each object before
/// it is written (the post-render stage's labels and annotations, given by the pipeline), so
/// an object it refuses is reported with its file and line.
pub fn render(
    plan: &ManifestsPlan,
    root: &RepoRoot,
    templater: &Templater,
    vars: &BTreeMap<String, String>,
    apply: impl Fn(&mut GoValue) -> Result<(), String>,
) -> Result<Vec<u8>, ManifestsError> {
    let shown_dir = root.display(&plan.dir);
    let files = list_files(&plan.dir, root, &shown_dir)?;
    if files.is_empty() {
        return Err(ManifestsError::Dir {
            dir: shown_dir,
            message: "holds no .yaml or .yml file".into(),
        });
    }
    let mut out = String::new();
    for path in files {
        let shown = root.display(&path);
        let file_error = |message: String| ManifestsError::File {
            file: shown.clone(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| file_error(e.to_string()))?;
        let text = if plan.template {
            template_file(templater, &text, vars).map_err(file_error)?
        } else {
            text
        };
        for (index, chunk) in split(&text).iter().enumerate() {
            let at = |line: usize, message: String| ManifestsError::Document {
                file: shown.clone(),
                line,
                document: index + 1,
                message,
            };
            let mut object = parse_go_document(chunk.text).map_err(|e| {
                let line = chunk.line + e.line.map_or(0, |l| l as usize - 1);
                at(line, e.message)
            })?;
            if object == GoValue::Null {
                continue;
            }
            if let Some(problem) = object_problem(&object) {
                return Err(at(chunk.line, problem));
            }
            apply(&mut object).map_err(|problem| at(chunk.line, problem))?;
            stream::emit(&mut out, Some(&shown), &object);
        }
    }
    Ok(out.into_bytes())
}

/// Why a document is not something Argo CD can apply, if it is not.
fn object_problem(object: &GoValue) -> Option<String> {
    let GoValue::Map(map) = object else {
        return Some("not a Kubernetes object: a document must be a mapping".into());
    };
    for field in ["apiVersion", "kind"] {
        match map.get(field) {
            Some(GoValue::String(s)) if !s.is_empty() => {}
            Some(_) => {
                return Some(format!(
                    "not a Kubernetes object: `{field}` must be a non-empty string"
                ));
            }
            None => return Some(format!("not a Kubernetes object: it has no `{field}`")),
        }
    }
    None
}

/// Renders a file as a strict template. A missing variable is reported with the line that
/// uses it; the template's whole text would be no help in a message.
fn template_file(
    templater: &Templater,
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, String> {
    if let Some(name) = referenced_variables(text)
        .into_iter()
        .find(|n| !vars.contains_key(n))
    {
        let line = text
            .lines()
            .position(|l| l.contains("{{") && l.contains(name.as_str()))
            .map_or(String::new(), |i| format!("line {}: ", i + 1));
        return Err(format!(
            "{line}template uses variable `{name}`, which is not set for this tenant (set it in strata.yaml `vars`, the tenant file, ARGOCD_ENV_{}, a plugin parameter or --var {name}=…); write \\{{{{ for a literal {{{{",
            name.to_uppercase()
        ));
    }
    // Variables may come from Argo CD parameters and ARGOCD_ENV_*: none may add objects or
    // keys to the file.
    templater.render_yaml(text, vars).map_err(|e| match e {
        TemplateError::Invalid { message, .. } => format!("invalid template: {message}"),
        other => other.to_string(),
    })
}

/// Every `*.yaml` and `*.yml` file under `dir`, sorted by path relative to it. Symlinks are
/// followed but must stay inside the repository, like every other path strata reads.
fn list_files(
    dir: &Path,
    root: &RepoRoot,
    shown_dir: &str,
) -> Result<Vec<PathBuf>, ManifestsError> {
    let mut found = Vec::new();
    walk(dir, String::new(), root, &mut Vec::new(), &mut found).map_err(|message| {
        ManifestsError::Dir {
            dir: shown_dir.to_owned(),
            message,
        }
    })?;
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

fn walk(
    dir: &Path,
    rel: String,
    root: &RepoRoot,
    ancestors: &mut Vec<PathBuf>,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), String> {
    let real = dir
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", root.display(dir)))?;
    if !real.starts_with(root.path()) {
        return Err(format!(
            "{} leads outside the repository",
            root.display(dir)
        ));
    }
    if ancestors.contains(&real) || ancestors.len() > MAX_DEPTH {
        return Err(format!(
            "{} nests too deep (a symlink loop?)",
            root.display(dir)
        ));
    }
    ancestors.push(real);
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {rel:?}: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {rel:?}: {e}"))?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(format!("{} has a name that is not UTF-8", path.display()));
        };
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::metadata(&path)
            .map_err(|e| format!("cannot read {}: {e}", root.display(&path)))?;
        if meta.is_dir() {
            walk(&path, child, root, ancestors, found)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            let real = path
                .canonicalize()
                .map_err(|e| format!("cannot read {child}: {e}"))?;
            if !real.starts_with(root.path()) {
                return Err(format!("{child} leads outside the repository"));
            }
            found.push((child, path));
        }
    }
    ancestors.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Repo {
        dir: tempfile::TempDir,
    }

    impl Repo {
        fn new(files: &[(&str, &str)]) -> Repo {
            let dir = tempfile::tempdir().unwrap();
            for (rel, text) in files {
                let path = dir.path().join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            Repo { dir }
        }

        fn render(&self, template: bool) -> Result<String, ManifestsError> {
            let root = RepoRoot::new(self.dir.path()).unwrap();
            let plan = ManifestsPlan {
                dir: self.dir.path().join("m"),
                template,
            };
            let vars = BTreeMap::from([("tenant".to_owned(), "acme".to_owned())]);
            let out = render(&plan, &root, &Templater::default(), &vars, |_| Ok(()))?;
            Ok(String::from_utf8(out).unwrap())
        }
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{tenant}}-x\"\n";

    #[test]
    fn files_render_in_path_order_with_their_source() {
        let repo = Repo::new(&[
            ("m/b.yml", "apiVersion: v1\nkind: B\n"),
            (
                "m/a/z.yaml",
                "# comment\n---\napiVersion: v1\nkind: AZ\n---\n",
            ),
            ("m/c.yaml", CM),
            ("m/notes.txt", "not yaml"),
        ]);
        let out = repo.render(true).unwrap();
        assert_eq!(
            out,
            "---\n# Source: m/a/z.yaml\napiVersion: v1\nkind: AZ\n\
             ---\n# Source: m/b.yml\napiVersion: v1\nkind: B\n\
             ---\n# Source: m/c.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: acme-x\n"
        );
        let plain = repo.render(false).unwrap();
        assert!(plain.ends_with("  name: \"{{tenant}}-x\"\n"), "{plain}");
    }

    #[test]
    fn an_escaped_mustache_stays_literal_in_a_templated_file() {
        let repo = Repo::new(&[(
            "m/rules.yaml",
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  alert: \"\\{{ $labels.pod }} of {{tenant}}\"\n",
        )]);
        let out = repo.render(true).unwrap();
        assert!(
            out.ends_with("  alert: \"{{ $labels.pod }} of acme\"\n"),
            "{out}"
        );
    }

    #[test]
    fn errors_name_the_file_document_and_line() {
        let repo = Repo::new(&[("m/x.yaml", "apiVersion: v1\nkind: A\n---\nmetadata: {}\n")]);
        let err = repo.render(false).unwrap_err().to_string();
        assert_eq!(
            err,
            "m/x.yaml:3: document 2: not a Kubernetes object: it has no `apiVersion`"
        );
        let repo = Repo::new(&[("m/x.yaml", "apiVersion: v1\nkind: A\n---\n- a\n")]);
        let err = repo.render(false).unwrap_err().to_string();
        assert!(err.starts_with("m/x.yaml:3: document 2: not a"), "{err}");
        let repo = Repo::new(&[("m/x.yaml", "apiVersion: v1\nkind: [\n")]);
        let err = repo.render(false).unwrap_err().to_string();
        assert!(err.starts_with("m/x.yaml:"), "{err}");
        let repo = Repo::new(&[("m/x.yaml", "kind: A\nname: {{region}}\n")]);
        let err = repo.render(true).unwrap_err().to_string();
        assert!(
            err.starts_with("m/x.yaml: line 2: template uses variable `region`"),
            "{err}"
        );
        let repo = Repo::new(&[("m/x.txt", "")]);
        let err = repo.render(false).unwrap_err().to_string();
        assert_eq!(err, "manifests directory m: holds no .yaml or .yml file");
    }

    #[test]
    fn a_symlink_out_of_the_repository_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.yaml"), "apiVersion: v1\nkind: A\n").unwrap();
        let repo = Repo::new(&[("m/a.yaml", "apiVersion: v1\nkind: A\n")]);
        std::os::unix::fs::symlink(outside.path(), repo.dir.path().join("m/out")).unwrap();
        let err = repo.render(false).unwrap_err().to_string();
        assert!(err.contains("outside the repository"), "{err}");
    }
}
