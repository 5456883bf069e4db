//! The engine against real helm 3.17.3 and 4.1.4: each batch is one chart and one helm run per
//! version (see `support`).

mod support;

const VALUES: &str = r#"{
  "s": "str", "empty": "", "n": 3, "neg": -2, "f": 1.5, "big": 1000000, "tiny": 0.0001,
  "small": 0.00001, "huge": 1.5e300, "t": true, "no": false, "nul": null, "zero": 0,
  "l": ["a", "b", "c"], "nums": [1, 2.5, -3], "el": [], "em": {},
  "m": {"b": 2, "a": "x", "c": [1, {"d": "e"}], "z": null},
  "deep": {"a": {"b": {"c": "deep"}}},
  "mixed": [null, true, 1, "s", [1, 2], {"k": "v"}]
}"#;

fn check(tag: &str, cases: &[&str]) {
    check_with(tag, "", cases);
}

fn check_with(tag: &str, prelude: &str, cases: &[&str]) {
    let cases: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
    let problems = support::compare(tag, VALUES, prelude, &cases);
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn check_errors(tag: &str, cases: &[&str]) {
    let cases: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
    let problems = support::compare_errors(tag, VALUES, &cases);
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn text_trimming_and_comments() {
    check(
        "trim",
        &[
            "a  {{- 1 -}}  b",
            "a \n\t {{- 1 }} \n b",
            "a {{ 1 -}} \n\n b",
            "{{-3}}",
            "{{- -3 -}}",
            "a {{/* c */}} b",
            "a {{- /* c */ -}} b",
            "a\n{{- /* multi\nline */}}\nb",
            "x{{ \"\" }}y",
            "{{ `raw\\n` }}",
            "{{ \"esc\\t\\x41\\u00e9\" }}",
            "{{ 'a' }} {{ '\\n' }}",
            "{{ 1e3 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 017 }} {{ 1.0 }} {{ .5 }}",
            "{{ true }} {{ false }}",
            "{{ 0x1p4 }} {{ 0x1.8p1 }} {{ +1 }} {{ -0 }} {{ 1e-2 }} {{ 0_7 }} {{ 9223372036854775807 }} {{ 1.e3 }}",
            "{{'\\x41'}} {{ '\\'' }} {{ 'é' }} {{ '\\u00e9' }}",
            "{{.Values.s}}{{print 1 2}}{{ print (1) }}{{ print\n 1\n }}{{ 1 }}{{/* */}}{{ 2 }}",
            "a\r\nb {{- \"c\" -}} \r\n d é",
            "{{ \"a\" }}{{- \"b\" -}}  c {{/* x */ -}}  d",
            "{{ $x := \"a\" }}{{ $x | print }}{{ $x = 2 }}{{ $x }}",
        ],
    );
}

#[test]
fn fields_missing_keys_and_no_value() {
    check(
        "fields",
        &[
            "{{ .Values.s }} {{ .Values.nope }} {{ .Values.nul }}",
            "{{ .Values.m.a }} {{ .Values.m.zz }} {{ .Values.deep.a.b.c }}",
            "{{ .Values.m }}",
            "{{ .Values.l }} {{ .Values.nums }} {{ .Values.el }} {{ .Values.em }}",
            "{{ .Values.mixed }}",
            "{{ .Values.f }} {{ .Values.big }} {{ .Values.tiny }} {{ .Values.small }} {{ .Values.huge }} {{ .Values.n }} {{ .Values.neg }} {{ .Values.zero }}",
            "{{ $x := .Values.nope }}{{ $x.a }}",
            "{{ (.Values.nope).a }}",
            "{{ $v := .Values }}{{ $v.m.c }}",
            "{{ $.Values.s }}",
            "{{ .Values.m.c | len }}",
        ],
    );
}

#[test]
fn control_structures() {
    check(
        "control",
        &[
            "{{ range .Values.l }}[{{ . }}]{{ end }}",
            "{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}",
            "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
            "{{ range $v := .Values.m }}{{ $v }};{{ end }}",
            "{{ range .Values.el }}x{{ else }}empty{{ end }}",
            "{{ range .Values.nope }}x{{ else }}none{{ end }}",
            "{{ range .Values.l }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
            "{{ range .Values.l }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
            "{{ if .Values.t }}yes{{ end }}{{ if .Values.no }}no{{ else }}else{{ end }}",
            "{{ if .Values.nope }}1{{ else if .Values.zero }}2{{ else if .Values.s }}3{{ else }}4{{ end }}",
            "{{ with .Values.m }}{{ .a }}{{ end }}{{ with .Values.el }}x{{ else }}w-else{{ end }}",
            "{{ with .Values.nope }}1{{ else with .Values.s }}{{ . }}{{ end }}",
            "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
            "{{ $x := 1 }}{{ range .Values.l }}{{ $x = . }}{{ end }}{{ $x }}",
            "{{ if $y := .Values.s }}{{ $y }}{{ end }}",
            "{{ range $i, $e := .Values.mixed }}{{ $i }}:{{ $e }} {{ end }}",
            "{{ range .Values.m.c }}{{ . }}{{ end }}",
            "{{ if and .Values.s .Values.n }}and{{ end }}{{ if or .Values.nope .Values.zero }}or{{ else }}neither{{ end }}",
            "{{ range .Values.mixed }}{{ if . }}x{{ else }}-{{ end }}{{ end }}",
            "{{ range $v := .Values.deep }}{{ range $v }}{{ .c }}{{ end }}{{ end }}",
        ],
    );
}

const PRELUDE: &str = r#"{{ define "inner" }}<{{ . }}>{{ end }}
{{- define "i2" }}{{ $ }}|{{ . }}{{ end }}
{{- define "nested" }}[{{ include "inner" . }}|{{ template "inner" . }}]{{ end }}
"#;

#[test]
fn define_template_block_include() {
    check_with(
        "define",
        PRELUDE,
        &[
            "{{ template \"inner\" .Values.s }}",
            "{{ template \"i2\" 5 }}",
            "{{ template \"inner\" }}",
            "{{ block \"blk\" .Values.n }}B{{ . }}{{ end }}",
            "{{ include \"inner\" .Values.l }}",
            "{{ include \"inner\" .Values.nope }}",
            "{{ include \"nested\" .Values.m.a }}",
            "{{ tpl \"{{ .Values.s }}-{{ .Values.nope }}\" . }}",
            "{{ tpl \"{{ define \\\"tx\\\" }}T{{ end }}{{ include \\\"tx\\\" . }}\" . }}",
            "{{ tpl \"{{ include \\\"inner\\\" 7 }}\" . }}",
            "{{ required \"msg\" .Values.s }}",
            "{{ $x := 5 }}{{ template \"i2\" $x }}",
        ],
    );
}

/// Helm 4 (Go 1.24) ranges over integers; Helm 3.17 (Go 1.23) refuses.
#[test]
fn range_over_int_follows_the_go_release() {
    let cases: Vec<String> = vec![
        "{{ range 3 }}{{ . }}{{ end }}|{{ range 0 }}x{{ else }}zero{{ end }}|{{ range $i := 2 }}{{ $i }}{{ end }}".into(),
    ];
    let (helm3, helm4): (Vec<_>, Vec<_>) = support::helms()
        .into_iter()
        .partition(|(var, _)| var.ends_with('3'));
    let mut problems = support::compare_errors_on(&helm3, "rangeint3", VALUES, "", &cases);
    problems.extend(support::compare_on(&helm4, "rangeint4", VALUES, "", &cases));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn builtin_functions() {
    check(
        "builtins",
        &[
            "{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 \"\" }} {{ or 0 \"x\" 1 }} {{ and .Values.nope 1 }}",
            "{{ not 0 }} {{ not .Values.s }} {{ not .Values.nope }}",
            "{{ len .Values.l }} {{ len .Values.s }} {{ len .Values.m }} {{ len \"héllo\" }}",
            "{{ index .Values.l 1 }} {{ index .Values.m \"a\" }} {{ index .Values.m \"nope\" }} {{ index .Values.m.c 1 \"d\" }} {{ index \"abc\" 1 }} {{ index .Values.l }}",
            "{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ eq \"a\" \"a\" }} {{ eq .Values.f 1.5 }} {{ eq .Values.nope \"a\" }} {{ eq .Values.t true }}",
            "{{ ne 1 2 }} {{ ne \"a\" \"a\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 .Values.f }}",
            "{{ print 1 2 }} {{ print \"a\" \"b\" }} {{ print 1 \"a\" 2 }} {{ print nil 1 }} {{ print .Values.nope }}",
            "{{ println 1 \"a\" }}",
            "{{ eq .Values.nope nil }} {{ eq 1 nil }} {{ eq nil 1 }} {{ ne nil nil }} {{ not nil }} {{ or nil 1 }} {{ and nil 1 }}",
            "{{ html \"<a href='x'>&\\\"\" }} {{ js \"a'b\\\"c<>&=\\\\\" }} {{ urlquery \"a b&c=d/é\" }}",
            "{{ print .Values.m .Values.l }}",
            "{{ js .Values.nope }} {{ html .Values.nope 1 }} {{ urlquery nil }}",
            "{{ .Values.l | len }} {{ \"x\" | printf \"%s-%s\" \"a\" }}",
            "{{ (len .Values.l) }} {{ (index .Values.m \"c\" 1).d }} {{ (index .Values.m \"zz\").x }}",
        ],
    );
}

#[test]
fn printf_verbs() {
    check(
        "printf",
        &[
            "{{ printf \"%d|%5d|%-5d|%05d|%+d|% d|%x|%X|%#x|%o|%#o|%O|%b|%c|%q|%U|%#U\" 42 42 42 -42 3 3 255 255 255 8 8 8 5 65 65 65 65 }}",
            "{{ printf \"%.2f|%8.3f|%-8.2f|%08.3f|%+.1f|%e|%E|%.2e|%g|%G|%.3g|%.10g\" 3.14159 3.14159 2.5 -3.14159 2.25 1234.5 1234.5 0.000123 1e6 1e-7 1234.5678 1.5 }}",
            "{{ printf \"%v|%v|%v|%v|%v\" .Values.f .Values.big .Values.tiny .Values.small .Values.n }}",
            "{{ printf \"%f|%.0f|%.1f|%g|%e\" .Values.n .Values.f .Values.big .Values.big .Values.n }}",
            "{{ printf \"%s|%10s|%-10s|%.2s|%q|%x|% x|%X|%5.1s\" \"abc\" \"abc\" \"abc\" \"abc\" \"a\\\"b\\n\" \"hi\" \"hi\" \"hi\" \"xyz\" }}",
            "{{ printf \"%t|%v|%5t\" true false true }}",
            "{{ printf \"%v|%d|%s\" .Values.l .Values.nums .Values.l }}",
            "{{ printf \"%v|%+v|%d\" .Values.m .Values.m .Values.m }}",
            "{{ printf \"%v|%s|%d\" .Values.nope .Values.nope .Values.nope }}",
            "{{ printf \"%d|%s|%t|%f\" \"x\" 1 1 \"y\" }}",
            "{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 \"x\" }}|{{ printf \"%z\" 1 }}|{{ printf \"100%%\" }}|{{ printf \"%\" }}",
            "{{ printf \"%*d|%-*d|%.*f\" 5 1 4 2 2 3.14159 }}",
            "{{ printf \"%*d|%.*d|%*d|%[3]*.[2]*[1]f|%[5]d|%[0]d|%[x]d|%[2]\" 1.5 2 \"w\" 3 -4 5 12.0 2 }}",
            "{{ printf \"%-*d|%0*d|% 5d|%+.3d|%.0d|%5.0d|%x|%#o|%#b\" -6 7 5 -3 4 12 0 0 -10 8 5 }}",
            "{{ printf \"%c|%c|%q|%U|%#U|%08.3x\" 128512 -1 128512 128512 10 255 }}",
            "{{ printf \"%[2]d %[1]d|%[3]d|%[1]d %d\" 1 2 }}",
            "{{ printf \"%T %T %T %T %T %T %T\" 1 1.5 \"s\" true .Values.l .Values.m .Values.nope }}",
            "{{ printf \"%6.2f|%-6.1e|%+g|% g\" .Values.f .Values.f .Values.f .Values.f }}",
            "{{ printf \"%x|%X|%o\" -255 -255 -8 }}",
            "{{ printf \"%05s|%-05d|%+05d|%#08x\" \"ab\" 3 3 255 }}",
            "{{ printf \"%v %v\" .Values.mixed .Values.deep }}",
            "{{ printf \"%s\" .Values.mixed }}",
            "{{ printf \"%.3v|%10v|%-10v|\" \"abcdef\" .Values.l 1.5 }}",
            "{{ printf \"%q|%+q|%#q|%q\" \"héllo\" \"héllo\" \"back\" 'x' }}",
            "{{ printf \"%e|%g|%v\" 0.0 0.0 -0.0 }}",
            "{{ printf \"%g|%g|%g|%g\" 100000.0 1000000.0 0.0001 0.00001 }}",
            "{{ printf \"%.0e|%.1g|%.2g|%#.3g|%#g\" 15.5 15.5 0.000123 1.0 2.5 }}",
            "{{ printf \"%x|%X|%#x|%.3x|%b|%x|%x|%8.2x\" 2.0 0.1 0.5 1.0 1.5 0.0 -3.75 1e-310 }}",
            "{{ printf \"%#v|%#v|%#v|%#v\" .Values.m .Values.mixed nil 1.0 }}",
            "{{ printf \"%.1v|%.2v|%.1s|%.3v\" 2.5 1234.5 .Values.nums 7 }}",
        ],
    );
}

#[test]
fn errors_are_errors_in_both() {
    check_errors(
        "errors",
        &[
            "{{ .Values.nope.a }}",
            "{{ .Values.nul.a }}",
            "{{ .Values.s.a }}",
            "{{ eq 1 1.0 }}",
            "{{ eq .Values.n 3 }}",
            "{{ lt 1 \"a\" }}",
            "{{ len 3 }}",
            "{{ index .Values.l 5 }}",
            "{{ index .Values.m 1 }}",
            "{{ nosuchfunc 1 }}",
            "{{ $undefined }}",
            "{{ template \"missing\" }}",
            "{{ range 1.5 }}{{ end }}",
            "{{ range .Values.mixed }}{{ .x }}{{ end }}",
            "{{ required \"needed!\" .Values.nope }}",
            "{{ if }}{{ end }}",
            "{{ 1 | 2 }}",
            "{{ nil }}",
            "{{ .Values.m.a 1 }}",
            "{{ 9223372036854775808 }}",
            "{{ 08 }}",
            "{{ (print 1).x }}",
            "{{ 'ab' }}",
            "{{ 1 2 }}",
            "{{ /* not a comment */ }}",
            "{{ (index .Values.m \"c\").x }}",
            "{{ range .Values.f }}{{ end }}",
            "{{ range .Values.s }}{{ end }}",
            "{{ index .Values.nope 1 }}",
            "{{ len .Values.nope }}",
            "{{ printf 1 }}",
            "{{ lt nil 1 }}",
            "{{ eq .Values.m .Values.m }}",
            "{{ eq .Values.l .Values.l }}",
            "{{ index .Values.nope \"a\" }}",
            "{{ index .Values.m nil }}",
            "{{ len nil }}",
        ],
    );
}

/// Helm 4 (Go 1.24+) refuses parentheses nested 10,000 deep, Helm 3.17 accepts them; deep
/// `if` nesting works in both (and in the engine, which grows its stack rather than crash).
#[test]
fn deep_nesting_follows_the_go_release() {
    let nested = format!("{}1{}", "(".repeat(12_000), ")".repeat(12_000));
    let parens = vec![format!("{{{{ {nested} }}}}")];
    let ifs = vec![format!(
        "{}x{}",
        "{{ if 1 }}".repeat(3_000),
        "{{ end }}".repeat(3_000)
    )];
    let (helm3, helm4): (Vec<_>, Vec<_>) = support::helms()
        .into_iter()
        .partition(|(var, _)| var.ends_with('3'));
    let mut problems = support::compare_on(&helm3, "parens3", VALUES, "", &parens);
    problems.extend(support::compare_errors_on(
        &helm4, "parens4", VALUES, "", &parens,
    ));
    problems.extend(support::compare("ifs", VALUES, "", &ifs));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Helm stops an `include` nested more than 1,000 deep in one name (its recursion limit), and
/// not one below.
#[test]
fn include_nesting_limit_matches_helm() {
    let list = |n: usize| format!("{{\"l\": [{}]}}", vec!["1"; n].join(","));
    let prelude = r#"{{ define "r" }}{{ if . }}x{{ include "r" (slice . 1) }}{{ end }}{{ end }}"#;
    let case = vec![r#"{{ include "r" .Values.l | len }}"#.to_string()];
    let mut problems = support::compare("include-ok", &list(1000), prelude, &case);
    problems.extend(support::compare_errors_on(
        &support::helms(),
        "include-deep",
        &list(1001),
        prelude,
        &case,
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
