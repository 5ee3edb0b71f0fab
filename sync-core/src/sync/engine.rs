//! The sync exchange: what a replica answers (`respond`) and how a replica drives an exchange
//! with a peer (`sync_with`), over any [`SyncStore`] and any [`Transport`].
//!
//! One exchange is a few request/response rounds. Each request carries the requester's version
//! vector, the entries the peer is known to lack, and an automerge sync message per document;
//! each response carries the peer's version vector *after* it durably stored those entries
//! (the acknowledgement), a batch of entries the requester lacks, and the peer's document
//! messages. Rounds continue until neither side has entries or document messages left.
//! Nothing is dropped from a sender's outbox until an acknowledgement covers it: the outbox is
//! exactly "my entries beyond the peer's last acknowledged vector".

use super::message::{
    DocMessage, MAX_DOCS_PER_MESSAGE, MAX_ENTRIES_PER_MESSAGE, MessageError, Parent, SyncRequest,
    SyncResponse,
};
use super::store::{Run, StoreError, SyncStore};
use crate::documents::DocId;
use crate::hlc::ClockTooFarAhead;
use crate::ids::{DeviceId, Timestamp};
use crate::journal::shift::ShiftEntry;
use crate::journal::{Entry, Fit, HUB, Payload, VersionVector};
use std::future::Future;
use thiserror::Error;

/// Entries per batch a replica sends (below [`MAX_ENTRIES_PER_MESSAGE`]).
pub const BATCH: usize = 2_000;
const _: () = assert!(BATCH <= MAX_ENTRIES_PER_MESSAGE);
/// The most rounds one exchange may take before it is abandoned (and retried later).
pub const MAX_ROUNDS: usize = 10_000;
/// The most serials one door sale or void may list.
pub const MAX_SERIALS_PER_ENTRY: usize = 1_000;
/// The longest text field of an entry (payment references, reasons, currency).
pub const MAX_TEXT_LEN: usize = 256;
/// Encoded bytes of entries per message: half the message cap, the rest is for documents.
pub const MAX_BATCH_BYTES: usize = super::message::MAX_MESSAGE_BYTES / 2;

/// Why an exchange failed. Nothing received in a failed round is stored.
#[derive(Debug, Error)]
pub enum SyncError {
    /// The peer's bytes were not a valid message.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// An entry that is not acceptable as such.
    #[error("invalid entry {origin}:{seq}: {reason}")]
    InvalidEntry {
        /// Its origin.
        origin: DeviceId,
        /// Its sequence number.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A peer holds entries of this replica's own log that this replica does not: its database
    /// was reset or restored, or another device uses its id. Continuing would reuse sequence
    /// numbers for different entries, so the exchange stops; the device must be re-enrolled.
    #[error(
        "peer holds entries {held_by_peer} of this device's own log, this device only {held_here}: its data was reset, re-enroll it"
    )]
    Diverged {
        /// The highest own entry the peer holds.
        held_by_peer: u64,
        /// The highest own entry held here.
        held_here: u64,
    },
    /// Two different entries claim the same place in one origin's log.
    #[error(
        "two different entries claim to be {origin}:{seq}: a device's data was reset or its id is shared; re-enroll it"
    )]
    Equivocation {
        /// The origin.
        origin: DeviceId,
        /// The sequence number.
        seq: u64,
    },
    /// Storage refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The peer could not be reached or refused the request.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The exchange did not settle.
    #[error("sync did not settle within {MAX_ROUNDS} rounds")]
    TooManyRounds,
}

impl SyncError {
    /// The HTTP-like status a responder answers this error with (the transports share it).
    /// 409 means exactly "a gap: the sender's idea of what I hold is wrong" — the one refusal
    /// a sender recovers from by asking again.
    pub fn status(&self) -> u16 {
        match self {
            SyncError::Message(_) => 400,
            SyncError::Store(StoreError::Gap { .. }) => 409,
            SyncError::InvalidEntry { .. }
            | SyncError::Diverged { .. }
            | SyncError::Equivocation { .. }
            | SyncError::Store(StoreError::Doc(_) | StoreError::Clock(_) | StoreError::Invalid(_)) => 422,
            SyncError::Store(StoreError::Database(_))
            | SyncError::Transport(_)
            | SyncError::TooManyRounds => 503,
        }
    }
}

