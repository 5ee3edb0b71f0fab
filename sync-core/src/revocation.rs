//! Revoked serials of one event.
//!
//! A refund, cancellation, void or reissue never mints a new secret that offline gates would
//! still accept (pretix#2467): it revokes the old serial, and the revocation travels to every
//! gate. A whole range can be revoked at once — the unsold serials stranded on a lost
//! box-office device, say. Revocations only grow, like the journals that carry them.

use crate::ids::Serial;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Why a ticket was revoked. When one serial is revoked for several reasons, the one declared
/// first here is shown, on every replica alike (the order revocations arrive in must not
/// matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The ticket was refunded.
    Refunded,
    /// The order (or the ticket) was cancelled.
    Cancelled,
    /// A new ticket replaced this one (changed type, name, date).
    Reissued,
    /// A door sale was voided by the cashier.
    Voided,
    /// Blocked by the organizer (lost, stolen, abuse).
    Blocked,
    /// Unsold serials of a lost or retired box-office device.
    DeviceLost,
}

impl RevocationReason {
    /// Plain words for a verdict: "This ticket was …".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Refunded => "refunded",
            Self::Cancelled => "cancelled",
            Self::Reissued => "replaced by a newer ticket",
            Self::Voided => "voided at the box office",
            Self::Blocked => "blocked by the organizer",
            Self::DeviceLost => "issued by a device that was reported lost",
        }
    }
}

/// Keeps the reason that sorts first, so the result does not depend on arrival order.
fn merge(kept: &mut RevocationReason, new: RevocationReason) {
    *kept = (*kept).min(new);
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The revoked serials of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationSet {
    serials: HashMap<Serial, RevocationReason>,
    /// Ranges keyed by (first, last serial). Few: one per lost device.
    ranges: BTreeMap<(Serial, Serial), RevocationReason>,
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes one serial. Revocations only grow; see [`RevocationReason`] for which reason
    /// shows when there are several.
    pub fn revoke(&mut self, serial: Serial, reason: RevocationReason) {
        merge(self.serials.entry(serial).or_insert(reason), reason);
    }

    /// Revokes `first..=last`.
    pub fn revoke_range(&mut self, first: Serial, last: Serial, reason: RevocationReason) {
        merge(self.ranges.entry((first, last)).or_insert(reason), reason);
    }

    /// Why `serial` is revoked, if it is.
    pub fn lookup(&self, serial: Serial) -> Option<RevocationReason> {
        // Ranges are few; every range starting at or before the serial may cover it.
        let in_ranges = self
            .ranges
            .range(..=(serial, Serial(u32::MAX)))
            .filter(|&(&(_, last), _)| serial <= last)
            .map(|(_, &reason)| reason);
        self.serials.get(&serial).copied().into_iter().chain(in_ranges).min()
    }

    /// Number of single revocations plus ranges (for the "revocation list" badge).
    pub fn len(&self) -> usize {
        self.serials.len() + self.ranges.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_range_revocations_are_found() {
        let mut set = RevocationSet::new();
        set.revoke(Serial(5), RevocationReason::Blocked);
        set.revoke(Serial(5), RevocationReason::Refunded);
        set.revoke_range(Serial(1000), Serial(1099), RevocationReason::DeviceLost);
        set.revoke_range(Serial(10), Serial(20), RevocationReason::Voided);
        assert_eq!(set.lookup(Serial(5)), Some(RevocationReason::Refunded), "the same reason in any order");
        assert_eq!(set.lookup(Serial(6)), None);
        assert_eq!(set.lookup(Serial(1000)), Some(RevocationReason::DeviceLost));
        assert_eq!(set.lookup(Serial(1099)), Some(RevocationReason::DeviceLost));
        assert_eq!(set.lookup(Serial(1100)), None);
        assert_eq!(set.lookup(Serial(15)), Some(RevocationReason::Voided));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn overlapping_ranges_keep_their_own_reasons() {
        let mut set = RevocationSet::new();
        set.revoke_range(Serial(10), Serial(20), RevocationReason::Voided);
        set.revoke_range(Serial(10), Serial(50), RevocationReason::DeviceLost);
        assert_eq!(set.lookup(Serial(15)), Some(RevocationReason::Voided));
        assert_eq!(set.lookup(Serial(30)), Some(RevocationReason::DeviceLost));
        assert_eq!(set.lookup(Serial(51)), None);
    }

    proptest::proptest! {
        /// Replicas that received the same revocations in any order agree on every lookup.
        #[test]
        fn lookups_do_not_depend_on_arrival_order(
            ops in proptest::collection::vec((0u32..40, 0u32..10, 0usize..6), 0..30),
        ) {
            use RevocationReason::{Blocked, Cancelled, DeviceLost, Refunded, Reissued, Voided};
            let reasons = [Refunded, Cancelled, Reissued, Voided, Blocked, DeviceLost];
            let apply = |ops: &[(u32, u32, usize)]| {
                let mut set = RevocationSet::new();
                for &(first, len, r) in ops {
                    if len == 0 {
                        set.revoke(Serial(first), reasons[r]);
                    } else {
                        set.revoke_range(Serial(first), Serial(first + len), reasons[r]);
                    }
                }
                set
            };
            let mut reversed = ops.clone();
            reversed.reverse();
            let (a, b) = (apply(&ops), apply(&reversed));
            for s in 0..60 {
                proptest::prop_assert_eq!(a.lookup(Serial(s)), b.lookup(Serial(s)));
            }
        }
    }
}
