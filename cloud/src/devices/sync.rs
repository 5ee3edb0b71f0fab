//! `POST /v1/sync` (a device's signed sync request, answered from its organization's journal)
//! and `GET /v1/hello`.

use super::store;
use crate::auth::DeviceCaller;
use crate::db::Db;
use crate::error::ApiError;
use crate::journal::OrgJournal;
use crate::shared_reads::SharedReads;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use sync_core::ids::DeviceId;
use sync_core::journal::HUB;
use sync_core::sync::http::Hello;
use sync_core::sync::message::{Framed, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, SyncRequest};
use sync_core::sync::respond_or_wait;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync)).routes(routes!(hello))
}

/// The body of `GET /v1/hello` (sync-core's [`Hello`], documented).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler answers sync-core's own type
struct HelloDoc {
    /// The responder's device id (the hub is 0).
    device: u32,
    /// The sync protocol version it speaks.
    protocol: u16,
}

#[utoipa::path(
    get,
    path = "/v1/hello",
    tag = "sync",
    responses(
        (status = 200, description = "The hub's device id and protocol version", body = HelloDoc),
    ),
    security(()),
)]
async fn hello() -> Json<Hello> {
    Json(Hello { device: HUB, protocol: PROTOCOL_VERSION })
}

fn refuse(status: StatusCode, message: &impl ToString) -> Response {
    (status, message.to_string()).into_response()
}

/// `POST /v1/sync`: a device's signed sync request, answered from its organization's journal.
#[utoipa::path(
    post,
    path = "/v1/sync",
    tag = "sync",
    request_body(content = Vec<u8>, description = "A signed sync request (VGSYNC binary, see sync-core)", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "A signed sync response (VGSYNC binary, see sync-core)", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "Not a sync request", body = String, content_type = "text/plain"),
        (status = 401, description = "Unknown or revoked device, bad signature, stale or replayed request", body = String, content_type = "text/plain"),
        (status = 413, description = "Larger than a sync message may be", body = String, content_type = "text/plain"),
        (status = 503, description = "The hub cannot answer now: retry", body = String, content_type = "text/plain"),
    ),
    security(()),
)]
async fn sync(State(state): State<AppState>, caller: DeviceCaller<MAX_MESSAGE_BYTES>) -> Response {
    let request = match SyncRequest::decode(&caller.body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    let claims = request.have.get(caller.device);
    // Long-polls and pulls share the journal's reads with the other devices' requests. A
    // request that pushes entries or names parents reads afresh: its parents are checked
    // against all the hub holds, so a forked device log is caught before its entries would be
    // skipped as held.
    let fresh = !request.entries.is_empty() || !request.parents.is_empty() || request.tip.is_some();
    let events = match device_events(&state, caller.org, caller.device).await {
        Ok(events) => events,
        Err(e) => return e.into_response(),
    };
    let store = OrgJournal::new(state.db.clone(), caller.org, state.notifier.clone(), state.docs.clone())
        .scoped_to(events)
        .cached_in(state.entries.clone());
    let store = if fresh { store } else { store.sharing(state.journal_reads.clone()) };
    let response = match respond_or_wait(&store, caller.device, request).await {
        Ok(r) => r,
        Err(e) => {
            return refuse(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE), &e);
        }
    };
    let pending = claims.saturating_sub(response.have.get(caller.device));
    if state.seen.due(caller.org, caller.device, pending)
        && let Err(e) = device_seen(&state.db, caller.org, caller.device, pending).await
    {
        state.seen.forget(caller.org, caller.device);
        tracing::warn!(error = %e, "could not record device status");
    }
    caller.reply(&state.hub_key, &state.clock, StatusCode::OK, response.encode())
}

/// Each organization's enrolments (device → its events), read once per change count and
/// shared by the devices' requests, as the journal's heads are (`journal::JournalReads`):
/// enrolling a device publishes the event's manifest, which moves the count.
pub type Enrolments = Arc<SharedReads<i64, HashMap<i64, Vec<i64>>>>;

