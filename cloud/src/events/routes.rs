//! `/api/v1/events…`.

use super::{NewEvent, Status, add_key, create_event, manifest, publish_manifest, status};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::audit;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(detail))
        .routes(routes!(set_status))
        .routes(routes!(rotate_key))
        .routes(routes!(get_manifest))
        .merge(super::edit_routes())
}

use super::MANAGERS;

#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    request_body = NewEvent,
    responses(
        (status = 201, description = "Created as a draft, with its first signing key and manifest. Owners and admins.", body = Created),
    ),
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewEvent>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let id = create_event(&mut tx, &state.master, state.hub_public_key(), caller.org_id, &new).await?;
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "event.create",
        &format!("event:{id}"),
        json!({"name": new.name}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(caller.org_id);
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    responses(
        (status = 200, description = "The organization's events", body = serde_json::Value),
    ),
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    let rows = sqlx::query("SELECT id, name, status, starts_at, ends_at, time_zone FROM events WHERE org_id = $1 ORDER BY starts_at, id")
        .bind(caller.org_id)
        .fetch_all(&mut *tx)
        .await?;
    let events: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.get::<i64,_>(0), "name": r.get::<String,_>(1), "status": r.get::<String,_>(2),
                   "starts_at": r.get::<i64,_>(3), "ends_at": r.get::<i64,_>(4), "time_zone": r.get::<String,_>(5)})
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The event with its gates and ticket types (capacity, sold, held, leased)", body = serde_json::Value),
    ),
)]
async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    let event = sqlx::query(
        "SELECT name, status, starts_at, ends_at, time_zone, clock_skew_tolerance_secs FROM events WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(caller.org_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let gates: Vec<Value> = sqlx::query("SELECT number, name, serves FROM gates WHERE event_id = $1 ORDER BY number")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| json!({"number": r.get::<i64,_>(0), "name": r.get::<String,_>(1), "serves": r.get::<String,_>(2)}))
        .collect();
    let types: Vec<Value> = sqlx::query(
        "SELECT number, name, price_minor, currency, capacity, sold, held, leased, entry_policy, allowed_gates \
         FROM ticket_types WHERE event_id = $1 ORDER BY number",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        json!({"number": r.get::<i64,_>(0), "name": r.get::<String,_>(1), "price_minor": r.get::<i64,_>(2),
               "currency": r.get::<String,_>(3), "capacity": r.get::<i64,_>(4), "sold": r.get::<i64,_>(5),
               "held": r.get::<i64,_>(6), "leased": r.get::<i64,_>(7), "entry_policy": r.get::<String,_>(8),
               "allowed_gates": r.get::<String,_>(9)})
    })
    .collect();
    Ok(Json(json!({
        "id": id, "name": event.get::<String,_>(0), "status": event.get::<String,_>(1),
        "starts_at": event.get::<i64,_>(2), "ends_at": event.get::<i64,_>(3), "time_zone": event.get::<String,_>(4),
        "clock_skew_tolerance_secs": event.get::<i64,_>(5), "gates": gates, "ticket_types": types,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetStatus {
    status: Status,
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/status",
    tag = "events",
    request_body = SetStatus,
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 204, description = "Changed (draft → on sale → live → ended, or cancelled)"),
    ),
)]
async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetStatus>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let current = status(&mut tx, caller.org_id, id).await?;
    if !current.may_become(body.status) {
        return Err(ApiError::Conflict {
            code: "invalid_status_change",
            message: format!("an event that is {} cannot become {}", current.as_str(), body.status.as_str()),
        });
    }
    // Conditional on the status just read: of two concurrent changes, the second finds it
    // changed and is refused instead of skipping a step.
    let changed = sqlx::query("UPDATE events SET status = $1 WHERE id = $2 AND org_id = $3 AND status = $4")
        .bind(body.status.as_str())
        .bind(id)
        .bind(caller.org_id)
        .bind(current.as_str())
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            code: "invalid_status_change",
            message: "the event's status changed meanwhile; reload and try again".into(),
        });
    }
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "event.status",
        &format!("event:{id}"),
        json!({"from": current, "to": body.status}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/keys",
    tag = "events",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "A new signing key; older keys stay valid", body = serde_json::Value),
    ),
)]
async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    status(&mut tx, caller.org_id, id).await?; // 404 for another organization's event
    let key_id = add_key(&mut tx, &state.master, caller.org_id, id).await?;
    publish_manifest(&mut tx, caller.org_id, id, state.hub_public_key()).await?;
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "event.key_rotate",
        &format!("event:{id}"),
        json!({"key_id": key_id}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(caller.org_id);
    Ok(Json(json!({"key_id": key_id})))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/manifest",
    tag = "events",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The manifest devices validate against (keys, types, gates, devices)", body = serde_json::Value),
    ),
)]
async fn get_manifest(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<sync_core::manifest::EventManifest>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    Ok(Json(manifest(&mut tx, caller.org_id, id, state.hub_public_key()).await?))
}
