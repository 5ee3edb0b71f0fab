//! Device-signed requests (`/v1/…`): the [`DeviceCaller`] extractor.
//!
//! A revoked device's request is answered with the hub's signed revocation notice (410,
//! `sync_core::revoked`): the device verifies it against the hub's key and retires.
//!
//! The verification itself is sync-core's ([`sync_core::sync::http::verify_request`]: the same
//! code a device runs for its LAN peers). What the hub adds is where the answers come from: the
//! sender's key and organization from the `devices` table (a revoked device has no key), and
//! the nonces of accepted requests from [`Nonces`]: on PostgreSQL the database, so a request
//! accepted by one hub instance is refused as a replay by every other; on SQLite — one hub
//! process, the embedded default — the process's memory, which saves every device request a
//! write (and, with `synchronous = FULL`, an fsync) on the one writer.

use super::store;
use crate::clock::Clock;
use crate::db::Db;
use crate::identity::HubKey;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::journal::HUB;
use sync_core::keys::strict_public_key;
use sync_core::sync::auth::NonceStore;
use sync_core::sync::http::{Check, revoked, signed_headers, signed_reply, verify_request};

/// A device request whose signature verified, with a body of at most `MAX` bytes: who sent it,
/// and its body. Refusals are the device protocol's plain-text 401, 413 and 503.
pub struct DeviceCaller<const MAX: usize> {
    /// The device's organization.
    pub org: i64,
    /// The device.
    pub device: DeviceId,
    /// The verified body.
    pub body: Bytes,
    nonce: String,
}

impl<const MAX: usize> FromRequest<AppState> for DeviceCaller<MAX> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let signed = signed_headers(request.headers())?;
        let path = request.uri().path().to_owned();
        let known = device_key(&state.db, signed.device).await.map_err(IntoResponse::into_response)?;
        // A revoked device is told so, in words only the hub's key can sign.
        if let Some(revoked_at) = known.revoked_at {
            return Err(revoked(&state.hub_key.revocation_notice(signed.device.0, revoked_at)));
        }
        let (org, key) = (known.org, known.key);
        let check = Check { to: HUB, path: &path, max_body: MAX, now: state.clock.now() };
        let verified = match &state.nonces {
            Nonces::Memory(memory) => verify_request(request, signed, key, check, memory.as_ref()).await?,
            Nonces::Database => verify_request(request, signed, key, check, &DbNonces(&state.db)).await?,
        };
        Ok(Self { org, device: verified.device, body: verified.body, nonce: verified.nonce })
    }
}

impl<const MAX: usize> DeviceCaller<MAX> {
    /// `body` with `status`, signed with the hub's key over the request's nonce.
    pub fn reply(&self, hub_key: &HubKey, clock: &Clock, status: StatusCode, body: Vec<u8>) -> Response {
        signed_reply(HUB, |m| hub_key.sign(m), status, &self.nonce, body, clock.now())
    }

    /// [`reply`](Self::reply) with a JSON body, labelled as JSON (a bare body would go out as
    /// `application/octet-stream`).
    pub fn reply_json(&self, hub_key: &HubKey, clock: &Clock, status: StatusCode, body: Vec<u8>) -> Response {
        let mut response = self.reply(hub_key, clock, status, body);
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// What the hub knows of a device that signs a request.
struct Known {
    /// Its organization (0 for a device nobody enrolled).
    org: i64,
    /// Its key, if it is enrolled and not revoked (refused as unknown otherwise).
    key: Option<ed25519_dalek::VerifyingKey>,
    /// When it was revoked.
    revoked_at: Option<i64>,
}

async fn device_key(db: &Db, device: DeviceId) -> Result<Known, crate::error::ApiError> {
    let mut lookup = db.lookup().await?;
    let found = store::device_key(&mut lookup, i64::from(device.0)).await?;
    lookup.commit().await?;
    Ok(found.map_or(Known { org: 0, key: None, revoked_at: None }, |d| {
        let bytes: Option<[u8; 32]> = d.public_key.try_into().ok();
        Known { org: d.org_id, key: bytes.and_then(|b| strict_public_key(&b)), revoked_at: d.revoked_at }
    }))
}

/// Where an instance remembers the nonces of accepted device requests.
#[derive(Clone)]
pub enum Nonces {
    /// In this process (SQLite: the hub is one process).
    Memory(std::sync::Arc<sync_core::sync::auth::MemoryNonces>),
    /// In the database (PostgreSQL: shared by every instance).
    Database,
}

impl Nonces {
    /// The store a hub on `db` needs.
    pub fn for_db(db: &Db) -> Self {
        match db.backend() {
            crate::db::Backend::Sqlite => Self::Memory(std::sync::Arc::default()),
            crate::db::Backend::Postgres => Self::Database,
        }
    }
}

/// Nonces remembered in the database, shared by every hub instance.
pub struct DbNonces<'a>(pub &'a Db);

impl NonceStore for DbNonces<'_> {
    fn remember(
        &self,
        device: DeviceId,
        nonce: &str,
        timestamp: Timestamp,
        _now: Timestamp,
    ) -> impl std::future::Future<Output = Result<bool, String>> + Send {
        let db = self.0.clone();
        let nonce = nonce.to_owned();
        async move {
            let mut conn = db.pool().acquire().await.map_err(|e| e.to_string())?;
            store::remember_nonce(&mut conn, i64::from(device.0), &nonce, timestamp.0).await.map_err(|e| {
                tracing::warn!(error = %e, "could not remember a device request's nonce");
                e.to_string()
            })
        }
    }
}

/// Forgets nonces older than the freshness window (their requests are refused as stale).
pub async fn prune_nonces(db: &Db) -> Result<u64, crate::db::DbError> {
    let mut conn = db.pool().acquire().await?;
    let before = db.clock().now_ms() - sync_core::sync::auth::MAX_REQUEST_AGE_MS;
    Ok(store::forget_nonces(&mut conn, before).await?)
}
