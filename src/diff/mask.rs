//! Secret values hidden wherever they appear in a report.
//!
//! A Secret object shows only which keys changed, but a chart may copy the same value into a
//! ConfigMap, an annotation or a command line, and a values file may hold it. Like CI systems
//! that mask registered secrets in logs, every string that is a Secret value on either side
//! of any compared tenant is replaced, wherever it appears, before anything is printed.

use serde_json::Value;
use std::collections::BTreeSet;

/// What a hidden value is shown as.
pub const REDACTED: &str = "(redacted)";

/// Values shorter than this are hidden only where they are a whole string: hiding every `1`
/// or `on` inside other text would make the diff unreadable without protecting anything.
const MIN_SUBSTRING: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Mask {
    /// Longest first, so a value that contains another is replaced whole.
    values: Vec<String>,
    exact: BTreeSet<String>,
}

impl Mask {
    pub fn new(values: BTreeSet<String>) -> Mask {
        let mut long: Vec<String> = values
            .iter()
            .filter(|v| v.chars().count() >= MIN_SUBSTRING)
            .cloned()
            .collect();
        long.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        Mask {
            values: long,
            exact: values.into_iter().filter(|v| !v.is_empty()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// Whether `text` is, or contains, a secret value.
    pub fn hides(&self, text: &str) -> bool {
        self.exact.contains(text) || self.values.iter().any(|v| text.contains(v.as_str()))
    }

    /// `text` with every secret value replaced.
    pub fn text(&self, text: &str) -> String {
        if self.exact.contains(text) {
            return REDACTED.to_owned();
        }
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    /// Every string (and number or boolean whose text is a secret) in `value`, masked.
    pub fn value(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if self.hides(s) {
                    *s = self.text(s);
                }
            }
            Value::Number(_) | Value::Bool(_) => {
                if self.exact.contains(&value.to_string()) {
                    *value = Value::String(REDACTED.into());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Object(map) => map.values_mut().for_each(|v| self.value(v)),
            Value::Null => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_hidden_whole_and_inside_text() {
        let mask = Mask::new(["hunter2-secret".into(), "ab".into()].into());
        let mut v = serde_json::json!({
            "a": "hunter2-secret",
            "b": "url=postgres://u:hunter2-secret@db",
            "c": "ab",
            "d": "abc",
            "e": ["x", "hunter2-secret"],
        });
        mask.value(&mut v);
        assert_eq!(v["a"], REDACTED);
        assert_eq!(v["b"], "url=postgres://u:(redacted)@db");
        assert_eq!(v["c"], REDACTED);
        assert_eq!(v["d"], "abc");
        assert_eq!(v["e"][1], REDACTED);
    }
}
