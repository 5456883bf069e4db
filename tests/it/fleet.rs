//! The fleet commands against a copy of examples/fleet, with the real helm: `strata tenants`
//! (table, JSON, selectors) and `strata render --all` (one file per tenant, byte-for-byte what
//! `strata render` prints, failures isolated, the same files whatever the parallelism).
//!
//! The example is copied into a temporary repository first, so nothing is written into the
//! source tree.

use crate::common::*;
use sha2::{Digest, Sha256};
use std::fs;
use strata::chart::cache::{Cache, EntryInfo};

const TENANTS: [&str; 4] = [
    "customers/preprod/acme",
    "customers/prod/acme",
    "customers/prod/globex",
    "customers/prod/initech",
];

fn file_name(tenant: &str) -> String {
    format!("{}.yaml", tenant.replace('/', "__"))
}

#[test]
fn tenants_table_lists_every_tenant_with_vars_and_charts() {
    let t = fleet_repo();
    let out = in_repo(&t, Helm::V3, &["tenants", "fleet"]);
    assert_success(&out, "strata tenants");
    assert_eq!(
        text(&out.stdout),
        "\
TENANT                        VARS                                 CHARTS
fleet/customers/preprod/acme  env=preprod,region=den1,tenant=acme  fleet/charts/web, fleet/charts/worker
fleet/customers/prod/acme     env=prod,region=den1,tenant=acme     fleet/charts/web, fleet/charts/worker
fleet/customers/prod/globex   env=prod,region=yul1,tenant=globex   fleet/charts/web, fleet/charts/worker
fleet/customers/prod/initech  env=prod,region=den1,tenant=initech  fleet/charts/web, fleet/charts/worker
"
    );
    // Any directory inside the stack finds the same stack and lists every tenant.
    let inner = in_repo(&t, Helm::V3, &["tenants", "fleet/customers/prod/globex"]);
    assert_success(&inner, "strata tenants from a tenant directory");
    assert_eq!(text(&inner.stdout), text(&out.stdout));
}

#[test]
fn tenants_json_has_var_sources_and_layers_in_use() {
    let t = fleet_repo();
    let out = in_repo(&t, Helm::V3, &["tenants", "fleet", "--format", "json"]);
    assert_success(&out, "strata tenants --format json");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let list = list.as_array().expect("a JSON array");
    let dirs: Vec<&str> = list.iter().map(|t| t["dir"].as_str().unwrap()).collect();
    let expected: Vec<String> = TENANTS.iter().map(|d| format!("fleet/{d}")).collect();
    assert_eq!(dirs, expected);

    let globex = &list[2];
    assert_eq!(
        globex["vars"],
        serde_json::json!({"env": "prod", "region": "yul1", "tenant": "globex"})
    );
    assert_eq!(
        globex["varSources"]["region"],
        "fleet/customers/prod/globex/tenant.yaml vars"
    );
    assert!(
        globex["varSources"]["tenant"]
            .as_str()
            .unwrap()
            .contains("tenant directory"),
        "{globex}"
    );
    let web = &globex["components"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["chart"], "fleet/charts/web");
    assert_eq!(web["constraint"], serde_json::Value::Null);
    assert_eq!(web["version"], serde_json::Value::Null);
    // The optional region-specific layer exists for globex (prod/yul1) ...
    assert_eq!(
        web["layers"],
        serde_json::json!([
            "fleet/values/common.yaml",
            "fleet/values/env/prod.yaml",
            "fleet/values/region/yul1.yaml",
            "fleet/values/env/prod/yul1.yaml",
            "fleet/customers/prod/globex/values.yaml"
        ])
    );
    // ... and is left out for acme (prod/den1), as is its absent optional worker.yaml.
    let acme = &list[1];
    assert_eq!(
        acme["components"][0]["layers"],
        serde_json::json!([
            "fleet/values/common.yaml",
            "fleet/values/env/prod.yaml",
            "fleet/values/region/den1.yaml",
            "fleet/customers/prod/acme/values.yaml"
        ])
    );
    assert_eq!(
        acme["components"][1]["layers"],
        serde_json::json!([
            "fleet/values/worker/common.yaml",
            "fleet/values/worker/env/prod.yaml"
        ])
    );
}

