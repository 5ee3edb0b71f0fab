//! Admission state: who has been admitted, who is inside now, and which admissions clash.
//!
//! Two layers, each for what it does best:
//! - a paged bitset of admitted serials answers "seen before?" in nanoseconds (the common
//!   case at a gate is a first admission, which needs nothing else);
//! - per serial, its movements (entries and exits) sorted by [`Stamp`] — a hybrid logical clock
//!   and the origin that wrote it. Everything else is read off that short list: the first
//!   entry, the latest movement, whether the ticket is inside, and double admissions.
//!
//! The state is a pure function of the *set* of recorded scans: recording sorts each movement
//! into place and ignores one already present, so replicas that merged the same journal
//! entries in any order hold the same state. That is what the sync engine relies on.
//!
//! A **double admission** is an entry that the entry policy would have refused had its device
//! known the whole journal: a second entry of a single-entry ticket, or an entry of an
//! exit-and-re-entry ticket that was inside already. It happens when gates admit the same
//! ticket while cut off from each other. Both movements stay; the conflict names both.

mod bitset;

use crate::hlc::Hlc;
use crate::ids::{DeviceId, GateId, Serial, TicketTypeId, Timestamp};
use crate::manifest::{Direction, EntryPolicy};
use bitset::PagedBitset;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// When, where and by whom a ticket passed a gate, as staff are told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScanRecord {
    /// The scanning device's wall clock at the scan.
    pub at: Timestamp,
    /// The device that scanned.
    pub device: DeviceId,
    /// The gate it scanned at.
    pub gate: GateId,
}

/// The total order of journal entries: hybrid logical clock first, then the writing origin
/// (an origin never issues the same HLC twice, so no two entries share a stamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// The entry's hybrid logical clock.
    pub hlc: Hlc,
    /// The replica that wrote it.
    pub origin: DeviceId,
}

/// A scan that moved someone in or out: what a gate journals after a passing verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scan {
    /// The ticket.
    pub serial: Serial,
    /// Its type.
    pub ticket_type: TicketTypeId,
    /// Its entry policy when scanned (`None` for an exit of a type the device did not know).
    pub policy: Option<EntryPolicy>,
    /// In or out.
    pub direction: Direction,
    /// When, where, who.
    pub record: ScanRecord,
    /// Its place in the merged journal.
    pub stamp: Stamp,
}

/// One movement of a serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Movement {
    stamp: Stamp,
    direction: Direction,
    policy: Option<EntryPolicy>,
    record: ScanRecord,
}

/// What the state knows about one serial, read off its movements.
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
}

/// Two admissions of one ticket that its entry policy forbids together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoubleAdmission {
    /// The ticket.
    pub serial: Serial,
    /// The admission that came first in the merged journal.
    pub first: ScanRecord,
    /// The admission that should have been refused.
    pub second: ScanRecord,
}

/// Admission state of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionState {
    admitted: PagedBitset,
    movements: HashMap<Serial, Vec<Movement>>,
    inside: usize,
    conflicts: BTreeMap<Serial, Vec<DoubleAdmission>>,
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

    /// Adds a scan; returns whether it was new. Recording the same scan twice, or scans in
    /// another order, gives the same state.
    pub fn record(&mut self, scan: &Scan) -> bool {
        let movements = self.movements.entry(scan.serial).or_default();
        let Err(at) = movements.binary_search_by_key(&scan.stamp, |m| m.stamp) else {
            return false;
        };
        let was_inside = inside(movements);
        let movement = Movement {
            stamp: scan.stamp,
            direction: scan.direction,
            policy: scan.policy,
            record: scan.record,
        };
        movements.insert(at, movement);
        match (was_inside, inside(movements)) {
            (false, true) => self.inside += 1,
            (true, false) => self.inside -= 1,
            _ => {}
        }
        // Any movement can change the clashes: a late exit between two entries resolves one.
        let clashes = double_admissions(scan.serial, movements);
        if clashes.is_empty() {
            self.conflicts.remove(&scan.serial);
        } else {
            self.conflicts.insert(scan.serial, clashes);
        }
        if scan.direction == Direction::Entry {
            self.admitted.insert(scan.serial.0);
        }
        true
    }

    /// Whether the serial has ever been admitted (the fast path: one bit).
    pub fn was_admitted(&self, serial: Serial) -> bool {
        self.admitted.contains(serial.0)
    }

    /// Everything known about a serial, if it was ever scanned in or out.
    pub fn serial(&self, serial: Serial) -> Option<SerialState> {
        let movements = self.movements.get(&serial)?;
        Some(SerialState {
            first_entry: movements.iter().find(|m| m.direction == Direction::Entry).map(|m| m.record),
            latest: movements.last().map(|m| (m.record, m.direction)),
        })
    }

    /// How many distinct tickets have been admitted.
    pub fn admitted_count(&self) -> usize {
        self.admitted.len()
    }

    /// How many tickets are inside now (entered, not exited since).
    pub fn inside_count(&self) -> usize {
        self.inside
    }

    /// Every double admission, by serial, then in journal order.
    pub fn double_admissions(&self) -> impl Iterator<Item = &DoubleAdmission> {
        self.conflicts.values().flatten()
    }

    /// Bytes held by the admitted-serials bitset.
    pub fn bitset_bytes(&self) -> usize {
        self.admitted.allocated_bytes()
    }

    /// Approximate heap bytes of the whole state: the bitset, the map (its buckets at the
    /// load factor of 7/8, each an entry and a control byte) and each serial's movement list.
    pub fn approx_heap_bytes(&self) -> usize {
        let bucket = std::mem::size_of::<(Serial, Vec<Movement>)>() + 1;
        let lists: usize =
            self.movements.values().map(|v| v.capacity() * std::mem::size_of::<Movement>()).sum();
        self.admitted.allocated_bytes() + self.movements.capacity() * 8 / 7 * bucket + lists
    }
}

