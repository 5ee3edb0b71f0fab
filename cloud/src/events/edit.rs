//! Changing an event after it was created: its name, zone and times; a ticket type's name,
//! price, capacity, sales window, entry policy and gates; more ticket types and gates.
//!
//! Each change publishes a new manifest in the same transaction (devices learn it at their
//! next sync) and is audited. Ticket types and gates are only added, never removed or
//! renumbered: their numbers are inside tickets already signed. A type's currency stays (its
//! sold tickets were paid in it), and its capacity never goes below what is sold, held and
//! leased — the same invariant the database checks.

use super::{
    MANAGERS, NewGate, NewTicketType, Status, check_event, check_type, insert_gate, insert_type,
    policy_parse, policy_str, publish_manifest, status, text,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::audit;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};
use sync_core::manifest::EntryPolicy;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(edit_event))
        .routes(routes!(add_type))
        .routes(routes!(edit_type))
        .routes(routes!(add_gate))
}

/// An event that may still change: not ended, not cancelled. 404 for others' events.
async fn changeable(tx: &mut Transaction<'static, Any>, org: i64, event: i64) -> Result<(), ApiError> {
    let current = status(tx, org, event).await?;
    if matches!(current, Status::Ended | Status::Cancelled) {
        return Err(ApiError::Conflict {
            code: "event_closed",
            message: format!("the event is {}: it can no longer change", current.as_str()),
        });
    }
    Ok(())
}

/// Publishes the manifest, audits, commits, wakes the devices.
async fn finish(
    state: &AppState,
    caller: &Caller,
    mut tx: Transaction<'static, Any>,
    event: i64,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    publish_manifest(&mut tx, caller.org_id, event, state.hub_public_key()).await?;
    audit(&mut tx, caller.org_id, &caller.actor(), action, &format!("event:{event}"), detail).await?;
    tx.commit().await?;
    state.notifier.notify(caller.org_id);
    Ok(())
}

/// What to change of an event; absent fields stay.
#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EventChanges {
    name: Option<String>,
    time_zone: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}",
    tag = "events",
    request_body = EventChanges,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 204, description = "Changed; devices get the new manifest at their next sync. Owners and admins."),
        (status = 409, description = "The event has ended or was cancelled"),
    ),
)]
async fn edit_event(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(changes): ApiJson<EventChanges>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    changeable(&mut tx, caller.org_id, event).await?;
    let row =
        sqlx::query("SELECT name, time_zone, starts_at, ends_at FROM events WHERE id = $1 AND org_id = $2")
            .bind(event)
            .bind(caller.org_id)
            .fetch_one(&mut *tx)
            .await?;
    let name = changes.name.clone().unwrap_or_else(|| row.get(0));
    let zone = changes.time_zone.clone().unwrap_or_else(|| row.get(1));
    let starts = changes.starts_at.unwrap_or_else(|| row.get(2));
    let ends = changes.ends_at.unwrap_or_else(|| row.get(3));
    check_event(&name, &zone, starts, ends)?;
    sqlx::query("UPDATE events SET name = $1, time_zone = $2, starts_at = $3, ends_at = $4 WHERE id = $5 AND org_id = $6")
        .bind(name.trim())
        .bind(&zone)
        .bind(starts)
        .bind(ends)
        .bind(event)
        .bind(caller.org_id)
        .execute(&mut *tx)
        .await?;
    finish(&state, &caller, tx, event, "event.edit", json!(changes)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn gate_count(tx: &mut Transaction<'static, Any>, event: i64) -> Result<usize, ApiError> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM gates WHERE event_id = $1")
        .bind(event)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The next number of `table` (ticket types or gates) in the event; at most 200 of either.
async fn next_number(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    table: &str,
    field: &str,
) -> Result<i64, ApiError> {
    let sql = match table {
        "gates" => "SELECT COALESCE(MAX(number), 0) + 1 FROM gates WHERE event_id = $1",
        _ => "SELECT COALESCE(MAX(number), 0) + 1 FROM ticket_types WHERE event_id = $1",
    };
    let next: i64 = sqlx::query(sql).bind(event).fetch_one(&mut **tx).await?.get(0);
    if next > 200 {
        return Err(ApiError::invalid(field, "an event has at most 200"));
    }
    Ok(next)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/ticket-types",
    tag = "events",
    request_body = NewTicketType,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Added with the next number. Owners and admins.", body = serde_json::Value),
    ),
)]
async fn add_type(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewTicketType>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    changeable(&mut tx, caller.org_id, event).await?;
    check_type(str::to_owned, &new, gate_count(&mut tx, event).await?)?;
    let number = next_number(&mut tx, event, "ticket_types", "ticket_types").await?;
    insert_type(&mut tx, caller.org_id, event, number, &new).await?;
    finish(&state, &caller, tx, event, "ticket_type.add", json!({"number": number, "name": new.name}))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"number": number}))))
}

