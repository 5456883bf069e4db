//! Logging to stderr, with two guarantees whatever `STRATA_LOG` says.
//!
//! 1. No dependency logs below `info` (`warn` for the HTTP and TLS stack): at `debug` and
//!    `trace` the HTTP client dumps every request, `Authorization` header included, and the TLS
//!    library its handshake. A user filter such as `STRATA_LOG=trace` or `ureq=trace` is
//!    honoured for strata's own targets only; dependencies are capped on top of it.
//! 2. Every line is written with the userinfo of any URL in it removed
//!    ([`redact_text`]), so a URL that reaches a log line by any path cannot carry a password.

use crate::chart::transport::url::redact_text;
use std::io::Write;
use tracing::{Event, Level, Metadata};
use tracing_log::NormalizeEvent;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};

/// Targets that handle request bytes, headers or key material: only warnings and errors.
const WIRE_TARGETS: &[&str] = &["ureq", "ureq_proto", "rustls", "webpki", "h2", "hyper"];

/// Whether an event at `level` from `target` may be written at all.
pub fn allowed(target: &str, level: Level) -> bool {
    let within = |prefix: &str| {
        target == prefix
            || target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with("::"))
    };
    if within("strata") {
        return true;
    }
    let cap = if WIRE_TARGETS.iter().any(|t| within(t)) {
        Level::WARN
    } else {
        Level::INFO
    };
    // More verbose levels compare greater.
    level <= cap
}

/// The cap of [`allowed`] as a filter, applied after the user's filter.
struct DependencyCap;

impl<S> Filter<S> for DependencyCap {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        // Records bridged from the `log` crate all share the target "log"; their real target
        // is only known per event.
        meta.target() == "log" || allowed(meta.target(), *meta.level())
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        allowed(meta.target(), *meta.level())
    }
}

/// A writer (stderr in use) with URL userinfo removed from everything written. The formatter
/// hands over one whole event per write, so a URL is never split between two calls; each
/// event is written above the progress line, never after a counter.
struct Redacting<W: Write>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let text = redact_text(&text);
        crate::terminal::above_progress(|| self.0.write_all(text.as_bytes()))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The filter `STRATA_LOG` asks for. A bare level applies to strata's own logs while the
/// libraries stay at `warn`; anything else is a full filter (`STRATA_LOG=strata::chart=debug`).
fn directive(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(level) if ["error", "warn", "info", "debug", "trace"].contains(&level) => {
            format!("warn,strata={level}")
        }
        Some(filter) if !filter.is_empty() => filter.to_owned(),
        _ => "warn".to_owned(),
    }
}

/// Installs the subscriber (and the bridge for libraries that use the `log` crate, capped at
/// `info` so their debug formatting never even runs). Call once, first thing.
pub fn init() {
    init_with(false);
}

/// [`init`], with `--debug` standing for `STRATA_LOG=debug` (and winning over it).
pub fn init_with(debug: bool) {
    let _ = tracing_log::LogTracer::builder()
        .with_max_level(tracing_log::log::LevelFilter::Info)
        .init();
    let from_env = std::env::var("STRATA_LOG").ok();
    let wanted = directive(if debug {
        Some("debug")
    } else {
        from_env.as_deref()
    });
    let filter = tracing_subscriber::EnvFilter::try_new(&wanted)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| Redacting(std::io::stderr()))
        .with_target(false)
        .with_ansi(crate::terminal::colour(crate::terminal::Stream::Stderr))
        .without_time()
        .with_filter(filter)
        .with_filter(DependencyCap);
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_capped_whatever_the_filter() {
        assert!(allowed("strata", Level::TRACE));
        assert!(allowed("strata::chart::transport", Level::TRACE));
        assert!(!allowed("strata_other", Level::DEBUG));
        assert!(!allowed("ureq", Level::INFO));
        assert!(!allowed("ureq::unversioned::transport", Level::TRACE));
        assert!(!allowed("ureq_proto::client", Level::DEBUG));
        assert!(!allowed("rustls::client::hs", Level::DEBUG));
        assert!(allowed("ureq", Level::WARN));
        assert!(allowed("handlebars::render", Level::INFO));
        assert!(!allowed("handlebars::render", Level::DEBUG));
    }

    #[test]
    fn log_lines_lose_url_userinfo() {
        let mut out = Redacting(Vec::new());
        out.write_all(b"DEBUG GET https://ci:pa/ss@h/index.yaml failed\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "DEBUG GET https://…@h/index.yaml failed\n"
        );
    }

    #[test]
    fn a_bare_level_is_strata_only() {
        assert_eq!(directive(Some("debug")), "warn,strata=debug");
        assert_eq!(directive(Some("ureq=trace")), "ureq=trace");
        assert_eq!(directive(Some(" ")), "warn");
        assert_eq!(directive(None), "warn");
    }
}
