//! The time budget of one command: one deadline for everything it does.
//!
//! Argo CD kills a plugin request at its own deadline (60 s by default) with an error that
//! names nothing. So a render has a single budget, counted from its start, that covers every
//! index, manifest, layer and archive download, the unpacking, and every helm run: each step
//! gets what is left, never a fresh allowance of its own, and strata fails with its own
//! message naming what was slow before Argo CD gives up.

use std::time::{Duration, Instant};

/// The whole budget of a render when neither `--timeout`, `STRATA_TIMEOUT` nor
/// `timeoutSeconds` says otherwise: below Argo CD's 60 s repo-server deadline, leaving room for
/// the git fetch, the tar transfer and `init`.
pub const DEFAULT_RENDER_BUDGET: Duration = Duration::from_secs(45);

/// The budget of `strata lock` by default. It runs in a terminal or CI, not under Argo CD's
/// deadline, and may read several large indexes; it still ends instead of hanging.
pub const DEFAULT_LOCK_BUDGET: Duration = Duration::from_secs(600);

/// A total duration and the instant it runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    total: Duration,
    deadline: Instant,
}

impl Budget {
    /// A budget of `total` counted from `started`.
    pub fn new(total: Duration, started: Instant) -> Budget {
        Budget {
            total,
            deadline: started + total,
        }
    }

    /// A budget of `total` counted from now.
    pub fn starting_now(total: Duration) -> Budget {
        Budget::new(total, Instant::now())
    }

    /// The whole budget, for messages.
    pub fn total(&self) -> Duration {
        self.total
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// What is left; zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn is_spent(&self) -> bool {
        self.remaining().is_zero()
    }

    /// `limit`, or what is left of the budget when that is less: the deadline of one step.
    pub fn cap(&self, limit: Duration) -> Duration {
        limit.min(self.remaining())
    }

    /// The sentence that says which budget ran out and how to change it.
    pub fn explain(&self) -> String {
        format!(
            "the command's {} s time budget ran out (set it with --timeout, STRATA_TIMEOUT or \
             timeoutSeconds in strata.yaml)",
            self.total.as_secs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_get_what_is_left() {
        let b = Budget::new(
            Duration::from_secs(10),
            Instant::now() - Duration::from_secs(7),
        );
        assert!(b.remaining() <= Duration::from_secs(3));
        assert!(b.cap(Duration::from_secs(30)) <= Duration::from_secs(3));
        assert_eq!(b.cap(Duration::from_millis(5)), Duration::from_millis(5));
        let spent = Budget::new(
            Duration::from_secs(1),
            Instant::now() - Duration::from_secs(2),
        );
        assert!(spent.is_spent());
        assert_eq!(spent.cap(Duration::from_secs(30)), Duration::ZERO);
        assert!(spent.explain().contains("1 s time budget"));
    }
}