/// The events a device was enrolled for: the documents it may sync. A device the shared read
/// does not know of yet (enrolled through another instance a moment ago) is read afresh.
async fn device_events(state: &AppState, org: i64, device: DeviceId) -> Result<Vec<i64>, ApiError> {
    let id = i64::from(device.0);
    let read = || async {
        let mut tx = state.db.tenant_read(org).await?;
        let rows = store::enrolments(&mut tx).await?;
        tx.commit().await?;
        let mut enrolled: HashMap<i64, Vec<i64>> = HashMap::new();
        for (device, event) in rows {
            enrolled.entry(device).or_default().push(event);
        }
        Ok::<_, ApiError>(enrolled)
    };
    let wanted = crate::journal::wanted_at(state.notifier.count(org));
    if let Some(events) = state.enrolments.get(&org, wanted, read).await?.get(&id) {
        return Ok(events.clone());
    }
    let mut tx = state.db.tenant_read(org).await?;
    let events = store::events_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(events)
}

/// Records that `device` was seen now with `pending` of its own entries not yet on the hub.
async fn device_seen(db: &Db, org: i64, device: DeviceId, pending: u64) -> Result<(), ApiError> {
    let mut tx = db.tenant(org).await?;
    store::seen(&mut tx, i64::from(device.0), i64::try_from(pending).unwrap_or(i64::MAX)).await?;
    tx.commit().await?;
    Ok(())
}

/// Decides when a device's status is worth a write. Every sync request used to write
/// `last_seen_at` — and one push wakes every live device of the event, each answering with a
/// request or two, so on SQLite (one writer) a push to 21 devices queued some 40 commits: the
/// fleet simulator measured ~200 ms from a scan to another device. Now a device's row is
/// written when its count of pending entries changes, or when it was last written more than
/// [`SEEN_EVERY`] ago; the console shows "last seen" in minutes.
#[derive(Clone, Default)]
pub struct SeenThrottle(Arc<Mutex<HashMap<(i64, DeviceId), LastWrite>>>);

/// When a device's status was last written (a monotonic instant: a throttle, not hub time),
/// and its pending count then.
type LastWrite = (std::time::Instant, u64);

/// How stale a device's `last_seen_at` may get while it syncs without news.
pub const SEEN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl SeenThrottle {
    /// Whether to write `device`'s status now (and, if so, remembers that it was).
    pub fn due(&self, org: i64, device: DeviceId, pending: u64) -> bool {
        let mut last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        match last.get(&(org, device)) {
            Some(&(at, was)) if was == pending && now.duration_since(at) < SEEN_EVERY => false,
            _ => {
                last.insert((org, device), (now, pending));
                true
            }
        }
    }

    /// Forgets `device`'s last write (it failed: the next request writes again).
    pub fn forget(&self, org: i64, device: DeviceId) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&(org, device));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths_are_the_protocols() {
        // `#[utoipa::path]` needs literals; the protocol's constants live in sync-core.
        assert_eq!(sync_core::sync::http::SYNC_PATH, "/v1/sync");
        assert_eq!(sync_core::sync::http::HELLO_PATH, "/v1/hello");
    }

    #[test]
    fn a_device_status_is_written_when_it_changes_or_grows_stale_not_on_every_request() {
        let seen = SeenThrottle::default();
        let (org, gate) = (1, DeviceId(7));
        assert!(seen.due(org, gate, 0), "the first request writes");
        assert!(!seen.due(org, gate, 0), "a second one within 5 s with nothing new does not");
        assert!(seen.due(org, gate, 3), "a change of the pending count does");
        assert!(seen.due(2, gate, 3), "another organization's device is its own");
        seen.forget(org, gate);
        assert!(seen.due(org, gate, 3), "after a failed write the next request writes again");
    }
}