/// Why a request did not get a response.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TransportError {
    /// No connection (network down, peer stopped, timeout).
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The peer answered with a refusal.
    #[error("peer refused the request ({status}): {message}")]
    Refused {
        /// HTTP-like status code.
        status: u16,
        /// The peer's explanation.
        message: String,
    },
    /// The peer's answer is not a valid (or authentic) response.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The hub revoked this device: its notice, verified against the hub's key and naming
    /// this device (see [`crate::revoked`]). Nothing else — a bare 401, an unreachable hub, a
    /// captive portal — is ever this.
    #[error("the organizer revoked this device at {}", .0.notice.revoked_at.0)]
    Revoked(Box<crate::revoked::SignedNotice>),
}

/// Carries one request to a peer and brings back its response.
pub trait Transport: Send + Sync {
    /// The peer's origin id.
    fn peer(&self) -> DeviceId;
    /// One round trip.
    fn exchange(
        &self,
        request: SyncRequest,
    ) -> impl Future<Output = Result<SyncResponse, TransportError>> + Send;
}

/// Checks entries against replica `me`'s holdings and returns those to store, in order.
/// Refuses the whole batch on a gap, a clock more than `max_drift_ms` ahead of `now`, an entry
/// of a kind its origin may not write (only the hub revokes and grants leases; the hub never
/// scans or sells), an entry of `me`'s own log that `me` does not hold, or a malformed entry.
/// Pure: stores call it under their lock; it decides what "all or nothing" covers.
pub fn check_incoming(
    me: DeviceId,
    have: &VersionVector,
    entries: Vec<Entry>,
    now: Timestamp,
    max_drift_ms: i64,
) -> Result<Vec<Entry>, SyncError> {
    let mut have = have.clone();
    let mut fresh = Vec::with_capacity(entries.len());
    for entry in entries {
        let invalid = |reason| SyncError::InvalidEntry { origin: entry.origin, seq: entry.seq, reason };
        if entry.seq == 0 {
            return Err(invalid("sequence numbers start at 1"));
        }
        check_authority(entry.origin, &entry.payload).map_err(invalid)?;
        check_payload(&entry.payload).map_err(invalid)?;
        let ahead_ms = entry.hlc.time().0.saturating_sub(now.0);
        if ahead_ms > max_drift_ms {
            return Err(StoreError::Clock(ClockTooFarAhead { ahead_ms, max_ms: max_drift_ms }).into());
        }
        match have.fit(entry.origin, entry.seq) {
            Fit::Held => {}
            Fit::Next if entry.origin == me => {
                return Err(SyncError::Diverged { held_by_peer: entry.seq, held_here: have.get(me) });
            }
            Fit::Next => {
                have.advance(entry.origin, entry.seq);
                fresh.push(entry);
            }
            Fit::Gap { expected } => {
                return Err(
                    StoreError::Gap { origin: entry.origin, seq: entry.seq, held: expected - 1 }.into()
                );
            }
        }
    }
    Ok(fresh)
}

/// Who may write what: the hub revokes, grants leases and publishes manifests; devices scan,
/// sell and void; either may record a lease return.
fn check_authority(origin: DeviceId, payload: &Payload) -> Result<(), &'static str> {
    let hub = origin == HUB;
    match payload {
        Payload::Revocation(_)
        | Payload::LeaseGrant(_)
        | Payload::Manifest(_)
        | Payload::DeviceRevoked(_)
        | Payload::VoucherGrant(_)
        | Payload::Discounts(_)
        | Payload::Seats(_)
        | Payload::LeaseSeats(_)
            if !hub =>
        {
            Err("only the hub revokes, grants leases and publishes manifests, discounts and seat maps")
        }
        Payload::Scan(_)
        | Payload::DoorSale(_)
        | Payload::DoorPrice(_)
        | Payload::Void(_)
        | Payload::Shift(_)
        | Payload::DoorSeats(_)
            if hub =>
        {
            Err("the hub does not scan, sell, void or work shifts at the door")
        }
        _ => Ok(()),
    }
}

