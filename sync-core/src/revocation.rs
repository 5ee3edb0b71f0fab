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

/// Why a ticket was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The revoked serials of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationSet {
    serials: HashMap<Serial, RevocationReason>,
    /// Ranges keyed by first serial: (last serial, reason). Few (one per lost device).
    ranges: BTreeMap<Serial, (Serial, RevocationReason)>,
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes one serial. The first reason recorded stays (revocations only grow).
    pub fn revoke(&mut self, serial: Serial, reason: RevocationReason) {
        self.serials.entry(serial).or_insert(reason);
    }

    /// Revokes `first..=last`.
    pub fn revoke_range(&mut self, first: Serial, last: Serial, reason: RevocationReason) {
        let entry = self.ranges.entry(first).or_insert((last, reason));
        entry.0 = entry.0.max(last);
    }

    /// Why `serial` is revoked, if it is.
    pub fn lookup(&self, serial: Serial) -> Option<RevocationReason> {
        if let Some(&reason) = self.serials.get(&serial) {
            return Some(reason);
        }
        // Ranges are few; any range starting at or before the serial may cover it.
        self.ranges.range(..=serial).find(|(_, (last, _))| serial <= *last).map(|(_, &(_, reason))| reason)
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
        set.revoke(Serial(5), RevocationReason::Refunded);
        set.revoke(Serial(5), RevocationReason::Blocked);
        set.revoke_range(Serial(1000), Serial(1099), RevocationReason::DeviceLost);
        set.revoke_range(Serial(10), Serial(20), RevocationReason::Voided);
        assert_eq!(set.lookup(Serial(5)), Some(RevocationReason::Refunded), "first reason stays");
        assert_eq!(set.lookup(Serial(6)), None);
        assert_eq!(set.lookup(Serial(1000)), Some(RevocationReason::DeviceLost));
        assert_eq!(set.lookup(Serial(1099)), Some(RevocationReason::DeviceLost));
        assert_eq!(set.lookup(Serial(1100)), None);
        assert_eq!(set.lookup(Serial(15)), Some(RevocationReason::Voided));
        assert_eq!(set.len(), 3);
    }
}
