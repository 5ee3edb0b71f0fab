//! What the sync engine needs from a replica's storage.
//!
//! One trait, two kinds of implementation: the device replica (rusqlite, in this crate) and the
//! hub (sqlx over SQLite or PostgreSQL, in `cloud/`). The methods are async because the hub's
//! database is; the device replica answers them synchronously inside.

use crate::documents::{DocError, DocId};
use crate::hlc::ClockTooFarAhead;
use crate::ids::{DeviceId, Timestamp};
use crate::journal::{Entry, VersionVector};
use std::future::Future;
use thiserror::Error;
use tokio::sync::watch;

/// A storage failure. Its message is for logs; staff see "sync will retry".
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database failed (disk full, I/O error, corruption).
    #[error("storage failed: {0}")]
    Database(String),
    /// An entry would leave a gap in its origin's log.
    #[error("entry {origin}:{seq} does not follow entry {origin}:{held} held")]
    Gap {
        /// The origin.
        origin: DeviceId,
        /// The entry's sequence number.
        seq: u64,
        /// The highest held.
        held: u64,
    },
    /// An entry from a clock too far ahead.
    #[error(transparent)]
    Clock(#[from] ClockTooFarAhead),
    /// A document operation failed.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Entries refused as such (see [`crate::sync::engine::check_incoming`]); the message says
    /// why.
    #[error("{0}")]
    Invalid(String),
}

/// A stretch of one origin's log: its entries `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Whose log.
    pub origin: DeviceId,
    /// The first sequence number wanted (at least 1).
    pub first: u64,
    /// The last one wanted.
    pub last: u64,
}

/// A replica's journals and documents, as the sync engine sees them.
pub trait SyncStore: Send + Sync {
    /// This replica's origin id (the device id, or the hub's).
    fn origin(&self) -> DeviceId;

    /// The wall clock (injected so tests control time).
    fn now(&self) -> Timestamp;

    /// What this replica holds.
    fn have(&self) -> impl Future<Output = Result<VersionVector, StoreError>> + Send;

    /// Up to `limit` entries of `origin` after sequence number `after`, in order.
    fn entries_after(
        &self,
        origin: DeviceId,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// The entries of each run, runs in the order given and each run's entries in sequence
    /// order; entries not held are simply absent. The engine asks for all it sends in a round
    /// at once (a batch, and the entry before each origin's part of it), so a store whose
    /// every read is a round trip — the hub's database — can answer in one read instead of one
    /// per origin. The default asks [`SyncStore::entries_after`] once per run.
    fn entries_in(&self, runs: &[Run]) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send {
        async move {
            let mut out = Vec::new();
            for run in runs {
                let count = usize::try_from(run.last.saturating_sub(run.first) + 1).unwrap_or(usize::MAX);
                out.extend(self.entries_after(run.origin, run.first.saturating_sub(1), count).await?);
            }
            Ok(out)
        }
    }

    /// Stores entries durably, all or nothing, before returning. Entries already held are
    /// skipped; an entry that does not follow its origin's log, or whose clock is too far ahead,
    /// refuses the whole call. Returns what the replica holds afterwards.
    fn append(&self, entries: Vec<Entry>) -> impl Future<Output = Result<VersionVector, StoreError>> + Send;

    /// The documents held.
    fn doc_ids(&self) -> impl Future<Output = Result<Vec<DocId>, StoreError>> + Send;

    /// Whether this replica keeps the document `doc` (one of an event it knows). Messages
    /// about other documents are ignored, so a peer cannot make it create documents at will.
    fn doc_wanted(&self, doc: &DocId) -> bool;

    /// Checks, without changing anything, that `message` decodes and its changes would apply.
    fn doc_check(&self, doc: &DocId, message: &[u8]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Begins a new document exchange with `peer` (see
    /// [`crate::documents::Documents::restart_peer`]).
    fn doc_restart(&self, peer: DeviceId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The next automerge sync message for `peer` about `doc`, if there is something to say.
    fn doc_generate(
        &self,
        peer: DeviceId,
        doc: &DocId,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Applies `peer`'s automerge sync message about `doc`, persisting any change durably.
    fn doc_receive(
        &self,
        peer: DeviceId,
        doc: &DocId,
        message: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What `peer` acknowledged holding at the last exchange, if there was one.
    fn peer_have(
        &self,
        peer: DeviceId,
    ) -> impl Future<Output = Result<Option<VersionVector>, StoreError>> + Send;

    /// Records `peer`'s acknowledgement.
    fn set_peer_have(
        &self,
        peer: DeviceId,
        have: &VersionVector,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A counter that moves whenever entries or documents change (for push).
    fn changes(&self) -> watch::Receiver<u64>;
}