fn check_payload(payload: &Payload) -> Result<(), &'static str> {
    let text_ok = |s: &str| s.len() <= MAX_TEXT_LEN;
    match payload {
        Payload::DoorSale(sale) => {
            if sale.serials.is_empty() || sale.serials.len() > MAX_SERIALS_PER_ENTRY {
                return Err("a door sale lists 1 to 1000 serials");
            }
            let reference = match &sale.payment {
                crate::journal::PaymentMethod::Cash => "",
                crate::journal::PaymentMethod::Card { reference } => reference,
                crate::journal::PaymentMethod::Comp { reason } => reason,
            };
            if !text_ok(&sale.currency) || !text_ok(reference) {
                return Err("text field too long");
            }
        }
        Payload::Void(void) if void.serials.is_empty() || void.serials.len() > MAX_SERIALS_PER_ENTRY => {
            return Err("a void lists 1 to 1000 serials");
        }
        Payload::Shift(shift) => {
            let (name, currency, lines) = match &**shift {
                ShiftEntry::Open { cashier, currency, .. } => (cashier, currency, 0),
                ShiftEntry::Close { report, .. } => (&report.cashier, &report.currency, report.lines.len()),
            };
            if !text_ok(name) || !text_ok(currency) || lines > MAX_SERIALS_PER_ENTRY {
                return Err("shift entry too large");
            }
        }
        Payload::Revocation(r) if r.last < r.first => return Err("revocation range ends before it starts"),
        Payload::DoorPrice(p) if !text_ok(&p.reason) || p.list_minor < 0 || p.discount_minor < 0 => {
            return Err("door price out of range");
        }
        Payload::VoucherGrant(g) if !text_ok(&g.terms.code) => return Err("voucher code too long"),
        Payload::Discounts(rules) if rules.len() > 100 || rules.iter().any(|r| !text_ok(&r.name)) => {
            return Err("too many discounts, or a name too long");
        }
        Payload::Seats(map) if map.check().is_err() => return Err("seat map too large or inconsistent"),
        Payload::DeviceSettings(s) if s.sealed.len() > crate::remote::MAX_SEALED_BYTES => {
            return Err("sealed device settings too large");
        }
        Payload::LeaseSeats(l) if l.seats.is_empty() || l.seats.len() > MAX_SERIALS_PER_ENTRY => {
            return Err("a seat lease lists 1 to 1000 seats");
        }
        Payload::DoorSeats(d) if d.seats.is_empty() || d.seats.len() > MAX_SERIALS_PER_ENTRY => {
            return Err("a door sale's seats list 1 to 1000 seats");
        }
        Payload::LeaseGrant(g) if g.last_serial < g.first_serial => {
            return Err("lease range ends before it starts");
        }
        _ => {}
    }
    Ok(())
}

/// A batch to send: entries the peer lacks, the [`Parent`] of each origin's part of it, and
/// whether more remain.
struct Batch {
    entries: Vec<Entry>,
    parents: Vec<Parent>,
    more: bool,
}

