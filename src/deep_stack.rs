//! Threads with room for values and manifests nested as deep as Helm reads them.
//!
//! Reading, merging and writing values (and rewriting rendered objects) recurse once per
//! nesting level, and Helm accepts 10000 levels; a default 2 MiB thread stack holds far fewer,
//! and running out of stack aborts the process instead of reporting an error. Every thread that
//! handles values or manifests is started here. Only the pages actually used are ever touched.

/// Enough for 10000 levels with room to spare, also in unoptimised builds.
pub const STACK_BYTES: usize = 256 << 20;

/// `scope.spawn(f)` with a [`STACK_BYTES`] stack.
pub fn spawn_scoped<'scope, 'env, T, F>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    f: F,
) -> std::thread::ScopedJoinHandle<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn_scoped(scope, f)
        .expect("start a worker thread")
}
