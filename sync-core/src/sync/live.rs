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
use std::time::Duration;
use tokio::sync::watch;

/// How long a long-poll is held open by the peer before it answers "nothing new".
pub const LONG_POLL_MS: u32 = 25_000;
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

/// One long-poll: tells the peer what this replica holds and waits up to `wait_ms` for news,
/// then stores what arrives. Returns whether anything arrived.
pub async fn poll_once<S: SyncStore, T: Transport>(
    store: &S,
    transport: &T,
    wait_ms: u32,
) -> Result<bool, SyncError> {
    let have = store.have().await?;
    let request = SyncRequest { have: have.clone(), wait_ms, ..SyncRequest::default() };
    let response = transport.exchange(request).await?;
    // The acknowledgement first: it holds whatever happens to the rest.
    store.set_peer_have(transport.peer(), &response.have).await?;
    let news = !response.entries.is_empty() || response.more || !response.docs.is_empty();
    store_received(store, have, response.entries, &response.parents).await?;
    // Document messages start an exchange; `sync_with` finishes it.
    Ok(news)
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
    while !*shutdown.borrow() {
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
        // Then wait for news from either side.
        tokio::select! {
            result = poll_once(store, transport, LONG_POLL_MS) => {
                if let Err(e) = result {
                    if let Some(notice) = revoked(&e) {
                        report(LinkState::Revoked(notice));
                        return;
                    }
                    report(LinkState::Offline { reason: e.to_string(), retry_in: Duration::ZERO });
                }
            }
            _ = local.changed() => {} // a local scan or edit: push it now
            _ = shutdown.changed() => return,
        }
    }
}
