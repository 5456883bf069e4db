//! Looks at rendered output without rewriting it.

/// Counts YAML documents in a helm stream that hold anything besides comments and blanks,
/// which is what Argo CD turns into objects (argocd-cmp.md §7). A cheap line scan: the output
/// is passed through byte for byte, never re-parsed.
pub fn count_objects(stream: &[u8]) -> usize {
    let text = String::from_utf8_lossy(stream);
    let mut count = 0;
    let mut has_content = false;
    for line in text.lines() {
        if line.starts_with("---") && line[3..].trim().is_empty_or_comment() {
            count += usize::from(has_content);
            has_content = false;
            continue;
        }
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') && t != "null" && t != "~" && t != "..." {
            has_content = true;
        }
    }
    count + usize::from(has_content)
}

trait EmptyOrComment {
    fn is_empty_or_comment(&self) -> bool;
}

impl EmptyOrComment for str {
    fn is_empty_or_comment(&self) -> bool {
        self.is_empty() || self.starts_with('#')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_documents_with_content() {
        assert_eq!(count_objects(b"\n"), 0);
        assert_eq!(count_objects(b"---\n# Source: x/templates/a.yaml\n\n"), 0);
        let two =
            b"---\n# Source: a\napiVersion: v1\nkind: ConfigMap\n---\n# Source: b\nkind: Service\n";
        assert_eq!(count_objects(two), 2);
    }
}
