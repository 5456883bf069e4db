//! Sprig v3.3.0's template functions as Helm registers them (`TxtFuncMap` without `env` and
//! `expandenv`), Go-typed: each function checks its arguments as Go's `text/template` checks
//! a call of the Go function with that signature, and converts `interface{}` arguments with
//! spf13/cast's rules. Functions that need a chart or strata (`semver`, `semverCompare`,
//! `toJson` and the other encoders, `include`, `tpl`, `required`, `lookup`) are registered
//! elsewhere; the ones not implemented are listed in [`UNSUPPORTED`] so a renderer can hand
//! a chart that uses them to Helm.
//!
//! Known differences from Helm, each a consequence of what a [`Value`] can hold:
//! - Go's `int` and `int64` are both `Value::Int`. Helm refuses an int64 (from `add`, `sub`,
//!   `mul`, `div`, `mod`, `max`, `min`, `int64`, `add1`, `toDecimal`) where a function takes an
//!   `int` (`trunc (add 1 2) $s` fails there) and prints `int64` for its `typeOf`; here both
//!   work as `int`. Where the distinction decides the result (`duration`, `durationRound`), an
//!   integer argument is an error so the chart is rendered by Helm.
//! - An integral float literal (`trunc 3.0 $s`) is an `int` to Go but cannot be told from a
//!   float64 of the values here, so it is refused as one.
//! - Typed slices print the same but `typeOf` names them `[]interface {}` (Go: `[]string` for
//!   `splitList`, `keys`, `toStrings`, `sortAlpha`; `[]int` for `until`, `untilStep`).
//! - Go strings are bytes: `b64dec`/`b32dec` of non-UTF-8 data and a `trunc`, `substr`,
//!   `abbrev` or `wrapWith` cut inside a UTF-8 sequence give U+FFFD instead of raw bytes.
//! - `keys` and `values` list a map in sorted order, one of the orders Go's random map order
//!   can give.
//! - Times are UTC only: a named zone, a local zone other than UTC, or a parsed offset other
//!   than zero is an error (the chart goes to Helm).

mod aes;
mod args;
mod case;
mod conv;
mod crypto;
mod dates;
mod decimal;
mod dicts;
mod encoding;
mod flow;
mod json;
mod lists;
mod math;
mod paths;
mod random;
mod reflect;
mod regex;
mod strings;
mod timeparse;
mod url;

use crate::funcs::{Call, Determinism};
use crate::{Error, FuncMap, Value};
use args::Args;
use std::rc::Rc;

/// Sprig functions Helm offers that this library does not implement: the key and certificate
/// generators and key derivation. A chart that calls one of them is rendered by Helm.
pub const UNSUPPORTED: &[&str] = &[
    // Keys, certificates, derived passwords.
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
];

/// A Sprig function: it needs only its arguments, not the executing template.
pub(crate) type Plain = fn(Args) -> Result<Value, Error>;

/// Every Sprig function this library implements, with its determinism. Building the map
/// takes some 30 µs (two hundred closures): build it once per thread and reuse it for every
/// render, as the compiled regular expressions are cached per thread too.
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::default();
    strings::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    flow::register(&mut m);
    reflect::register(&mut m);
    encoding::register(&mut m);
    crypto::register(&mut m);
    regex::register(&mut m);
    paths::register(&mut m);
    random::register(&mut m);
    url::register(&mut m);
    json::register(&mut m);
    dates::register(&mut m);
    aes::register(&mut m);
    def(&mut m, "hello", |a| {
        a.exact(0)?;
        Ok(text("Hello!"))
    });
    // Helm replaces Sprig's DNS lookup with one that answers "" unless `--enable-dns`.
    def(&mut m, "getHostByName", |a| {
        a.exact(1)?;
        a.str(0)?;
        Ok(text(""))
    });
    m
}

pub(crate) fn def(m: &mut FuncMap, name: &'static str, f: Plain) {
    insert(m, name, Determinism::Deterministic, f);
}

pub(crate) fn def_random(m: &mut FuncMap, name: &'static str, f: Plain) {
    insert(m, name, Determinism::Random, f);
}

/// Registers a closure (for functions built in a loop over a table).
pub(crate) fn def_boxed(
    m: &mut FuncMap,
    name: &'static str,
    f: impl Fn(Args) -> Result<Value, Error> + 'static,
) {
    m.insert(
        name,
        Determinism::Deterministic,
        Rc::new(move |_: &mut dyn Call, v: &[Value]| f(Args { name, v })),
    );
}

