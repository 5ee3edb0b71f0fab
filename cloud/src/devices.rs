//! Devices: enrollment, the fleet, revocation — and the hub's sync endpoint.
//!
//! Enrollment: an admin creates a single-use code (valid 24 h, shown as text and QR); the device
//! presents it with the public key it generated, and gets its id, its events and the hub's key.
//! The device is then listed in its events' manifests, which is what every peer trusts;
//! revoking it republishes the manifests without it, and the hub refuses its requests at once.
//!
//! `POST /v1/sync` is the same protocol the devices' peer server speaks (sync-core's engine),
//! with the requester authenticated against the `devices` table and its organization's journal
//! as the store.

use crate::auth::{Caller, token_hash};
use crate::error::ApiError;
use crate::events::publish_manifest;
use crate::journal::{OrgJournal, device_seen};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::{Role, audit, now_ms};
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};
use std::net::SocketAddr;
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::journal::HUB;
use sync_core::keys::strict_public_key;
use sync_core::sync::auth::{SignedHeaders, sign_response};
use sync_core::sync::http::{Hello, SYNC_PATH};
use sync_core::sync::message::{Framed, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, SyncRequest};
use sync_core::sync::respond_or_wait;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How long an enrollment code is valid.
pub const CODE_VALIDITY_MS: i64 = 24 * 3_600_000;
/// Characters of enrollment codes: no 0/O, 1/I/L to misread.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create_code))
        .routes(routes!(enroll))
        .routes(routes!(revoke))
        .routes(routes!(sync))
        .routes(routes!(hello))
}

/// Device roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// A gate scanner.
    Gate,
    /// A box office.
    BoxOffice,
}

impl DeviceRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gate => "gate",
            Self::BoxOffice => "box_office",
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCode {
    name: String,
    role: DeviceRole,
    events: Vec<i64>,
}

