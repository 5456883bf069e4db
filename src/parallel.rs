//! The one way strata does work in parallel: tenants of `render --all`, `diff`, `check` and
//! `snapshot`, and the components of one tenant, each usually waiting on its own helm process.
//!
//! Work runs on a rayon pool of `jobs` threads (the `-j` of the command line). A map called
//! from inside such a pool — a tenant's components, while the fleet's tenants are being
//! rendered — runs on that same pool, so the whole command never has more than `jobs` helm
//! processes at once, however the work nests. Results come back in input order, so output
//! does not depend on thread timing.
//!
//! Worker threads get [`crate::deep_stack::STACK_BYTES`] of stack: parsing hostile YAML and
//! merging deep values recurse.

use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The number of things to do at once when the command line does not say: one per CPU.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `f` of every item, with at most `jobs` running at once, in input order.
pub fn map<T: Sync, R: Send>(jobs: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    run(jobs, items.len(), || {
        items.par_iter().with_max_len(1).map(&f).collect()
    })
}

/// Like [`map`], but an error stops the items not started yet. The error returned is the first
/// in input order, as a sequential loop would return: an item is skipped only when one before
/// it failed, so every item before the first failure runs.
pub fn try_map<T: Sync, R: Send, E: Send>(
    jobs: usize,
    items: &[T],
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let first_failed = AtomicUsize::new(usize::MAX);
    let indexed: Vec<usize> = (0..items.len()).collect();
    let outcomes = map(jobs, &indexed, |&i| {
        if first_failed.load(Ordering::SeqCst) < i {
            return None;
        }
        let outcome = f(&items[i]);
        if outcome.is_err() {
            first_failed.fetch_min(i, Ordering::SeqCst);
        }
        Some(outcome)
    });
    // Every item before the first failure ran, so this stops at that failure.
    outcomes.into_iter().map_while(|o| o).collect()
}

/// Runs `work` on the current pool when already inside one, else on a new pool of `jobs`
/// threads (at most one per item: idle threads cost a 256 MiB stack reservation each).
fn run<R: Send>(jobs: usize, items: usize, work: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return work();
    }
    let threads = jobs.clamp(1, items.max(1));
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(crate::deep_stack::STACK_BYTES)
        .thread_name(|i| format!("strata-worker-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        // No thread could be started (a process limit): do the work on this thread.
        Err(e) => {
            tracing::debug!("parallel work runs on one thread: {e}");
            work()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Runs `f` for each item while counting how many run at once; returns the peak.
    fn peak_of(run: impl FnOnce(&(dyn Fn() + Sync))) -> usize {
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        run(&|| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            now.fetch_sub(1, Ordering::SeqCst);
        });
        peak.into_inner()
    }

    #[test]
    fn results_keep_input_order_and_jobs_bounds_concurrency() {
        let items: Vec<u32> = (0..40).collect();
        let out = map(4, &items, |&i| {
            std::thread::sleep(Duration::from_millis(u64::from(40 - i) % 7));
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());

        let items: Vec<u32> = (0..12).collect();
        let peak = peak_of(|work| {
            map(3, &items, |_| work());
        });
        assert_eq!(peak, 3);
        let peak = peak_of(|work| {
            map(1, &items, |_| work());
        });
        assert_eq!(peak, 1);
    }

    #[test]
    fn nested_maps_share_the_outer_pool() {
        let outer: Vec<u32> = (0..4).collect();
        let inner: Vec<u32> = (0..4).collect();
        let peak = peak_of(|work| {
            map(2, &outer, |_| map(8, &inner, |_| work()));
        });
        assert!(peak <= 2, "nested work ran {peak} at once with -j 2");
    }

    #[test]
    fn the_error_is_the_first_in_input_order_and_later_items_stop() {
        let ran = AtomicUsize::new(0);
        let items: Vec<u32> = (0..200).collect();
        let result = try_map(2, &items, |&i| {
            ran.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            if i == 3 || i == 5 { Err(i) } else { Ok(i) }
        });
        assert_eq!(result, Err(3));
        assert!(ran.into_inner() < 200, "items after the failure stopped");
        assert_eq!(try_map(2, &items, |&i| Ok::<_, ()>(i)), Ok(items.clone()));
    }

    #[test]
    fn empty_input_is_empty_output() {
        assert!(map(4, &[] as &[u8], |_| 1).is_empty());
    }
}
