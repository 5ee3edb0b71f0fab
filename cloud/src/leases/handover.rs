//! `POST /v1/door-sales/email`: a box office sends a door sale's tickets to the buyer by
//! e-mail, through the hub (a signed device call). The sale must have reached the hub — the
//! desk syncs just before asking — and its orders (one per lease the sale drew on, all named
//! after the receipt) get the buyer's address; one message with the link to each order's
//! tickets PDF goes into the outbox ([`crate::mail`]) in the same transaction.

use crate::devices::DeviceCaller;
use crate::error::ApiError;
use crate::mail;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sqlx::Row;
use std::fmt::Write;
use sync_core::sync::http::{DOOR_EMAIL_PATH, DoorSaleEmail};

/// The name a door sale's orders carry: its box office and receipt number.
pub fn order_name(device: u32, receipt: u64) -> String {
    format!("Door sale {device}-{receipt}")
}

#[utoipa::path(
    post,
    path = "/v1/door-sales/email",
    tag = "sync",
    request_body = serde_json::Value,
    responses(
        (status = 202, description = "Queued (signed by the hub): the tickets go to the address", body = serde_json::Value),
        (status = 401, description = "Unknown or revoked device, bad signature, replayed nonce"),
        (status = 409, description = "The sale has not reached the hub yet"),
        (status = 422, description = "Not an e-mail address"),
    ),
    security(()),
)]
pub(super) async fn email(State(state): State<AppState>, request: Request) -> Response {
    let caller = match DeviceCaller::authenticate(&state, request, DOOR_EMAIL_PATH, 4096).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    match queue(&state, &caller).await {
        Ok(body) => {
            let deliver = state.clone();
            tokio::spawn(async move {
                if let Err(e) = mail::deliver_pending(&deliver).await {
                    tracing::warn!(error = %e, "mail delivery failed; maintenance will retry");
                }
            });
            caller.reply(&state, StatusCode::ACCEPTED, body)
        }
        Err(e) => e.into_response(),
    }
}

async fn queue(state: &AppState, caller: &DeviceCaller) -> Result<Vec<u8>, ApiError> {
    let asked: DoorSaleEmail = serde_json::from_slice(&caller.body)
        .map_err(|e| ApiError::invalid("body", format!("not a door-sale e-mail request: {e}")))?;
    let address = asked.email.trim();
    mail::check_address(address).map_err(|m| ApiError::invalid("email", m))?;
    let mut tx = state.db.tenant(caller.org).await?;
    let orders = sqlx::query(
        "SELECT o.id, o.code, o.secret, e.name FROM orders o JOIN events e ON e.id = o.event_id \
         WHERE o.org_id = $1 AND o.event_id = $2 AND o.device_id = $3 AND o.channel = 'box_office' AND o.name = $4 ORDER BY o.id",
    )
    .bind(caller.org)
    .bind(i64::from(asked.event.0))
    .bind(i64::from(caller.device.0))
    .bind(order_name(caller.device.0, asked.receipt))
    .fetch_all(&mut *tx)
    .await?;
    let Some(first) = orders.first() else {
        return Err(ApiError::Conflict {
            code: "not_synced",
            message: "This sale has not reached the hub yet: try again in a moment.".into(),
        });
    };
    let event_name: String = first.get(3);
    let mut links = String::new();
    for order in &orders {
        let (id, code, secret): (i64, String, String) = (order.get(0), order.get(1), order.get(2));
        sqlx::query("UPDATE orders SET email = $1 WHERE id = $2")
            .bind(address)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Writing to a String cannot fail.
        let _ = writeln!(
            links,
            "  {}/api/v1/public/orders/{code}/{secret}/tickets.pdf",
            state.public_url.trim_end_matches('/')
        );
    }
    let body = format!(
        "Thank you for your tickets to {event_name}.\n\nYour tickets, to print or to show on your phone:\n{links}\n\
         Each code admits once; keep it to yourself.\n"
    );
    let id =
        mail::enqueue(&mut tx, caller.org, address, &format!("Your tickets for {event_name}"), &body).await?;
    tx.commit().await?;
    Ok(serde_json::to_vec(&serde_json::json!({"queued": id})).map_err(anyhow::Error::from)?)
}
