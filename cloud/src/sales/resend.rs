//! The tickets sent again: by the organizer from the console or the API (a buyer on the phone
//! who lost the mail), and by buyers themselves from the shop's "send me my tickets again".
//!
//! The shop's form reveals nothing: whatever address is typed, the answer is the same 202 and
//! the same words, whether it has orders or not; the tickets go only to that address, never to
//! the person asking. So it is no oracle for who bought tickets, and no way to read someone
//! else's. What bounds abuse (someone flooding a buyer's inbox): one resend per order per hour
//! (the outbox's `once` key), and the checkout's per-address rate limit.

use super::buyer_mail::{self, Reason};
use super::routes::{ORDER_WRITERS, staff_lookup};
use super::{Sales, store};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(resend_order)).routes(routes!(tickets_again))
}

/// A staff resend of one order's tickets counts once per minute: a double click sends one.
const STAFF_WINDOW_MS: i64 = 60_000;
/// A buyer's own request counts once per order per hour.
const BUYER_WINDOW_MS: i64 = 3_600_000;

/// What was queued.
#[derive(Serialize, ToSchema)]
pub struct Resent {
    /// `false` if the same order's tickets were sent again within the last minute already.
    pub queued: bool,
    /// What happened, in words for the console.
    pub message: &'static str,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/confirmation",
    tag = "orders",
    params(("code" = String, Path, description = "The order's code")),
    responses(
        (status = 202, description = "The confirmation with the order's valid tickets is on its way to the buyer's address again (at most once a minute per order). Owners, admins, box office.", body = Resent),
        (status = 409, description = "Not paid (`order_not_paid`), or no address on the order (`no_email`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn resend_order(
    State(db): State<Db>,
    State(sales): State<Sales>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<(StatusCode, Json<Resent>), ApiError> {
    let queued = resend(&db, &sales, &caller, &code).await?;
    let message = if queued {
        "The tickets are on their way to the buyer's address."
    } else {
        "They were sent again less than a minute ago; nothing more was sent."
    };
    Ok((StatusCode::ACCEPTED, Json(Resent { queued, message })))
}

/// Sends order `code`'s tickets to its buyer again, for staff (the API and the console).
pub async fn resend(db: &Db, sales: &Sales, caller: &Caller, code: &str) -> Result<bool, ApiError> {
    caller.require(ORDER_WRITERS)?;
    let order = staff_lookup(db, caller, code).await?;
    let mut tx = db.tenant(caller.org_id).await?;
    let facts = store::mail_facts(&mut tx, order).await?.ok_or(ApiError::NotFound)?;
    if facts.status != "paid" {
        return Err(ApiError::Conflict {
            code: "order_not_paid",
            message: format!("this order is {}: it has no tickets to send", facts.status),
        });
    }
    if crate::mail::check_address(&facts.email).is_err() {
        return Err(ApiError::Conflict {
            code: "no_email",
            message: "this order has no e-mail address mail can be sent to".into(),
        });
    }
    let window = Reason::Again { window: tx.now() / STAFF_WINDOW_MS };
    let queued = buyer_mail::tickets(&mut tx, &sales.public_url, order, window).await?;
    tx.audit(
        &caller.actor(),
        "order.resend",
        &format!("order:{code}"),
        serde_json::json!({"queued": queued}),
    )
    .await?;
    tx.commit().await?;
    crate::mail::kick(db);
    Ok(queued)
}

/// A buyer asking for their tickets again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketsAgain {
    /// The address the tickets were bought with (as checkout takes it).
    #[schema(
        max_length = 254,
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub email: String,
}

/// The answer, whatever the address.
#[derive(Serialize, ToSchema)]
pub struct AgainAnswer {
    /// What happens now, in words for the buyer.
    pub message: &'static str,
}

/// What the shop answers every request for tickets again.
pub const AGAIN_MESSAGE: &str = "If this address bought tickets for this event, they are on their way to it now. \
     Nothing arrived within a few minutes? Look in your spam folder, or check the address.";

#[utoipa::path(
    post,
    path = "/api/v1/public/events/{id}/tickets-again",
    tag = "checkout",
    request_body = TicketsAgain,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 202, description = "The same answer whether or not the address has orders: if it has paid orders for this event, each one's tickets are mailed to it (at most once an hour per order)", body = AgainAnswer),
        (status = 404, description = "No such event on sale or past", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn tickets_again(
    State(db): State<Db>,
    State(sales): State<Sales>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(event): ApiPath<i64>,
    ApiJson(asked): ApiJson<TicketsAgain>,
) -> Result<(StatusCode, Json<AgainAnswer>), ApiError> {
    send_again(&db, &sales, &peer.ip().to_string(), event, &asked.email).await?;
    Ok((StatusCode::ACCEPTED, Json(AgainAnswer { message: AGAIN_MESSAGE })))
}

/// Mails every paid order of `event` bought with `email` its tickets again (the shop's form
/// and the public API), for a client at `address`. Succeeds alike whether there were any.
pub async fn send_again(
    db: &Db,
    sales: &Sales,
    address: &str,
    event: i64,
    email: &str,
) -> Result<(), ApiError> {
    sales
        .limiter
        .check_key(&format!("again:{address}"))
        .map_err(|_| ApiError::RateLimited { retry_after: 60 })?;
    let mut lookup = db.lookup().await?;
    let found = store::event_for_sale(&mut lookup, event).await?;
    lookup.commit().await?;
    // Which events exist the shop says anyway; who bought tickets it never does.
    let found = found.filter(|e| e.status != "draft").ok_or(ApiError::NotFound)?;
    let email = email.trim().to_lowercase();
    crate::checks::email("email", &email)?;
    let mut tx = db.tenant(found.org_id).await?;
    let window = Reason::Again { window: tx.now() / BUYER_WINDOW_MS };
    let mut queued = false;
    for order in store::paid_orders_of(&mut tx, event, &email).await? {
        queued |= buyer_mail::tickets(&mut tx, &sales.public_url, order, window).await?;
    }
    tx.commit().await?;
    if queued {
        crate::mail::kick(db);
    }
    Ok(())
}
