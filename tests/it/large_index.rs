//! A large repository index is streamed, not held in memory: `strata lock` against a real
//! nginx serving a generated index of tens of megabytes (the chart it needs listed last)
//! stays under a fixed memory bound that does not grow with the index. The peak is the
//! child's own maximum resident set size, as the kernel reports it to `wait4`.

use crate::common::servers::Nginx;
use crate::common::*;
use sha2::{Digest, Sha256};
use std::process::Stdio;
use std::time::Instant;

/// Size of the generated index.
const INDEX_BYTES: usize = 24 * 1024 * 1024;
/// The peak memory `strata lock` may reach, whatever the index size. Holding the parsed
/// index took more than ten times the index's size.
const MAX_RSS_BYTES: u64 = 96 * 1024 * 1024;

/// A chart archive as `helm package` lays it out: `web/Chart.yaml` and a template.
fn chart_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, body) in [
        (
            "web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ),
        (
            "web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, body.as_bytes()).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}

/// An index of at least `min_bytes` of realistic entries, with `web` 1.0.0 listed last.
fn large_index(min_bytes: usize, web_digest: &str) -> String {
    let mut out = String::with_capacity(min_bytes + 4096);
    out.push_str("apiVersion: v1\nentries:\n");
    let mut chart = 0;
    while out.len() < min_bytes {
        let name = format!("chart-{chart:05}");
        out.push_str(&format!("  {name}:\n"));
        for v in 0..60 {
            let version = format!("{}.{}.{}", v / 20 + 1, v % 20, chart % 7);
            let digest = hex::encode(Sha256::digest(format!("{name}{version}")));
            out.push_str(&format!(
                "  - annotations:\n      category: Infrastructure\n      images: |\n        - name: {name}\n          image: docker.io/example/{name}:{version}\n    apiVersion: v2\n    appVersion: {version}\n    created: \"2024-05-01T10:11:12.123456789Z\"\n    description: A generated chart that makes the index large.\n    digest: {digest}\n    home: https://example.com/charts/{name}\n    keywords: [generated, benchmark]\n    maintainers:\n    - name: Example Maintainers\n    name: {name}\n    urls:\n    - {name}-{version}.tgz\n    version: {version}\n"
            ));
        }
        chart += 1;
    }
    out.push_str(&format!(
        "  web:\n  - name: web\n    version: 1.0.0\n    digest: {web_digest}\n    urls: [web-1.0.0.tgz]\ngenerated: \"2024-05-01T10:11:12Z\"\n"
    ));
    out
}

#[test]
fn a_large_index_locks_within_a_fixed_memory_bound() {
    let repo = Tree::new();
    let archive = chart_archive();
    let digest = hex::encode(Sha256::digest(&archive));
    repo.write("repo/web-1.0.0.tgz", &archive);
    let index = large_index(INDEX_BYTES, &digest);
    repo.write("repo/index.yaml", &index);
    let nginx = Nginx::serve(repo.path("repo")).start();

    let tree = Tree::new();
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{}\", name: web, version: \"^1\"}}\n",
            nginx.url()
        ),
    );
    tree.write("stack/t/acme/values.yaml", "a: 1\n");
    let stderr = tree.path("stderr.txt");
    let started = Instant::now();
    let (status, peak) = peak_rss(&strata_bin(), |cmd| {
        cmd.env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("STRATA_CACHE_DIR", tree.path("cache"))
            .arg("lock")
            .arg(tree.path("stack"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
    });
    let took = started.elapsed();
    let errors = std::fs::read_to_string(&stderr).unwrap();
    assert!(status.success(), "strata lock failed:\n{errors}");
    let lock = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    assert!(lock.contains(&digest), "lock lacks the digest:\n{lock}");
    eprintln!(
        "{:.1} MB index locked in {took:.1?}, peak RSS {:.1} MiB",
        index.len() as f64 / 1e6,
        peak as f64 / (1024.0 * 1024.0)
    );
    assert!(
        peak < MAX_RSS_BYTES,
        "strata lock peaked at {peak} bytes for a {}-byte index (bound {MAX_RSS_BYTES})",
        index.len()
    );
}
