//! `/api/v1/events…`: creating, listing, reading, status, keys, the manifest.

use super::views::{Created, Events, KeyRotated, ManifestDoc};
use super::{
    EventDetail, MANAGERS, NewEvent, Status, add_key, create_event, manifest, publish_manifest, status, store,
};
use crate::auth::Caller;
use crate::crypto::MasterKey;
use crate::db::{Db, Notifier, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::identity::HubKey;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::state::AppState;
use crate::webhooks::{EventType, events::EventPublishedEvent};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(detail))
        .routes(routes!(set_status))
        .routes(routes!(rotate_key))
        .routes(routes!(get_manifest))
        .merge(super::edit::routes())
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
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiJson(new): ApiJson<NewEvent>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let id = create_event(&mut tx, &master, hub_key.public_key(), &new).await?;
    tx.audit(&caller.actor(), "event.create", &format!("event:{id}"), json!({"name": new.name})).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    responses(
        (status = 200, description = "The organization's events", body = Events),
    ),
)]
async fn list(State(db): State<Db>, caller: Caller) -> Result<Json<Events>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    let events = store::events(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(Events { events }))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The event with its gates and ticket types (capacity, sold, held, leased)", body = EventDetail),
    ),
)]
async fn detail(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventDetail>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    let detail = event_detail(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(detail))
}

/// Event `id` with its gates and ticket types (404 for another organization's).
pub async fn event_detail(tx: &mut Tenant, id: i64) -> Result<EventDetail, ApiError> {
    let event = store::event(tx, id).await?.ok_or(ApiError::NotFound)?;
    Ok(EventDetail {
        id,
        name: event.name,
        status: event.status,
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        time_zone: event.time_zone,
        clock_skew_tolerance_secs: event.clock_skew_tolerance_secs,
        about: store::about(tx, id).await?.unwrap_or_default(),
        gates: store::gates(tx, id).await?,
        ticket_types: store::ticket_types(tx, id).await?,
    })
}

#[derive(Deserialize, ToSchema)]
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
        (status = 409, description = "Not a step the event may take from where it is (`invalid_status_change`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn set_status(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetStatus>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let current = status(&mut tx, id).await?;
    if !current.may_become(body.status) {
        return Err(ApiError::Conflict {
            code: "invalid_status_change",
            message: format!("an event that is {} cannot become {}", current.as_str(), body.status.as_str()),
        });
    }
    // Conditional on the status just read: of two concurrent changes, the second finds it
    // changed and is refused instead of skipping a step.
    if !store::set_status(&mut tx, id, current, body.status).await? {
        return Err(ApiError::Conflict {
            code: "invalid_status_change",
            message: "the event's status changed meanwhile; reload and try again".into(),
        });
    }
    tx.audit(
        &caller.actor(),
        "event.status",
        &format!("event:{id}"),
        json!({"from": current, "to": body.status}),
    )
    .await?;
    if current == Status::Draft && body.status == Status::OnSale {
        let e = store::event(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
        let data = EventPublishedEvent { event: id, name: e.name, starts_at: e.starts_at };
        crate::webhooks::emit(&mut tx, EventType::EventPublished, &data).await?;
    }
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
        (status = 200, description = "A new signing key; older keys stay valid", body = KeyRotated),
        (status = 409, description = "The event has 255 keys already (`too_many_keys`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn rotate_key(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<KeyRotated>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    status(&mut tx, id).await?; // 404 for another organization's event
    let key_id = add_key(&mut tx, &master, id).await?;
    publish_manifest(&mut tx, id, hub_key.public_key()).await?;
    tx.audit(&caller.actor(), "event.key_rotate", &format!("event:{id}"), json!({"key_id": key_id})).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(Json(KeyRotated { key_id }))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/manifest",
    tag = "events",
    params(
        ("id" = i64, Path, description = "The event"),
    ),
    responses(
        (status = 200, description = "The manifest devices validate against (keys, types, gates, devices)", body = ManifestDoc),
    ),
)]
async fn get_manifest(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<sync_core::manifest::EventManifest>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    let manifest = manifest(&mut tx, id, hub_key.public_key()).await?;
    tx.commit().await?;
    Ok(Json(manifest))
}
