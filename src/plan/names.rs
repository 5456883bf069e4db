//! Kubernetes' rules for label and annotation keys and label values.
//!
//! The API server refuses an object whose labels break them, but only when Argo CD syncs, long
//! after the commit; checking here turns that into a render error that names strata.yaml.

/// Why `key` is not a valid label or annotation key (`[prefix/]name`), if it is not.
pub fn key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !ok {
            return Some(format!(
                "its prefix {prefix:?} must be a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)"
            ));
        }
    }
    if name.is_empty() {
        return Some("its name part is empty".into());
    }
    name_problem(name)
}

/// Why `value` is not a valid label value, if it is not. The empty value is valid.
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    name_problem(value)
}

/// The shared rule of a key's name part and a label value.
fn name_problem(text: &str) -> Option<String> {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let ok = text.len() <= 63
        && text
            .chars()
            .all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && text.starts_with(alnum)
        && text.ends_with(alnum);
    (!ok).then(|| {
        "it must be at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in [
            "team",
            "app.kubernetes.io/name",
            "argocd.argoproj.io/sync-wave",
            "a_b.c",
            "x/Y",
        ] {
            assert_eq!(key_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "/x",
            "a/",
            "Foo.com/x",
            "-a",
            "a b",
            "a/b/c",
            &"x".repeat(64),
        ] {
            assert!(key_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn label_values() {
        for good in ["", "on", "0755", "1_000", "v1.2.3", "A-b_c.d"] {
            assert_eq!(label_value_problem(good), None, "{good}");
        }
        for bad in ["~", "-a", "a-", "a b", "1:30", &"x".repeat(64)] {
            assert!(label_value_problem(bad).is_some(), "{bad:?}");
        }
    }
}