fn inside(movements: &[Movement]) -> bool {
    movements.last().is_some_and(|m| m.direction == Direction::Entry)
}

/// Replays one serial's movements in journal order and names every entry its policy forbids.
fn double_admissions(serial: Serial, movements: &[Movement]) -> Vec<DoubleAdmission> {
    let mut clashes = Vec::new();
    let mut first_entry: Option<ScanRecord> = None;
    let mut inside_since: Option<ScanRecord> = None;
    for m in movements {
        if m.direction == Direction::Exit {
            inside_since = None;
            continue;
        }
        let earlier = match m.policy {
            Some(EntryPolicy::SingleEntry) => first_entry,
            Some(EntryPolicy::ExitReentry) => inside_since,
            Some(EntryPolicy::MultiEntry) | None => None,
        };
        if let Some(first) = earlier {
            clashes.push(DoubleAdmission { serial, first, second: m.record });
        }
        first_entry.get_or_insert(m.record);
        inside_since = Some(m.record);
    }
    clashes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(serial: u32, direction: Direction, hlc: u64, device: u32, policy: EntryPolicy) -> Scan {
        Scan {
            serial: Serial(serial),
            ticket_type: TicketTypeId(1),
            policy: Some(policy),
            direction,
            record: ScanRecord {
                at: Timestamp(i64::try_from(hlc).unwrap()),
                device: DeviceId(device),
                gate: GateId(1),
            },
            stamp: Stamp { hlc: Hlc(hlc), origin: DeviceId(device) },
        }
    }

    #[test]
    fn entry_and_exit_move_the_inside_count() {
        let reentry = EntryPolicy::ExitReentry;
        let mut s = AdmissionState::new();
        s.record(&scan(1, Direction::Entry, 10, 1, reentry));
        s.record(&scan(2, Direction::Entry, 11, 1, reentry));
        assert_eq!((s.admitted_count(), s.inside_count()), (2, 2));
        s.record(&scan(1, Direction::Exit, 20, 1, reentry));
        assert_eq!((s.admitted_count(), s.inside_count()), (2, 1));
        // An exit that sorts before the entry (it happened earlier) does not undo the entry.
        s.record(&scan(2, Direction::Exit, 5, 2, reentry));
        assert_eq!(s.inside_count(), 1);
        assert_eq!(s.serial(Serial(2)).unwrap().first_entry.unwrap().at, Timestamp(11));
        assert!(!s.record(&scan(2, Direction::Exit, 5, 2, reentry)), "a scan already recorded");
    }

    #[test]
    fn gates_that_admitted_the_same_ticket_apart_are_both_named() {
        let mut s = AdmissionState::new();
        // Two gates, cut off from each other, each admit single-entry ticket 7.
        s.record(&scan(7, Direction::Entry, 200, 2, EntryPolicy::SingleEntry));
        s.record(&scan(7, Direction::Entry, 100, 1, EntryPolicy::SingleEntry));
        let clashes: Vec<_> = s.double_admissions().copied().collect();
        assert_eq!(clashes.len(), 1);
        assert_eq!((clashes[0].first.device, clashes[0].second.device), (DeviceId(1), DeviceId(2)));
        assert_eq!(s.admitted_count(), 1);

        // Exit and re-entry: an entry while inside clashes; after an exit it does not.
        s.record(&scan(8, Direction::Entry, 100, 1, EntryPolicy::ExitReentry));
        s.record(&scan(8, Direction::Exit, 150, 1, EntryPolicy::ExitReentry));
        s.record(&scan(8, Direction::Entry, 160, 2, EntryPolicy::ExitReentry));
        assert_eq!(s.double_admissions().filter(|c| c.serial == Serial(8)).count(), 0);
        s.record(&scan(8, Direction::Entry, 170, 3, EntryPolicy::ExitReentry));
        assert_eq!(s.double_admissions().filter(|c| c.serial == Serial(8)).count(), 1);
        // An exit between the two that arrives late resolves the clash.
        s.record(&scan(8, Direction::Exit, 165, 2, EntryPolicy::ExitReentry));
        assert_eq!(s.double_admissions().filter(|c| c.serial == Serial(8)).count(), 0);
        // Multi-entry tickets never clash.
        s.record(&scan(9, Direction::Entry, 100, 1, EntryPolicy::MultiEntry));
        s.record(&scan(9, Direction::Entry, 101, 2, EntryPolicy::MultiEntry));
        assert_eq!(s.double_admissions().count(), 1);
    }

    fn arb_scan() -> impl Strategy<Value = Scan> {
        let policies = [EntryPolicy::SingleEntry, EntryPolicy::MultiEntry, EntryPolicy::ExitReentry];
        (0u32..20, any::<bool>(), 0u64..1000, 1u32..4).prop_map(move |(serial, entry, hlc, device)| {
            let direction = if entry { Direction::Entry } else { Direction::Exit };
            scan(serial, direction, hlc, device, policies[serial as usize % 3])
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
            // A journal never holds two entries with one stamp.
            let mut seen = std::collections::HashSet::new();
            let scans: Vec<Scan> = scans.into_iter().filter(|s| seen.insert(s.stamp)).collect();
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
            let inside = forward.movements.values().filter(|m| inside(m)).count();
            prop_assert_eq!(forward.inside_count(), inside);
        }
    }
}
