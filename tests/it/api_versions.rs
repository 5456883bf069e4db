//! Very large API version lists (KUBE_API_VERSIONS / --api-versions) must
//! reach helm intact.
//!
//! Linux caps a single environment string at 128 KiB (MAX_ARG_STRLEN), and
//! Argo CD passes the list as one variable, so 20,000 realistic
//! `group/version[/Kind]` entries cannot be delivered at all. The 20,000-entry
//! list below therefore uses short entries; a second test uses realistic
//! entries up to the size limit.

use crate::common::*;

const STRATA_YAML: &str = r#"apiVersion: strata/v1
kind: Stack
tenants:
  path: "tenants/{{tenant}}"
components:
  - name: caps
    chart: {path: charts/caps}
    values:
      - tenants/{{tenant}}/values.yaml
"#;

/// Linux MAX_ARG_STRLEN: longest single argv/env string, NUL included.
const MAX_ARG_STRLEN: usize = 128 * 1024;

struct Probe {
    first: String,
    middle: String,
    last: String,
    list: Vec<String>,
}

fn stack(p: &Probe) -> Tree {
    let t = Tree::new();
    t.write("strata.yaml", STRATA_YAML);
    t.write(
        "charts/caps/Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    );
    let template = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n\
         \x20 first: {{{{ .Capabilities.APIVersions.Has {first:?} | quote }}}}\n\
         \x20 middle: {{{{ .Capabilities.APIVersions.Has {middle:?} | quote }}}}\n\
         \x20 last: {{{{ .Capabilities.APIVersions.Has {last:?} | quote }}}}\n\
         \x20 absent: {{{{ .Capabilities.APIVersions.Has \"absent.example.com/v1\" | quote }}}}\n",
        first = p.first,
        middle = p.middle,
        last = p.last,
    );
    t.write("charts/caps/templates/caps.yaml", template);
    t.write("tenants/acme/values.yaml", "{}\n");
    t
}

/// 20,000 distinct entries, sorted like Argo CD sorts them. Fillers are
/// `<3 base-36 chars>/v`; the first and last entries are realistic.
fn compact_probe() -> Probe {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut list = vec![
        "0first.example.com/v1".to_string(),
        "zzzz.example.com/v1/LastKind".to_string(),
    ];
    let mut n = 36 * 36; // start at "100"
    while list.len() < 20_000 {
        let id: String = [n / (36 * 36), (n / 36) % 36, n % 36]
            .iter()
            .map(|d| DIGITS[*d] as char)
            .collect();
        list.push(format!("{id}/v"));
        n += 1;
    }
    list.sort();
    list.dedup();
    assert_eq!(list.len(), 20_000);
    Probe {
        first: list[0].clone(),
        middle: list[10_000].clone(),
        last: list[19_999].clone(),
        list,
    }
}

/// Realistic `g/v` + `g/v/Kind` pairs, as many as fit in one env string.
fn realistic_probe() -> Probe {
    let mut list = Vec::new();
    let mut size = "KUBE_API_VERSIONS=".len() + 1;
    for i in 0.. {
        let gv = format!("group{i}.example.com/v1");
        let gvk = format!("{gv}/Kind{i}");
        let add = gv.len() + gvk.len() + 2;
        if size + add > MAX_ARG_STRLEN - 256 {
            break;
        }
        size += add;
        list.push(gv);
        list.push(gvk);
    }
    list.sort();
    let n = list.len();
    Probe {
        first: list[0].clone(),
        middle: list[n / 2].clone(),
        last: list[n - 1].clone(),
        list,
    }
}

#[track_caller]
fn assert_caps(stdout: &[u8], p: &Probe) {
    let out = text(stdout);
    for (key, expected) in [
        ("first", "true"),
        ("middle", "true"),
        ("last", "true"),
        ("absent", "false"),
    ] {
        let line = format!("  {key}: \"{expected}\"");
        assert!(
            out.contains(&line),
            "expected `{line}` ({key} entry {:?})\n{out}",
            match key {
                "first" => &p.first,
                "middle" => &p.middle,
                "last" => &p.last,
                _ => "absent.example.com/v1",
            }
        );
    }
}

fn generate_with(p: &Probe, which: Helm) {
    let joined = p.list.join(",");
    assert!(
        "KUBE_API_VERSIONS=".len() + joined.len() < MAX_ARG_STRLEN,
        "test bug: list does not fit in one environment string ({} bytes)",
        joined.len()
    );
    let t = stack(p);
    let out = run(strata(which)
        .current_dir(t.path("tenants/acme"))
        .arg("generate")
        .env("ARGOCD_APP_NAME", "acme")
        .env("ARGOCD_APP_NAMESPACE", "acme")
        .env("ARGOCD_APP_SOURCE_PATH", "tenants/acme")
        .env("ARGOCD_APP_PARAMETERS", "null")
        .env("KUBE_VERSION", "1.30.11")
        .env("KUBE_API_VERSIONS", &joined));
    assert_success(
        &out,
        &format!("generate with {} API versions", p.list.len()),
    );
    assert_caps(&out.stdout, p);
}

#[test]
fn twenty_thousand_api_versions_helm3() {
    generate_with(&compact_probe(), Helm::V3);
}

#[test]
fn twenty_thousand_api_versions_helm4() {
    generate_with(&compact_probe(), Helm::V4);
}

#[test]
fn realistic_api_versions_at_the_env_limit_helm3() {
    let p = realistic_probe();
    assert!(p.list.len() > 4_000, "only {} entries", p.list.len());
    generate_with(&p, Helm::V3);
}

#[test]
fn realistic_api_versions_at_the_env_limit_helm4() {
    generate_with(&realistic_probe(), Helm::V4);
}

/// The same list through `strata render --api-versions`.
#[test]
fn render_flag_with_twenty_thousand_api_versions() {
    let p = compact_probe();
    let t = stack(&p);
    let out = run(strata(Helm::V3)
        .current_dir(t.root())
        .args(["render", "tenants/acme", "--api-versions"])
        .arg(p.list.join(",")));
    assert_success(&out, "render --api-versions with 20,000 entries");
    assert_caps(&out.stdout, &p);
}
