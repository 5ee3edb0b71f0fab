//! `/api/v1/…/leases` (organizers) and `POST /v1/leases` (a box office asking for more).

use super::views::{Extended, Granted, Leases, Revoked};
use super::{MAX_DEVICE_REQUEST, MAX_LEASE, store};
use crate::auth::{Caller, DeviceCaller};
use crate::capacity;
use crate::crypto::MasterKey;
use crate::db::{Db, Notifier, Tenant};
use crate::devices::DeviceRole;
use crate::error::{ApiError, ProblemDetails};
use crate::events::signing_key;
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sync_core::ids::{DeviceId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{LeaseGrant, LeaseId, LeaseSeats, Payload, RevocationEntry};
use sync_core::keys::strict_public_key;
use sync_core::revocation::RevocationReason;
use sync_core::sync::http::{LeaseGranted, LeaseRequest};
use sync_core::ticket::DelegationGrant;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(grant, list))
        .routes(routes!(extend))
        .routes(routes!(revoke))
        .routes(routes!(device_request))
        .routes(routes!(super::handover::email))
}

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Tickets sold under a delegation are admitted until a day after the event ends.
const ADMISSION_GRACE_MS: i64 = 86_400_000;
/// The largest body of a box office's signed request.
const DEVICE_BODY_BYTES: usize = 4096;

/// A box office's request (sync-core's `LeaseRequest`), documented.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads sync-core's own type
struct LeaseRequestDoc {
    /// The event.
    event: u32,
    /// The ticket type's number.
    #[schema(maximum = 65535)]
    ticket_type: u16,
    /// How many rights.
    #[schema(minimum = 1, maximum = 1000)]
    quantity: u32,
}

/// The hub's answer (sync-core's `LeaseGranted`), documented.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
struct LeaseGrantedDoc {
    lease: u64,
    first_serial: u32,
    last_serial: u32,
}

/// `POST /v1/leases`: a box office asks for more rights (signed with its key). Granted at once
/// if capacity allows, like an organizer's grant; the lease reaches the device through sync.
#[utoipa::path(
    post,
    path = "/v1/leases",
    tag = "sync",
    request_body(content = LeaseRequestDoc, description = "Signed by the device (see sync-core's auth)"),
    responses(
        (status = 201, description = "Granted (signed by the hub): the lease and its serial range", body = LeaseGrantedDoc),
        (status = 401, description = "Unknown or revoked device, bad signature, stale or replayed request", body = String, content_type = "text/plain"),
        (status = 404, description = "No such event in the device's organization", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Not enough capacity left (`sold_out`), a bundle (`bundle_not_leasable`: sold online only), or a ticket type sold by seat (`seated_type`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "Larger than a lease request may be", body = String, content_type = "text/plain"),
        (status = 422, description = "Not a box office of the event, no such ticket type, too many", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn device_request(State(state): State<AppState>, caller: DeviceCaller<DEVICE_BODY_BYTES>) -> Response {
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
            seats: Vec::new(),
        };
        let actor = format!("device:{}", caller.device.0);
        let mut tx = state.db.tenant(caller.org).await?;
        // Seats are chosen by the organizer: a box office cannot ask for a block of them.
        if let Some(ticket_type) =
            store::ticket_type_id(&mut tx, i64::from(asked.event.0), i64::from(asked.ticket_type.0)).await?
        {
            crate::seating::refuse_if_seated(&mut tx, ticket_type).await?;
        }
        let (id, first, last) =
            grant_lease(&mut tx, &state.master, i64::from(asked.event.0), &new, &actor).await?;
        tx.audit(&actor, "lease.request", &format!("lease:{id}"), json!({"quantity": new.quantity})).await?;
        tx.commit_and_notify(&state.notifier).await?;
        let granted = LeaseGranted {
            lease: u64::try_from(id).map_err(anyhow::Error::from)?,
            first_serial: first,
            last_serial: last,
        };
        Ok::<_, ApiError>(serde_json::to_vec(&granted).map_err(anyhow::Error::from)?)
    }
    .await;
    match outcome {
        Ok(body) => caller.reply_json(&state.hub_key, &state.clock, StatusCode::CREATED, body),
        Err(e) => e.into_response(),
    }
}

/// A lease as granted.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLease {
    /// The box-office device (enrolled for the event).
    pub device_id: i64,
    /// The ticket type's number within the event.
    pub ticket_type: u16,
    /// How many rights.
    #[schema(minimum = 1, maximum = 10_000)]
    pub quantity: u32,
    /// Until when the device may sell (Unix ms, in the future and at most a day after the
    /// event ends); the event's end if absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// For a ticket type sold by seat: the seats leased (their ids in the plan), one right
    /// each, so `quantity` is their number. The box office sells those seats and no others;
    /// online checkout no longer sells them. Empty for a type without seats.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub seats: Vec<String>,
}

