//! The hub's webhook endpoint: the provider reports payments here.
//!
//! Refused (401) unless signed with the webhook secret and dated within five minutes. An event
//! id seen before is acknowledged without effect (a provider retries until it gets a 2xx, so a
//! duplicate must still get one), in the same transaction that settles the payment — so a
//! crash between the two cannot lose a payment or apply it twice.

use super::WebhookKind;
use crate::error::ApiError;
use crate::sales::fulfil::{Settled, settle};
use crate::server::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use sqlx::Row;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Where webhooks are received.
pub const PATH: &str = "/api/v1/webhooks/payments";

/// The route, with its OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/payments",
    tag = "payments",
    request_body = super::WebhookEvent,
    responses(
        (status = 200, description = "Processed (or recognised as a duplicate)", body = serde_json::Value),
        (status = 401, description = "Bad signature or stale timestamp"),
    ),
    security(()),
)]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let signature = headers.get(super::signature::HEADER).and_then(|v| v.to_str().ok());
    let now = sync_core::Timestamp::now().0 / 1000;
    let event = state.sales.provider.parse_webhook(signature, &body, now).map_err(|e| {
        tracing::warn!(error = %e, "refused a payment webhook");
        ApiError::Unauthorized
    })?;
    let payment: i64 = event
        .reference
        .strip_prefix("pay_")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::invalid("reference", "not a payment of this hub"))?;
    let mut system = state.db.lookup().await?;
    let row = sqlx::query("SELECT org_id FROM payments WHERE id = $1 AND provider_ref = $2")
        .bind(payment)
        .bind(&event.payment)
        .fetch_optional(&mut *system)
        .await?
        .ok_or(ApiError::NotFound)?;
    system.commit().await?;
    let org: i64 = row.get(0);
    let outcome = match event.kind {
        WebhookKind::PaymentSucceeded => {
            match settle(&state, org, payment, event.amount_minor, &event.currency, Some(&event.id)).await? {
                Settled::Paid => "paid",
                Settled::Already => "duplicate",
                Settled::Refunding { .. } => "refunding",
            }
        }
        WebhookKind::PaymentFailed => {
            // The order stays pending until its hold lapses: the customer may try again.
            let mut tx = state.db.tenant(org).await?;
            sqlx::query("UPDATE payments SET status = 'failed' WHERE id = $1 AND org_id = $2 AND status IN ('created', 'pending')")
                .bind(payment)
                .bind(org)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            "failed"
        }
    };
    Ok(Json(json!({ "received": event.id, "outcome": outcome })))
}
