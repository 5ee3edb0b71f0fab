//! The organizer's webhooks over HTTP: endpoints (the URL, the event types it wants, whether in
//! order), their signing secret and its rotation, the delivery log with each attempt, replay
//! of one delivery or of everything since a time, and a test event. Owners and admins only:
//! a secret lets its holder forge the organization's webhooks. The console's pages call the
//! same functions ([`views`]).
//!
//! The outbox, the worker and the signatures are [`crate::webhooks`]'s; this module is the
//! thin layer over them (it needs the caller, which that lower layer cannot know).

pub mod views;

use crate::auth::Caller;
use crate::crypto::MasterKey;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::Role;
use crate::webhooks::deliver::{Deliverer, SEAL_LABEL};
use crate::webhooks::signature::Secret;
use crate::webhooks::store::{self, EndpointFields};
use crate::webhooks::{EventType, events::TestEvent};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use views::{Deliveries, DeliveryDetail, EndpointView, Endpoints};

/// Who manages webhooks and reads their log.
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// How long a replaced secret still signs, so the partner can switch without a gap.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;
/// Most endpoints per organization.
pub const MAX_ENDPOINTS: usize = 20;

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, change, delete))
        .routes(routes!(secret))
        .routes(routes!(rotate))
        .routes(routes!(test))
        .routes(routes!(deliveries))
        .routes(routes!(delivery))
        .routes(routes!(replay_one))
        .routes(routes!(replay_since))
}

/// A new endpoint.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where to POST: `https://` and a public address (development setting: any `http(s)`).
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$",
        example = "https://partner.example/voelgoed"
    )]
    pub url: String,
    /// For the organizer ("Ticket shop sync").
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub description: String,
    /// The event types it wants (1 or more).
    #[schema(min_items = 1, max_items = 13)]
    pub event_types: Vec<EventType>,
    /// Deliver one message at a time, oldest first (a failing message holds back the rest).
    #[serde(default)]
    pub ordered: bool,
}

/// What to change of an endpoint; absent fields stay.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChanges {
    /// Where to POST.
    #[schema(max_length = 2000, pattern = r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")]
    pub url: Option<String>,
    /// For the organizer.
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub description: Option<String>,
    /// The event types it wants (1 or more).
    #[schema(min_items = 1, max_items = 13)]
    pub event_types: Option<Vec<EventType>>,
    /// One at a time, oldest first.
    pub ordered: Option<bool>,
    /// `false` pauses it: its events are kept, and sent (in order, if it asked) once it is
    /// enabled again; `true` enables it — deliveries that failed for good while it kept
    /// failing stay failed until replayed.
    pub enabled: Option<bool>,
}

/// An endpoint just made, with its secret.
#[derive(Serialize, ToSchema)]
pub struct EndpointMade {
    /// The endpoint.
    pub endpoint: EndpointView,
    /// Its signing secret (`whsec_…`): verify every request with it.
    pub secret: String,
}

/// An endpoint's signing secret.
#[derive(Serialize, ToSchema)]
pub struct SecretView {
    /// The secret in force (`whsec_…`).
    pub secret: String,
    /// While rotating: until when the previous one still signs too (Unix ms).
    pub previous_valid_until: Option<i64>,
}

/// Checks `fields` (the description as sent: a line break is refused, not trimmed away) and
/// returns the event types as stored. `webhook.test` may be listed but is not stored: a test
/// event goes to the endpoint when asked for, whatever it wants.
fn checked(
    url: &str,
    description: &str,
    types: &[EventType],
    allow_private: bool,
) -> Result<String, ApiError> {
    crate::webhooks::target::check_url(url, allow_private)
        .map_err(|why| ApiError::invalid("url", why.to_string()))?;
    if description.contains(['\n', '\r']) {
        return Err(ApiError::invalid("description", "one line"));
    }
    crate::checks::optional_text("description", description.trim(), 200)?;
    if types.iter().all(|t| *t == EventType::Test) {
        return Err(ApiError::invalid(
            "event_types",
            "one or more event types besides webhook.test (which is sent on request)",
        ));
    }
    let mut names: Vec<&str> = types.iter().filter(|t| **t != EventType::Test).map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    Ok(format!(",{},", names.join(",")))
}

