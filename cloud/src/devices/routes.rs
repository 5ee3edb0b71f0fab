//! `/api/v1/devices…`: the fleet, enrollment codes, enrollment, revocation.

use super::views::{Enrolled, EnrollmentCode, Fleet};
use super::{CODE_VALIDITY_MS, DeviceRole, DeviceView, store};
use crate::auth::{Caller, token_hash};
use crate::checks;
use crate::db::{Db, Notifier, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::events::publish_manifest;
use crate::identity::HubKey;
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::limits::{ENROLL_PER_ADDRESS, Limits};
use crate::path::ApiPath;
use crate::state::{AppState, PublicUrl};
use crate::tenancy::Role;
use crate::webhooks::{EventType, events::DeviceEvent};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use sync_core::journal::Payload;
use sync_core::keys::strict_public_key;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Characters of enrollment codes: no 0/O, 1/I/L to misread.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Who enrolls and revokes devices.
const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create_code))
        .routes(routes!(enroll))
        .routes(routes!(revoke))
}

/// A device to enroll.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCode {
    /// What the device is called in the fleet and in manifests.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    role: DeviceRole,
    /// The events it works (the organization's).
    #[schema(min_items = 1, max_items = 200)]
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
/// the organization's), created by user `created_by`. Returns the code and when it expires.
pub async fn create_enrollment_code(
    tx: &mut Tenant,
    created_by: i64,
    name: &str,
    role: DeviceRole,
    events: &[i64],
) -> Result<(String, i64), ApiError> {
    checks::text("name", name, 100)?;
    if events.is_empty() || events.len() > 200 {
        return Err(ApiError::invalid("events", "1–200 events"));
    }
    for &event in events {
        if !crate::events::store::exists(tx, event).await? {
            return Err(ApiError::invalid("events", format!("event {event} does not exist")));
        }
    }
    let code = new_code()?;
    let expires_at = tx.now() + CODE_VALIDITY_MS;
    store::insert_code(tx, &token_hash(&normalise(&code)), role, name.trim(), events, created_by, expires_at)
        .await?;
    Ok((code, expires_at))
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/enrollment-codes",
    tag = "devices",
    request_body = NewCode,
    responses(
        (status = 201, description = "A single-use code (valid 24 h), its QR text and that text as an SVG QR code. Owners and admins.", body = EnrollmentCode),
    ),
)]
async fn create_code(
    State(db): State<Db>,
    State(public_url): State<PublicUrl>,
    caller: Caller,
    ApiJson(body): ApiJson<NewCode>,
) -> Result<(StatusCode, Json<EnrollmentCode>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let (code, expires_at) =
        create_enrollment_code(&mut tx, caller.user_id, &body.name, body.role, &body.events).await?;
    tx.audit(&caller.actor(), "device.enrollment_code", "enrollment_code", json!({"name": body.name}))
        .await?;
    tx.commit().await?;
    let hub_url = public_url.0.to_string();
    let qr_text = format!("VGENROLL:{hub_url}#{code}");
    // The console shows the code as a QR code for the device's camera.
    let qr_svg = print::qr_svg(&qr_text)?;
    Ok((StatusCode::CREATED, Json(EnrollmentCode { code, expires_at, hub_url, qr_text, qr_svg })))
}

