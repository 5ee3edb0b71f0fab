//! Box-office leases: selling at the door without overselling, offline (brief §3, §7).
//!
//! The hub is the only place capacity rights are made. A lease gives one box-office device
//! `n` rights of one ticket type: `n` serials of its own (from the event's dense sequence) and
//! the event key's delegation for exactly those serials, so gates admit the tickets the device
//! signs — even gates offline since before the lease. Granting takes the rights from capacity
//! with the same conditional UPDATE as online checkout (`leased` counts them), so online and
//! door sales never sell the same seat twice. The grant travels to the device as a hub journal
//! entry with the delegation inside.
//!
//! What the device reports through sync is materialized here, in the transaction that stores
//! the entry, idempotently: a door sale becomes a paid box-office order with its payment and
//! ledger lines and turns leased rights into sold ones; a void revokes its tickets and books
//! the money back; a return gives the unsold rights back to capacity; a closed cashier shift
//! is stored with its report (the `shifts` report). A device that is lost
//! can have its lease revoked: its unsold serials are revoked at every gate.

mod handover;
mod materialize;

pub use handover::order_name;
pub use materialize::{materialize_door_sale, materialize_return, materialize_shift, materialize_void};

use crate::auth::Caller;
use crate::devices::DeviceCaller;
use crate::error::ApiError;
use crate::events::signing_key;
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::sales::fulfil::allocate_serials;
use crate::server::AppState;
use crate::tenancy::{Role, audit, now_ms};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};
use sync_core::ids::{DeviceId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{LeaseGrant, LeaseId, Payload, RevocationEntry};
use sync_core::keys::strict_public_key;
use sync_core::revocation::RevocationReason;
use sync_core::sync::http::{LEASES_PATH, LeaseGranted, LeaseRequest};
use sync_core::ticket::DelegationGrant;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(grant, list))
        .routes(routes!(extend))
        .routes(routes!(revoke))
        .routes(routes!(device_request))
        .routes(routes!(handover::email))
}

/// Most rights a box office may ask for at once (an organizer may grant more).
pub const MAX_DEVICE_REQUEST: u32 = 1_000;

/// `POST /v1/leases`: a box office asks for more rights (signed with its key). Granted at once
/// if capacity allows, like an organizer's grant; the lease reaches the device through sync.
#[utoipa::path(
    post,
    path = "/v1/leases",
    tag = "sync",
    request_body = serde_json::Value,
    responses(
        (status = 201, description = "Granted (signed by the hub): the lease and its serial range", body = serde_json::Value),
        (status = 401, description = "Unknown or revoked device, bad signature, replayed nonce"),
        (status = 409, description = "Not enough capacity left"),
        (status = 422, description = "Not a box office of the event, no such ticket type, too many"),
    ),
    security(()),
)]
async fn device_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let caller = match DeviceCaller::authenticate(&state, request, LEASES_PATH, 4096).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let outcome = async {
        let asked: LeaseRequest = serde_json::from_slice(&caller.body)
            .map_err(|e| ApiError::invalid("body", format!("not a lease request: {e}")))?;
        if asked.quantity > MAX_DEVICE_REQUEST {
            return Err(ApiError::invalid("quantity", format!("1 to {MAX_DEVICE_REQUEST} at a time")));
        }
        let new = NewLease {
            device_id: i64::from(caller.device.0),
            ticket_type: asked.ticket_type.0,
            quantity: asked.quantity,
            expires_at: None,
        };
        let event = i64::from(asked.event.0);
        let actor = format!("device:{}", caller.device.0);
        let mut tx = state.db.tenant(caller.org).await?;
        let (id, first, last) = grant_lease(&mut tx, &state, caller.org, event, &new, &actor).await?;
        audit(
            &mut tx,
            caller.org,
            &actor,
            "lease.request",
            &format!("lease:{id}"),
            json!({"quantity": new.quantity}),
        )
        .await?;
        tx.commit().await?;
        state.notifier.notify(caller.org);
        let granted = LeaseGranted {
            lease: u64::try_from(id).map_err(anyhow::Error::from)?,
            first_serial: first,
            last_serial: last,
        };
        Ok::<_, ApiError>(serde_json::to_vec(&granted).map_err(anyhow::Error::from)?)
    }
    .await;
    match outcome {
        Ok(body) => caller.reply(&state, StatusCode::CREATED, body),
        Err(e) => e.into_response(),
    }
}

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Most rights in one lease.
pub const MAX_LEASE: u32 = 10_000;
/// Tickets sold under a delegation are admitted until a day after the event ends.
const ADMISSION_GRACE_MS: i64 = 86_400_000;