/// The event's end; 404 for another organization's event.
pub(super) async fn event_end(tx: &mut Tenant, event: i64) -> Result<i64, ApiError> {
    store::event_end(tx, event).await?.ok_or(ApiError::NotFound)
}

pub(super) fn check_expiry(expires_at: i64, now: i64, ends_at: i64) -> Result<(), ApiError> {
    if expires_at <= now || expires_at > ends_at + ADMISSION_GRACE_MS {
        return Err(ApiError::invalid("expires_at", "in the future, and at most a day after the event ends"));
    }
    Ok(())
}

/// The delegation for `first..=last` of `number` to `device_key`, signed by the event's
/// current key, as bytes.
async fn delegation(
    tx: &mut Tenant,
    master: &MasterKey,
    event: i64,
    device_key: [u8; 32],
    (first, last): (u32, u32),
    number: u16,
    ends_at: i64,
) -> Result<Vec<u8>, ApiError> {
    let key = signing_key(tx, master, event).await?;
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
    tx: &mut Tenant,
    master: &MasterKey,
    event: i64,
    new: &NewLease,
    actor: &str,
) -> Result<(i64, u32, u32), ApiError> {
    if new.quantity == 0 || new.quantity > MAX_LEASE {
        return Err(ApiError::invalid("quantity", format!("1 to {MAX_LEASE}")));
    }
    let ends_at = event_end(tx, event).await?;
    let expires_at = new.expires_at.unwrap_or(ends_at);
    check_expiry(expires_at, tx.now(), ends_at)?;
    let device = store::device_of_event(tx, new.device_id, event)
        .await?
        .ok_or_else(|| ApiError::invalid("device_id", "no enrolled device of this event has this id"))?;
    if device.role != DeviceRole::BoxOffice {
        return Err(ApiError::invalid("device_id", "leases go to box-office devices"));
    }
    let device_key: [u8; 32] =
        device
            .public_key
            .try_into()
            .ok()
            .filter(|k| strict_public_key(k).is_some())
            .ok_or_else(|| anyhow::anyhow!("device {} has a malformed key", new.device_id))?;
    let ticket_type = store::ticket_type_id(tx, event, i64::from(new.ticket_type))
        .await?
        .ok_or_else(|| ApiError::invalid("ticket_type", format!("no ticket type {}", new.ticket_type)))?;
    if crate::events::bundles::is_bundle(tx, ticket_type).await? {
        return Err(crate::events::bundles::not_at_the_door());
    }
    let seated = crate::seating::store::is_seated(tx, ticket_type).await?;
    match (seated, new.seats.len()) {
        (true, 0) => {
            return Err(ApiError::invalid(
                "seats",
                "this ticket type sells reserved seats: name the seats to lease",
            ));
        }
        (false, n) if n > 0 => return Err(ApiError::invalid("seats", "this ticket type sells no seats")),
        (true, n) if n != usize::try_from(new.quantity).unwrap_or(usize::MAX) => {
            return Err(ApiError::invalid("quantity", format!("one right per seat: {n}")));
        }
        _ => {}
    }
    let quantity = i64::from(new.quantity);
    // The same conditional UPDATE as checkout: rights come out of the one capacity.
    if !capacity::lease(tx, ticket_type, quantity).await? {
        return Err(ApiError::Conflict {
            code: "sold_out",
            message: format!("fewer than {quantity} tickets of this type are left to lease"),
        });
    }
    let first = capacity::allocate_serials(tx, event, quantity).await?;
    let last = first + new.quantity - 1;
    let delegation =
        delegation(tx, master, event, device_key, (first, last), new.ticket_type, ends_at).await?;
    let row = store::NewLeaseRow {
        event,
        device: new.device_id,
        ticket_type,
        first,
        last,
        expires_at,
        created_by: actor,
    };
    let id = store::insert(tx, &row).await?;
    if seated {
        // The seats first: a device holding the grant then holds its seats (sync delivers
        // each origin's entries in order), and never sells the type without them.
        let seats =
            crate::seating::leased::take(tx, event, (ticket_type, new.ticket_type), id, &new.seats).await?;
        let lease = LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?);
        append_hub_entry(tx, event, Payload::LeaseSeats(LeaseSeats { lease, seats })).await?;
    }
    let grant = LeaseGrant {
        lease: LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?),
        device: DeviceId(u32::try_from(new.device_id).map_err(anyhow::Error::from)?),
        ticket_type: TicketTypeId(new.ticket_type),
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires: Timestamp(expires_at),
        delegation,
    };
    append_hub_entry(tx, event, Payload::LeaseGrant(grant)).await?;
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
        (status = 201, description = "Granted: rights taken from capacity, a serial range and its delegation, on their way to the device. Owners and admins.", body = Granted),
        (status = 409, description = "Not enough capacity left (`sold_out`), a bundle (`bundle_not_leasable`: sold online only), or a seat named that is not free (`seat_taken`: nothing leased)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "A seated type without `seats`, seats for a type without them, a seat of another type or not in the event, `quantity` not their number", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn grant(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewLease>,
) -> Result<(StatusCode, Json<Granted>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let (id, first_serial, last_serial) = grant_lease(&mut tx, &master, event, &new, &caller.actor()).await?;
    tx.audit(
        &caller.actor(),
        "lease.grant",
        &format!("lease:{id}"),
        json!({"device": new.device_id, "quantity": new.quantity}),
    )
    .await?;
    tx.commit_and_notify(&notifier).await?;
    Ok((StatusCode::CREATED, Json(Granted { id, first_serial, last_serial })))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/leases",
    tag = "leases",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The event's leases: range, sold, status", body = Leases),
    ),
)]
async fn list(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<Leases>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    event_end(&mut tx, event).await?;
    let mut leases = store::leases(&mut tx, event).await?;
    for (lease, seat) in crate::seating::store::of_leases(&mut tx, event).await? {
        if let Some(l) = leases.iter_mut().find(|l| l.id == lease) {
            l.seats.push(seat);
        }
    }
    tx.commit().await?;
    Ok(Json(Leases { leases }))
}

