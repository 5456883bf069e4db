//! The one rule for every YAML file strata renders as a template (values layers, patches,
//! templated manifests): a variable's value cannot change the YAML's structure.
//!
//! A template is rendered twice: with the variables' values, and with an inert placeholder
//! word in place of each inserted value. Both texts are read by the reader that will consume
//! the file, and the two trees must agree: the same mappings with the same keys in the same
//! order (a key holding an insertion must read as exactly its text), the same sequences,
//! nodes on the same lines when the reader tracks lines, and every scalar that held an
//! insertion exactly its text with the values put in. A plain scalar may take the type its
//! text gets (`replicas: {{n}}` is a number), but only if the text is one plain word that
//! reads as that scalar on its own; a comment, a flow indicator or a space would mean that the
//! value was cut short or supplied syntax.
//!
//! The readers differ (Go's YAML for manifests, Helm's values reader for layers), so each tree
//! type says how it reads a plain scalar and a plain key ([`Tree`]); each renderer says where
//! its placeholders are ([`Insertions`]). The comparison itself is here, once.

/// A node of a YAML tree, as far as the structure check needs to see it.
pub enum Shape<'a, T> {
    Map(Vec<(&'a str, &'a T)>),
    Seq(&'a [T]),
    String(&'a str),
    /// A number, boolean or null.
    Scalar,
}

/// A YAML tree as one reader produces it.
pub trait Tree: PartialEq + Sized {
    fn shape(&self) -> Shape<'_, Self>;
    /// The line the node starts on, for readers that track lines.
    fn line(&self) -> Option<u32>;
    /// Whether this scalar is what the reader makes of `text` written as a plain scalar value.
    fn reads_as(&self, text: &str) -> bool;
}

/// Where one render put its inserted values.
pub trait Insertions {
    /// Whether a scalar read from the placeholder render contains an insertion.
    fn holds_placeholder(&self, text: &str) -> bool;
    /// The scalar with every placeholder replaced by the value inserted there.
    fn substitute(&self, text: &str) -> String;
}

/// Where the real render first departs from the template's structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The real node's line, when the reader tracks lines.
    pub line: Option<u32>,
    /// Keys and sequence indexes from the document's top down to the node.
    pub path: Vec<String>,
}

impl Mismatch {
    /// The path as `a.b.0`, or `the top`. A key is a variable's doing at worst, so control
    /// characters in it are shown escaped, never sent to the terminal.
    pub fn at(&self) -> String {
        if self.path.is_empty() {
            "the top".to_owned()
        } else {
            let parts: Vec<String> = self
                .path
                .iter()
                .map(|part| part.escape_debug().to_string())
                .collect();
            parts.join(".")
        }
    }
}

/// Checks that `real` (the render with values) has the structure of `placeholder` (the render
/// with placeholders). See the module comment for the rule.
pub fn same_structure<T: Tree>(
    placeholder: &T,
    real: &T,
    insertions: &dyn Insertions,
) -> Result<(), Mismatch> {
    let mut path = Vec::new();
    compare(placeholder, real, insertions, &mut path).map_err(|line| Mismatch { line, path })
}

/// The comparison; on a mismatch `path` is left at the node and the real node's line returned.
fn compare<T: Tree>(
    placeholder: &T,
    real: &T,
    insertions: &dyn Insertions,
    path: &mut Vec<String>,
) -> Result<(), Option<u32>> {
    let fail = Err(real.line());
    if placeholder.line() != real.line() {
        return fail;
    }
    match (placeholder.shape(), real.shape()) {
        (Shape::Map(p), Shape::Map(r)) => {
            if p.len() != r.len() {
                return fail;
            }
            for ((pk, pv), (rk, rv)) in p.into_iter().zip(r) {
                path.push(rk.to_owned());
                if !key_matches(pk, rk, insertions) {
                    return Err(rv.line());
                }
                compare(pv, rv, insertions, path)?;
                path.pop();
            }
            Ok(())
        }
        (Shape::Seq(p), Shape::Seq(r)) => {
            if p.len() != r.len() {
                return fail;
            }
            for (i, (p, r)) in p.iter().zip(r).enumerate() {
                path.push(i.to_string());
                compare(p, r, insertions, path)?;
                path.pop();
            }
            Ok(())
        }
        (Shape::String(p), shape) if insertions.holds_placeholder(p) => {
            let expected = insertions.substitute(p);
            let same = match shape {
                Shape::String(r) => r == expected,
                Shape::Map(_) | Shape::Seq(_) => false,
                Shape::Scalar => is_plain_word(&expected) && real.reads_as(&expected),
            };
            if same { Ok(()) } else { fail }
        }
        _ if placeholder == real => Ok(()),
        _ => fail,
    }
}

