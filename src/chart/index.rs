//! A chart repository's index, read without ever holding it whole in memory.
//!
//! Public indexes reach 200 MB, and a parsed copy of every entry took gigabytes. So index.yaml
//! streams through a YAML parser once, per refresh, and each chart's versions (only the fields
//! strata reads) become one JSON line of a derived file; a lookup then scans that file for the
//! one line of the chart it needs. Memory stays at one chart's entries, and a lookup costs a
//! read of the derived file, not a parse of the index.
//!
//! Helm's reading of the entries it keeps: an entry without a version or without any URL is
//! dropped (it cannot be selected or downloaded), a missing `name` is the entries key, and
//! when a chart is listed twice the last listing wins, as a YAML map's duplicate key does.

use super::transport::url::redact;
use crate::budget::Budget;
use crate::yaml::YamlError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bumped when the derived file's layout or [`ChartVersionEntry`] changes, so old files are
/// derived again.
const FORMAT: u32 = 2;

/// One version of one chart, as listed in index.yaml (only what strata uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartVersionEntry {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub urls: Vec<String>,
    /// Hex SHA-256 of the archive, when the index has it.
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub created: Option<String>,
}

/// The derived file's first line: which index.yaml it was derived from.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    sha256: String,
}

/// Every other line: one chart.
#[derive(Serialize, Deserialize)]
struct ChartLine {
    name: String,
    versions: Vec<ChartVersionEntry>,
}

/// Why an index could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The command's budget ran out while the index was being read.
    #[error("{0}")]
    OutOfTime(String),
}

/// Streams index.yaml from `reader` into `out` in the derived form, tagged with the index's
/// `sha256`. Stops when `budget` runs out: parsing a huge index takes long.
pub fn derive(
    reader: impl Read,
    sha256: &str,
    out: &mut dyn Write,
    budget: Option<Budget>,
) -> Result<(), DeriveError> {
    let header = Header {
        format: FORMAT,
        sha256: sha256.to_owned(),
    };
    serde_json::to_writer(&mut *out, &header).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    let mut abort = None;
    let result = crate::yaml::stream_large(
        reader,
        IndexSeed {
            sink: Sink {
                out,
                abort: &mut abort,
                budget,
            },
        },
    );
    // A write error or the budget surfaces through the parser as a custom error: report the
    // real one.
    if let Some(e) = abort {
        return Err(e);
    }
    result?;
    Ok(())
}

/// Where chart lines go, and why the parse stopped early if it did.
struct Sink<'a> {
    out: &'a mut dyn Write,
    abort: &'a mut Option<DeriveError>,
    budget: Option<Budget>,
}

impl Sink<'_> {
    /// Writes one chart line; an error stops the parse with the reason kept in `abort`.
    fn chart<E: de::Error>(&mut self, line: &ChartLine) -> Result<(), E> {
        if let Some(budget) = self.budget.filter(Budget::is_spent) {
            *self.abort = Some(DeriveError::OutOfTime(budget.explain()));
            return Err(E::custom("the time budget ran out"));
        }
        let written = serde_json::to_writer(&mut *self.out, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            let message = e.to_string();
            *self.abort = Some(DeriveError::Io(e));
            return Err(E::custom(message));
        }
        Ok(())
    }
}

/// The top-level map of index.yaml: `entries` is streamed, everything else skipped.
struct IndexSeed<'a> {
    sink: Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for IndexSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for IndexSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a chart repository index (a map with `entries`)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                map.next_value_seed(EntriesSeed {
                    sink: &mut self.sink,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `entries`: chart name → versions, each chart written out as soon as it is read.
struct EntriesSeed<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of chart names to lists of versions")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let versions = map
                .next_value::<Option<Vec<ChartVersionEntry>>>()?
                .unwrap_or_default();
            let line = ChartLine {
                versions: usable(&name, versions),
                name,
            };
            self.sink.chart(&line)?;
        }
        Ok(())
    }
}

/// The versions Helm can use: with a version and a URL, named after the entries key when
/// they have no name.
fn usable(chart: &str, versions: Vec<ChartVersionEntry>) -> Vec<ChartVersionEntry> {
    versions
        .into_iter()
        .filter(|v| !v.version.is_empty() && !v.urls.is_empty())
        .map(|mut v| {
            if v.name.is_empty() {
                v.name = chart.to_owned();
            }
            v
        })
        .collect()
}