/// What to change of a ticket type; absent fields stay.
#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TypeChanges {
    name: Option<String>,
    price_minor: Option<i64>,
    capacity: Option<i64>,
    #[schema(value_type = Option<String>, example = "single_entry")]
    entry_policy: Option<EntryPolicy>,
    allowed_gates: Option<Vec<u16>>,
    sales_start: Option<i64>,
    sales_end: Option<i64>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}/ticket-types/{number}",
    tag = "events",
    request_body = TypeChanges,
    params(("id" = i64, Path, description = "The event"), ("number" = i64, Path, description = "The ticket type's number")),
    responses(
        (status = 204, description = "Changed. Owners and admins."),
        (status = 409, description = "Capacity below what is sold, held and leased; or the event is closed"),
    ),
)]
async fn edit_type(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((event, number)): ApiPath<(i64, i64)>,
    ApiJson(changes): ApiJson<TypeChanges>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    changeable(&mut tx, caller.org_id, event).await?;
    let row = sqlx::query(
        "SELECT name, price_minor, currency, capacity, sold + held + leased, entry_policy, allowed_gates, sales_start, sales_end \
         FROM ticket_types WHERE event_id = $1 AND org_id = $2 AND number = $3",
    )
    .bind(event)
    .bind(caller.org_id)
    .bind(number)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let taken: i64 = row.get(4);
    let current_gates: Vec<u16> = row.get::<String, _>(6).split(',').filter_map(|g| g.parse().ok()).collect();
    let t = NewTicketType {
        name: changes.name.clone().unwrap_or_else(|| row.get(0)),
        price_minor: changes.price_minor.unwrap_or_else(|| row.get(1)),
        currency: row.get(2),
        capacity: changes.capacity.unwrap_or_else(|| row.get(3)),
        entry_policy: changes.entry_policy.unwrap_or_else(|| policy_parse(&row.get::<String, _>(5))),
        allowed_gates: changes.allowed_gates.clone().unwrap_or(current_gates),
        sales_start: changes.sales_start.or_else(|| row.get(7)),
        sales_end: changes.sales_end.or_else(|| row.get(8)),
    };
    check_type(str::to_owned, &t, gate_count(&mut tx, event).await?)?;
    if t.capacity < taken {
        return Err(ApiError::Conflict {
            code: "capacity_below_sold",
            message: format!("{taken} are sold, held or leased: the capacity cannot be less"),
        });
    }
    let allowed: Vec<String> = t.allowed_gates.iter().map(ToString::to_string).collect();
    sqlx::query(
        "UPDATE ticket_types SET name = $1, price_minor = $2, capacity = $3, entry_policy = $4, allowed_gates = $5, \
         sales_start = $6, sales_end = $7 WHERE event_id = $8 AND org_id = $9 AND number = $10",
    )
    .bind(t.name.trim())
    .bind(t.price_minor)
    .bind(t.capacity)
    .bind(policy_str(t.entry_policy))
    .bind(allowed.join(","))
    .bind(t.sales_start)
    .bind(t.sales_end)
    .bind(event)
    .bind(caller.org_id)
    .bind(number)
    .execute(&mut *tx)
    .await?;
    finish(&state, &caller, tx, event, "ticket_type.edit", json!({"number": number, "changes": changes}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/gates",
    tag = "events",
    request_body = NewGate,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Added with the next number. Owners and admins.", body = serde_json::Value),
    ),
)]
async fn add_gate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewGate>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    changeable(&mut tx, caller.org_id, event).await?;
    text("name", &new.name, 100)?;
    let number = next_number(&mut tx, event, "gates", "name").await?;
    insert_gate(&mut tx, caller.org_id, event, number, &new).await?;
    finish(&state, &caller, tx, event, "gate.add", json!({"number": number, "name": new.name})).await?;
    Ok((StatusCode::CREATED, Json(json!({"number": number}))))
}