#[test]
fn tenants_selector_filters_by_any_variable() {
    let t = fleet_repo();
    let dirs = |selector: &str| -> Vec<String> {
        let out = in_repo(
            &t,
            Helm::V3,
            &[
                "tenants",
                "fleet",
                "--selector",
                selector,
                "--format",
                "json",
            ],
        );
        assert_success(&out, &format!("strata tenants --selector {selector}"));
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["dir"].as_str().unwrap().to_owned())
            .collect()
    };
    // region comes from globex's tenant file, not its directory.
    assert_eq!(
        dirs("env=prod,region=yul1"),
        vec!["fleet/customers/prod/globex"]
    );
    assert_eq!(
        dirs("env=prod"),
        vec![
            "fleet/customers/prod/acme",
            "fleet/customers/prod/globex",
            "fleet/customers/prod/initech"
        ]
    );
    assert_eq!(
        dirs("tenant=acme"),
        vec!["fleet/customers/preprod/acme", "fleet/customers/prod/acme"]
    );
    // The other forms: inequality, sets, the same variable twice (either value), and
    // repeated --selector flags (different variables all hold).
    assert_eq!(dirs("env!=prod"), vec!["fleet/customers/preprod/acme"]);
    assert_eq!(
        dirs("env=prod,region in (den1, yul1),tenant notin (acme)"),
        vec![
            "fleet/customers/prod/globex",
            "fleet/customers/prod/initech"
        ]
    );
    assert_eq!(
        dirs("tenant=acme,tenant=globex"),
        vec![
            "fleet/customers/preprod/acme",
            "fleet/customers/prod/acme",
            "fleet/customers/prod/globex"
        ]
    );
    let repeated = in_repo(
        &t,
        Helm::V3,
        &[
            "tenants",
            "fleet",
            "--selector",
            "tenant=acme",
            "--selector",
            "env=prod",
        ],
    );
    assert_success(&repeated, "strata tenants with two --selector flags");
    assert_eq!(
        text(&repeated.stdout).lines().count(),
        2,
        "{}",
        describe(&repeated)
    );
    assert!(text(&repeated.stdout).contains("fleet/customers/prod/acme "));

    let table = in_repo(
        &t,
        Helm::V3,
        &["tenants", "fleet", "--selector", "region=yul1"],
    );
    assert_success(&table, "strata tenants --selector region=yul1");
    let lines: Vec<String> = text(&table.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with("fleet/customers/prod/globex "),
        "{lines:?}"
    );

    let bad = in_repo(&t, Helm::V3, &["tenants", "fleet", "--selector", "env"]);
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
}

/// Every selector mistake is a usage error (exit status 2) with one line naming it, in every
/// fleet command; an empty selection is one too unless --allow-empty.
#[test]
fn selector_mistakes_and_empty_selections_exit_2_everywhere() {
    let t = fleet_repo();
    let usage = |args: &[&str], needles: &[&str]| {
        let out = in_repo(&t, Helm::V3, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let err = text(&out.stderr);
        for needle in needles {
            assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
        }
        // clap adds its "For more information, try '--help'." hint to a flag it refuses.
        let lines = err
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("For more"));
        assert_eq!(lines.count(), 1, "{args:?}: {err}");
    };
    for command in [
        vec!["tenants", "fleet"],
        vec!["check", "fleet"],
        vec!["snapshot", "update", "fleet"],
        vec!["render", "--all", "fleet", "--out-dir", "out"],
    ] {
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            command.iter().chain(extra).copied().collect()
        };
        usage(
            &with(&["--selector", "envv=prod"]),
            &["variable \"envv\"", "env, region, tenant"],
        );
        usage(
            &with(&["--selector", "env=prod,,tenant=acme"]),
            &["empty term"],
        );
        usage(&with(&["--selector", "env~=prod"]), &["env~=prod"]);
        usage(
            &with(&["--selector", "env=staging"]),
            &["matches the selector env=staging", "--allow-empty"],
        );
    }
    usage(
        &[
            "appset",
            "fleet",
            "--repo-url",
            "https://git.example/r",
            "--selector",
            "envv=x",
        ],
        &["envv"],
    );
    usage(
        &[
            "promote",
            "fleet",
            "--from",
            "env=preprod",
            "--to",
            "envv=prod",
        ],
        &["envv"],
    );

    let allowed = in_repo(
        &t,
        Helm::V3,
        &[
            "tenants",
            "fleet",
            "--selector",
            "env=staging",
            "--allow-empty",
            "--format",
            "json",
        ],
    );
    assert_success(&allowed, "strata tenants --allow-empty");
    assert_eq!(text(&allowed.stdout).trim(), "[]");
}

