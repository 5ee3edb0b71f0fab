//! The hub's side of the sync engine: each organization's journal in the database, as a
//! [`SyncStore`] the sync-core engine drives.
//!
//! - Entries from devices are stored and **materialized** ([`materialize`]: scans →
//!   `checkins`, door sales → orders, …) in the same transaction, so what is acknowledged is
//!   committed, and a replayed entry changes nothing.
//! - The hub writes its own entries (manifests, revocations, lease grants) into the
//!   organization's hub log (origin 0) through [`append_hub_entry`], inside the caller's
//!   transaction. One `hub_log` row per organization serialises those appends across hub
//!   instances: sequence numbers without gaps, clocks strictly increasing.
//! - Documents (`docs.rs`) live as chunks in `doc_chunks`; each hub instance keeps them loaded
//!   with the per-device automerge sync states, and picks up chunks another instance wrote.

mod cache;
mod docs;
pub mod materialize;
mod reads;
pub mod store;

pub use cache::EntryCache;
pub use docs::DocCache;
pub use reads::{JournalReads, wanted_at};

use crate::db::{Db, Notifier, Tenant};
use crate::shared_reads::Wanted;
use docs::event_of;
use std::collections::HashMap;
use std::sync::Arc;
use sync_core::documents::DocId;
use sync_core::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc};
use sync_core::ids::{DeviceId, EventId, Timestamp};
use sync_core::journal::{Entry, HUB, Payload, VersionVector};
use sync_core::sync::engine::{SyncError, check_incoming};
use sync_core::sync::store::{Run, StoreError, SyncStore};
use tokio::sync::watch;

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Appends an entry to the organization's hub log inside `tx` (commit it with the change it
/// records). Returns the entry.
pub async fn append_hub_entry(tx: &mut Tenant, event: i64, payload: Payload) -> Result<Entry, anyhow::Error> {
    let now = Hlc::from_time(Timestamp(tx.now())).0;
    let (seq, hlc) = store::next_hub_seq(tx, i64::try_from(now)?).await?;
    let entry = Entry {
        origin: HUB,
        seq: u64::try_from(seq)?,
        hlc: Hlc(u64::try_from(hlc)?),
        event: EventId(u32::try_from(event)?),
        payload,
    };
    insert(tx, &entry).await?;
    tx.journal_changed().await?;
    Ok(entry)
}

/// Contiguous runs of sorted `serials`: `[1,2,3,7]` → `[(1,3),(7,7)]`.
pub fn runs(serials: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted = serials.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for s in sorted {
        match out.last_mut() {
            Some((_, last)) if s == *last + 1 => *last = s,
            _ => out.push((s, s)),
        }
    }
    out
}

/// Stores an entry and materializes it.
async fn insert(tx: &mut Tenant, e: &Entry) -> Result<(), anyhow::Error> {
    let payload = postcard::to_stdvec(&e.payload)?;
    store::insert_entry(
        tx,
        i64::from(e.origin.0),
        i64::try_from(e.seq)?,
        i64::try_from(e.hlc.0)?,
        i64::from(e.event.0),
        &payload,
    )
    .await?;
    materialize::entry(tx, e).await
}

/// An entry as stored.
fn entry_of(row: &store::EntryRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        origin: DeviceId(u32::try_from(row.origin).map_err(db_err)?),
        seq: u64::try_from(row.seq).map_err(db_err)?,
        hlc: Hlc(u64::try_from(row.hlc).map_err(db_err)?),
        event: EventId(u32::try_from(row.event_id).map_err(db_err)?),
        payload: postcard::from_bytes(&row.payload).map_err(db_err)?,
    })
}

/// Stores entries and materializes them, in order (see [`store::insert_entries`] and
/// [`materialize::entries`]).
async fn insert_all(tx: &mut Tenant, entries: &[Entry]) -> Result<(), anyhow::Error> {
    let rows = entries
        .iter()
        .map(|e| {
            Ok((
                i64::from(e.origin.0),
                i64::try_from(e.seq)?,
                i64::try_from(e.hlc.0)?,
                i64::from(e.event.0),
                postcard::to_stdvec(&e.payload)?,
            ))
        })
        .collect::<Result<Vec<_>, anyhow::Error>>()?;
    store::insert_entries(tx, &rows).await?;
    materialize::entries(tx, entries).await
}

