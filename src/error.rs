//! The library's error type: every variant already names the file, line or variable at fault.

use crate::chart::lock::LockError;
use crate::chart::resolve::ChartError;
use crate::config::ConfigError;
use crate::paths::PathError;
use crate::post_render::PostRenderError;
use crate::render::RenderError;
use crate::template::TemplateError;
use crate::values::ValuesError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Boxed: chart errors carry several strings and would make every `Result` large.
    #[error(transparent)]
    Chart(Box<ChartError>),
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Boxed like `Chart`: the variants carry several strings.
    #[error(transparent)]
    PostRender(Box<PostRenderError>),
    /// Boxed like `Chart`.
    #[error(transparent)]
    MetadataKey(#[from] Box<crate::plan::post_render::MetadataKeyError>),
    /// Boxed like `Chart`.
    #[error(transparent)]
    Patch(Box<crate::post_render::patch::PatchError>),
    #[error("{0}")]
    Tenant(String),
    #[error("{context}: {source}")]
    Template {
        context: String,
        #[source]
        source: TemplateError,
    },
    #[error("{0}")]
    Input(String),
    /// A selector that cannot be read, names an unknown variable or selects nothing: a usage
    /// error, which the command line reports with exit status 2.
    /// Boxed like `Chart`.
    #[error(transparent)]
    Selector(Box<crate::selector::SelectorError>),
    #[error(
        "render is empty: the components rendered no Kubernetes object ({components}). Argo CD would prune every resource of the application; fix the values or set `allowEmpty: true` in {stack_file} if an empty application is intended"
    )]
    EmptyRender {
        components: String,
        stack_file: String,
    },
}

impl From<PostRenderError> for Error {
    fn from(e: PostRenderError) -> Error {
        Error::PostRender(Box::new(e))
    }
}

impl From<crate::post_render::patch::PatchError> for Error {
    fn from(e: crate::post_render::patch::PatchError) -> Error {
        Error::Patch(Box::new(e))
    }
}

impl From<ChartError> for Error {
    fn from(e: ChartError) -> Error {
        Error::Chart(Box::new(e))
    }
}

impl From<crate::selector::SelectorError> for Error {
    fn from(e: crate::selector::SelectorError) -> Error {
        Error::Selector(Box::new(e))
    }
}