fn insert(m: &mut FuncMap, name: &'static str, determinism: Determinism, f: Plain) {
    m.insert(
        name,
        determinism,
        Rc::new(move |_: &mut dyn Call, v: &[Value]| f(Args { name, v })),
    );
}

pub(crate) fn text(s: impl Into<Rc<str>>) -> Value {
    Value::String(s.into())
}

/// Calls a function of the map with a template state that has no other templates (tests).
#[cfg(test)]
pub(crate) fn call(m: &FuncMap, name: &str, args: &[Value]) -> Result<Value, Error> {
    struct NoTemplates;
    impl Call for NoTemplates {
        fn include(&mut self, name: &str, _: Value) -> Result<String, Error> {
            Err(Error::new(format!("no template {name}")))
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, Error> {
            Err(Error::new("no tpl"))
        }
        fn template_name(&self) -> &str {
            "test"
        }
    }
    let f = m.get(name).expect("function registered");
    f(&mut NoTemplates, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name in Sprig v3.3.0's function map (functions.go, `genericMap`).
    const SPRIG_V3_3_0: &str = "hello ago date date_in_zone date_modify dateInZone dateModify \
        duration durationRound htmlDate htmlDateInZone must_date_modify mustDateModify mustToDate \
        now toDate unixEpoch abbrev abbrevboth trunc trim upper lower title untitle substr repeat \
        trimall trimAll trimSuffix trimPrefix nospace initials randAlphaNum randAlpha randAscii \
        randNumeric swapcase shuffle snakecase camelcase kebabcase wrap wrapWith contains \
        hasPrefix hasSuffix quote squote cat indent nindent replace plural sha1sum sha256sum \
        sha512sum adler32sum toString atoi int64 int float64 seq toDecimal split splitList splitn \
        toStrings until untilStep add1 add sub div mod mul randInt add1f addf subf divf mulf \
        biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all any \
        compact mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson \
        mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike \
        kindOf kindIs deepEqual env expandenv getHostByName base dir clean ext isAbs osBase \
        osClean osDir osExt osIsAbs b64enc b64dec b32enc b32dec tuple list dict get set unset \
        hasKey pluck keys pick omit merge mergeOverwrite mustMerge mustMergeOverwrite values \
        append push mustAppend mustPush prepend mustPrepend first mustFirst rest mustRest last \
        mustLast initial mustInitial reverse mustReverse uniq mustUniq without mustWithout has \
        mustHas slice mustSlice concat dig chunk mustChunk bcrypt htpasswd genPrivateKey \
        derivePassword buildCustomCert genCA genCAWithKey genSelfSignedCert \
        genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES \
        randBytes uuidv4 semver semverCompare fail regexMatch mustRegexMatch regexFindAll \
        mustRegexFindAll regexFind mustRegexFind regexReplaceAll mustRegexReplaceAll \
        regexReplaceAllLiteral mustRegexReplaceAllLiteral regexSplit mustRegexSplit \
        regexQuoteMeta urlParse urlJoin";

    /// Removed by Helm (`env`, `expandenv`), or registered by the encoders and by strata.
    const ELSEWHERE: &[&str] = &[
        "env",
        "expandenv",
        "toJson",
        "fromJson",
        "mustToJson",
        "semver",
        "semverCompare",
    ];

    #[test]
    fn every_sprig_function_is_registered_or_listed() {
        let m = funcs();
        for name in SPRIG_V3_3_0.split_whitespace() {
            let places = [
                m.contains(name),
                UNSUPPORTED.contains(&name),
                ELSEWHERE.contains(&name),
            ];
            assert_eq!(
                places.iter().filter(|p| **p).count(),
                1,
                "{name}: registered, unsupported, elsewhere = {places:?}"
            );
        }
        for name in m.names() {
            assert!(
                SPRIG_V3_3_0.split_whitespace().any(|n| n == name),
                "{name} is not Sprig's"
            );
        }
    }

    #[test]
    fn random_functions_are_marked() {
        let m = funcs();
        for name in [
            "randAlphaNum",
            "randAlpha",
            "randAscii",
            "randNumeric",
            "randBytes",
        ] {
            assert_eq!(m.determinism(name), Some(Determinism::Random), "{name}");
        }
        for name in [
            "uuidv4", "shuffle", "randInt", "bcrypt", "htpasswd", "now", "date",
        ] {
            assert_eq!(m.determinism(name), Some(Determinism::Random), "{name}");
        }
        assert_eq!(m.determinism("trunc"), Some(Determinism::Deterministic));
    }
}