/// Endpoint `id` of the caller (404 otherwise).
async fn found(tx: &mut Tenant, id: i64) -> Result<store::EndpointRow, ApiError> {
    store::endpoint(tx, id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Created: its secret is in the answer. Owners and admins.", body = EndpointMade),
        (status = 409, description = "The organization has 20 endpoints already (`too_many_endpoints`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn create(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(deliverer): State<Deliverer>,
    caller: Caller,
    ApiJson(new): ApiJson<NewEndpoint>,
) -> Result<(StatusCode, Json<EndpointMade>), ApiError> {
    caller.require(MANAGERS)?;
    let url = new.url.trim();
    let types = checked(url, &new.description, &new.event_types, deliverer.allow_private())?;
    let description = new.description.trim();
    let secret = Secret::generate()?;
    let sealed = master.seal(secret.to_text().as_bytes(), SEAL_LABEL)?;
    let mut tx = db.tenant(caller.org_id).await?;
    if store::endpoints(&mut tx).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::Conflict {
            code: "too_many_endpoints",
            message: format!("an organization has at most {MAX_ENDPOINTS} webhook endpoints"),
        });
    }
    let fields = EndpointFields { url, description, event_types: &types, ordered: new.ordered };
    let id = store::insert_endpoint(&mut tx, &fields, &sealed, &caller.actor()).await?;
    tx.audit(
        &caller.actor(),
        "webhook.create",
        "webhook",
        json!({"endpoint": id, "url": url, "event_types": new.event_types}),
    )
    .await?;
    let endpoint = views::endpoint(&found(&mut tx, id).await?);
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(EndpointMade { endpoint, secret: secret.to_text() })))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "The organization's endpoints, oldest first. Owners and admins.", body = Endpoints)),
)]
async fn list(State(db): State<Db>, caller: Caller) -> Result<Json<Endpoints>, ApiError> {
    Ok(Json(views::endpoints(&db, &caller).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, description = "The endpoint. Owners and admins.", body = EndpointView)),
)]
async fn show(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let view = views::endpoint(&found(&mut tx, id).await?);
    tx.commit().await?;
    Ok(Json(view))
}

