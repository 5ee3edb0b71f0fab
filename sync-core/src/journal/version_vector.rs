//! Version vectors: for each origin, how much of its log a replica holds.
//!
//! Each origin's log is delivered in order and without gaps, so "holds entries 1..=n of origin
//! X" is one number per origin. Comparing two vectors tells exactly which entries one replica
//! must send the other — no per-entry bookkeeping, nothing sent twice in a healthy exchange.

use crate::ids::DeviceId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Highest contiguous sequence number held, per origin (absent means none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionVector(BTreeMap<DeviceId, u64>);

/// What a replica holding a vector should do with an incoming entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The next entry of its origin: store it.
    Next,
    /// Already held: ignore it (delivery may repeat).
    Held,
    /// Entries of its origin are missing before it: refuse it.
    Gap {
        /// The sequence number expected next.
        expected: u64,
    },
}

impl VersionVector {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries of `origin` held (its highest sequence number, 0 for none).
    pub fn get(&self, origin: DeviceId) -> u64 {
        self.0.get(&origin).copied().unwrap_or(0)
    }

    /// Notes that entries of `origin` up to `seq` are held (never moves backwards).
    pub fn advance(&mut self, origin: DeviceId, seq: u64) {
        let held = self.0.entry(origin).or_insert(0);
        *held = (*held).max(seq);
    }

    /// How entry `(origin, seq)` fits this vector.
    pub fn fit(&self, origin: DeviceId, seq: u64) -> Fit {
        let held = self.get(origin);
        match seq {
            s if s <= held => Fit::Held,
            s if s == held + 1 => Fit::Next,
            _ => Fit::Gap { expected: held + 1 },
        }
    }

    /// For every origin where `self` holds more than `other`: `(origin, other's seq, self's seq)`
    /// — the entries `other` lacks are `other's seq + 1 ..= self's seq`.
    pub fn ahead_of<'a>(&'a self, other: &'a Self) -> impl Iterator<Item = (DeviceId, u64, u64)> + 'a {
        self.0.iter().filter_map(|(&origin, &mine)| {
            let theirs = other.get(origin);
            (mine > theirs).then_some((origin, theirs, mine))
        })
    }

    /// Total number of entries held.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// The origins and their sequence numbers.
    pub fn iter(&self) -> impl Iterator<Item = (DeviceId, u64)> + '_ {
        self.0.iter().map(|(&o, &s)| (o, s))
    }

    /// Whether `self` holds everything `other` holds.
    pub fn covers(&self, other: &Self) -> bool {
        other.ahead_of(self).next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_fit_in_order_only() {
        let mut vv = VersionVector::new();
        let a = DeviceId(1);
        assert_eq!(vv.fit(a, 1), Fit::Next);
        assert_eq!(vv.fit(a, 2), Fit::Gap { expected: 1 });
        vv.advance(a, 1);
        assert_eq!(vv.fit(a, 1), Fit::Held);
        assert_eq!(vv.fit(a, 2), Fit::Next);
        vv.advance(a, 0);
        assert_eq!(vv.get(a), 1, "never moves backwards");
    }

    #[test]
    fn ahead_of_names_what_the_other_lacks() {
        let mut mine = VersionVector::new();
        mine.advance(DeviceId(1), 5);
        mine.advance(DeviceId(2), 3);
        let mut theirs = VersionVector::new();
        theirs.advance(DeviceId(1), 5);
        theirs.advance(DeviceId(3), 9);
        assert_eq!(mine.ahead_of(&theirs).collect::<Vec<_>>(), vec![(DeviceId(2), 0, 3)]);
        assert!(!mine.covers(&theirs));
        assert_eq!(mine.total(), 8);
    }
}
