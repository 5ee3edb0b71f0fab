//! Staying in sync while a connection lives: push local changes at once, and hold a long-poll
//! open so the peer pushes its news the moment it has some. No timers to tune, no polling
//! interval: a scan on one gate reaches the others in one round trip.
//!
//! When the peer is unreachable the loop retries with capped exponential backoff and reports
//! the link state; it never surfaces a raw error to staff — the verdict never depended on the
//! network anyway.

use super::engine::{SyncError, Transport, store_received, sync_with};
use super::message::SyncRequest;
use super::store::SyncStore;
use crate::journal::VersionVector;
use std::time::Duration;
use tokio::sync::watch;

/// How long a long-poll is held open by the peer before it answers "nothing new".
pub const LONG_POLL_MS: u32 = 25_000;
/// The long-poll's wait less up to a fifth of it, at random. Devices that connected in the
/// same instant (a storm, the venue's network back) would otherwise all time out and poll
/// again together every 25 s: with 200 gates on one hub that burst held other requests up by
/// a tenth of a second (docs/benchmarks.md, "Open connections").
fn jittered(wait_ms: u32) -> u32 {
    let mut random = [0u8; 4];
    let random = getrandom::fill(&mut random).map_or(0, |()| u32::from_le_bytes(random));
    wait_ms - random % (wait_ms / 5 + 1)
}

/// The longest wait between attempts to reach an unreachable peer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The state of the link to a peer, for the sync badge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Connected; everything acknowledged up to now.
    Online,
    /// Not reachable; the next attempt is in `retry_in`. `reason` is for logs, not for staff.
    Offline {
        /// Why the last attempt failed.
        reason: String,
        /// Until the next attempt.
        retry_in: Duration,
    },
    /// The hub revoked this device (its verified notice): the loop has stopped for good.
    Revoked(Box<crate::revoked::SignedNotice>),
}

/// The notice in `error`, if it is the hub's verified revocation of this device.
fn revoked(error: &SyncError) -> Option<Box<crate::revoked::SignedNotice>> {
    match error {
        SyncError::Transport(super::engine::TransportError::Revoked(notice)) => Some(notice.clone()),
        _ => None,
    }
}

/// What one long-poll brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Polled {
    /// Nothing: the wait ran out.
    Nothing,
    /// News, all of it now stored here: the answer was the whole delta. The peer holds what
    /// this says (its acknowledgement and the entries it sent); if that covers what this
    /// replica holds, the next step is simply the next long-poll.
    Delta(VersionVector),
    /// News that needs a full exchange: more entries than one answer carries, or document
    /// messages (they start an exchange).
    Exchange,
}

/// One long-poll: tells the peer what this replica holds and waits up to `wait_ms` for news,
/// then stores what arrives.
pub async fn poll_once<S: SyncStore, T: Transport>(
    store: &S,
    transport: &T,
    wait_ms: u32,
) -> Result<Polled, SyncError> {
    let have = store.have().await?;
    let request = SyncRequest { have: have.clone(), wait_ms, ..SyncRequest::default() };
    let response = transport.exchange(request).await?;
    // The acknowledgement first: it holds whatever happens to the rest.
    store.set_peer_have(transport.peer(), &response.have).await?;
    if response.entries.is_empty() && !response.more && response.docs.is_empty() {
        return Ok(Polled::Nothing);
    }
    // The peer holds what it acknowledged and what it just sent.
    let mut theirs = response.have.clone();
    for entry in &response.entries {
        theirs.advance(entry.origin, entry.seq);
    }
    let whole = !response.more && response.docs.is_empty();
    store_received(store, have, response.entries, &response.parents).await?;
    Ok(if whole { Polled::Delta(theirs) } else { Polled::Exchange })
}

/// Keeps `store` in sync with the peer behind `transport` until `shutdown` turns true.
pub async fn run<S: SyncStore, T: Transport>(
    store: &S,
    transport: &T,
    mut shutdown: watch::Receiver<bool>,
    report: impl Fn(LinkState) + Send + Sync,
) {
    let mut backoff = Duration::from_millis(250);
    let mut local = store.changes();
    // A full exchange is due: at the start, after a local change, after a failure, and after a
    // long-poll whose answer was not the whole delta. A long-poll that brought the whole delta
    // is followed by the next long-poll alone — in a storm, one push wakes every device, and
    // each answering with a full exchange of its own multiplied the hub's work by the fleet.
    let mut exchange = true;
    while !*shutdown.borrow() {
        if exchange {
            // Mark local changes seen *before* the exchange: one made during it then wakes the
            // wait below at once instead of waiting out a long-poll.
            local.borrow_and_update();
            // Exchange everything both ways.
            if let Err(e) = sync_with(store, transport).await {
                if let Some(notice) = revoked(&e) {
                    report(LinkState::Revoked(notice));
                    return;
                }
                report(LinkState::Offline { reason: e.to_string(), retry_in: backoff });
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            backoff = Duration::from_millis(250);
            report(LinkState::Online);
        }
        // Then wait for news from either side.
        exchange = tokio::select! {
            result = poll_once(store, transport, jittered(LONG_POLL_MS)) => match result {
                Ok(Polled::Nothing) => false, // a local change meanwhile is still unseen
                Ok(Polled::Delta(theirs)) => {
                    // Storing the delta moved this replica's change counter. Marked seen
                    // first, then what is held read: a local change before the mark is in
                    // `have` (and the peer lacks it: exchange), one after it wakes the wait.
                    local.borrow_and_update();
                    let covered = store.have().await.is_ok_and(|have| theirs.covers(&have));
                    if covered {
                        // In step with the peer, as after an exchange: the device applies
                        // what the hub set for it (a PIN, its name) on this report.
                        report(LinkState::Online);
                    }
                    !covered
                }
                Ok(Polled::Exchange) => true,
                Err(e) => {
                    if let Some(notice) = revoked(&e) {
                        report(LinkState::Revoked(notice));
                        return;
                    }
                    report(LinkState::Offline { reason: e.to_string(), retry_in: Duration::ZERO });
                    true
                }
            },
            _ = local.changed() => true, // a local scan or edit: push it now
            _ = shutdown.changed() => return,
        };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_polls_of_a_fleet_spread_over_the_last_fifth_of_the_wait() {
        let waits: Vec<u32> = (0..1000).map(|_| super::jittered(super::LONG_POLL_MS)).collect();
        assert!(waits.iter().all(|w| (20_000..=25_000).contains(w)), "{waits:?}");
        let spread = waits.iter().max().unwrap() - waits.iter().min().unwrap();
        assert!(spread > 4_000, "spread over the window, not in one instant: {spread} ms");
    }
}