/// Up to `limit` entries that `theirs` lacks and `mine` holds; the replica's own entries first
/// (its outbox is what matters most), then relayed ones; with each origin's parent (runs
/// starting at 1 have none). One [`SyncStore::entries_in`] read: the entry before each run is
/// asked for with the run.
async fn missing<S: SyncStore>(
    store: &S,
    theirs: &VersionVector,
    mine: &VersionVector,
    limit: usize,
) -> Result<Batch, StoreError> {
    let me = store.origin();
    let mut ranges: Vec<(DeviceId, u64, u64)> = mine.ahead_of(theirs).collect();
    ranges.sort_by_key(|&(origin, _, _)| origin != me);
    let (mut runs, mut parent_of) = (Vec::new(), std::collections::HashMap::new());
    let mut room = limit as u64;
    let mut more = false;
    for (origin, after, upto) in ranges {
        if room == 0 {
            more = true;
            break;
        }
        let want = (upto - after).min(room);
        more |= want < upto - after;
        room -= want;
        if after > 0 {
            parent_of.insert(origin, after);
        }
        runs.push(Run { origin, first: after.max(1), last: after + want });
    }
    let mut batch = Batch { entries: Vec::new(), parents: Vec::new(), more };
    let mut bytes = 0;
    for entry in store.entries_in(&runs).await? {
        if parent_of.get(&entry.origin) == Some(&entry.seq) {
            batch.parents.push(Parent { origin: entry.origin, seq: entry.seq, digest: entry.digest() });
            continue;
        }
        // Entries are small (a scan is ~30 bytes, the largest door sale ~5 KiB), so the count
        // caps a batch long before the byte budget does; the budget is the guarantee.
        bytes += postcard::experimental::serialized_size(&entry).unwrap_or(MAX_BATCH_BYTES);
        if bytes > MAX_BATCH_BYTES && !batch.entries.is_empty() {
            batch.more = true;
            break;
        }
        batch.entries.push(entry);
    }
    // A parent whose run was cut off by the byte budget has nothing to vouch for.
    batch.parents.retain(|p| batch.entries.iter().any(|e| e.origin == p.origin));
    Ok(batch)
}

/// This replica's latest own entry, as a [`Parent`].
async fn tip_of<S: SyncStore>(store: &S, have: &VersionVector) -> Result<Option<Parent>, StoreError> {
    let me = store.origin();
    let seq = have.get(me);
    if seq == 0 {
        return Ok(None);
    }
    let entry = store.entries_after(me, seq - 1, 1).await?.pop();
    Ok(entry.map(|e| Parent { origin: me, seq, digest: e.digest() }))
}

/// Refuses a batch that continues a different history than the one held here.
/// Parents not held are skipped: the append refuses the gap. One read for all of them.
async fn check_parents<S: SyncStore>(
    store: &S,
    have: &VersionVector,
    parents: &[Parent],
) -> Result<(), SyncError> {
    let held: Vec<&Parent> = parents.iter().filter(|p| p.seq > 0 && have.get(p.origin) >= p.seq).collect();
    if held.is_empty() {
        return Ok(());
    }
    let runs: Vec<Run> = held.iter().map(|p| Run { origin: p.origin, first: p.seq, last: p.seq }).collect();
    let entries = store.entries_in(&runs).await?;
    for p in held {
        let entry = entries.iter().find(|e| e.origin == p.origin && e.seq == p.seq);
        if entry.is_none_or(|e| e.digest() != p.digest) {
            return Err(SyncError::Equivocation { origin: p.origin, seq: p.seq });
        }
    }
    Ok(())
}

/// Stores entries received from a peer, after checking that each origin's run continues the
/// history held here. Returns what the replica holds afterwards.
pub async fn store_received<S: SyncStore>(
    store: &S,
    have: VersionVector,
    entries: Vec<Entry>,
    parents: &[Parent],
) -> Result<VersionVector, SyncError> {
    check_parents(store, &have, parents).await?;
    if entries.is_empty() { Ok(have) } else { Ok(store.append(entries).await?) }
}

/// Checks that every document message decodes and its changes would apply, before anything
/// is stored.
async fn check_docs<S: SyncStore>(store: &S, docs: &[DocMessage]) -> Result<(), SyncError> {
    for d in docs {
        store.doc_check(&d.doc, &d.message).await?;
    }
    Ok(())
}

async fn receive_docs<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    docs: &[DocMessage],
) -> Result<(), StoreError> {
    for d in docs {
        store.doc_receive(peer, &d.doc, &d.message).await?;
    }
    Ok(())
}