#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    request_body = EndpointChanges,
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, description = "Changed. Owners and admins.", body = EndpointView)),
)]
async fn change(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<EndpointChanges>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let now = found(&mut tx, id).await?;
    let url = changes.url.as_deref().unwrap_or(&now.url).trim().to_owned();
    let description = changes.description.as_deref().unwrap_or(&now.description);
    let types: Vec<EventType> = match &changes.event_types {
        Some(types) => types.clone(),
        None => now.event_types.split(',').filter_map(EventType::parse).collect(),
    };
    let stored = checked(&url, description, &types, deliverer.allow_private())?;
    let description = description.trim().to_owned();
    let ordered = changes.ordered.unwrap_or(now.ordered == 1);
    let fields = EndpointFields { url: &url, description: &description, event_types: &stored, ordered };
    store::update_endpoint(&mut tx, id, &fields).await?;
    match changes.enabled {
        Some(true) if now.disabled_at.is_some() => store::enable(&mut tx, id).await?,
        Some(false) if now.disabled_at.is_none() => {
            let at = tx.now();
            store::disable(&mut tx, id, at, &format!("disabled by {}", caller.actor())).await?;
        }
        _ => {}
    }
    tx.audit(&caller.actor(), "webhook.edit", "webhook", json!({"endpoint": id, "changes": changes})).await?;
    let view = views::endpoint(&found(&mut tx, id).await?);
    tx.commit().await?;
    db.webhook_bell().notify_one(); // enabled again: what is pending goes now
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 204, description = "Deleted: nothing more is sent to it (what was pending fails). Owners and admins.")),
)]
async fn delete(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::delete_endpoint(&mut tx, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.audit(&caller.actor(), "webhook.delete", "webhook", json!({"endpoint": id})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/secret",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, description = "Its signing secret. Owners and admins.", body = SecretView)),
)]
async fn secret(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SecretView>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let e = found(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(secret_view(&master, &e, db.clock().now_ms())?))
}

/// Endpoint `e`'s secret as shown (the API and the console).
pub fn secret_view(master: &MasterKey, e: &store::EndpointRow, now: i64) -> Result<SecretView, ApiError> {
    let secret =
        String::from_utf8(master.open(&e.sealed_secret, SEAL_LABEL)?).map_err(anyhow::Error::from)?;
    Ok(SecretView { secret, previous_valid_until: e.previous_until.filter(|until| *until > now) })
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, description = "A new secret, in force now; for 24 hours every request carries the old one's signature too, so the partner can switch without a gap. Owners and admins.", body = SecretView)),
)]
async fn rotate(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SecretView>, ApiError> {
    caller.require(MANAGERS)?;
    let fresh = Secret::generate()?;
    let sealed = master.seal(fresh.to_text().as_bytes(), SEAL_LABEL)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let e = found(&mut tx, id).await?;
    let until = tx.now() + ROTATION_OVERLAP_MS;
    store::rotate(&mut tx, id, &sealed, &e.sealed_secret, until).await?;
    tx.audit(&caller.actor(), "webhook.rotate", "webhook", json!({"endpoint": id})).await?;
    tx.commit().await?;
    Ok(Json(SecretView { secret: fresh.to_text(), previous_valid_until: Some(until) }))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 202, description = "A `webhook.test` event is on its way to this endpoint alone (see its deliveries). Owners and admins.")),
)]
async fn test(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    send_test(&db, &caller, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Queues a test event to endpoint `id` (the API and the console's button).
pub async fn send_test(db: &Db, caller: &Caller, id: i64) -> Result<(), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    found(&mut tx, id).await?;
    let data = TestEvent { endpoint: id, requested_by: caller.actor() };
    crate::webhooks::emit_to(&mut tx, id, EventType::Test, &data).await?;
    tx.commit().await?;
    Ok(())
}

/// Which deliveries to list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Absent: all.
    #[param(inline)]
    pub state: Option<DeliveryState>,
    /// Only deliveries with a smaller id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Due, or waiting for its next attempt.
    Pending,
    /// A partner answered 2xx.
    Delivered,
    /// Every attempt failed (or the endpoint was deleted).
    Failed,
}

impl DeliveryState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint"), DeliveryQuery),
    responses((status = 200, description = "The delivery log, newest first. Owners and admins.", body = Deliveries)),
)]
async fn deliveries(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Deliveries>, ApiError> {
    Ok(Json(views::deliveries(&db, &caller, id, &q).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint"), ("delivery" = i64, Path, description = "The delivery")),
    responses((status = 200, description = "One delivery: the body sent and every attempt. Owners and admins.", body = DeliveryDetail)),
)]
async fn delivery(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((id, delivery)): ApiPath<(i64, i64)>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    Ok(Json(views::delivery(&db, &caller, id, delivery).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery}/replay",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint"), ("delivery" = i64, Path, description = "The delivery")),
    responses(
        (status = 202, description = "Due again now, with a fresh count of attempts: the same message (same `webhook-id`). Owners and admins."),
        (status = 409, description = "An attempt of it is under way (`delivery_in_flight`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn replay_one(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((id, delivery)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    replay_delivery(&db, &caller, id, delivery).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Makes delivery `delivery` of endpoint `id` due again (the API and the console).
pub async fn replay_delivery(db: &Db, caller: &Caller, id: i64, delivery: i64) -> Result<(), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    found(&mut tx, id).await?;
    store::delivery(&mut tx, id, delivery).await?.ok_or(ApiError::NotFound)?;
    if !store::replay_one(&mut tx, id, delivery).await? {
        return Err(ApiError::Conflict {
            code: "delivery_in_flight",
            message: "an attempt of this delivery is under way; wait for it".into(),
        });
    }
    tx.audit(&caller.actor(), "webhook.replay", "webhook", json!({"endpoint": id, "delivery": delivery}))
        .await?;
    tx.commit().await?;
    db.webhook_bell().notify_one();
    Ok(())
}

/// What to send again.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// Events since (Unix ms).
    #[schema(minimum = 0)]
    pub since: i64,
    /// Only deliveries that failed (default); `false`: delivered ones too.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub failed_only: bool,
}

fn yes() -> bool {
    true
}

/// How many deliveries a replay made due.
#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries due again.
    pub replayed: u64,
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/replay",
    tag = "webhooks",
    request_body = Replay,
    params(("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, description = "Every delivery of events since then (failed ones, or all) is due again now, each the same message. Owners and admins.", body = Replayed)),
)]
async fn replay_since(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(replay): ApiJson<Replay>,
) -> Result<Json<Replayed>, ApiError> {
    Ok(Json(replay_all(&db, &caller, id, &replay).await?))
}

/// Makes endpoint `id`'s deliveries since a time due again (the API and the console).
pub async fn replay_all(db: &Db, caller: &Caller, id: i64, replay: &Replay) -> Result<Replayed, ApiError> {
    caller.require(MANAGERS)?;
    crate::checks::range("since", replay.since, 0, i64::MAX)?;
    let mut tx = db.tenant(caller.org_id).await?;
    found(&mut tx, id).await?;
    let replayed = store::replay_since(&mut tx, id, replay.since, replay.failed_only).await?;
    tx.audit(
        &caller.actor(),
        "webhook.replay",
        "webhook",
        json!({"endpoint": id, "since": replay.since, "replayed": replayed}),
    )
    .await?;
    tx.commit().await?;
    db.webhook_bell().notify_one();
    Ok(Replayed { replayed })
}
