//! Docker credential helpers (`credHelpers`, `credsStore`) against the real docker-registry
//! with htpasswd over TLS: the helper is a real executable on PATH speaking the helper
//! protocol (`get`/`list` with the server on stdin, JSON on stdout), as ECR's, GCR's and
//! ACR's helpers do. Identity tokens (OAuth2 refresh tokens), from a helper or from
//! `auths.<host>.identitytoken`, against a registry whose token service exchanges them.

use crate::common::registry::{self, RedirectingRegistry, Registry, RegistryAuth};
use crate::common::*;
use base64::Engine as _;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

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

/// A helper answering with an identity token, as helpers do for registries that hand them out.
fn token_helper(t: &Tree, name: &str, secret: &str) {
    let path = t.write(
        format!("bin/docker-credential-{name}"),
        format!("#!/bin/sh\nprintf '{{\"Username\": \"<token>\", \"Secret\": \"{secret}\"}}'\n"),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `lock` then `render` from a cold cache with the Docker config in `config/`.
fn lock_and_render(t: &Tree, registry: &Registry, config: &str) -> Vec<Output> {
    let _ = std::fs::remove_file(t.path("stack/strata.lock"));
    let _ = std::fs::remove_dir_all(t.path("cache"));
    let lock = run(strata_with(t, registry, config)
        .arg("lock")
        .arg(t.path("stack")));
    if !lock.status.success() {
        return vec![lock];
    }
    std::fs::remove_dir_all(t.path("cache")).unwrap();
    let render = run(strata_with(t, registry, config)
        .arg("render")
        .arg(t.path("stack/t/acme")));
    vec![lock, render]
}

#[test]
fn identity_tokens_are_exchanged_at_the_token_service() {
    let registry = Registry::start(RegistryAuth::Token, true);
    registry.push_chart(Helm::V4, "web", "1.0.0");
    let t = Tree::new();
    stack(&t, &registry.url());
    let host = registry.host();
    token_helper(&t, "good", registry::IDENTITY_TOKEN);
    token_helper(&t, "stale", "idt-revoked-3b9d-not-valid");
    t.write(
        "helper/config.json",
        format!("{{\"credHelpers\": {{\"{host}\": \"good\"}}}}"),
    );
    // As `docker login` writes it: `auth` is base64 of `<token>:`.
    t.write(
        "auths/config.json",
        format!(
            "{{\"auths\": {{\"{host}\": {{\"auth\": \"PHRva2VuPjo=\", \"identitytoken\": \"{}\"}}}}}}",
            registry::IDENTITY_TOKEN
        ),
    );
    t.write(
        "stale-helper/config.json",
        format!("{{\"credHelpers\": {{\"{host}\": \"stale\"}}}}"),
    );
    t.write(
        "stale-auths/config.json",
        format!(
            "{{\"auths\": {{\"{host}\": {{\"identitytoken\": \"idt-revoked-3b9d-not-valid\"}}}}}}"
        ),
    );
    // The identity token wins over a username and password of the same entry, as in docker.
    t.write(
        "stale-over-password/config.json",
        format!(
            "{{\"auths\": {{\"{host}\": {{\"auth\": \"{}\", \"identitytoken\": \"idt-revoked-3b9d-not-valid\"}}}}}}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", registry::USER, registry::PASSWORD))
        ),
    );
    let secrets = || {
        let mut all = vec![
            registry::PASSWORD.to_owned(),
            registry::IDENTITY_TOKEN.to_owned(),
            "idt-revoked-3b9d-not-valid".to_owned(),
        ];
        all.extend(registry.token_server().tokens());
        all
    };
    let assert_quiet = |out: &Output, what: &str| {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for secret in secrets() {
            assert!(!all.contains(&secret), "{what}: a token leaked:\n{all}");
        }
    };

    for config in ["helper", "auths"] {
        let issued = registry.token_server().issued();
        let outs = lock_and_render(&t, &registry, config);
        for out in &outs {
            assert_success(out, &format!("identity token from {config}"));
            assert_quiet(out, config);
        }
        assert!(text(&outs[1].stdout).contains("kind: ConfigMap"));
        assert!(
            registry.token_server().issued() > issued,
            "{config}: no access token was issued for the identity token"
        );
    }

    for (config, source) in [
        ("stale-helper", "docker-credential-stale"),
        ("stale-auths", "config.json"),
        ("stale-over-password", "config.json"),
    ] {
        let refused = registry.token_server().refused();
        let outs = lock_and_render(&t, &registry, config);
        let out = outs.last().unwrap();
        assert_error(
            out,
            &format!("a revoked identity token from {config}"),
            &[
                &registry.host(),
                source,
                "rejected the identity token",
                "log in to the registry again",
            ],
        );
        assert_quiet(out, config);
        assert!(
            registry.token_server().refused() > refused,
            "{config}: the token service never saw the exchange"
        );
    }
}

/// The command-line view of a registry whose storage host answers a redirected download with
/// a 401 naming its own token service: the identity token goes nowhere but the registry's
/// token service, the command fails with one message and prints no manifests.
#[test]
fn a_storage_host_s_challenge_never_receives_the_identity_token() {
    let registry = RedirectingRegistry::start();
    let t = Tree::new();
    t.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants: {{path: \"t/{{{{tenant}}}}\"}}\ncomponents:\n  - name: web\n    chart: {{repository: \"{}\", name: web, version: \"1.0.0\", plainHttp: true}}\n",
            registry.url()
        ),
    );
    t.mkdir("stack/t/acme");
    t.write(
        "docker/config.json",
        format!(
            "{{\"auths\": {{\"{}\": {{\"identitytoken\": \"{}\"}}}}}}",
            registry.host(),
            registry::IDENTITY_TOKEN
        ),
    );
    let strata = || {
        let mut cmd = strata(Helm::V4);
        cmd.env("DOCKER_CONFIG", t.path("docker"))
            .env("HELM_REGISTRY_CONFIG", t.path("no-helm-registry.json"))
            .env("STRATA_CACHE_DIR", t.path("cache"));
        cmd
    };
    let lock = run(strata().arg("lock").arg(t.path("stack")));
    let out = if lock.status.success() {
        run(strata().arg("render").arg(t.path("stack/t/acme")))
    } else {
        lock
    };
    assert_eq!(
        registry.foreign(),
        Vec::<String>::new(),
        "{}",
        describe(&out)
    );
    assert_error(
        &out,
        "a storage host asking for credentials",
        &[
            &format!("registry {}", registry.host()),
            &format!("{}/web", registry.url()),
            "answered HTTP 401",
            "none were sent",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("answered HTTP 401").count(),
        1,
        "one message:\n{stderr}"
    );
    assert!(!stderr.contains(registry::IDENTITY_TOKEN), "{stderr}");
}