/// Document messages for `peer`, at most [`MAX_DOCS_PER_MESSAGE`] (the rest follow in later
/// rounds: automerge keeps what it has not sent yet).
async fn generate_docs<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    also: &[DocMessage],
) -> Result<Vec<DocMessage>, StoreError> {
    let mut ids: Vec<DocId> = store.doc_ids().await?;
    // Answer about every document the peer spoke of that this replica keeps.
    for d in also {
        if !ids.contains(&d.doc) && store.doc_wanted(&d.doc) {
            ids.push(d.doc.clone());
        }
    }
    let mut out = Vec::new();
    for doc in ids {
        if out.len() == MAX_DOCS_PER_MESSAGE {
            break;
        }
        if let Some(message) = store.doc_generate(peer, &doc).await? {
            out.push(DocMessage { doc, message });
        }
    }
    Ok(out)
}

/// Answers one request from `peer`: stores its entries and document changes durably, then
/// replies with the acknowledgement, a batch of what the peer lacks, and document messages.
/// Everything is checked before anything is stored, so a refused request changes nothing.
pub async fn respond<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    request: SyncRequest,
) -> Result<SyncResponse, SyncError> {
    check_docs(store, &request.docs).await?;
    let have = store.have().await?;
    let claimed: Vec<Parent> = request.parents.iter().chain(&request.tip).copied().collect();
    check_parents(store, &have, &claimed).await?;
    if request.restart {
        store.doc_restart(peer).await?;
    }
    let have = if request.entries.is_empty() { have } else { store.append(request.entries).await? };
    receive_docs(store, peer, &request.docs).await?;
    let Batch { entries, parents, more } = missing(store, &request.have, &have, BATCH).await?;
    let docs = generate_docs(store, peer, &request.docs).await?;
    Ok(SyncResponse { have, entries, parents, more, docs })
}

/// The longest a long-poll is held, whatever the client asks.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`respond`], holding a long-poll (a request with `wait_ms` that brings nothing and finds
/// nothing new) until there is news or the wait is over.
pub async fn respond_or_wait<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    request: SyncRequest,
) -> Result<SyncResponse, SyncError> {
    let wait = std::time::Duration::from_millis(u64::from(request.wait_ms)).min(MAX_WAIT);
    let pushes = !request.entries.is_empty() || !request.docs.is_empty();
    // Subscribe before answering, so a change between the answer and the wait is not missed.
    let mut changes = store.changes();
    changes.borrow_and_update();
    let have = request.have.clone();
    let response = respond(store, peer, request).await?;
    let empty = response.entries.is_empty() && !response.more && response.docs.is_empty();
    if !empty || pushes || wait.is_zero() {
        return Ok(response);
    }
    if tokio::time::timeout(wait, changes.changed()).await.is_err() {
        return Ok(response);
    }
    respond(store, peer, SyncRequest { have, ..SyncRequest::default() }).await
}

/// What one exchange moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Round trips made.
    pub rounds: usize,
    /// Entries sent (and acknowledged).
    pub sent: usize,
    /// Entries received and stored.
    pub received: usize,
    /// Document messages exchanged, both ways.
    pub doc_messages: usize,
}