#[test]
fn render_all_writes_what_render_prints_for_each_tenant() {
    for helm in Helm::ALL {
        let t = fleet_repo();
        let out = in_repo(&t, helm, &["render", "--all", "fleet", "--out-dir", "out"]);
        assert_success(&out, "strata render --all");
        assert!(
            out.stdout.is_empty(),
            "stdout stays empty\n{}",
            describe(&out)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("rendered 4 tenant(s), 0 failed"),
            "{stderr}"
        );
        assert!(
            !stderr.contains('\r'),
            "no progress off a terminal: {stderr:?}"
        );

        let written = files(&t.path("out"));
        let names: Vec<String> = TENANTS.iter().map(|d| file_name(d)).collect();
        assert_eq!(written.keys().cloned().collect::<Vec<_>>(), names);
        for tenant in TENANTS {
            let single = in_repo(&t, helm, &["render", &format!("fleet/{tenant}")]);
            assert_success(&single, &format!("strata render {tenant}"));
            assert_same_bytes(
                &written[&file_name(tenant)],
                &single.stdout,
                &format!("{tenant} with helm {}", helm.version()),
            );
        }
    }
}

#[test]
fn render_all_parallelism_does_not_change_the_files() {
    let t = fleet_repo();
    for (jobs, dir) in [("1", "out-1"), ("4", "out-4")] {
        let out = in_repo(
            &t,
            Helm::V3,
            &["render", "--all", "fleet", "--out-dir", dir, "-j", jobs],
        );
        assert_success(&out, &format!("strata render --all -j {jobs}"));
    }
    let one = files(&t.path("out-1"));
    let four = files(&t.path("out-4"));
    assert_eq!(one.len(), 4);
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        four.keys().collect::<Vec<_>>()
    );
    for (name, content) in &one {
        assert_same_bytes(&four[name], content, &format!("{name}: -j 4 vs -j 1"));
    }
}

#[test]
fn render_all_selector_renders_only_matching_tenants() {
    let t = fleet_repo();
    let out = in_repo(
        &t,
        Helm::V3,
        &[
            "render",
            "--all",
            "fleet",
            "--out-dir",
            "out",
            "--selector",
            "env=prod,region=den1",
        ],
    );
    assert_success(&out, "strata render --all --selector");
    let written = files(&t.path("out"));
    assert_eq!(
        written.keys().cloned().collect::<Vec<_>>(),
        vec![
            "customers__prod__acme.yaml".to_owned(),
            "customers__prod__initech.yaml".to_owned()
        ]
    );

    let none = in_repo(
        &t,
        Helm::V3,
        &[
            "render",
            "--all",
            "fleet",
            "--out-dir",
            "out",
            "--selector",
            "env=staging",
        ],
    );
    assert_eq!(none.status.code(), Some(2), "{}", describe(&none));
    assert!(text(&none.stderr).contains("matches the selector env=staging"));
}

