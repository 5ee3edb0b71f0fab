//! Recently read or written journal entries, decoded, kept by each hub process.
//!
//! Why: after a reconnect storm every device asks for the entries every other device just
//! pushed — 100 gates, each of the 10,000 new entries served 99 times — and each time the hub
//! read the rows and decoded the payloads again. Decoding is not free: a manifest carries every
//! device's public key, and each key is checked (a point decompression, ~20 µs) as it is
//! decoded; a hub log of 100 enrollments' manifests cost the first storm several seconds of
//! CPU (profile in docs/benchmarks.md).
//!
//! Why it is safe across instances: an entry never changes once stored. `(organization, origin,
//! sequence number)` names one entry forever — the journal's primary key refuses a second, and
//! the sync engine refuses a peer that offers a different one (equivocation). So whatever this
//! cache holds is what the database holds, whichever instance wrote it; an entry it lacks is
//! read from the database. Bounded: the oldest cached entries are forgotten first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use sync_core::ids::DeviceId;
use sync_core::journal::Entry;
use sync_core::sync::store::Run;

/// How many entries a hub process keeps: three storms of 100 gates × 100 scans, or one gate's
/// whole day, at ~100–300 bytes each (tens of MB).
pub(crate) const CAPACITY: usize = 100_000;

/// Decoded entries shared by the requests of one hub process.
#[derive(Clone)]
pub struct EntryCache(Arc<Mutex<Held>>);

struct Held {
    /// Per organization and origin, entries by sequence number.
    logs: HashMap<(i64, DeviceId), BTreeMap<u64, Entry>>,
    /// What was cached, oldest first: what to forget when full.
    order: VecDeque<(i64, DeviceId, u64)>,
    capacity: usize,
}

impl Default for EntryCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl EntryCache {
    /// A cache of at most `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Arc::new(Mutex::new(Held { logs: HashMap::new(), order: VecDeque::new(), capacity })))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every entry of `run` of organization `org`, if all of them are cached.
    pub fn run(&self, org: i64, run: &Run) -> Option<Vec<Entry>> {
        let held = self.held();
        let log = held.logs.get(&(org, run.origin))?;
        let entries: Vec<Entry> = log.range(run.first..=run.last).map(|(_, e)| e.clone()).collect();
        (entries.len() as u64 == run.last.saturating_sub(run.first) + 1).then_some(entries)
    }

    /// Remembers entries of organization `org` (read from or committed to its journal).
    pub fn put<'a>(&self, org: i64, entries: impl IntoIterator<Item = &'a Entry>) {
        let mut held = self.held();
        for entry in entries {
            let log = held.logs.entry((org, entry.origin)).or_default();
            if log.insert(entry.seq, entry.clone()).is_none() {
                held.order.push_back((org, entry.origin, entry.seq));
            }
        }
        while held.order.len() > held.capacity {
            let Some((org, origin, seq)) = held.order.pop_front() else { break };
            if let Some(log) = held.logs.get_mut(&(org, origin)) {
                log.remove(&seq);
                if log.is_empty() {
                    held.logs.remove(&(org, origin));
                }
            }
        }
    }

    /// How many entries are cached.
    pub fn len(&self) -> usize {
        self.held().order.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::hlc::Hlc;
    use sync_core::ids::EventId;
    use sync_core::ids::Serial;
    use sync_core::journal::{Payload, RevocationEntry};
    use sync_core::revocation::RevocationReason;

    fn entry(origin: u32, seq: u64) -> Entry {
        Entry {
            origin: DeviceId(origin),
            seq,
            hlc: Hlc(seq),
            event: EventId(1),
            payload: Payload::Revocation(RevocationEntry {
                first: Serial(1),
                last: Serial(u32::try_from(seq).unwrap()),
                reason: RevocationReason::Refunded,
            }),
        }
    }

    fn run(origin: u32, first: u64, last: u64) -> Run {
        Run { origin: DeviceId(origin), first, last }
    }

    #[test]
    fn a_run_is_served_only_when_every_entry_of_it_is_held() {
        let cache = EntryCache::default();
        cache.put(1, &[entry(5, 1), entry(5, 2), entry(5, 4)]);
        assert_eq!(cache.run(1, &run(5, 1, 2)).unwrap(), vec![entry(5, 1), entry(5, 2)]);
        assert!(cache.run(1, &run(5, 1, 4)).is_none(), "3 is missing: the database answers");
        assert!(cache.run(2, &run(5, 1, 1)).is_none(), "another organization's log is its own");
        assert!(cache.run(1, &run(6, 1, 1)).is_none());
    }

    #[test]
    fn the_oldest_entries_are_forgotten_first_and_a_second_put_changes_nothing() {
        let cache = EntryCache::with_capacity(3);
        cache.put(1, &[entry(5, 1), entry(5, 2), entry(5, 3)]);
        cache.put(1, &[entry(5, 3)]);
        assert_eq!(cache.len(), 3);
        cache.put(1, &[entry(7, 1)]);
        assert_eq!(cache.len(), 3);
        assert!(cache.run(1, &run(5, 1, 1)).is_none(), "the oldest went");
        assert!(cache.run(1, &run(5, 2, 3)).is_some());
        assert!(cache.run(1, &run(7, 1, 1)).is_some());
    }
}