/// A derived index: looked up chart by chart, each chart read once per process.
pub struct RepoIndex {
    source: Source,
    read: Mutex<HashMap<String, Arc<[ChartVersionEntry]>>>,
}

enum Source {
    /// A derived file in the index cache.
    File(PathBuf),
    /// A derived index in memory (small indexes parsed from text).
    Bytes(Vec<u8>),
}

impl fmt::Debug for RepoIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::File(path) => f.debug_tuple("RepoIndex").field(path).finish(),
            Source::Bytes(b) => f.debug_tuple("RepoIndex").field(&b.len()).finish(),
        }
    }
}

impl RepoIndex {
    /// Parses index.yaml text (see the module documentation for what is kept).
    pub fn parse(text: &str) -> Result<RepoIndex, YamlError> {
        let mut out = Vec::new();
        match derive(text.as_bytes(), "", &mut out, None) {
            Ok(()) => Ok(RepoIndex::new(Source::Bytes(out))),
            Err(DeriveError::Yaml(e)) => Err(e),
            Err(e) => unreachable!("writing to memory without a budget failed: {e}"),
        }
    }

    /// The derived file at `path`, when it exists and was derived from the index whose
    /// content hash is `sha256` by this version of strata.
    pub fn open(path: &Path, sha256: &str) -> Option<RepoIndex> {
        let mut first = String::new();
        BufReader::new(File::open(path).ok()?)
            .read_line(&mut first)
            .ok()?;
        let header: Header = serde_json::from_str(&first).ok()?;
        (header.format == FORMAT && header.sha256 == sha256)
            .then(|| RepoIndex::new(Source::File(path.to_path_buf())))
    }

    fn new(source: Source) -> RepoIndex {
        RepoIndex {
            source,
            read: Mutex::new(HashMap::new()),
        }
    }

    /// Every listed version of `chart`, in index order; empty when the chart is not listed.
    pub fn versions(&self, chart: &str) -> Arc<[ChartVersionEntry]> {
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = read.get(chart) {
            return Arc::clone(found);
        }
        let prefix = format!(
            "{{\"name\":{},",
            serde_json::to_string(chart).expect("a string is JSON")
        );
        let mut found: Arc<[ChartVersionEntry]> = Arc::from(Vec::new());
        // The last listing of a chart wins, as for a duplicate YAML key.
        self.each_line(|line| {
            if line.starts_with(&prefix)
                && let Ok(parsed) = serde_json::from_str::<ChartLine>(line)
            {
                found = Arc::from(parsed.versions);
            }
        });
        read.insert(chart.to_owned(), Arc::clone(&found));
        found
    }

    /// The names of every chart in the index, in index order.
    pub fn chart_names(&self) -> impl Iterator<Item = String> {
        #[derive(Deserialize)]
        struct NameOnly {
            name: String,
        }
        let mut names = Vec::new();
        self.each_line(|line| {
            if let Ok(n) = serde_json::from_str::<NameOnly>(line) {
                names.push(n.name);
            }
        });
        names.into_iter()
    }

    /// The versions of `chart`, or [`ChartNotFound`] naming similar charts.
    pub fn require(
        &self,
        repo: &str,
        chart: &str,
    ) -> Result<Arc<[ChartVersionEntry]>, ChartNotFound> {
        let versions = self.versions(chart);
        if !versions.is_empty() {
            return Ok(versions);
        }
        let lower = chart.to_ascii_lowercase();
        let similar = self
            .chart_names()
            .filter(|n| {
                let n = n.to_ascii_lowercase();
                n.contains(&lower) || lower.contains(&n)
            })
            .take(5)
            .collect();
        Err(ChartNotFound {
            chart: chart.to_owned(),
            repo: redact(repo),
            similar,
        })
    }

    /// Calls `f` with every chart line (the header skipped). A derived file that cannot be
    /// read reads as an index without charts, with a warning.
    fn each_line(&self, mut f: impl FnMut(&str)) {
        let mut run = |reader: &mut dyn BufRead| -> std::io::Result<()> {
            let mut line = String::new();
            let mut first = true;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if !std::mem::take(&mut first) {
                    f(line.trim_end());
                }
            }
        };
        let result = match &self.source {
            Source::Bytes(bytes) => run(&mut bytes.as_slice()),
            Source::File(path) => {
                File::open(path).and_then(|file| run(&mut BufReader::with_capacity(1 << 16, file)))
            }
        };
        if let Err(e) = result {
            tracing::warn!("cannot read the derived chart index {self:?}: {e}");
        }
    }
}

