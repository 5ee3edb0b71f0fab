//! Admission state: who has been admitted, and who is inside now.
//!
//! Two layers, each for what it does best:
//! - a paged bitset of admitted serials answers "seen before?" in nanoseconds (the common
//!   case at a gate is a first admission, which needs nothing else);
//! - a map from serial to its first entry and its latest movement gives the verdict its detail
//!   ("already inside since 14:02, North gate, device N2") and the in/out state that exit and
//!   re-entry tickets need.
//!
//! The state is a pure function of the set of recorded scans: [`AdmissionState::record`] is
//! commutative and idempotent (first entry = earliest, latest movement = latest by a total
//! order), so replicas that merged the same scans in any order hold the same state. That is
//! what lets the journals of the sync engine rebuild it from a merged log.

mod bitset;

use crate::ids::{DeviceId, GateId, Serial, TicketTypeId, Timestamp};
use crate::manifest::Direction;
use bitset::PagedBitset;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// When, where and by whom a ticket passed a gate. Ordered by time first, so `min`/`max` pick the
/// earliest/latest; device and gate break ties deterministically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScanRecord {
    /// When the scan happened: the scanning device's clock, moved forward if needed to order
    /// after every movement of the ticket that device knew of ([`AdmissionState::next_stamp`]).
    /// Device clocks disagree by minutes; without this, an exit stamped by a fast clock would
    /// outrank a later re-entry stamped by a slow one, and the ticket would look outside while
    /// its holder is inside.
    pub at: Timestamp,
    /// The device that scanned.
    pub device: DeviceId,
    /// The gate it scanned at.
    pub gate: GateId,
}

/// A scan that moved someone in or out: what a gate journals after a green verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scan {
    /// The ticket.
    pub serial: Serial,
    /// Its type.
    pub ticket_type: TicketTypeId,
    /// In or out.
    pub direction: Direction,
    /// When, where, who.
    pub record: ScanRecord,
}

/// What the state knows about one serial.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SerialState {
    /// The earliest entry, if the ticket ever entered.
    pub first_entry: Option<ScanRecord>,
    /// The latest movement.
    pub latest: Option<(ScanRecord, Direction)>,
}

impl SerialState {
    /// Whether the latest movement was an entry.
    pub fn inside(&self) -> bool {
        matches!(self.latest, Some((_, Direction::Entry)))
    }

    fn merge(&mut self, scan: &Scan) {
        if scan.direction == Direction::Entry {
            self.first_entry = Some(self.first_entry.map_or(scan.record, |r| r.min(scan.record)));
        }
        let candidate = (scan.record, scan.direction);
        self.latest = Some(self.latest.map_or(candidate, |l| l.max(candidate)));
    }
}

/// Admission state of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionState {
    admitted: PagedBitset,
    serials: HashMap<Serial, SerialState>,
    inside: usize,
}

impl AdmissionState {
    /// An empty state: nobody admitted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state that a set of past scans implies, whatever their order.
    pub fn rebuild<'a>(scans: impl IntoIterator<Item = &'a Scan>) -> Self {
        let mut state = Self::new();
        for scan in scans {
            state.record(scan);
        }
        state
    }

    /// Adds a scan. Recording the same scan twice, or scans in another order, gives the same
    /// state.
    pub fn record(&mut self, scan: &Scan) {
        if scan.direction == Direction::Entry {
            self.admitted.insert(scan.serial.0);
        }
        let state = self.serials.entry(scan.serial).or_default();
        let was_inside = state.inside();
        state.merge(scan);
        match (was_inside, state.inside()) {
            (false, true) => self.inside += 1,
            (true, false) => self.inside -= 1,
            _ => {}
        }
    }

    /// The stamp for a new movement of `serial` seen at device time `now`: `now`, or one
    /// millisecond after the latest movement this state knows, whichever is later. (The hybrid
    /// logical clocks of the sync journals will generalise this to every entry.)
    pub fn next_stamp(&self, serial: Serial, now: Timestamp) -> Timestamp {
        match self.serials.get(&serial).and_then(|s| s.latest) {
            Some((latest, _)) if latest.at >= now => Timestamp(latest.at.0.saturating_add(1)),
            _ => now,
        }
    }

    /// Whether the serial has ever been admitted (the fast path: one bit).
    pub fn was_admitted(&self, serial: Serial) -> bool {
        self.admitted.contains(serial.0)
    }

    /// Everything known about a serial, if it was ever scanned in or out.
    pub fn serial(&self, serial: Serial) -> Option<&SerialState> {
        self.serials.get(&serial)
    }

    /// How many distinct tickets have been admitted.
    pub fn admitted_count(&self) -> usize {
        self.admitted.len()
    }

    /// How many tickets are inside now (entered, not exited since).
    pub fn inside_count(&self) -> usize {
        self.inside
    }

    /// Bytes held by the admitted-serials bitset.
    pub fn bitset_bytes(&self) -> usize {
        self.admitted.allocated_bytes()
    }

    /// Approximate heap bytes of the whole state: the bitset plus the per-serial map (its
    /// buckets, at the map's load factor of 7/8, each holding an entry and a control byte).
    pub fn approx_heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Serial, SerialState)>() + 1;
        self.admitted.allocated_bytes() + self.serials.capacity() * 8 / 7 * entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(serial: u32, direction: Direction, at: i64, device: u32) -> Scan {
        Scan {
            serial: Serial(serial),
            ticket_type: TicketTypeId(1),
            direction,
            record: ScanRecord { at: Timestamp(at), device: DeviceId(device), gate: GateId(1) },
        }
    }

    #[test]
    fn entry_and_exit_move_the_inside_count() {
        let mut s = AdmissionState::new();
        s.record(&scan(1, Direction::Entry, 10, 1));
        s.record(&scan(2, Direction::Entry, 11, 1));
        assert_eq!((s.admitted_count(), s.inside_count()), (2, 2));
        s.record(&scan(1, Direction::Exit, 20, 1));
        assert_eq!((s.admitted_count(), s.inside_count()), (2, 1));
        // An exit that arrives late (older than the entry it follows) does not undo the entry.
        s.record(&scan(2, Direction::Exit, 5, 2));
        assert_eq!(s.inside_count(), 1);
        assert_eq!(s.serial(Serial(2)).unwrap().first_entry.unwrap().at, Timestamp(11));
    }

    fn arb_scan() -> impl Strategy<Value = Scan> {
        (0u32..20, any::<bool>(), 0i64..1000, 1u32..4).prop_map(|(serial, entry, at, device)| {
            scan(serial, if entry { Direction::Entry } else { Direction::Exit }, at, device)
        })
    }

    proptest! {
        /// Replicas that hold the same scans hold the same state, whatever the order and
        /// however often a scan was delivered.
        #[test]
        fn state_is_a_function_of_the_set_of_scans(
            scans in proptest::collection::vec(arb_scan(), 0..60),
            seed in any::<u64>(),
        ) {
            let forward = AdmissionState::rebuild(&scans);
            let mut shuffled = scans.clone();
            shuffled.extend(scans.iter().step_by(3).copied());
            // A deterministic shuffle from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, usize::try_from(x % (i as u64 + 1)).unwrap());
            }
            let other = AdmissionState::rebuild(&shuffled);
            prop_assert_eq!(&forward, &other);
            let inside = forward.serials.values().filter(|s| s.inside()).count();
            prop_assert_eq!(forward.inside_count(), inside);
        }
    }
}
