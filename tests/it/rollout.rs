//! Waves end to end, with the real helm and real git: `rollout.waves` assigns every tenant one
//! wave (a variable that selectors, pins and layers read), `strata promote --wave/--next`
//! moves a versioned chart (served by a real nginx) one wave at a time, `strata rollout
//! status` says who runs what, and `strata check --base` refuses a change that restarts too
//! much at once.

use crate::common::servers::Nginx;
use crate::common::*;
use std::fs;
use std::process::Output;

const WAVES: &str = "
rollout:
  waves:
    - name: canary
      when: {env: preprod}
    - name: den1
      when: \"env=prod,region=den1\"
    - name: yul1
      when: {env: prod, region: yul1}
";

/// The example fleet with waves, as a real git repository with one commit on `main`.
fn fleet_with_waves(extra: &str) -> Tree {
    let t = Tree::new();
    t.copy_from(&manifest_dir().join("examples").join("fleet"), "fleet");
    let stack = fs::read_to_string(t.path("fleet/strata.yaml")).unwrap();
    let stack = stack.replace(
        "      - customers/{{env}}/{{tenant}}/values.yaml\n",
        "      - values/waves/{{wave}}.yaml?\n      - customers/{{env}}/{{tenant}}/values.yaml\n",
    );
    t.write("fleet/strata.yaml", format!("{stack}{WAVES}{extra}"));
    git(t.root(), &["init", "-q", "-b", "main"]);
    git(t.root(), &["add", "-A"]);
    git(t.root(), &["commit", "-q", "-m", "fleet"]);
    t
}

#[test]
fn every_tenant_gets_exactly_one_wave() {
    let t = fleet_with_waves("");
    let out = in_repo(&t, Helm::V3, &["tenants", "fleet"]);
    assert_success(&out, "strata tenants");
    let table = text(&out.stdout);
    for (tenant, wave) in [
        ("fleet/customers/preprod/acme ", "wave=canary"),
        ("fleet/customers/prod/acme ", "wave=den1"),
        ("fleet/customers/prod/globex ", "wave=yul1"),
        ("fleet/customers/prod/initech ", "wave=den1"),
    ] {
        let line = table.lines().find(|l| l.starts_with(tenant)).unwrap();
        assert!(line.contains(wave), "{tenant}: {line}");
    }
    // `wave` is a variable like any other for selectors.
    let out = in_repo(
        &t,
        Helm::V3,
        &["tenants", "fleet", "--selector", "wave=den1"],
    );
    assert_success(&out, "strata tenants --selector wave=den1");
    assert_eq!(text(&out.stdout).lines().count(), 3, "{}", describe(&out));

    // A tenant in no wave, or in two, is an error naming it and the waves.
    let stack = fs::read_to_string(t.path("fleet/strata.yaml")).unwrap();
    t.write(
        "fleet/strata.yaml",
        stack.replace(
            "      when: {env: prod, region: yul1}\n",
            "      when: {env: prod}\n",
        ),
    );
    let out = in_repo(&t, Helm::V3, &["render", "fleet/customers/prod/acme"]);
    assert_error(
        &out,
        "a tenant in two waves",
        &[
            "fleet/customers/prod/acme is in several waves",
            "den1 at line",
            "yul1 at line",
        ],
    );
    t.write(
        "fleet/strata.yaml",
        stack.replace(
            "      when: {env: prod, region: yul1}\n",
            "      when: {env: dev}\n",
        ),
    );
    let out = in_repo(&t, Helm::V3, &["render", "fleet/customers/prod/globex"]);
    assert_error(
        &out,
        "a tenant in no wave",
        &["fleet/customers/prod/globex is in no wave"],
    );
}

/// A layer per wave stages a shared change: `values/waves/{{wave}}.yaml?` reaches the canary
/// wave's tenants only.
#[test]
fn a_layer_per_wave_reaches_only_that_wave() {
    let t = fleet_with_waves("");
    t.write(
        "fleet/values/waves/canary.yaml",
        "config:\n  FEATURE_SEARCH: \"on\"\n",
    );
    let canary = in_repo(&t, Helm::V3, &["render", "fleet/customers/preprod/acme"]);
    assert_success(&canary, "render the canary");
    assert!(text(&canary.stdout).contains("FEATURE_SEARCH: \"on\""));
    let prod = in_repo(&t, Helm::V3, &["render", "fleet/customers/prod/acme"]);
    assert_success(&prod, "render prod");
    assert!(!text(&prod.stdout).contains("FEATURE_SEARCH"));
}

