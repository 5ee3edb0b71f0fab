//! The hub's clock: every time the hub stores, compares or signs comes from here.
//!
//! Production runs on the wall clock; tests run on a settable one, so that a session's idle
//! timeout, a hold lapsing or an enrollment code expiring is a step in the test, not a sleep.
//! Nothing else in the hub reads the system time (a test walks the sources to keep it so).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use sync_core::ids::Timestamp;

/// Where the hub's "now" comes from. Cheap to clone; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the wall clock. `Some`: a settable time, in Unix milliseconds.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's wall clock.
    pub fn wall() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `at_ms` until [`Self::set`] or [`Self::advance`] moves it.
    pub fn manual(at_ms: i64) -> Self {
        Self { manual: Some(Arc::new(AtomicI64::new(at_ms))) }
    }

    /// The current time in Unix milliseconds (how the hub stores times).
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(at) => at.load(Ordering::SeqCst),
            None => Timestamp::now().0,
        }
    }

    /// The current time as sync-core's timestamp.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.now_ms())
    }

    /// Sets a manual clock to `at_ms` (the wall clock cannot be set: does nothing).
    pub fn set(&self, at_ms: i64) {
        if let Some(at) = &self.manual {
            at.store(at_ms, Ordering::SeqCst);
        }
    }

    /// Moves a manual clock forward by `ms` (the wall clock moves by itself: does nothing).
    pub fn advance(&self, ms: i64) {
        if let Some(at) = &self.manual {
            at.fetch_add(ms, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        shared.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(10);
        assert_eq!(shared.now().0, 10);
    }

    #[test]
    fn the_wall_clock_is_now() {
        let before = sync_core::Timestamp::now().0;
        let read = Clock::wall().now_ms();
        assert!(read >= before && read - before < 60_000);
    }
}