/// A device joining with a code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    /// The enrollment code, as typed (case, spaces and dashes do not matter).
    pub code: String,
    /// The device's Ed25519 public key, 64 hex digits.
    #[schema(
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[0-9a-fA-F]{64}[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub public_key: String,
    /// The app's version.
    #[schema(max_length = 50, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub app_version: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/enroll",
    tag = "devices",
    request_body = Enroll,
    responses(
        (status = 201, description = "Enrolled: the device's id, events and the hub's key", body = Enrolled),
        (status = 409, description = "This public key is already enrolled (`key_enrolled`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many enrollments from this address: wait Retry-After seconds", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn enroll(
    State(db): State<Db>,
    State(limits): State<Limits>,
    State(notifier): State<Notifier>,
    State(hub_key): State<HubKey>,
    State(public_url): State<PublicUrl>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Enroll>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    limits.check(&format!("enroll:address:{}", peer.ip()), ENROLL_PER_ADDRESS).await?;
    Ok((StatusCode::CREATED, Json(enroll_device(&db, &notifier, &hub_key, &public_url, &body).await?)))
}

/// Enrolls a device in one transaction: the code is spent, the device stored with its events,
/// their manifests republished and the enrollment audited — all of it, or (on any failure)
/// none of it, the code still unspent.
pub async fn enroll_device(
    db: &Db,
    notifier: &Notifier,
    hub_key: &HubKey,
    public_url: &PublicUrl,
    body: &Enroll,
) -> Result<Enrolled, ApiError> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(body.public_key.trim(), &mut key)
        .map_err(|_| ApiError::invalid("public_key", "64 hexadecimal digits"))?;
    if strict_public_key(&key).is_none() {
        return Err(ApiError::invalid("public_key", "not a valid Ed25519 public key"));
    }
    if body.app_version.chars().count() > 50 || body.app_version.chars().any(char::is_control) {
        return Err(ApiError::invalid("app_version", "at most 50 characters on one line"));
    }
    let code_hash = token_hash(&normalise(&body.code));
    let mut system = db.system().await?;
    let now = system.now();
    let spent = store::spend_code(&mut system, &code_hash, now)
        .await?
        .ok_or_else(|| ApiError::invalid("code", "this enrollment code is unknown, used or expired"))?;
    if store::key_taken(&mut system, &key).await? {
        return Err(ApiError::Conflict {
            code: "key_enrolled",
            message: "this public key is already enrolled".into(),
        });
    }
    // The code named the organization: the rest is that organization's, in the same transaction.
    let mut tx = system.into_tenant(spent.org_id).await?;
    let device_id =
        store::insert_device(&mut tx, &spent.name, spent.role, &key, body.app_version.trim()).await?;
    let device_u32 = u32::try_from(device_id).map_err(anyhow::Error::from)?;
    store::set_code_device(&mut tx, &code_hash, device_id).await?;
    let events: Vec<i64> = spent.events.split(',').filter_map(|e| e.parse().ok()).collect();
    for &event in &events {
        store::add_event(&mut tx, device_id, event).await?;
        publish_manifest(&mut tx, event, hub_key.public_key()).await?;
    }
    let actor = format!("device:{device_id}");
    tx.audit(&actor, "device.enroll", &actor, json!({"name": spent.name})).await?;
    let data =
        DeviceEvent { device: device_id, name: spent.name.clone(), kind: spent.role.as_str().to_owned() };
    crate::webhooks::emit(&mut tx, EventType::DeviceEnrolled, &data).await?;
    tx.commit_and_notify(notifier).await?;
    Ok(Enrolled {
        device_id: device_u32,
        org_id: spent.org_id,
        role: spent.role,
        events,
        hub_url: public_url.0.to_string(),
        hub_public_key: hex::encode(hub_key.public_key()),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    responses(
        (status = 200, description = "The fleet: role, app version, last seen, entries not yet synced", body = Fleet),
    ),
)]
async fn list(State(db): State<Db>, caller: Caller) -> Result<Json<Fleet>, ApiError> {
    Ok(Json(Fleet { devices: fleet(&db, caller.org_id).await? }))
}

/// The organization's devices, by id (the API and the console's fleet page).
pub async fn fleet(db: &Db, org: i64) -> Result<Vec<DeviceView>, ApiError> {
    let mut tx = db.tenant(org).await?;
    let rows = store::devices(&mut tx).await?;
    let mut events: HashMap<i64, Vec<i64>> = HashMap::new();
    for e in store::device_events(&mut tx).await? {
        events.entry(e.device_id).or_default().push(e.event_id);
    }
    let gates: HashMap<i64, String> = store::last_gates(&mut tx).await?.into_iter().collect();
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|d| DeviceView {
            events: events.remove(&d.id).unwrap_or_default(),
            last_gate: gates.get(&d.id).filter(|g| !g.is_empty()).cloned(),
            revoked: d.revoked_at.is_some(),
            id: d.id,
            name: d.name,
            role: d.role,
            app_version: d.app_version,
            enrolled_at: d.enrolled_at,
            last_seen_at: d.last_seen_at,
            pending_entries: d.pending_entries,
            revoked_at: d.revoked_at,
        })
        .collect())
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/revoke",
    tag = "devices",
    params(
        ("id" = i64, Path, description = "The device"),
    ),
    responses(
        (status = 204, description = "Revoked: refused by the hub at once, removed from the manifests; the device is told with the hub's signed notice and retires (its personal data wiped, what never reached the hub sealed for the organizer)"),
    ),
)]
async fn revoke(
    State(db): State<Db>,
    State(notifier): State<Notifier>,
    State(hub_key): State<HubKey>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let (name, kind) = store::revoke(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    crate::webhooks::emit(&mut tx, EventType::DeviceRevoked, &DeviceEvent { device: id, name, kind }).await?;
    // The manifests without it (peers stop trusting it), and the hub's signed notice beside
    // them (a peer it comes to hands it over: the device learns why, and retires).
    let notice = hub_key.revocation_notice(u32::try_from(id).map_err(anyhow::Error::from)?, tx.now());
    for event in store::events_of(&mut tx, id).await? {
        publish_manifest(&mut tx, event, hub_key.public_key()).await?;
        append_hub_entry(&mut tx, event, Payload::DeviceRevoked(notice.clone())).await?;
    }
    tx.audit(&caller.actor(), "device.revoke", &format!("device:{id}"), json!({})).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(StatusCode::NO_CONTENT)
}