const GUARDS: &str = "  guards:
    - maxWaves: 1
    - when: {env: prod}
      maxTenants: 1
";

#[test]
fn the_restart_guard_fails_a_fleet_wide_change_and_passes_a_wave() {
    let t = fleet_with_waves(GUARDS);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "fleet", "--base", "main", "--format", "json"];
        args.extend(extra);
        in_repo(&t, Helm::V3, &args)
    };

    // A common-layer change restarts the web pods of every tenant, in every wave.
    let common = fs::read_to_string(t.path("fleet/values/common.yaml")).unwrap();
    t.write(
        "fleet/values/common.yaml",
        format!("{common}\npodAnnotations:\n  rollout: \"2\"\n"),
    );
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let messages: Vec<&str> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rolloutGuard")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{report:#}");
    assert!(
        messages[0].starts_with("the change restarts pods of tenants in 3 waves (canary, den1, yul1); fleet/strata.yaml rollout.guards[0] allows 1"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("the change restarts pods in 3 tenants matching env=prod; fleet/strata.yaml rollout.guards[1] allows 1"),
        "{messages:?}"
    );
    // Allowed on purpose: warnings, and the check passes.
    let out = check(&["--allow-wide-rollout"]);
    assert_success(&out, "check --allow-wide-rollout");
    assert!(
        text(&out.stderr).contains("allowed by --allow-wide-rollout"),
        "{}",
        describe(&out)
    );

    // The same change staged in the canary wave's layer passes.
    t.write("fleet/values/common.yaml", &common);
    t.write(
        "fleet/values/waves/canary.yaml",
        "podAnnotations:\n  rollout: \"2\"\n",
    );
    let out = check(&[]);
    assert_success(&out, "check a canary-only change");
}