/// A lease as granted.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLease {
    /// The box-office device.
    pub device_id: i64,
    /// The ticket type's number within the event.
    pub ticket_type: u16,
    /// How many rights.
    pub quantity: u32,
    /// Until when the device may sell (Unix ms); the event's end if absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

struct EventTimes {
    ends_at: i64,
}

async fn event_times(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event: i64,
) -> Result<EventTimes, ApiError> {
    let row = sqlx::query("SELECT ends_at FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(EventTimes { ends_at: row.get(0) })
}

fn check_expiry(expires_at: i64, ends_at: i64) -> Result<(), ApiError> {
    if expires_at <= now_ms() || expires_at > ends_at + ADMISSION_GRACE_MS {
        return Err(ApiError::invalid("expires_at", "in the future, and at most a day after the event ends"));
    }
    Ok(())
}

/// The delegation for `first..=last` of `number` to `device_key`, signed by the event's
/// current key, as bytes.
async fn delegation(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    event: i64,
    device_key: [u8; 32],
    (first, last): (u32, u32),
    number: u16,
    ends_at: i64,
) -> Result<Vec<u8>, ApiError> {
    let key = signing_key(tx, &state.master, event).await?;
    let expires = u32::try_from((ends_at + ADMISSION_GRACE_MS) / 1000).map_err(anyhow::Error::from)?;
    let grant = DelegationGrant {
        device_key,
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires,
        ticket_types: vec![TicketTypeId(number)],
    };
    Ok(key.delegate(grant).map_err(|e| anyhow::anyhow!("{e}"))?.to_bytes())
}

/// Grants a lease inside `tx`; returns its id and serial range.
pub async fn grant_lease(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org: i64,
    event: i64,
    new: &NewLease,
    actor: &str,
) -> Result<(i64, u32, u32), ApiError> {
    if new.quantity == 0 || new.quantity > MAX_LEASE {
        return Err(ApiError::invalid("quantity", format!("1 to {MAX_LEASE}")));
    }
    let times = event_times(tx, org, event).await?;
    let expires_at = new.expires_at.unwrap_or(times.ends_at);
    check_expiry(expires_at, times.ends_at)?;
    let device = sqlx::query(
        "SELECT d.public_key, d.role FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE d.id = $1 AND d.org_id = $2 AND de.event_id = $3 AND d.revoked_at IS NULL",
    )
    .bind(new.device_id)
    .bind(org)
    .bind(event)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ApiError::invalid("device_id", "no enrolled device of this event has this id"))?;
    if device.get::<String, _>(1) != "box_office" {
        return Err(ApiError::invalid("device_id", "leases go to box-office devices"));
    }
    let device_key: [u8; 32] = device
        .get::<Vec<u8>, _>(0)
        .try_into()
        .ok()
        .filter(|k| strict_public_key(k).is_some())
        .ok_or_else(|| anyhow::anyhow!("device {} has a malformed key", new.device_id))?;
    let ticket_type: i64 = sqlx::query("SELECT id FROM ticket_types WHERE event_id = $1 AND number = $2")
        .bind(event)
        .bind(i64::from(new.ticket_type))
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ApiError::invalid("ticket_type", format!("no ticket type {}", new.ticket_type)))?
        .get(0);
    let quantity = i64::from(new.quantity);
    // The same conditional UPDATE as checkout: rights come out of the one capacity.
    let taken = sqlx::query(
        "UPDATE ticket_types SET leased = leased + $1 WHERE id = $2 AND sold + held + leased + $1 <= capacity",
    )
    .bind(quantity)
    .bind(ticket_type)
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            code: "sold_out",
            message: format!("fewer than {quantity} tickets of this type are left to lease"),
        });
    }
    let first = allocate_serials(tx, event, quantity).await?;
    let last = first + new.quantity - 1;
    let delegation =
        delegation(tx, state, event, device_key, (first, last), new.ticket_type, times.ends_at).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO leases (org_id, event_id, device_id, ticket_type_id, first_serial, last_serial, expires_at, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9) RETURNING id",
    )
    .bind(org)
    .bind(event)
    .bind(new.device_id)
    .bind(ticket_type)
    .bind(i64::from(first))
    .bind(i64::from(last))
    .bind(expires_at)
    .bind(actor)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    let grant = LeaseGrant {
        lease: LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?),
        device: DeviceId(u32::try_from(new.device_id).map_err(anyhow::Error::from)?),
        ticket_type: TicketTypeId(new.ticket_type),
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires: Timestamp(expires_at),
        delegation,
    };
    append_hub_entry(tx, org, event, Payload::LeaseGrant(grant)).await?;
    Ok((id, first, last))
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/leases",
    tag = "leases",
    request_body = NewLease,
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 201, description = "Granted: rights taken from capacity, a serial range and its delegation, on their way to the device. Owners and admins.", body = serde_json::Value),
    ),
)]
async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewLease>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let (id, first, last) = grant_lease(&mut tx, &state, caller.org_id, event, &new, &caller.actor()).await?;
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "lease.grant",
        &format!("lease:{id}"),
        json!({"device": new.device_id, "quantity": new.quantity}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(caller.org_id);
    Ok((StatusCode::CREATED, Json(json!({"id": id, "first_serial": first, "last_serial": last}))))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/leases",
    tag = "leases",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The event's leases: range, sold, status", body = serde_json::Value),
    ),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    event_times(&mut tx, caller.org_id, event).await?;
    let rows = sqlx::query(
        "SELECT l.id, l.device_id, d.name, t.number, l.first_serial, l.last_serial, l.sold, l.status, l.expires_at, l.returned_from \
         FROM leases l JOIN devices d ON d.id = l.device_id JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE l.event_id = $1 AND l.org_id = $2 ORDER BY l.id",
    )
    .bind(event)
    .bind(caller.org_id)
    .fetch_all(&mut *tx)
    .await?;
    let leases: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.get::<i64,_>(0), "device_id": r.get::<i64,_>(1), "device": r.get::<String,_>(2),
                   "ticket_type": r.get::<i64,_>(3), "first_serial": r.get::<i64,_>(4), "last_serial": r.get::<i64,_>(5),
                   "sold": r.get::<i64,_>(6), "status": r.get::<String,_>(7), "expires_at": r.get::<i64,_>(8),
                   "returned_from": r.get::<Option<i64>,_>(9)})
        })
        .collect();
    Ok(Json(json!({ "leases": leases })))
}

