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

use super::message::{DocMessage, MAX_ENTRIES_PER_MESSAGE, MessageError, SyncRequest, SyncResponse};
use super::store::{StoreError, SyncStore};
use crate::documents::DocId;
use crate::hlc::ClockTooFarAhead;
use crate::ids::{DeviceId, Timestamp};
use crate::journal::{Entry, Fit, Payload, VersionVector};
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
    pub fn status(&self) -> u16 {
        match self {
            SyncError::Message(_) => 400,
            SyncError::InvalidEntry { .. } | SyncError::Store(StoreError::Doc(_)) => 422,
            SyncError::Store(StoreError::Gap { .. } | StoreError::Clock(_)) => 409,
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

/// Checks entries against a replica's holdings and returns those to store, in order. Refuses
/// the whole batch on a gap, a clock more than `max_drift_ms` ahead of `now`, or a malformed
/// entry. Pure: stores call it under their lock; it decides what "all or nothing" covers.
pub fn check_incoming(
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
        check_payload(&entry.payload).map_err(invalid)?;
        let ahead_ms = entry.hlc.time().0.saturating_sub(now.0);
        if ahead_ms > max_drift_ms {
            return Err(StoreError::Clock(ClockTooFarAhead { ahead_ms, max_ms: max_drift_ms }).into());
        }
        match have.fit(entry.origin, entry.seq) {
            Fit::Held => {}
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
        Payload::Revocation(r) if r.last < r.first => return Err("revocation range ends before it starts"),
        Payload::LeaseGrant(g) if g.last_serial < g.first_serial => {
            return Err("lease range ends before it starts");
        }
        _ => {}
    }
    Ok(())
}

/// Up to `limit` entries that `theirs` lacks and `mine` holds; the replica's own entries first
/// (its outbox is what matters most), then relayed ones. Returns the entries and whether more
/// remain.
async fn missing<S: SyncStore>(
    store: &S,
    theirs: &VersionVector,
    mine: &VersionVector,
    limit: usize,
) -> Result<(Vec<Entry>, bool), StoreError> {
    let me = store.origin();
    let mut ranges: Vec<(DeviceId, u64, u64)> = mine.ahead_of(theirs).collect();
    ranges.sort_by_key(|&(origin, _, _)| origin != me);
    let mut out = Vec::new();
    for (origin, after, upto) in ranges {
        let room = limit - out.len();
        if room == 0 {
            return Ok((out, true));
        }
        let want = usize::try_from(upto - after).unwrap_or(usize::MAX).min(room);
        out.extend(store.entries_after(origin, after, want).await?);
        if upto - after > want as u64 {
            return Ok((out, true));
        }
    }
    Ok((out, false))
}

/// Checks that every document message decodes, before anything is stored.
fn check_docs(docs: &[DocMessage]) -> Result<(), SyncError> {
    for d in docs {
        if automerge::sync::Message::decode(&d.message).is_err() {
            return Err(
                StoreError::Doc(crate::documents::DocError::BadSyncMessage { doc: d.doc.clone() }).into()
            );
        }
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

async fn generate_docs<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    also: &[DocMessage],
) -> Result<Vec<DocMessage>, StoreError> {
    let mut ids: Vec<DocId> = store.doc_ids().await?;
    // Answer about every document the peer spoke of, even one this replica has not seen yet.
    for d in also {
        if !ids.contains(&d.doc) {
            ids.push(d.doc.clone());
        }
    }
    let mut out = Vec::new();
    for doc in ids {
        if let Some(message) = store.doc_generate(peer, &doc).await? {
            out.push(DocMessage { doc, message });
        }
    }
    Ok(out)
}

/// Answers one request from `peer`: stores its entries and document changes durably, then
/// replies with the acknowledgement, a batch of what the peer lacks, and document messages.
/// A request that fails any check changes nothing.
pub async fn respond<S: SyncStore>(
    store: &S,
    peer: DeviceId,
    request: SyncRequest,
) -> Result<SyncResponse, SyncError> {
    check_docs(&request.docs)?;
    let have =
        if request.entries.is_empty() { store.have().await? } else { store.append(request.entries).await? };
    if request.restart {
        store.doc_restart(peer).await?;
    }
    receive_docs(store, peer, &request.docs).await?;
    let (entries, more) = missing(store, &request.have, &have, BATCH).await?;
    let docs = generate_docs(store, peer, &request.docs).await?;
    Ok(SyncResponse { have, entries, more, docs })
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

/// Runs one exchange with the peer behind `transport` until both sides hold the same entries
/// and documents. Safe to interrupt at any point: whatever was acknowledged stays
/// acknowledged, whatever was not is sent again next time.
pub async fn sync_with<S: SyncStore, T: Transport>(
    store: &S,
    transport: &T,
) -> Result<SyncReport, SyncError> {
    let peer = transport.peer();
    let mut peer_have = store.peer_have(peer).await?;
    let mut report = SyncReport::default();
    let mut rewound = false;
    store.doc_restart(peer).await?;
    for round in 0..MAX_ROUNDS {
        let have = store.have().await?;
        // Until the peer has acknowledged once, we do not know what it lacks: ask first.
        let entries = match &peer_have {
            Some(theirs) => missing(store, theirs, &have, BATCH).await?.0,
            None => Vec::new(),
        };
        let docs = generate_docs(store, peer, &[]).await?;
        let (sent, sent_docs) = (entries.len(), docs.len());
        let request = SyncRequest { restart: round == 0, have: have.clone(), entries, docs, wait_ms: 0 };
        let response = match transport.exchange(request).await {
            // The peer holds less than it once acknowledged (restored from a backup, say): ask
            // it what it holds instead of sending from the old acknowledgement. Once.
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

        check_docs(&response.docs)?;
        let received = response.entries.len();
        let have = if received == 0 { have } else { store.append(response.entries).await? };
        receive_docs(store, peer, &response.docs).await?;
        report.received += received;
        store.set_peer_have(peer, &response.have).await?;
        // Settled when this round moved nothing either way and the peer holds all we hold.
        let settled = sent == 0
            && sent_docs == 0
            && received == 0
            && !response.more
            && response.docs.is_empty()
            && response.have.covers(&have);
        peer_have = Some(response.have);
        if settled {
            return Ok(report);
        }
    }
    Err(SyncError::TooManyRounds)
}