/// One organization's journal and documents, as the sync engine sees them.
pub struct OrgJournal {
    db: Db,
    org: i64,
    notifier: Notifier,
    docs: DocCache,
    /// The events whose documents this peer may read and write; `None`: all of them.
    scope: Option<Vec<i64>>,
    /// Decoded entries this process read or wrote before; `None`: every read goes to the
    /// database.
    cache: Option<EntryCache>,
    /// Reads shared with other requests at the same change count; `None`: each read is made.
    reads: Option<Arc<JournalReads>>,
}

impl OrgJournal {
    /// The journal of `org`.
    pub fn new(db: Db, org: i64, notifier: Notifier, docs: DocCache) -> Self {
        Self { db, org, notifier, docs, scope: None, cache: None, reads: None }
    }

    /// Takes the journal's heads, its list of documents and their new chunks from `reads`
    /// when another request read them at the change count this one has seen (see
    /// [`JournalReads`]).
    #[must_use]
    pub fn sharing(mut self, reads: Arc<JournalReads>) -> Self {
        self.reads = Some(reads);
        self
    }

    /// What a shared read must have seen: every change this instance has learnt of so far.
    fn wanted(&self) -> Wanted {
        wanted_at(self.notifier.count(self.org))
    }

    /// Serves entries from `cache` where it holds them, and remembers what is read and
    /// appended there (see [`EntryCache`]).
    #[must_use]
    pub fn cached_in(mut self, cache: EntryCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Limits documents to those of `events` (a device's events): a gate of one event neither
    /// receives another event's guest list nor writes into it.
    #[must_use]
    pub fn scoped_to(mut self, events: Vec<i64>) -> Self {
        self.scope = Some(events);
        self
    }

    fn in_scope(&self, doc: &DocId) -> bool {
        match (&self.scope, event_of(doc)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(events), Some(event)) => events.contains(&event),
        }
    }

    /// The entries of `runs` from the database: one read (a statement per
    /// [`store::RUNS_PER_STATEMENT`] runs).
    async fn read_runs(&self, runs: &[Run]) -> Result<Vec<Entry>, StoreError> {
        let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
        let mut read = Vec::new();
        for part in runs.chunks(store::RUNS_PER_STATEMENT) {
            let bounds = part
                .iter()
                .map(|r| Ok((i64::from(r.origin.0), i64::try_from(r.first)?, i64::try_from(r.last)?)))
                .collect::<Result<Vec<_>, std::num::TryFromIntError>>()
                .map_err(db_err)?;
            for row in store::entries_in(&mut tx, &bounds).await.map_err(db_err)? {
                read.push(entry_of(&row)?);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(read)
    }

    async fn have_in(&self, tx: &mut Tenant) -> Result<VersionVector, StoreError> {
        let mut have = VersionVector::new();
        for (origin, seq) in store::heads(tx).await.map_err(db_err)? {
            have.advance(
                DeviceId(u32::try_from(origin).map_err(db_err)?),
                u64::try_from(seq).map_err(db_err)?,
            );
        }
        Ok(have)
    }
}

impl SyncStore for OrgJournal {
    fn origin(&self) -> DeviceId {
        HUB
    }

    fn now(&self) -> Timestamp {
        self.db.clock().now()
    }

    async fn have(&self) -> Result<VersionVector, StoreError> {
        let read = || async {
            let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
            let have = self.have_in(&mut tx).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(have)
        };
        match &self.reads {
            Some(reads) => Ok(VersionVector::clone(&*reads.heads.get(&self.org, self.wanted(), read).await?)),
            None => read().await,
        }
    }

    async fn entries_after(
        &self,
        origin: DeviceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
        let after = i64::try_from(after).map_err(db_err)?;
        let rows = store::entries_after(
            &mut tx,
            i64::from(origin.0),
            after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows.iter().map(entry_of).collect()
    }

    async fn entries_in(&self, runs: &[Run]) -> Result<Vec<Entry>, StoreError> {
        let mut by_origin: HashMap<DeviceId, Vec<Entry>> = HashMap::new();
        let mut unread = Vec::new();
        for run in runs {
            match self.cache.as_ref().and_then(|c| c.run(self.org, run)) {
                Some(entries) => by_origin.entry(run.origin).or_default().extend(entries),
                None => unread.push(*run),
            }
        }
        if !unread.is_empty() {
            let read = self.read_runs(&unread).await?;
            if let Some(cache) = &self.cache {
                cache.put(self.org, &read);
            }
            for entry in read {
                by_origin.entry(entry.origin).or_default().push(entry);
            }
        }
        // In the order asked for; each origin's entries in sequence order (a run of an origin
        // is asked for once per call, so they came sorted).
        Ok(runs.iter().flat_map(|r| by_origin.remove(&r.origin).unwrap_or_default()).collect())
    }

    async fn append(&self, entries: Vec<Entry>) -> Result<VersionVector, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let mut have = self.have_in(&mut tx).await?;
        let fresh = check_incoming(HUB, &have, entries, self.db.clock().now(), DEFAULT_MAX_DRIFT_MS)
            .map_err(|e| match e {
                SyncError::Store(s) => s,
                other => StoreError::Invalid(other.to_string()),
            })?;
        if fresh.is_empty() {
            return Ok(have);
        }
        // Entries must belong to this organization's events.
        for event in fresh.iter().map(|e| e.event).collect::<std::collections::BTreeSet<_>>() {
            if !store::has_event(&mut tx, i64::from(event.0)).await.map_err(db_err)? {
                return Err(StoreError::Invalid(format!(
                    "event {event} is not an event of this organization"
                )));
            }
        }
        insert_all(&mut tx, &fresh).await.map_err(db_err)?;
        for entry in &fresh {
            have.advance(entry.origin, entry.seq);
        }
        tx.journal_changed().await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        if let Some(cache) = &self.cache {
            cache.put(self.org, &fresh);
        }
        Ok(have)
    }

    async fn doc_ids(&self) -> Result<Vec<DocId>, StoreError> {
        let read = || async {
            let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
            let rows = store::doc_ids(&mut tx).await.map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(
                rows.into_iter().filter_map(|doc| DocId::try_from(doc).ok()).collect::<Vec<_>>(),
            )
        };
        let all = match &self.reads {
            Some(reads) => reads.docs.get(&self.org, self.wanted(), read).await?,
            None => Arc::new(read().await?),
        };
        Ok(all.iter().filter(|doc| self.in_scope(doc)).cloned().collect())
    }

    fn doc_wanted(&self, doc: &DocId) -> bool {
        // The cheap, synchronous part: the shape. `doc_check` and `doc_receive` ask the
        // database whether the event is this organization's.
        doc.as_str().starts_with("guests/") || doc.as_str().starts_with("config/")
    }

    async fn doc_check(&self, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.known_doc(doc).await? {
            return Ok(());
        }
        self.with_docs(doc, |docs| docs.check(doc, message)).await??;
        Ok(())
    }

    async fn doc_restart(&self, peer: DeviceId) -> Result<(), StoreError> {
        let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(org) = orgs.get_mut(&self.org) {
            org.docs.restart_peer(peer);
        }
        Ok(())
    }

    async fn doc_generate(&self, peer: DeviceId, doc: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_docs(doc, |docs| docs.generate(peer, doc)).await
    }

    async fn doc_receive(&self, peer: DeviceId, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.known_doc(doc).await? {
            return Ok(());
        }
        if let Some(bytes) = self.with_docs(doc, |docs| docs.receive(peer, doc, message)).await?? {
            self.persist(doc, bytes).await?;
        }
        Ok(())
    }

    async fn peer_have(&self, peer: DeviceId) -> Result<Option<VersionVector>, StoreError> {
        let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
        let have = store::peer_have(&mut tx, i64::from(peer.0)).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        have.map(|bytes| postcard::from_bytes(&bytes).map_err(db_err)).transpose()
    }

    async fn set_peer_have(&self, peer: DeviceId, have: &VersionVector) -> Result<(), StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        store::set_peer_have(&mut tx, i64::from(peer.0), &postcard::to_stdvec(have).map_err(db_err)?)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.notifier.subscribe(self.org)
    }
}
