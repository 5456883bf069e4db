//! Docker credential helpers (`credHelpers`, `credsStore`) against the real docker-registry
//! with htpasswd over TLS: the helper is a real executable on PATH speaking the helper
//! protocol (`get`/`list` with the server on stdin, JSON on stdout), as ECR's, GCR's and
//! ACR's helpers do.

use crate::common::registry::{self, Registry, RegistryAuth};
use crate::common::*;
use std::os::unix::fs::PermissionsExt;

/// A helper that knows the registry's account and records each call.
fn helper_script(t: &Tree, name: &str, host: &str) {
    let log = t.path("helper.log");
    let script = format!(
        "#!/bin/sh\nread -r server || true\necho \"$1 $server\" >> {log}\ncase \"$1\" in\n  list) printf '{{\"{host}\": \"{user}\"}}' ;;\n  get)\n    if [ \"$server\" = \"{host}\" ]; then\n      printf '{{\"ServerURL\": \"{host}\", \"Username\": \"{user}\", \"Secret\": \"{password}\"}}'\n    else\n      echo 'credentials not found in native keychain'; exit 1\n    fi ;;\n  *) exit 1 ;;\nesac\n",
        log = log.display(),
        user = registry::USER,
        password = registry::PASSWORD,
    );
    let path = t.write(format!("bin/docker-credential-{name}"), script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn stack(t: &Tree, url: &str) {
    t.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants: {{path: \"t/{{{{tenant}}}}\"}}\ncomponents:\n  - name: web\n    chart: {{repository: \"{url}\", name: web, version: \"1.0.0\"}}\n"
        ),
    );
    t.mkdir("stack/t/acme");
}

fn strata_with(t: &Tree, registry: &Registry, docker_config: &str) -> assert_cmd::Command {
    let mut cmd = strata(Helm::V4);
    cmd.env("PATH", format!("{}:{BASE_PATH}", t.path("bin").display()))
        .env("DOCKER_CONFIG", t.path(docker_config))
        .env("HELM_REGISTRY_CONFIG", t.path("no-helm-registry.json"))
        .env("STRATA_CA_FILE", registry.ca_file())
        .env("STRATA_CACHE_DIR", t.path("cache"));
    cmd
}

#[test]
fn cred_helpers_and_creds_store_supply_registry_logins() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    registry.push_chart(Helm::V4, "web", "1.0.0");
    let t = Tree::new();
    stack(&t, &registry.url());
    helper_script(&t, "fake", &registry.host());
    t.write(
        "helpers/config.json",
        format!("{{\"credHelpers\": {{\"{}\": \"fake\"}}}}", registry.host()),
    );
    t.write(
        "store/config.json",
        "{\"auths\": {}, \"credsStore\": \"fake\"}",
    );
    t.write("none/config.json", "{\"auths\": {}}");

    // Without a helper the registry refuses strata.
    let out = run(strata_with(&t, &registry, "none")
        .arg("lock")
        .arg(t.path("stack")));
    assert!(!out.status.success(), "{}", describe(&out));

    for config in ["helpers", "store"] {
        let out = run(strata_with(&t, &registry, config)
            .arg("lock")
            .arg(t.path("stack")));
        assert_success(&out, &format!("lock with {config}"));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(registry::PASSWORD), "{all}");
        std::fs::remove_file(t.path("stack/strata.lock")).unwrap();
    }
    let log = std::fs::read_to_string(t.path("helper.log")).unwrap();
    assert!(
        log.contains(&format!("get {}", registry.host())) && log.contains("list"),
        "{log}"
    );

    // An identity token from a helper is recognised as such, and refused with that reason by
    // a registry with a token service.
    let token_registry = Registry::start(RegistryAuth::Token, true);
    token_registry.push_chart(Helm::V4, "web", "1.0.0");
    stack(&t, &token_registry.url());
    let token_helper = t.write(
        "bin/docker-credential-tok",
        "#!/bin/sh
printf '{\"Username\": \"<token>\", \"Secret\": \"refresh-7f3a-never-printed\"}'\n",
    );
    std::fs::set_permissions(&token_helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.write(
        "tok/config.json",
        format!(
            "{{\"credHelpers\": {{\"{}\": \"tok\"}}}}",
            token_registry.host()
        ),
    );
    let out = run(strata_with(&t, &token_registry, "tok")
        .arg("lock")
        .arg(t.path("stack")));
    assert_error(&out, "identity token", &["identity token"]);
    assert!(!text(&out.stderr).contains("refresh-7f3a-never-printed"));
    stack(&t, &registry.url());

    // Rendering from a cold cache fetches through the helper's login too.
    let out = run(strata_with(&t, &registry, "helpers")
        .arg("lock")
        .arg(t.path("stack")));
    assert_success(&out, "lock");
    std::fs::remove_dir_all(t.path("cache")).unwrap();
    let out = run(strata_with(&t, &registry, "helpers")
        .arg("render")
        .arg(t.path("stack/t/acme")));
    assert_success(&out, "cold render through the helper");
    assert!(text(&out.stdout).contains("kind: ConfigMap"));
}