/// A lease that may still change; 404 for anyone else's.
async fn active_lease(tx: &mut Tenant, id: i64) -> Result<store::LeaseRow, ApiError> {
    let lease = store::lease(tx, id).await?.ok_or(ApiError::NotFound)?;
    if lease.status != "active" {
        return Err(ApiError::Conflict {
            code: "lease_closed",
            message: format!("this lease is {}", lease.status),
        });
    }
    Ok(lease)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Extend {
    /// The new expiry (Unix ms): later than the current one, in the future, at most a day
    /// after the event ends.
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
        (status = 200, description = "Extended", body = Extended),
        (status = 409, description = "The lease was returned or revoked (`lease_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn extend(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Extend>,
) -> Result<Json<Extended>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let lease = active_lease(&mut tx, id).await?;
    let ends_at = event_end(&mut tx, lease.event_id).await?;
    check_expiry(body.expires_at, tx.now(), ends_at)?;
    // Only later: devices keep the latest expiry of a lease's grants, so an earlier one would
    // not reach them.
    if !store::extend(&mut tx, id, body.expires_at).await? {
        return Err(ApiError::invalid("expires_at", "later than the lease's current expiry"));
    }
    let key: [u8; 32] = store::device_key(&mut tx, lease.device_id)
        .await?
        .try_into()
        .map_err(|_| anyhow::anyhow!("device {} has a malformed key", lease.device_id))?;
    let (first, last, number) = (
        u32::try_from(lease.first_serial).map_err(anyhow::Error::from)?,
        u32::try_from(lease.last_serial).map_err(anyhow::Error::from)?,
        u16::try_from(lease.number).map_err(anyhow::Error::from)?,
    );
    let delegation =
        delegation(&mut tx, &master, lease.event_id, key, (first, last), number, ends_at).await?;
    // Granted again with the later expiry: devices take the latest expiry of a lease's grants.
    let grant = LeaseGrant {
        lease: LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?),
        device: DeviceId(u32::try_from(lease.device_id).map_err(anyhow::Error::from)?),
        ticket_type: TicketTypeId(number),
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires: Timestamp(body.expires_at),
        delegation,
    };
    append_hub_entry(&mut tx, lease.event_id, Payload::LeaseGrant(grant)).await?;
    tx.audit(&caller.actor(), "lease.extend", &format!("lease:{id}"), json!({"expires_at": body.expires_at}))
        .await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(Json(Extended { id, expires_at: body.expires_at }))
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
        (status = 200, description = "For a lost device: unsold serials revoked at every gate, rights back on sale", body = Revoked),
        (status = 409, description = "The lease was returned or revoked already (`lease_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn revoke(
    State(db): State<Db>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let lease = active_lease(&mut tx, id).await?;
    let (first, last) = (lease.first_serial, lease.last_serial);
    let highest_sold = store::highest_sold(&mut tx, lease.event_id, first, last).await?;
    let from = highest_sold.map_or(first, |s| s + 1);
    let unsold = (last - from + 1).max(0);
    store::revoke(&mut tx, id, from).await?;
    crate::journal::materialize::store::free_leased_seats(&mut tx, id).await?;
    if unsold > 0 {
        capacity::release_leased(&mut tx, lease.ticket_type_id, unsold).await?;
        let entry = RevocationEntry {
            first: Serial(u32::try_from(from).map_err(anyhow::Error::from)?),
            last: Serial(u32::try_from(last).map_err(anyhow::Error::from)?),
            reason: RevocationReason::DeviceLost,
        };
        append_hub_entry(&mut tx, lease.event_id, Payload::Revocation(entry)).await?;
    }
    tx.audit(&caller.actor(), "lease.revoke", &format!("lease:{id}"), json!({"unsold": unsold})).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(Json(Revoked { id, revoked_from: from, unsold }))
}