/// Runs one exchange with the peer behind `transport` until this replica's entries are
/// acknowledged, it holds everything the peer held, and the documents are quiet. Entries the
/// peer receives from others meanwhile are left to the next exchange (or the long-poll), so a
/// busy hub cannot keep an exchange from settling. Safe to interrupt at any point: whatever was
/// acknowledged stays acknowledged, whatever was not is sent again next time.
pub async fn sync_with<S: SyncStore, T: Transport>(
    store: &S,
    transport: &T,
) -> Result<SyncReport, SyncError> {
    let peer = transport.peer();
    let me = store.origin();
    let mut peer_have = store.peer_have(peer).await?;
    let mut report = SyncReport::default();
    let mut rewound = false;
    store.doc_restart(peer).await?;
    for _ in 0..MAX_ROUNDS {
        let have = store.have().await?;
        // Until the peer has acknowledged once, we do not know what it lacks: ask first.
        let (entries, parents) = match &peer_have {
            Some(theirs) => {
                let batch = missing(store, theirs, &have, BATCH).await?;
                (batch.entries, batch.parents)
            }
            None => (Vec::new(), Vec::new()),
        };
        let tip = tip_of(store, &have).await?;
        let docs = generate_docs(store, peer, &[]).await?;
        let (sent, sent_docs) = (entries.len(), docs.len());
        let restart = report.rounds == 0;
        let request = SyncRequest { restart, have: have.clone(), entries, parents, tip, docs, wait_ms: 0 };
        let response = match transport.exchange(request).await {
            // A gap: the peer holds less than it once acknowledged (restored from a backup,
            // say). Ask it what it holds instead of sending from the old acknowledgement. Once.
            Err(TransportError::Refused { status: 409, .. }) if sent > 0 && !rewound => {
                rewound = true;
                peer_have = None;
                continue;
            }
            other => other?,
        };
        report.rounds += 1;
        report.sent += sent;
        report.doc_messages += sent_docs + response.docs.len();
        // The acknowledgement is valid whatever happens to the rest of the response.
        store.set_peer_have(peer, &response.have).await?;
        if response.have.get(me) > have.get(me) {
            return Err(SyncError::Diverged { held_by_peer: response.have.get(me), held_here: have.get(me) });
        }

        check_docs(store, &response.docs).await?;
        let received = response.entries.len();
        let have = store_received(store, have, response.entries, &response.parents).await?;
        receive_docs(store, peer, &response.docs).await?;
        report.received += received;
        // Settled: nothing more to fetch, documents quiet both ways, and the peer holds all we
        // hold (our outbox is acknowledged; what we just received came from it).
        let settled =
            !response.more && response.docs.is_empty() && sent_docs == 0 && response.have.covers(&have);
        peer_have = Some(response.have);
        if settled {
            return Ok(report);
        }
    }
    Err(SyncError::TooManyRounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::ids::{EventId, Serial};
    use crate::journal::{RevocationEntry, ScanEntry};
    use crate::manifest::Direction;
    use crate::revocation::RevocationReason;
    use crate::verdict::VerdictKind;

    fn entry(origin: u32, seq: u64, payload: Payload) -> Entry {
        Entry { origin: DeviceId(origin), seq, hlc: Hlc(1), event: EventId(1), payload }
    }

    fn scan() -> Payload {
        Payload::Scan(ScanEntry {
            gate: crate::ids::GateId(1),
            direction: Direction::Entry,
            at: Timestamp(0),
            verdict: VerdictKind::Malformed,
            ticket: None,
        })
    }

    fn revocation() -> Payload {
        Payload::Revocation(RevocationEntry {
            first: Serial(0),
            last: Serial(9),
            reason: RevocationReason::Refunded,
        })
    }

    #[test]
    fn only_the_hub_revokes_and_the_hub_never_scans() {
        let have = VersionVector::new();
        let check = |e| check_incoming(DeviceId(5), &have, vec![e], Timestamp(0), 1000);
        assert!(check(entry(0, 1, revocation())).is_ok());
        assert!(matches!(check(entry(3, 1, revocation())), Err(SyncError::InvalidEntry { .. })));
        assert!(matches!(check(entry(0, 1, scan())), Err(SyncError::InvalidEntry { .. })));
        assert!(check(entry(3, 1, scan())).is_ok());
    }

    #[test]
    fn entries_of_my_own_log_that_i_lack_are_refused() {
        let mut have = VersionVector::new();
        have.advance(DeviceId(5), 2);
        let mine = |seq| check_incoming(DeviceId(5), &have, vec![entry(5, seq, scan())], Timestamp(0), 1000);
        assert_eq!(mine(2).unwrap(), vec![], "already held: ignored");
        assert!(matches!(mine(3), Err(SyncError::Diverged { held_by_peer: 3, held_here: 2 })));
    }
}
