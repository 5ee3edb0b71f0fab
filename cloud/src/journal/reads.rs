//! The reads of an organization's journal that every device request makes, shared by all the
//! requests that make them at the same change count.
//!
//! Why: one scan wakes every long-polling device of the organization — 200 gates at a festival
//! — and each woken request read the journal's heads, the list of documents and each
//! document's new chunks, twice (before its wait and after): on PostgreSQL some thirty round
//! trips per device per scan, which saturated the pool (docs/benchmarks.md, "10,000 open
//! connections"). None of these change unless the journal or a document changes, and every
//! such change moves the organization's change count when it commits
//! ([`crate::db::Tenant::journal_changed`], called where those rows are written). So each is
//! read once per count, by the first request that finds the last read older, and the others
//! take its answer ([`SharedReads`]).
//!
//! Why it is safe: the count moves after the commit in this instance, and when another
//! instance's NOTIFY arrives (PostgreSQL). A request served from a read made before a change it
//! has not learnt of yet sees the journal as a request served a moment earlier did, and its
//! long-poll wakes when the count moves. Whatever writes reads afresh inside its own
//! transaction: [`super::OrgJournal`]'s `append` checks entries against the heads it reads
//! there.

use crate::shared_reads::{SharedReads, Wanted};
use std::time::{Duration, Instant};
use sync_core::documents::DocId;
use sync_core::journal::VersionVector;

/// How old a shared read may be, whatever the count says. The count is the whole rule while
/// it moves with every change; this bounds what a missed move would cost — a PostgreSQL
/// LISTEN connection gone half-open delivers nothing and reports nothing — to a second.
pub(super) const FRESH_WITHIN: Duration = Duration::from_secs(1);

/// What a request that has seen change count `count` may take: a read begun at that count
/// or later, within [`FRESH_WITHIN`].
pub fn wanted_at(count: u64) -> Wanted {
    Wanted { count, since: Instant::now().checked_sub(FRESH_WITHIN) }
}

/// The shared reads of one hub instance, per organization.
#[derive(Default)]
pub struct JournalReads {
    /// What the journal holds: the last sequence number of each origin.
    pub(super) heads: SharedReads<i64, VersionVector>,
    /// The documents that have chunks.
    pub(super) docs: SharedReads<i64, Vec<DocId>>,
    /// A document's chunks loaded into the [`super::DocCache`] (the value is the loading
    /// itself).
    pub(super) chunks: SharedReads<(i64, DocId), ()>,
}