fn new_code() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    let chars: Vec<char> =
        bytes.iter().map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()])).collect();
    Ok(chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// Normalises a typed code: upper case, no spaces or dashes.
fn normalise(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// A new enrollment code for a device called `name` with `role`, for `events` (checked to be
/// `org`'s), created by user `created_by`. Returns the code and when it expires.
pub async fn create_enrollment_code(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    created_by: i64,
    name: &str,
    role: DeviceRole,
    events: &[i64],
) -> Result<(String, i64), ApiError> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name", "1–100 characters"));
    }
    if events.is_empty() {
        return Err(ApiError::invalid("events", "at least one event"));
    }
    for &event in events {
        let ours = sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
            .bind(event)
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?;
        if ours.is_none() {
            return Err(ApiError::invalid("events", format!("event {event} does not exist")));
        }
    }
    let code = new_code()?;
    let expires_at = now_ms() + CODE_VALIDITY_MS;
    let events: Vec<String> = events.iter().map(ToString::to_string).collect();
    sqlx::query(
        "INSERT INTO enrollment_codes (code_hash, org_id, role, name, events, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token_hash(&normalise(&code)))
    .bind(org)
    .bind(role.as_str())
    .bind(name.trim())
    .bind(events.join(","))
    .bind(created_by)
    .bind(now_ms())
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok((code, expires_at))
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/enrollment-codes",
    tag = "devices",
    request_body = NewCode,
    responses(
        (status = 201, description = "A single-use code (valid 24 h), its QR text and that text as an SVG QR code. Owners and admins.", body = serde_json::Value),
    ),
)]
async fn create_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewCode>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let (code, expires_at) =
        create_enrollment_code(&mut tx, caller.org_id, caller.user_id, &body.name, body.role, &body.events)
            .await?;
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "device.enrollment_code",
        "enrollment_code",
        json!({"name": body.name}),
    )
    .await?;
    tx.commit().await?;
    let hub = state.public_url.to_string();
    let qr_text = format!("VGENROLL:{hub}#{code}");
    // The console shows the code as a QR code for the device's camera.
    let qr_svg = print::qr_svg(&qr_text)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"code": code, "expires_at": expires_at, "hub_url": hub, "qr_text": qr_text, "qr_svg": qr_svg}),
        ),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Enroll {
    code: String,
    /// The device's Ed25519 public key, 64 hex digits.
    public_key: String,
    app_version: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Enrolled {
    device_id: u32,
    org_id: i64,
    role: String,
    events: Vec<i64>,
    hub_url: String,
    hub_public_key: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/enroll",
    tag = "devices",
    request_body = Enroll,
    responses(
        (status = 201, description = "Enrolled: the device's id, events and the hub's key", body = Enrolled),
    ),
    security(()),
)]
async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Enroll>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    state.login_limiter.check_enrollment(&peer.ip().to_string())?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(body.public_key.trim(), &mut key)
        .map_err(|_| ApiError::invalid("public_key", "64 hexadecimal digits"))?;
    if strict_public_key(&key).is_none() {
        return Err(ApiError::invalid("public_key", "not a valid Ed25519 public key"));
    }
    if body.app_version.len() > 50 {
        return Err(ApiError::invalid("app_version", "at most 50 characters"));
    }
    let now = now_ms();
    let mut tx = state.db.system().await?;
    // Spend the code: only one request can.
    let code = sqlx::query(
        "UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING org_id, role, name, events",
    )
    .bind(now)
    .bind(token_hash(&normalise(&body.code)))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::invalid("code", "this enrollment code is unknown, used or expired"))?;
    let (org, role, name, events): (i64, String, String, String) =
        (code.get(0), code.get(1), code.get(2), code.get(3));
    let taken = sqlx::query("SELECT 1 FROM devices WHERE public_key = $1")
        .bind(key.to_vec())
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict {
            code: "key_enrolled",
            message: "this public key is already enrolled".into(),
        });
    }
    let device_id: i64 = sqlx::query(
        "INSERT INTO devices (org_id, name, role, public_key, app_version, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(org)
    .bind(&name)
    .bind(&role)
    .bind(key.to_vec())
    .bind(body.app_version.trim())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    let device_id_u32 = u32::try_from(device_id).map_err(anyhow::Error::from)?;
    sqlx::query("UPDATE enrollment_codes SET device_id = $1 WHERE code_hash = $2")
        .bind(device_id)
        .bind(token_hash(&normalise(&body.code)))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let events: Vec<i64> = events.split(',').filter_map(|e| e.parse().ok()).collect();
    let mut tx = state.db.tenant(org).await?;
    for &event in &events {
        sqlx::query("INSERT INTO device_events (device_id, event_id, org_id) VALUES ($1, $2, $3)")
            .bind(device_id)
            .bind(event)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        publish_manifest(&mut tx, org, event, state.hub_public_key()).await?;
    }
    audit(
        &mut tx,
        org,
        &format!("device:{device_id}"),
        "device.enroll",
        &format!("device:{device_id}"),
        json!({"name": name}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(org);
    Ok((
        StatusCode::CREATED,
        Json(Enrolled {
            device_id: device_id_u32,
            org_id: org,
            role,
            events,
            hub_url: state.public_url.to_string(),
            hub_public_key: hex::encode(state.hub_public_key()),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    responses(
        (status = 200, description = "The fleet: role, app version, last seen, entries not yet synced", body = serde_json::Value),
    ),
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, role, app_version, enrolled_at, last_seen_at, pending_entries, revoked_at FROM devices WHERE org_id = $1 ORDER BY id",
    )
    .bind(caller.org_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut events: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for r in sqlx::query("SELECT device_id, event_id FROM device_events WHERE org_id = $1 ORDER BY event_id")
        .bind(caller.org_id)
        .fetch_all(&mut *tx)
        .await?
    {
        events.entry(r.get(0)).or_default().push(r.get(1));
    }
    tx.commit().await?;
    let devices: Vec<Value> = rows
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            json!({"id": id, "name": r.get::<String,_>(1), "role": r.get::<String,_>(2),
                   "events": events.get(&id).cloned().unwrap_or_default(),
                   "app_version": r.get::<String,_>(3), "enrolled_at": r.get::<i64,_>(4),
                   "last_seen_at": r.get::<Option<i64>,_>(5), "pending_entries": r.get::<i64,_>(6),
                   "revoked": r.get::<Option<i64>,_>(7).is_some()})
        })
        .collect();
    Ok(Json(json!({ "devices": devices })))
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/revoke",
    tag = "devices",
    params(
        ("id" = i64, Path, description = "The device"),
    ),
    responses(
        (status = 204, description = "Revoked: refused by the hub at once, removed from the manifests"),
    ),
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let done = sqlx::query(
        "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(caller.org_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    let events: Vec<i64> = sqlx::query("SELECT event_id FROM device_events WHERE device_id = $1")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for event in events {
        publish_manifest(&mut tx, caller.org_id, event, state.hub_public_key()).await?;
    }
    audit(&mut tx, caller.org_id, &caller.actor(), "device.revoke", &format!("device:{id}"), json!({}))
        .await?;
    tx.commit().await?;
    state.notifier.notify(caller.org_id);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/v1/hello",
    tag = "sync",
    responses(
        (status = 200, description = "The hub's device id and protocol version", body = serde_json::Value),
    ),
    security(()),
)]
async fn hello() -> Json<Hello> {
    Json(Hello { device: HUB, protocol: PROTOCOL_VERSION })
}

fn refuse(status: StatusCode, message: &impl ToString) -> Response {
    (status, message.to_string()).into_response()
}

/// A device's organization and public key, if it is enrolled and not revoked.
async fn device_key(
    state: &AppState,
    device: DeviceId,
) -> Result<Option<(i64, Option<ed25519_dalek::VerifyingKey>)>, ApiError> {
    let mut system = state.db.lookup().await?;
    let row = sqlx::query("SELECT org_id, public_key FROM devices WHERE id = $1 AND revoked_at IS NULL")
        .bind(i64::from(device.0))
        .fetch_optional(&mut *system)
        .await?;
    system.commit().await?;
    Ok(row.map(|row| {
        let bytes: Option<[u8; 32]> = row.get::<Vec<u8>, _>(1).try_into().ok();
        (row.get::<i64, _>(0), bytes.and_then(|b| strict_public_key(&b)))
    }))
}

/// `POST /v1/sync`: a device's signed sync request, answered from its organization's journal.
#[utoipa::path(
    post,
    path = "/v1/sync",
    tag = "sync",
    responses(
        (status = 200, description = "A signed sync response (VGSYNC binary, see sync-core)", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 401, description = "Unknown or revoked device, bad signature, replayed nonce"),
    ),
    security(()),
)]
async fn sync(State(state): State<AppState>, request: Request) -> Response {
    let caller = match DeviceCaller::authenticate(&state, request, SYNC_PATH, MAX_MESSAGE_BYTES).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let request = match SyncRequest::decode(&caller.body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    let claims = request.have.get(caller.device);
    let events = match device_events(&state, &caller).await {
        Ok(events) => events,
        Err(e) => return e.into_response(),
    };
    let store = OrgJournal::new(state.db.clone(), caller.org, state.notifier.clone(), state.docs.clone())
        .scoped_to(events);
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
    caller.reply(&state, StatusCode::OK, response.encode())
}

/// The events a device was enrolled for: the documents it may sync.
async fn device_events(state: &AppState, caller: &DeviceCaller) -> Result<Vec<i64>, ApiError> {
    let mut tx = state.db.tenant(caller.org).await?;
    let events = sqlx::query("SELECT event_id FROM device_events WHERE device_id = $1 AND org_id = $2")
        .bind(i64::from(caller.device.0))
        .bind(caller.org)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit().await?;
    Ok(events)
}

/// A device request whose signature verified: who sent it, and its body. Device endpoints
/// (`/v1/…`) are signed with the device key like sync requests (sync-core's `auth`), and
/// answered with the hub's signature over the request's nonce.
pub struct DeviceCaller {
    /// The device's organization.
    pub org: i64,
    /// The device.
    pub device: DeviceId,
    /// The verified body.
    pub body: axum::body::Bytes,
    nonce: String,
}

impl DeviceCaller {
    /// Verifies `request` (to `path`, a body of at most `max` bytes) against the device's
    /// registered key; a refusal is the response to send (401 with the reason, 413).
    pub async fn authenticate(
        state: &AppState,
        request: Request,
        path: &str,
        max: usize,
    ) -> Result<Self, Response> {
        let headers = request.headers();
        let signed = SignedHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok()))
            .map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))?;
        let device = device_key(state, signed.device).await.map_err(IntoResponse::into_response)?;
        let (org, key) = device.unwrap_or((0, None));
        let key_of = |d: DeviceId| if d == signed.device { key } else { None };
        state
            .verifier
            .precheck(key_of, &signed, Timestamp::now())
            .map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))?;
        let Ok(body) = axum::body::to_bytes(request.into_body(), max).await else {
            return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, &format!("at most {max} bytes")));
        };
        state
            .verifier
            .verify(key_of, "POST", path, &signed, &body, Timestamp::now())
            .map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))?;
        Ok(Self { org, device: signed.device, body, nonce: signed.nonce })
    }

    /// `body` with `status`, signed by the hub over the request's nonce.
    pub fn reply(&self, state: &AppState, status: StatusCode, body: Vec<u8>) -> Response {
        let reply = sign_response(
            HUB,
            |m| state.hub_key.sign(m),
            status.as_u16(),
            &self.nonce,
            &body,
            Timestamp::now(),
        );
        let mut http = (status, body).into_response();
        for (name, value) in reply.pairs() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                http.headers_mut().insert(name, value);
            }
        }
        http
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documented_paths_are_the_protocols() {
        // `#[utoipa::path]` needs literals; the protocol's constants live in sync-core.
        assert_eq!(sync_core::sync::http::SYNC_PATH, "/v1/sync");
        assert_eq!(sync_core::sync::http::HELLO_PATH, "/v1/hello");
    }
}
