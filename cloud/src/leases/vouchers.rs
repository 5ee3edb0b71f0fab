//! Voucher uses leased to a box office, so it redeems a code offline (issue 21, at the door).
//!
//! Granting takes `uses` from the voucher's uses left with a conditional UPDATE (`leased +=
//! uses` only if `redeemed + held + reserved + leased + uses <= max_uses`), exactly as online
//! checkout takes them, and sends the code's terms to the device as a hub journal entry
//! (`VoucherGrant`). The device redeems at most those uses (sync-core's box office derives what
//! is left from its own `DoorPrice` entries); each redemption it syncs moves a use from
//! `leased` to `redeemed` (`journal::materialize`), and a `VoucherReturn` gives the rest back.
//! So door and online sales together never redeem a code more than `max_uses` times, whatever
//! the network does. The hub never takes leased uses back alone: the device may have redeemed
//! them offline.

use super::routes::{check_expiry, event_end};
use super::store;
use crate::auth::Caller;
use crate::db::{Db, Notifier, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::journal::{LeaseId, Payload, VoucherGrant};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Most uses in one voucher lease.
pub const MAX_VOUCHER_LEASE: u32 = 10_000;

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(grant))
}

/// Uses of a voucher for a box office.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVoucherLease {
    /// The box-office device (enrolled for the event).
    pub device_id: i64,
    /// How many uses it may redeem offline.
    #[schema(minimum = 1, maximum = 10_000)]
    pub uses: u32,
    /// Until when (Unix ms, in the future and at most a day after the event ends); the event's
    /// end if absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// A voucher lease as granted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VoucherLeaseGranted {
    /// The voucher lease.
    pub id: i64,
    /// Uses leased.
    pub uses: u32,
    /// When they lapse on the device.
    pub expires_at: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/vouchers/{code}/leases",
    tag = "vouchers",
    request_body = NewVoucherLease,
    params(("id" = i64, Path, description = "The event"), ("code" = String, Path, description = "The voucher's code (case-insensitive)")),
    responses(
        (status = 201, description = "Leased: the uses are taken from the voucher and on their way to the box office, which redeems them offline. Owners and admins.", body = VoucherLeaseGranted),
        (status = 404, description = "No such voucher", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Fewer uses left (`voucher_used_up`), blocked (`voucher_not_valid`), or a code that sets tickets aside (`voucher_reserves`: redeemed online only)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn grant(
    State(db): State<Db>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath((event, code)): ApiPath<(i64, String)>,
    ApiJson(new): ApiJson<NewVoucherLease>,
) -> Result<(StatusCode, Json<VoucherLeaseGranted>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let granted = grant_voucher_lease(&mut tx, event, &code, &new, &caller.actor()).await?;
    tx.audit(
        &caller.actor(),
        "voucher.lease",
        &format!("voucher_lease:{}", granted.id),
        json!({"code": code.trim().to_uppercase(), "device": new.device_id, "uses": new.uses}),
    )
    .await?;
    tx.commit_and_notify(&notifier).await?;
    Ok((StatusCode::CREATED, Json(granted)))
}

/// Leases `new.uses` of voucher `code` of `event` to a box office, inside `tx`.
pub async fn grant_voucher_lease(
    tx: &mut Tenant,
    event: i64,
    code: &str,
    new: &NewVoucherLease,
    actor: &str,
) -> Result<VoucherLeaseGranted, ApiError> {
    if new.uses == 0 || new.uses > MAX_VOUCHER_LEASE {
        return Err(ApiError::invalid("uses", format!("1 to {MAX_VOUCHER_LEASE}")));
    }
    let ends_at = event_end(tx, event).await?;
    let expires_at = new.expires_at.unwrap_or(ends_at);
    check_expiry(expires_at, tx.now(), ends_at)?;
    let code = crate::vouchers::normalize(code).ok_or(ApiError::NotFound)?;
    let voucher = crate::vouchers::store::by_code(tx, event, &code).await?.ok_or(ApiError::NotFound)?;
    let device = store::device_of_event(tx, new.device_id, event)
        .await?
        .ok_or_else(|| ApiError::invalid("device_id", "no enrolled device of this event has this id"))?;
    if device.role != crate::devices::DeviceRole::BoxOffice {
        return Err(ApiError::invalid("device_id", "voucher uses go to box-office devices"));
    }
    if voucher.reserves.0 {
        return Err(ApiError::Conflict {
            code: "voucher_reserves",
            message: "this code sets tickets aside: it is redeemed online only (lease the box office tickets and a code that does not)".into(),
        });
    }
    if voucher.blocked_at.is_some() {
        return Err(ApiError::Conflict { code: "voucher_not_valid", message: "this code is blocked".into() });
    }
    let uses = i64::from(new.uses);
    let taken = sqlx::query(
        "UPDATE vouchers SET leased = leased + $1 WHERE id = $2 AND org_id = $3 AND blocked_at IS NULL \
         AND redeemed + held + reserved + leased + $1 <= max_uses",
    )
    .bind(uses)
    .bind(voucher.id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() != 1 {
        return Err(ApiError::Conflict {
            code: "voucher_used_up",
            message: format!("this code has {} uses left: fewer than {uses}", voucher.uses_left().max(0)),
        });
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO voucher_leases (org_id, event_id, voucher_id, device_id, uses, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tx.org())
    .bind(event)
    .bind(voucher.id)
    .bind(new.device_id)
    .bind(uses)
    .bind(expires_at)
    .bind(actor)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await?;
    let grant = VoucherGrant {
        lease: LeaseId(u64::try_from(id).map_err(anyhow::Error::from)?),
        device: DeviceId(u32::try_from(new.device_id).map_err(anyhow::Error::from)?),
        terms: voucher.terms(),
        uses: new.uses,
        expires: Timestamp(expires_at),
    };
    append_hub_entry(tx, event, Payload::VoucherGrant(Box::new(grant))).await?;
    Ok(VoucherLeaseGranted { id, uses: new.uses, expires_at })
}