/// A Helm repository served by nginx with `web` 1.0.0 and 1.1.0.
fn chart_repo(t: &Tree) -> Nginx {
    for version in ["1.0.0", "1.1.0"] {
        let src = format!("src/web-{version}");
        t.write(
            format!("{src}/Chart.yaml"),
            format!(
                "apiVersion: v2\nname: web\nversion: {version}\nannotations:\n  artifacthub.io/changes: |\n    - kind: added\n      description: change of {version}\n"
            ),
        );
        t.write(
            format!("{src}/templates/app.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web, chart: {{ .Chart.Version | quote }}}\n    spec:\n      containers:\n        - name: web\n          image: web:{{ .Chart.Version }}\n",
        );
        let out = run_std(
            helm(Helm::V3)
                .env("HELM_CONFIG_HOME", t.mkdir("helm/config"))
                .env("HELM_CACHE_HOME", t.mkdir("helm/cache"))
                .env("HELM_DATA_HOME", t.mkdir("helm/data"))
                .arg("package")
                .arg(t.path(&src))
                .arg("-d")
                .arg(t.mkdir("repo")),
        );
        assert_success(&out, "helm package");
    }
    let out = run_std(helm(Helm::V3).args(["repo", "index"]).arg(t.path("repo")));
    assert_success(&out, "helm repo index");
    Nginx::serve(t.path("repo")).start()
}

#[test]
fn promote_moves_a_chart_one_wave_at_a_time() {
    let t = Tree::new();
    let nginx = chart_repo(&t);
    t.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{env}}}}/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{}\", name: web, version: \"~1.0\"}}\n    releaseName: \"{{{{tenant}}}}\"\npins:\n  - when: {{env: preprod}}\n    component: web\n    version: \"~1.1\"\n  - when: {{env: prod, tenant: initech}}\n    component: web\n    version: \"1.0.0\"\nrollout:\n  waves:\n    - name: canary\n      when: {{env: preprod}}\n    - name: first\n      when: \"env=prod,tenant=acme\"\n    - name: rest\n      when: \"env=prod,tenant!=acme\"\n  guards:\n    - canariesFirst: true\n",
            nginx.url()
        ),
    );
    for dir in [
        "t/preprod/acme",
        "t/prod/acme",
        "t/prod/globex",
        "t/prod/initech",
    ] {
        t.mkdir(format!("stack/{dir}"));
        t.write(format!("stack/{dir}/.keep"), "");
    }
    let strata_in = |args: &[&str]| -> Output {
        let mut cmd = strata(Helm::V3);
        cmd.current_dir(t.path("stack"))
            .env("STRATA_CACHE_DIR", t.path("cache"))
            .args(args);
        run(&mut cmd)
    };
    assert_success(&strata_in(&["lock"]), "strata lock");
    git(&t.path("stack"), &["init", "-q", "-b", "main"]);
    git(&t.path("stack"), &["add", "-A"]);
    git(&t.path("stack"), &["commit", "-q", "-m", "stack"]);

    let out = strata_in(&["rollout", "status"]);
    assert_success(&out, "rollout status");
    assert_eq!(
        text(&out.stdout),
        "COMPONENT  WAVE    VERSION  TENANTS  PENDING\n\
         web        canary  1.1.0    1\n\
         web        first   1.0.0    1        → 1.1.0\n\
         web        rest    1.0.0    2        → 1.1.0\n"
    );

    // --next: the first wave behind the wave before it gets that wave's version and digest.
    let out = strata_in(&["promote", "--next"]);
    assert_success(&out, "promote --next");
    let summary = text(&out.stdout);
    assert!(
        summary.starts_with("Promote charts from wave=canary to wave=first\n\n- web: web 1.0.0 (1 tenant) → 1.1.0 (sha256:"),
        "{summary}"
    );
    assert!(summary.contains("change of 1.1.0"), "{summary}");
    assert!(
        summary.contains("Rollout impact: restarts pods in 1 of 1 tenant (2 pods)"),
        "{summary}"
    );
    assert!(
        summary.contains("Tenants whose manifests change:\n- t/prod/acme\n"),
        "{summary}"
    );
    let stack = fs::read_to_string(t.path("stack/strata.yaml")).unwrap();
    assert!(
        stack.contains("  - when: {wave: \"first\"}\n    component: web\n    version: \"1.1.0\"\n"),
        "{stack}"
    );
    git(
        &t.path("stack"),
        &["commit", "-q", "-am", "web 1.1.0 in wave first"],
    );

    // The next wave: initech's own pin keeps it on 1.0.0, which status reports as drift.
    let out = strata_in(&["promote", "--wave", "rest"]);
    assert_success(&out, "promote --wave rest");
    assert!(
        text(&out.stdout).contains("not moved: t/prod/initech"),
        "{}",
        describe(&out)
    );
    let out = strata_in(&["rollout", "status"]);
    assert_success(&out, "rollout status");
    let status = text(&out.stdout);
    // Two tenants, two versions: the tie goes to the newer, and the other one is drift.
    assert!(
        status.contains("web        rest    1.1.0    2\n"),
        "{status}"
    );
    assert!(
        status.contains("drift: t/prod/initech runs web 1.0.0 in wave rest, which runs 1.1.0 (strata.yaml:15 (pin when env=prod,tenant=initech))"),
        "{status}"
    );
    let out = strata_in(&["rollout", "status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json[0]["drift"][0]["tenant"], "t/prod/initech", "{json:#}");
    git(
        &t.path("stack"),
        &["commit", "-q", "-am", "web 1.1.0 in wave rest"],
    );

    // A version that reaches a later wave before an earlier one fails canariesFirst.
    let stack = fs::read_to_string(t.path("stack/strata.yaml")).unwrap();
    t.write(
        "stack/strata.yaml",
        stack.replace(
            "  - when: {wave: \"first\"}\n    component: web\n    version: \"1.1.0\"\n",
            "  - when: {wave: \"first\"}\n    component: web\n    version: \"1.0.0\"\n",
        ),
    );
    assert_success(&strata_in(&["lock"]), "strata lock");
    let out = strata_in(&["check", "--base", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text(&out.stdout)
            .contains("wave rest runs web 1.1.0 before wave first does (it runs 1.0.0)"),
        "{}",
        describe(&out)
    );
}

#[test]
fn no_other_source_may_set_the_wave_variable() {
    let t = fleet_with_waves("");
    t.write(
        "fleet/customers/prod/globex/tenant.yaml",
        "vars:\n  region: yul1\n  wave: early\n",
    );
    let out = in_repo(&t, Helm::V3, &["render", "fleet/customers/prod/globex"]);
    assert_error(
        &out,
        "a tenant file setting wave",
        &[
            "variable `wave` is set by fleet/customers/prod/globex/tenant.yaml vars",
            "rollout.waves defines it",
        ],
    );
}