#[test]
fn a_broken_tenant_fails_alone() {
    let t = fleet_repo();
    t.write(
        "fleet/customers/prod/broken/values.yaml",
        "config:\n  TENANT_ID: broken\n  FLAGS: [unclosed\n",
    );
    // A file from an earlier run of the broken tenant, and one of a tenant that is gone: both
    // are left alone.
    t.write("out/customers__prod__broken.yaml", "earlier render\n");
    t.write("out/customers__prod__gone.yaml", "gone tenant\n");

    // Listing does not read values, so the broken tenant is still listed.
    let listed = in_repo(&t, Helm::V3, &["tenants", "fleet"]);
    assert_success(&listed, "strata tenants with a broken values file");
    assert!(text(&listed.stdout).contains("fleet/customers/prod/broken "));

    let out = in_repo(
        &t,
        Helm::V3,
        &["render", "--all", "fleet", "--out-dir", "out"],
    );
    assert_error(
        &out,
        "render --all with a broken tenant",
        &[
            "rendered 4 tenant(s), 1 failed",
            "fleet/customers/prod/broken: ",
            "fleet/customers/prod/broken/values.yaml:3",
        ],
    );
    let stderr = text(&out.stderr);
    let failure_lines = stderr.lines().filter(|l| l.contains("broken")).count();
    assert_eq!(failure_lines, 1, "one line per failure:\n{stderr}");

    let written = files(&t.path("out"));
    assert_eq!(written["customers__prod__broken.yaml"], b"earlier render\n");
    assert_eq!(written["customers__prod__gone.yaml"], b"gone tenant\n");
    for tenant in TENANTS {
        let single = in_repo(&t, Helm::V3, &["render", &format!("fleet/{tenant}")]);
        assert_success(&single, &format!("strata render {tenant}"));
        assert_same_bytes(&written[&file_name(tenant)], &single.stdout, tenant);
    }

    // Selecting around the broken tenant succeeds.
    let prod_den1 = in_repo(
        &t,
        Helm::V3,
        &[
            "render",
            "--all",
            "fleet",
            "--out-dir",
            "out-preprod",
            "--selector",
            "env=preprod",
        ],
    );
    assert_success(&prod_den1, "render --all around the broken tenant");
}

#[test]
fn an_unresolvable_tenant_is_skipped_only_when_its_directory_rules_it_out() {
    let t = fleet_repo();
    // Its tenant file cannot be read, so only the variables its directory binds are known.
    t.write("fleet/customers/prod/broken/tenant.yaml", "vars: [\n");
    t.write("fleet/customers/prod/broken/values.yaml", "{}\n");

    let preprod = in_repo(
        &t,
        Helm::V3,
        &["tenants", "fleet", "--selector", "env=preprod"],
    );
    assert_success(&preprod, "env=preprod rules the prod tenant out");

    let den1 = in_repo(
        &t,
        Helm::V3,
        &["tenants", "fleet", "--selector", "region=den1"],
    );
    assert_error(
        &den1,
        "region is unknown for the broken tenant",
        &["fleet/customers/prod/broken/tenant.yaml"],
    );

    let out = in_repo(
        &t,
        Helm::V3,
        &[
            "render",
            "--all",
            "fleet",
            "--out-dir",
            "out",
            "--selector",
            "env=prod",
        ],
    );
    assert_error(
        &out,
        "render --all with an unresolvable tenant",
        &[
            "rendered 3 tenant(s), 1 failed",
            "fleet/customers/prod/broken/tenant.yaml",
        ],
    );
    assert_eq!(files(&t.path("out")).len(), 3);
}

