//! Rough timing of parse and execute on a chart-like template (builtins only):
//! `cargo run --release -p gotemplate --example bench_exec`.

use gotemplate::helm::helm_funcs;
use gotemplate::{Templates, Value};
use std::collections::BTreeMap;
use std::time::Instant;

const HELPERS: &str = r#"
{{- define "app.name" -}}{{ default .Chart.Name .Values.nameOverride }}{{- end }}
{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride }}{{ .Values.fullnameOverride }}{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name }}{{- end }}
{{- end }}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | printf "%q" }}
{{- end }}
{{- end }}
"#;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | printf "\n%s" }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
          {{- range $i, $p := .Values.ports }}
            - name: {{ $p.name }}
              containerPort: {{ $p.port }}
              protocol: {{ or $p.protocol "TCP" }}
          {{- end }}
          env:
          {{- range $k, $v := .Values.env }}
            - name: {{ $k }}
              value: {{ printf "%v" $v | printf "%q" }}
          {{- end }}
          {{- with .Values.resources }}
          resources:
            limits:
              cpu: {{ .limits.cpu }}
              memory: {{ .limits.memory }}
          {{- end }}
"#;

fn s(x: &str) -> Value {
    Value::string(x)
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn main() {
    let funcs = {
        let mut f = helm_funcs();
        f.insert(
            "default",
            gotemplate::funcs::Determinism::Deterministic,
            std::rc::Rc::new(|_, a: &[Value]| {
                Ok(if a[1].truth() {
                    a[1].clone()
                } else {
                    a[0].clone()
                })
            }),
        );
        f
    };
    let t0 = Instant::now();
    let n = 2000;
    let mut set = Templates::new();
    for _ in 0..n {
        set = Templates::new();
        set.parse("c/templates/_helpers.tpl", HELPERS, &|f| funcs.contains(f))
            .unwrap();
        set.parse("c/templates/deployment.yaml", DEPLOYMENT, &|f| {
            funcs.contains(f)
        })
        .unwrap();
    }
    let parse = t0.elapsed() / n;
    let env: Vec<(String, Value)> = (0..20)
        .map(|i| (format!("VAR_{i}"), Value::Float(i as f64 * 1.5)))
        .collect();
    let values = map(&[
        ("replicaCount", Value::Float(3.0)),
        ("autoscaling", map(&[("enabled", Value::Bool(false))])),
        (
            "image",
            map(&[("repository", s("nginx")), ("tag", s("1.27"))]),
        ),
        ("labels", map(&[("team", s("a")), ("tier", s("web"))])),
        (
            "ports",
            Value::list(vec![
                map(&[("name", s("http")), ("port", Value::Float(80.0))]),
                map(&[
                    ("name", s("grpc")),
                    ("port", Value::Float(9090.0)),
                    ("protocol", s("UDP")),
                ]),
            ]),
        ),
        ("env", Value::map(env.into_iter().collect())),
        (
            "resources",
            map(&[("limits", map(&[("cpu", s("500m")), ("memory", s("128Mi"))]))]),
        ),
    ]);
    let data = map(&[
        ("Values", values),
        ("Chart", map(&[("Name", s("app"))])),
        ("Release", map(&[("Name", s("rel"))])),
    ]);
    let t1 = Instant::now();
    let mut out = String::new();
    for _ in 0..n {
        out = set
            .execute("c/templates/deployment.yaml", data.clone(), &funcs)
            .unwrap();
    }
    let exec = t1.elapsed() / n;
    println!("{out}");
    println!(
        "parse: {parse:?} per chart, execute: {exec:?} per render ({} bytes)",
        out.len()
    );
}