/// A lease of the caller's organization, for changing: (event, device, type id, type number,
/// first, last, status). 404 for anyone else's.
async fn lease_row(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    id: i64,
) -> Result<(i64, i64, i64, i64, i64, i64, String), ApiError> {
    let r = sqlx::query(
        "SELECT l.event_id, l.device_id, l.ticket_type_id, t.number, l.first_serial, l.last_serial, l.status \
         FROM leases l JOIN ticket_types t ON t.id = l.ticket_type_id WHERE l.id = $1 AND l.org_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Extend {
    expires_at: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/leases/{id}/extend",
    tag = "leases",
    request_body = Extend,
    params(
        ("id" = i64, Path, description = "The lease"),
    ),
    responses(
        (status = 200, description = "Extended", body = serde_json::Value),
    ),
)]
async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Extend>,
) -> Result<Json<Value>, ApiError> {
    caller.require(MANAGERS)?;
    let org = caller.org_id;
    let mut tx = state.db.tenant(org).await?;
    let (event, device, _, number, first, last, status) = lease_row(&mut tx, org, id).await?;
    if status != "active" {
        return Err(ApiError::Conflict { code: "lease_closed", message: format!("this lease is {status}") });
    }
    let times = event_times(&mut tx, org, event).await?;
    check_expiry(body.expires_at, times.ends_at)?;
    // Only later: devices keep the latest expiry of a lease's grants, so an earlier one would
    // not reach them.
    let later = sqlx::query("UPDATE leases SET expires_at = $1 WHERE id = $2 AND expires_at < $1")
        .bind(body.expires_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if later.rows_affected() == 0 {
        return Err(ApiError::invalid("expires_at", "later than the lease's current expiry"));
    }
    let key: [u8; 32] = sqlx::query("SELECT public_key FROM devices WHERE id = $1")
        .bind(device)
        .fetch_one(&mut *tx)
        .await?
        .get::<Vec<u8>, _>(0)
        .try_into()
        .map_err(|_| anyhow::anyhow!("device {device} has a malformed key"))?;
    let (first, last, number) = (
        u32::try_from(first).map_err(anyhow::Error::from)?,
        u32::try_from(last).map_err(anyhow::Error::from)?,
        u16::try_from(number).map_err(anyhow::Error::from)?,
    );
    let delegation = delegation(&mut tx, &state, event, key, (first, last), number, times.ends_at).await?;
    // Granted again with the later expiry: devices take the latest expiry of a lease's grants.
    let grant = LeaseGrant {
        lease: LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?),
        device: DeviceId(u32::try_from(device).map_err(anyhow::Error::from)?),
        ticket_type: TicketTypeId(number),
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires: Timestamp(body.expires_at),
        delegation,
    };
    append_hub_entry(&mut tx, org, event, Payload::LeaseGrant(grant)).await?;
    audit(
        &mut tx,
        org,
        &caller.actor(),
        "lease.extend",
        &format!("lease:{id}"),
        json!({"expires_at": body.expires_at}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(org);
    Ok(Json(json!({"id": id, "expires_at": body.expires_at})))
}

/// For a lost or retired device: its unsold serials are revoked at every gate and their rights
/// go back to capacity. Serials it sold offline and has not synced count as unsold — that is
/// the organizer's call to make.
#[utoipa::path(
    post,
    path = "/api/v1/leases/{id}/revoke",
    tag = "leases",
    params(
        ("id" = i64, Path, description = "The lease"),
    ),
    responses(
        (status = 200, description = "For a lost device: unsold serials revoked at every gate, rights back on sale", body = serde_json::Value),
    ),
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.require(MANAGERS)?;
    let org = caller.org_id;
    let mut tx = state.db.tenant(org).await?;
    let (event, _, type_id, _, first, last, status) = lease_row(&mut tx, org, id).await?;
    if status != "active" {
        return Err(ApiError::Conflict { code: "lease_closed", message: format!("this lease is {status}") });
    }
    let highest_sold: Option<i64> =
        sqlx::query("SELECT MAX(serial) FROM tickets WHERE event_id = $1 AND serial BETWEEN $2 AND $3")
            .bind(event)
            .bind(first)
            .bind(last)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
    let from = highest_sold.map_or(first, |s| s + 1);
    let unsold = (last - from + 1).max(0);
    sqlx::query("UPDATE leases SET status = 'revoked', returned_from = $1 WHERE id = $2")
        .bind(from)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if unsold > 0 {
        release_rights(&mut tx, type_id, unsold).await?;
        let entry = RevocationEntry {
            first: Serial(u32::try_from(from).map_err(anyhow::Error::from)?),
            last: Serial(u32::try_from(last).map_err(anyhow::Error::from)?),
            reason: RevocationReason::DeviceLost,
        };
        append_hub_entry(&mut tx, org, event, Payload::Revocation(entry)).await?;
    }
    audit(&mut tx, org, &caller.actor(), "lease.revoke", &format!("lease:{id}"), json!({"unsold": unsold}))
        .await?;
    tx.commit().await?;
    state.notifier.notify(org);
    Ok(Json(json!({"id": id, "revoked_from": from, "unsold": unsold})))
}

/// Gives `n` leased rights of `ticket_type` back to capacity (never below zero: a device's
/// mistake must not stop its sync).
pub(crate) async fn release_rights(
    tx: &mut Transaction<'static, Any>,
    ticket_type: i64,
    n: i64,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE ticket_types SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END WHERE id = $2",
    )
    .bind(n)
    .bind(ticket_type)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