/// A key holding an insertion must read as exactly its text with the values put in. Unlike a
/// value, a key gets no typed reading: a reader that retypes or decodes the text (`yes` →
/// `true`, `"q"` → `q`, `!!binary …` → any bytes) lets the value choose a key it does not spell.
fn key_matches(placeholder: &str, real: &str, insertions: &dyn Insertions) -> bool {
    if !insertions.holds_placeholder(placeholder) {
        return placeholder == real;
    }
    insertions.substitute(placeholder) == real
}

/// Text that can be a typed plain scalar by itself: no space, comment, quote, flow or
/// collection indicator, alias or tag.
fn is_plain_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._~".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny tree for the rule alone: no reader involved.
    #[derive(Debug, PartialEq)]
    enum Node {
        Map(Vec<(String, Node)>),
        Seq(Vec<Node>),
        Str(String),
        Int(i64),
    }

    impl Tree for Node {
        fn shape(&self) -> Shape<'_, Self> {
            match self {
                Node::Map(e) => Shape::Map(e.iter().map(|(k, v)| (k.as_str(), v)).collect()),
                Node::Seq(s) => Shape::Seq(s),
                Node::Str(s) => Shape::String(s),
                Node::Int(_) => Shape::Scalar,
            }
        }
        fn line(&self) -> Option<u32> {
            None
        }
        fn reads_as(&self, text: &str) -> bool {
            matches!(self, Node::Int(n) if text.parse() == Ok(*n))
        }
    }

    /// Placeholders are `@`; every one stands for `value`.
    struct One(&'static str);

    impl Insertions for One {
        fn holds_placeholder(&self, text: &str) -> bool {
            text.contains('@')
        }
        fn substitute(&self, text: &str) -> String {
            text.replace('@', self.0)
        }
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    fn s(text: &str) -> Node {
        Node::Str(text.into())
    }

    #[test]
    fn same_shape_with_the_values_put_in_passes() {
        let p = map(vec![("name", s("@-web")), ("n", s("@")), ("k@", s("x"))]);
        let r = map(vec![
            ("name", s("7-web")),
            ("n", Node::Int(7)),
            ("k7", s("x")),
        ]);
        assert_eq!(same_structure(&p, &r, &One("7")), Ok(()));
    }

    #[test]
    fn a_key_must_read_as_exactly_its_text() {
        let p = map(vec![("k-@", s("x"))]);
        assert_eq!(
            same_structure(&p, &map(vec![("k-yes", s("x"))]), &One("yes")),
            Ok(())
        );
        // Whatever the reader made of the text (retyped, unquoted, decoded), it is not the text.
        for (value, read) in [
            ("YES", "k-yes"),
            ("\"q\"", "k-q"),
            ("!!binary YQpi", "k-a\nb"),
            ("!!binary G1szMW1SRUQ=", "k-\x1b[31mRED"),
        ] {
            let err = same_structure(&p, &map(vec![(read, s("x"))]), &One(value)).unwrap_err();
            assert_eq!(err.path, [read], "{value}");
            assert!(!err.at().contains(['\n', '\x1b']), "{value}");
        }
    }

    #[test]
    fn a_changed_shape_names_where() {
        let p = map(vec![("a", Node::Seq(vec![s("@"), s("b")]))]);
        let r = map(vec![("a", Node::Seq(vec![s("x"), s("y"), s("b")]))]);
        let err = same_structure(&p, &r, &One("x")).unwrap_err();
        assert_eq!(err.path, ["a"]);
        let r = map(vec![(
            "a",
            Node::Seq(vec![map(vec![("x", s("y"))]), s("b")]),
        )]);
        let err = same_structure(&p, &r, &One("x: y")).unwrap_err();
        assert_eq!(err.at(), "a.0");
        let r = map(vec![("b", Node::Seq(vec![s("x"), s("b")]))]);
        assert!(same_structure(&p, &r, &One("x")).is_err());
    }

    #[test]
    fn a_typed_scalar_must_be_one_plain_word() {
        let p = map(vec![("n", s("@"))]);
        // `1 # note` reads as 1 with a comment: the value was cut short.
        let r = map(vec![("n", Node::Int(1))]);
        assert!(same_structure(&p, &r, &One("1 # note")).is_err());
        assert!(same_structure(&p, &r, &One("1")).is_ok());
        assert!(same_structure(&p, &map(vec![("n", Node::Int(2))]), &One("1")).is_err());
    }
}
