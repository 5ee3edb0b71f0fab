//! What the API answers and the console shows of webhooks (one set of views for both).

use super::{DeliveryQuery, MANAGERS};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::ApiError;
use crate::webhooks::EventType;
use crate::webhooks::store::{self, AttemptRow, DeliveryRow, EndpointRow};
use serde::Serialize;
use utoipa::ToSchema;

/// An endpoint (never its secret: `GET …/secret`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// Its id.
    pub id: i64,
    /// Where it POSTs.
    pub url: String,
    /// For the organizer.
    pub description: String,
    /// The event types it wants.
    pub event_types: Vec<EventType>,
    /// One message at a time, oldest first.
    pub ordered: bool,
    /// Whether messages are sent to it now.
    pub enabled: bool,
    /// When and why it was disabled.
    pub disabled_at: Option<i64>,
    /// Why ("8 attempts over a day failed; the last: …", or who paused it).
    pub disabled_reason: String,
    /// Who made it.
    pub created_by: String,
    /// When (Unix ms).
    pub created_at: i64,
}

/// An endpoint as the API shows it.
pub fn endpoint(e: &EndpointRow) -> EndpointView {
    EndpointView {
        id: e.id,
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: e.event_types.split(',').filter_map(EventType::parse).collect(),
        ordered: e.ordered == 1,
        enabled: e.disabled_at.is_none(),
        disabled_at: e.disabled_at,
        disabled_reason: e.disabled_reason.clone(),
        created_by: e.created_by.clone(),
        created_at: e.created_at,
    }
}

/// The organization's endpoints.
#[derive(Serialize, ToSchema)]
pub struct Endpoints {
    /// Oldest first.
    pub endpoints: Vec<EndpointView>,
}

/// The caller's endpoints.
pub async fn endpoints(db: &Db, caller: &Caller) -> Result<Endpoints, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let rows = store::endpoints(&mut tx).await?;
    tx.commit().await?;
    Ok(Endpoints { endpoints: rows.iter().map(endpoint).collect() })
}

/// A page of the delivery log.
#[derive(Serialize, ToSchema)]
pub struct Deliveries {
    /// Newest first.
    pub deliveries: Vec<DeliveryRow>,
    /// Pass as `before` for the next page (absent: this is the last).
    pub next_before: Option<i64>,
}

/// A page of endpoint `id`'s delivery log.
pub async fn deliveries(
    db: &Db,
    caller: &Caller,
    id: i64,
    q: &DeliveryQuery,
) -> Result<Deliveries, ApiError> {
    caller.require(MANAGERS)?;
    let limit = q.limit.unwrap_or(50);
    crate::checks::range("limit", limit, 1, 200)?;
    let mut tx = db.tenant(caller.org_id).await?;
    store::endpoint(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    let mut rows = store::deliveries(
        &mut tx,
        id,
        q.before.unwrap_or(i64::MAX),
        q.state.map(super::DeliveryState::as_str),
        limit + 1,
    )
    .await?;
    tx.commit().await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_before = more.then(|| rows.last().map(|r| r.id)).flatten();
    Ok(Deliveries { deliveries: rows, next_before })
}

/// One delivery with its body and attempts.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: DeliveryRow,
    /// The JSON body it sends (the same on every attempt).
    pub payload: String,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptRow>,
}

/// Delivery `delivery` of endpoint `id`.
pub async fn delivery(db: &Db, caller: &Caller, id: i64, delivery: i64) -> Result<DeliveryDetail, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let found = store::delivery(&mut tx, id, delivery).await?.ok_or(ApiError::NotFound)?;
    let attempts = store::attempts(&mut tx, delivery).await?;
    tx.commit().await?;
    Ok(DeliveryDetail { delivery: found.row, payload: found.payload, attempts })
}