/// A chart name the index does not have, with the names that look like it.
#[derive(Debug, thiserror::Error)]
#[error(
    "chart {} is not in the index of {repo}{}",
    crate::quote::quote(chart),
    similar_hint(similar)
)]
pub struct ChartNotFound {
    pub chart: String,
    /// Without user info.
    pub repo: String,
    pub similar: Vec<String>,
}

fn similar_hint(similar: &[String]) -> String {
    if similar.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", similar.join(", "))
    }
}

/// An index with what the parser must keep and what it must drop, for the tests of the index
/// and of its cache.
#[cfg(test)]
pub(crate) const INDEX: &str = r#"apiVersion: v1
entries:
  nginx:
    - name: nginx
      version: 1.2.0
      urls: [nginx-1.2.0.tgz]
      digest: abc
      created: 2024-01-02T03:04:05.000000Z
      annotations: {category: web}
      maintainers: [{name: x}]
      dependencies: [{name: common, version: 1.x.x, repository: https://x}]
    - version: 1.1.0
      urls: [https://cdn.example.com/nginx-1.1.0.tgz]
    - name: nginx
      version: 1.0.0
      urls: []
  empty: null
  "quoted \"name\"":
    - {version: 0.1.0, urls: [q.tgz]}
  twice:
    - {version: 1.0.0, urls: [a.tgz]}
  twice:
    - {version: 2.0.0, urls: [b.tgz]}
generated: "2024-01-02T03:04:05Z"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_helm_keeps() {
        let index = RepoIndex::parse(INDEX).unwrap();
        let v = index.versions("nginx");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].digest.as_deref(), Some("abc"));
        assert_eq!(
            v[0].annotations.get("category").map(String::as_str),
            Some("web")
        );
        assert_eq!(v[1].name, "nginx");
        assert!(index.versions("missing").is_empty());
        assert!(index.versions("empty").is_empty());
        assert_eq!(index.versions("quoted \"name\"")[0].version, "0.1.0");
        let twice = index.versions("twice");
        assert_eq!((twice.len(), twice[0].version.as_str()), (1, "2.0.0"));
        assert!(index.versions("ngin").is_empty(), "a prefix is not a name");
        assert_eq!(v[0].created.as_deref(), Some("2024-01-02T03:04:05.000000Z"));
        let err = index
            .require("https://u:p@h/r", "ngin")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "chart \"ngin\" is not in the index of https://h/r (did you mean nginx?)"
        );
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        text.push_str("entries: {}\n");
        assert!(RepoIndex::parse(&text).is_err());
    }

    #[test]
    fn a_derived_file_is_used_only_for_its_own_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.jsonl");
        let mut out = Vec::new();
        derive(INDEX.as_bytes(), "abc123", &mut out, None).unwrap();
        std::fs::write(&path, out).unwrap();
        let index = RepoIndex::open(&path, "abc123").unwrap();
        assert_eq!(index.versions("nginx").len(), 2);
        assert!(RepoIndex::open(&path, "other").is_none());
        let names: Vec<String> = index.chart_names().collect();
        assert!(names.contains(&"nginx".to_owned()), "{names:?}");
    }

    #[test]
    fn reading_stops_when_the_budget_runs_out() {
        let spent = Budget::new(
            std::time::Duration::from_secs(1),
            std::time::Instant::now() - std::time::Duration::from_secs(2),
        );
        let err = derive(INDEX.as_bytes(), "", &mut Vec::new(), Some(spent)).unwrap_err();
        assert!(matches!(err, DeriveError::OutOfTime(_)), "{err}");
    }

    #[test]
    fn broken_yaml_is_an_error() {
        assert!(RepoIndex::parse("entries: [unclosed").is_err());
        assert!(RepoIndex::parse("entries:\n  x: 5\n").is_err());
        assert!(RepoIndex::parse("").unwrap().chart_names().next().is_none());
    }
}
