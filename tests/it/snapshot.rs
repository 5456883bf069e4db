//! `strata snapshot update|verify` against a copy of examples/fleet with the real helm:
//! snapshots are exactly what `render --all` writes, verify passes on an unchanged fleet,
//! names the tenant a changed layer reaches (with a diff), and lists missing and extra
//! snapshots; update removes only the snapshots of tenants that no longer exist.
//!
//! The example is copied into a temporary repository first, so nothing is written into the
//! source tree.

use crate::common::*;
use std::fs;

const FILES: [&str; 4] = [
    "customers__preprod__acme.yaml",
    "customers__prod__acme.yaml",
    "customers__prod__globex.yaml",
    "customers__prod__initech.yaml",
];

#[test]
fn update_writes_what_render_all_writes_and_verify_passes() {
    for helm in Helm::ALL {
        let t = fleet_repo();
        let update = in_repo(&t, helm, &["snapshot", "update", "fleet"]);
        assert_success(&update, "strata snapshot update");
        assert!(
            text(&update.stderr)
                .contains("wrote 4 snapshot(s) to fleet/snapshots, removed 0, 0 failed"),
            "{}",
            describe(&update)
        );
        let snapshots = files(&t.path("fleet/snapshots"));
        assert_eq!(snapshots.keys().collect::<Vec<_>>(), FILES);

        let all = in_repo(
            &t,
            helm,
            &["render", "--all", "fleet", "--out-dir", "rendered"],
        );
        assert_success(&all, "strata render --all");
        assert_eq!(
            files(&t.path("rendered")),
            snapshots,
            "helm {}",
            helm.version()
        );

        let verify = in_repo(&t, helm, &["snapshot", "verify", "fleet"]);
        assert_success(&verify, "strata snapshot verify");
        assert_eq!(
            text(&verify.stdout),
            "4 tenant(s) against fleet/snapshots: 4 match, 0 changed, 0 missing, 0 extra, 0 failed\n"
        );
    }
}

#[test]
fn a_changed_layer_fails_verify_naming_the_tenant_until_updated() {
    let t = fleet_repo();
    assert_success(
        &in_repo(&t, Helm::V3, &["snapshot", "update", "fleet"]),
        "strata snapshot update",
    );
    // globex's own layer caps autoscaling at 4; only globex renders differently.
    let values = t.path("fleet/customers/prod/globex/values.yaml");
    let old = fs::read_to_string(&values).unwrap();
    t.write(
        "fleet/customers/prod/globex/values.yaml",
        old.replace("maxReplicas: 4", "maxReplicas: 5"),
    );
    let verify = in_repo(&t, Helm::V3, &["snapshot", "verify", "fleet"]);
    assert_eq!(verify.status.code(), Some(1), "{}", describe(&verify));
    let stdout = text(&verify.stdout);
    assert!(
        stdout.starts_with("changed  fleet/customers/prod/globex\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    --- fleet/snapshots/customers__prod__globex.yaml\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    -  maxReplicas: 4\n    +  maxReplicas: 5\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("changed  fleet/customers/prod/acme"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("4 tenant(s) against fleet/snapshots: 3 match, 1 changed, 0 missing, 0 extra, 0 failed\n"),
        "{stdout}"
    );
    assert!(
        text(&verify.stderr).contains("strata snapshot update"),
        "{}",
        describe(&verify)
    );

    assert_success(
        &in_repo(&t, Helm::V3, &["snapshot", "update", "fleet"]),
        "strata snapshot update after the change",
    );
    assert_success(
        &in_repo(&t, Helm::V3, &["snapshot", "verify", "fleet"]),
        "strata snapshot verify after update",
    );
}

#[test]
fn missing_and_extra_snapshots_are_listed_and_update_removes_only_stale_ones() {
    let t = fleet_repo();
    let dir = t.path("snaps");
    let dir_arg = dir.to_str().unwrap();
    assert_success(
        &in_repo(
            &t,
            Helm::V3,
            &["snapshot", "update", "fleet", "--dir", dir_arg],
        ),
        "strata snapshot update --dir",
    );
    fs::remove_file(dir.join("customers__prod__acme.yaml")).unwrap();
    t.write("snaps/customers__prod__gone.yaml", "kind: Gone\n");
    t.write("snaps/README.md", "not a snapshot\n");

    let verify = in_repo(
        &t,
        Helm::V3,
        &["snapshot", "verify", "fleet", "--dir", dir_arg],
    );
    assert_eq!(verify.status.code(), Some(1), "{}", describe(&verify));
    let stdout = text(&verify.stdout);
    assert!(
        stdout.contains(
            "missing  fleet/customers/prod/acme: no snapshot snaps/customers__prod__acme.yaml\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("extra    snaps/customers__prod__gone.yaml: no such tenant\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 match, 0 changed, 1 missing, 1 extra, 0 failed"),
        "{stdout}"
    );

    // A selector renders only its tenants, and never removes the snapshots of the others.
    let update = in_repo(
        &t,
        Helm::V3,
        &[
            "snapshot",
            "update",
            "fleet",
            "--dir",
            dir_arg,
            "--selector",
            "env=preprod",
        ],
    );
    assert_success(&update, "strata snapshot update --selector");
    assert!(
        text(&update.stderr).contains("removed snaps/customers__prod__gone.yaml: no such tenant"),
        "{}",
        describe(&update)
    );
    let left: Vec<String> = files(&dir).into_keys().collect();
    assert_eq!(
        left,
        [
            "README.md",
            "customers__preprod__acme.yaml",
            "customers__prod__globex.yaml",
            "customers__prod__initech.yaml"
        ]
    );
    // Verifying the same selection passes; prod/acme is still missing from the whole fleet.
    assert_success(
        &in_repo(
            &t,
            Helm::V3,
            &[
                "snapshot",
                "verify",
                "fleet",
                "--dir",
                dir_arg,
                "--selector",
                "env=preprod",
            ],
        ),
        "strata snapshot verify --selector",
    );
    let whole = in_repo(
        &t,
        Helm::V3,
        &["snapshot", "verify", "fleet", "--dir", dir_arg],
    );
    assert_eq!(whole.status.code(), Some(1), "{}", describe(&whole));
}

#[test]
fn verify_without_snapshots_is_an_error() {
    let t = fleet_repo();
    let out = in_repo(&t, Helm::V3, &["snapshot", "verify", "fleet"]);
    assert_error(
        &out,
        "verify before any update",
        &[
            "snapshot directory fleet/snapshots does not exist",
            "strata snapshot update",
        ],
    );
}