#[test]
fn render_all_usage_errors() {
    let t = fleet_repo();
    for args in [
        &["render", "--all", "fleet"][..],
        &["render", "fleet/customers/prod/acme", "--out-dir", "out"],
        &[
            "render",
            "--all",
            "fleet",
            "--out-dir",
            "out",
            "-o",
            "x.yaml",
        ],
        &["render", "--all", "fleet", "--out-dir", "out", "-j", "0"],
        &["render", "--all", "fleet", "--out-dir", "out", "--refresh"],
        &[
            "render",
            "fleet/customers/prod/acme",
            "--selector",
            "env=prod",
        ],
    ] {
        let out = in_repo(&t, Helm::V3, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", describe(&out));
    }
    assert!(!t.path("out").exists());
}

/// A stack whose `api` component is a versioned chart from a repository that is never
/// contacted: strata.lock pins `^1.0` to 1.2.0 and the archive is already in the cache.
/// globex pins `^2`, which the lock does not cover.
struct VersionedStack {
    tree: Tree,
    archive: Vec<u8>,
    digest: String,
}

const REPOSITORY: &str = "http://127.0.0.1:9/charts";

impl VersionedStack {
    fn new() -> VersionedStack {
        let tree = Tree::new();
        tree.mkdir(".git");
        tree.write(
            "src/api/Chart.yaml",
            "apiVersion: v2\nname: api\nversion: 1.2.0\n",
        );
        tree.write("src/api/values.yaml", "message: chart default\n");
        tree.write(
            "src/api/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-api\ndata:\n  chartVersion: {{ .Chart.Version | quote }}\n  message: {{ .Values.message | quote }}\n",
        );
        let out = run_std(
            helm(Helm::V3)
                .arg("package")
                .arg(tree.path("src/api"))
                .arg("-d")
                .arg(tree.mkdir("pkg")),
        );
        assert!(out.status.success(), "helm package\n{}", describe(&out));
        let archive = fs::read(tree.path("pkg/api-1.2.0.tgz")).expect("packaged chart");
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&archive)));

        tree.write(
            "stack/strata.yaml",
            format!(
                "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{tenant}}}}\"\n  file: tenant.yaml\ncomponents:\n  - name: api\n    chart: {{repository: \"{REPOSITORY}\", name: api, version: \"^1.0\"}}\n    values:\n      - t/{{{{tenant}}}}/values.yaml\n"
            ),
        );
        tree.write(
            "stack/strata.lock",
            format!(
                "apiVersion: strata/v1\nkind: Lock\ncharts:\n  - repository: {REPOSITORY}\n    chart: api\n    constraint: \"^1.0\"\n    version: 1.2.0\n    digest: {digest}\n    url: {REPOSITORY}/api-1.2.0.tgz\n"
            ),
        );
        tree.write("stack/t/acme/values.yaml", "message: hello acme\n");
        tree.write("stack/t/globex/values.yaml", "message: hello globex\n");
        tree.write(
            "stack/t/globex/tenant.yaml",
            "chart:\n  api:\n    version: \"^2\"\n",
        );
        VersionedStack {
            tree,
            archive,
            digest,
        }
    }

    /// strata with a fresh cache that already holds the locked archive, and no network.
    fn strata(&self, cache: &str, args: &[&str]) -> std::process::Output {
        let dir = self.tree.mkdir(cache);
        let info = EntryInfo {
            digest: self.digest.clone(),
            chart: "api".into(),
            version: "1.2.0".into(),
            source: REPOSITORY.into(),
        };
        Cache::new(dir.clone())
            .get_or_insert(&self.digest, &info, || Ok(self.archive.clone()))
            .expect("seed the chart cache");
        let mut cmd = strata(Helm::V3);
        cmd.current_dir(self.tree.root())
            .env("STRATA_CACHE_DIR", dir)
            .args(args);
        run(&mut cmd)
    }
}

#[test]
fn versioned_charts_show_their_locked_version_and_render_from_the_cache() {
    let s = VersionedStack::new();
    let table = s.strata("cache-1", &["tenants", "stack"]);
    assert_success(&table, "strata tenants with a versioned chart");
    assert_eq!(
        text(&table.stdout),
        "\
TENANT          VARS           CHARTS
stack/t/acme    tenant=acme    api@1.2.0
stack/t/globex  tenant=globex  api@^2 (not locked)
"
    );

    let json = s.strata("cache-2", &["tenants", "stack", "--format", "json"]);
    assert_success(&json, "strata tenants --format json with a versioned chart");
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let acme = &list[0]["components"][0];
    assert_eq!(acme["chart"], format!("{REPOSITORY}/api"));
    assert_eq!(acme["constraint"], "^1.0");
    assert_eq!(acme["version"], "1.2.0");
    assert_eq!(acme["lockError"], serde_json::Value::Null);
    let globex = &list[1]["components"][0];
    assert_eq!(globex["constraint"], "^2");
    assert_eq!(globex["version"], serde_json::Value::Null);
    assert!(
        globex["lockError"]
            .as_str()
            .unwrap()
            .contains("strata lock"),
        "{globex}"
    );

    let all = s.strata(
        "cache-3",
        &["render", "--all", "stack", "--out-dir", "out", "--offline"],
    );
    assert_error(
        &all,
        "render --all with an unlocked pin",
        &[
            "rendered 1 tenant(s), 1 failed",
            "stack/t/globex: ",
            "strata lock",
        ],
    );
    let written = files(&s.tree.path("out"));
    assert_eq!(
        written.keys().cloned().collect::<Vec<_>>(),
        vec!["t__acme.yaml".to_owned()]
    );
    let single = s.strata("cache-4", &["render", "stack/t/acme", "--offline"]);
    assert_success(&single, "strata render acme");
    assert!(text(&single.stdout).contains("chartVersion: \"1.2.0\""));
    assert_same_bytes(&written["t__acme.yaml"], &single.stdout, "acme");
}

