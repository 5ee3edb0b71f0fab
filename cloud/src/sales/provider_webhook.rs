//! The hub's webhook endpoint: the payment provider reports payments here.
//!
//! Refused (401) unless signed with the webhook secret and dated within five minutes. An event
//! id seen before is acknowledged without effect (a provider retries until it gets a 2xx, so a
//! duplicate must still get one), in the same transaction that settles the payment — so a
//! crash between the two cannot lose a payment or apply it twice.

use super::disputes::{ProviderDispute, disputed_at_provider};
use super::fulfil::{Settled, Succeeded};
use super::refunds::{ProviderRefund, refunded_at_provider};
use super::{Sales, store};
use crate::crypto::MasterKey;
use crate::db::{Db, Notifier};
use crate::error::{ApiError, ProblemDetails};
use crate::payments::{WebhookEvent, WebhookKind};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Where webhooks are received.
pub const PATH: &str = "/api/v1/webhooks/payments";

/// The route, with its OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// What the hub made of a webhook.
#[derive(Serialize, ToSchema)]
struct Received {
    /// The provider's event id.
    received: String,
    /// `paid`, `duplicate`, `refunding` (paid after the tickets were sold to someone else),
    /// `failed`, `refunded` (a refund made at the provider, recorded), `disputed` (a
    /// chargeback, flagged on the order), or `ignored` (an event the hub does not act on).
    #[schema(pattern = "^(paid|duplicate|refunding|failed|refunded|disputed|ignored)$")]
    outcome: &'static str,
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/payments",
    tag = "payments",
    request_body = WebhookEvent,
    params(
        ("Voelgoed-Sim-Signature" = Option<String>, Header, description = "The simulated provider's signature: t=<unix seconds>,v1=<hex HMAC-SHA256> of the timestamp and body with the webhook secret"),
        ("Stripe-Signature" = Option<String>, Header, description = "Stripe's signature, the same scheme (several v1 while a secret rotates), when the hub is configured for Stripe"),
    ),
    responses(
        (status = 200, description = "Processed (or recognised as a duplicate)", body = Received),
        (status = 401, description = "Bad signature or stale timestamp", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn receive(
    State(db): State<Db>,
    State(master): State<MasterKey>,
    State(sales): State<Sales>,
    State(notifier): State<Notifier>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    let signature = headers.get(sales.provider.signature_header()).and_then(|v| v.to_str().ok());
    let now = db.clock().now_ms() / 1000;
    let event = sales.provider.parse_webhook(signature, &body, now).map_err(|e| {
        tracing::warn!(error = %e, "refused a payment webhook");
        ApiError::Unauthorized
    })?;
    let outcome = match event.kind {
        WebhookKind::Ignored => "ignored",
        WebhookKind::PaymentSucceeded | WebhookKind::PaymentFailed => {
            apply(&db, &master, &sales, &event).await?
        }
        WebhookKind::Disputed | WebhookKind::Refunded => {
            let (tx, payment) = match open_event(&db, &event).await? {
                Opened::New(tx, payment) => (tx, payment),
                Opened::Seen => return Ok(Json(Received { received: event.id, outcome: "duplicate" })),
                Opened::NotOurs => return Ok(Json(Received { received: event.id, outcome: "ignored" })),
            };
            let (amount, currency) = (event.amount_minor, &event.currency);
            match &event.dispute {
                Some(note) => match disputed_at_provider(tx, payment, amount, currency, note).await? {
                    ProviderDispute::Recorded => "disputed",
                    ProviderDispute::Known => "duplicate",
                },
                None => match refunded_at_provider(tx, &sales, &notifier, payment, amount, currency).await? {
                    ProviderRefund::Recorded(_) => "refunded",
                    ProviderRefund::Known => "duplicate",
                },
            }
        }
    };
    if matches!(outcome, "paid" | "refunding" | "refunded") {
        // The buyer's confirmation or refund notice was queued with it: on its way now.
        crate::mail::kick(&db);
    }
    Ok(Json(Received { received: event.id, outcome }))
}

/// A payment's success or failure, applied to the hub's payment it names.
async fn apply(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    event: &WebhookEvent,
) -> Result<&'static str, ApiError> {
    let payment: i64 = event
        .reference
        .strip_prefix("pay_")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::invalid("reference", "not a payment of this hub"))?;
    // A provider id PostgreSQL cannot compare (a NUL) names no payment, like an unknown one.
    if !crate::checks::lookupable(&event.payment, 255) {
        return Err(ApiError::NotFound);
    }
    let mut lookup = db.lookup().await?;
    let org = store::payment_org(&mut lookup, payment, &event.payment).await?.ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    if event.kind == WebhookKind::PaymentFailed {
        // The order stays pending until its hold lapses: the customer may try again.
        let mut tx = db.tenant(org).await?;
        store::payment_failed(&mut tx, payment).await?;
        tx.commit().await?;
        return Ok("failed");
    }
    let paid = Succeeded {
        payment,
        amount_minor: event.amount_minor,
        currency: event.currency.clone(),
        webhook_event: Some(event.id.clone()),
    };
    Ok(match sales.settlers.settle(db, master, sales, org, paid).await? {
        Settled::Paid => "paid",
        Settled::Already => "duplicate",
        Settled::Refunding { .. } => "refunding",
    })
}

/// An event that names only the provider's payment (a refund, a dispute), opened.
enum Opened {
    /// The hub's payment, in a transaction of its organization that has remembered the event
    /// (acting and remembering commit together: a crash between them cannot lose it).
    New(crate::db::Tenant, i64),
    /// This event was handled before.
    Seen,
    /// No payment of this hub's.
    NotOurs,
}

async fn open_event(db: &Db, event: &WebhookEvent) -> Result<Opened, ApiError> {
    let dispute_ok = event.dispute.as_ref().is_none_or(|d| crate::checks::lookupable(&d.id, 255));
    if !crate::checks::lookupable(&event.payment, 255) || !dispute_ok {
        return Ok(Opened::NotOurs);
    }
    let mut lookup = db.lookup().await?;
    let found = store::payment_by_provider_ref(&mut lookup, &event.payment).await?;
    lookup.commit().await?;
    let Some((payment, org)) = found else { return Ok(Opened::NotOurs) };
    let mut tx = db.tenant(org).await?;
    if !store::remember_provider_event(&mut tx, &event.id).await? {
        return Ok(Opened::Seen);
    }
    Ok(Opened::New(tx, payment))
}
