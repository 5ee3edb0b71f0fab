//! Hybrid logical clocks: timestamps that follow the wall clock but never run backwards and
//! always order an event after everything its replica had seen.
//!
//! Device clocks disagree by minutes. Ordering journal entries by wall time alone would let an
//! exit stamped by a fast clock outrank a later re-entry stamped by a slow one. An HLC (Kulkarni
//! et al., 2014) takes the maximum of the wall clock and every timestamp observed so far, plus a
//! counter, so causality is kept while the value stays close to real time.
//!
//! Layout: 48 bits of Unix milliseconds, then a 16-bit counter — one `u64` that sorts correctly
//! as an integer. A remote timestamp more than the allowed drift ahead of the local wall clock is
//! refused, not adopted: one device with its clock set to next year must not drag every replica
//! into the future.

use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// A hybrid logical clock timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hlc(pub u64);

const COUNTER_BITS: u32 = 16;
const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;

impl Hlc {
    /// The timestamp for wall time `t` with counter 0.
    pub fn from_time(t: Timestamp) -> Self {
        let ms = u64::try_from(t.0.max(0)).unwrap_or(0).min(u64::MAX >> COUNTER_BITS);
        Self(ms << COUNTER_BITS)
    }

    /// The wall-clock part.
    pub fn time(self) -> Timestamp {
        Timestamp(i64::try_from(self.0 >> COUNTER_BITS).unwrap_or(i64::MAX))
    }

    /// The logical counter.
    pub fn counter(self) -> u16 {
        u16::try_from(self.0 & COUNTER_MASK).unwrap_or(u16::MAX)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.time(), self.counter())
    }
}

/// A remote timestamp that is not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("a timestamp {ahead_ms} ms ahead of this device's clock was refused (at most {max_ms} ms allowed)")]
pub struct ClockTooFarAhead {
    /// How far ahead of the local wall clock the remote timestamp was.
    pub ahead_ms: i64,
    /// The allowed drift.
    pub max_ms: i64,
}

/// The default allowed drift: one hour. Gate devices' clocks are often minutes off (issue 8
/// tests one ten minutes fast beside one ten minutes slow, twenty minutes apart); an hour
/// tolerates that while refusing a clock set to the wrong day or year. A replica that adopted
/// a far-future timestamp would pass it on in every later entry, so the bound is also what
/// keeps one bad clock from dragging the fleet forward. Entries refused for it stay in their
/// sender's outbox and are accepted once the clocks agree.
pub const DEFAULT_MAX_DRIFT_MS: i64 = 3_600_000;

/// One replica's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
    max_drift_ms: i64,
}

impl HlcClock {
    /// A clock that has seen nothing later than `last` (restored from the replica's journal),
    /// refusing remote timestamps more than `max_drift_ms` ahead of the wall clock.
    pub fn new(last: Hlc, max_drift_ms: i64) -> Self {
        Self { last, max_drift_ms }
    }

    /// The latest timestamp issued or observed.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A timestamp for a new local event at wall time `wall`: later than everything seen.
    pub fn tick(&mut self, wall: Timestamp) -> Hlc {
        self.last = Hlc::from_time(wall).max(Hlc(self.last.0.saturating_add(1)));
        self.last
    }

    /// Takes note of a remote timestamp at wall time `wall`, so later local events order after
    /// it. Refuses it (and changes nothing) if it is too far ahead of the wall clock.
    pub fn observe(&mut self, remote: Hlc, wall: Timestamp) -> Result<(), ClockTooFarAhead> {
        self.check(remote, wall)?;
        self.last = self.last.max(remote);
        Ok(())
    }

    /// Whether `remote` is within the allowed drift of wall time `wall`, without observing it.
    pub fn check(&self, remote: Hlc, wall: Timestamp) -> Result<(), ClockTooFarAhead> {
        let ahead_ms = remote.time().0.saturating_sub(wall.0);
        if ahead_ms > self.max_drift_ms {
            return Err(ClockTooFarAhead { ahead_ms, max_ms: self.max_drift_ms });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_slow_clock_still_orders_after_what_it_has_seen() {
        let mut fast = HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS);
        let mut slow = HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS);
        let exit = fast.tick(Timestamp(1_000_000 + 240_000)); // four minutes fast
        slow.observe(exit, Timestamp(1_000_000)).unwrap();
        let reentry = slow.tick(Timestamp(1_060_000));
        assert!(reentry > exit);
        assert_eq!(reentry.time(), exit.time(), "stays at the observed time, counter bumped");
        assert_eq!(reentry.counter(), 1);
    }

    #[test]
    fn a_clock_too_far_ahead_is_refused_and_changes_nothing() {
        let mut clock = HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS);
        let before = clock.tick(Timestamp(1_000_000));
        let next_year = Hlc::from_time(Timestamp(1_000_000 + 365 * 86_400_000));
        let err = clock.observe(next_year, Timestamp(1_000_000)).unwrap_err();
        assert_eq!(err.max_ms, DEFAULT_MAX_DRIFT_MS);
        assert_eq!(clock.last(), before);
    }

    proptest! {
        #[test]
        fn ticks_strictly_increase_whatever_the_wall_clock_does(walls in proptest::collection::vec(0i64..1_000_000, 1..200)) {
            let mut clock = HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS);
            let mut previous = Hlc::default();
            for wall in walls {
                let t = clock.tick(Timestamp(wall));
                prop_assert!(t > previous);
                prop_assert!(t.time() >= Timestamp(wall));
                previous = t;
            }
        }
    }
}