/// `clusters` gives each cluster's Kubernetes and API versions: render uses them when no
/// version is given, an explicit version wins with a warning, and generate keeps Argo CD's.
#[test]
fn per_cluster_kube_versions_reach_helm() {
    for helm in Helm::ALL {
        let t = fleet_repo();
        t.write(
            "fleet/charts/web/templates/capabilities.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: capabilities\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  monitoring: {{ .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" | quote }}\n",
        );
        let stack = fs::read_to_string(t.path("fleet/strata.yaml")).unwrap();
        let stack = stack.replace(
            "    prod-yul1: https://prod-yul1.k8s.example.com\n",
            "    prod-yul1:\n      server: https://prod-yul1.k8s.example.com\n      kubeVersion: \"1.30.2\"\n      apiVersions: [monitoring.coreos.com/v1]\n",
        );
        let stack = stack.replace(
            "  default: https://kubernetes.default.svc\n",
            "  default: https://kubernetes.default.svc\n  kubeVersion: \"1.29.4\"\n",
        );
        t.write("fleet/strata.yaml", &stack);
        let capabilities = |out: &std::process::Output| -> (String, String) {
            let stdout = text(&out.stdout);
            let doc = stdout
                .split("---")
                .find(|d| d.contains("name: capabilities"))
                .unwrap_or_else(|| panic!("no capabilities ConfigMap:\n{}", describe(out)))
                .to_owned();
            let field = |name: &str| {
                doc.lines()
                    .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_owned()
            };
            (field("kube"), field("monitoring"))
        };

        let globex = in_repo(&t, helm, &["render", "fleet/customers/prod/globex"]);
        assert_success(&globex, "render globex (prod-yul1)");
        assert_eq!(
            capabilities(&globex),
            ("v1.30.2".into(), "true".into()),
            "{helm:?}"
        );
        let acme = in_repo(&t, helm, &["render", "fleet/customers/prod/acme"]);
        assert_success(&acme, "render acme (prod-den1, the stack default)");
        assert_eq!(capabilities(&acme), ("v1.29.4".into(), "false".into()));

        let explicit = in_repo(
            &t,
            helm,
            &[
                "render",
                "fleet/customers/prod/globex",
                "--kube-version",
                "1.31.0",
            ],
        );
        assert_success(&explicit, "render --kube-version");
        assert_eq!(capabilities(&explicit).0, "v1.31.0");
        assert!(
            text(&explicit.stderr)
                .contains("disagrees with kubeVersion 1.30.2 of cluster prod-yul1"),
            "{}",
            describe(&explicit)
        );

        // Argo CD's values are kept, with the same warning.
        let mut generate = strata(helm);
        generate
            .current_dir(t.path("fleet/customers/prod/globex"))
            .env("STRATA_CACHE_DIR", t.path("cache/generate"))
            .env("ARGOCD_APP_NAME", "globex")
            .env("ARGOCD_APP_SOURCE_PATH", "fleet/customers/prod/globex")
            .env("KUBE_VERSION", "1.31.1")
            .env("KUBE_API_VERSIONS", "v1,apps/v1")
            .arg("generate");
        let out = run(&mut generate);
        assert_success(&out, "generate");
        assert_eq!(capabilities(&out), ("v1.31.1".into(), "false".into()));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("disagrees with kubeVersion 1.30.2"),
            "{stderr}"
        );
        assert!(stderr.contains("lack monitoring.coreos.com/v1"), "{stderr}");
    }
}
