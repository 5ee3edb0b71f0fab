//! `POST /v1/door-sales/email`: a box office asks the hub to e-mail a door sale's tickets to
//! the buyer (signed with its key). The message goes through the outbox, written in the
//! transaction that records the buyer's address, in the organization's wording
//! ([`Kind::DoorSaleTickets`]) and the event's language.

use super::store;
use crate::auth::DeviceCaller;
use crate::db::Db;
use crate::error::{ApiError, ProblemDetails};
use crate::journal::materialize::door_order_name;
use crate::lang::Lang;
use crate::mail;
use crate::messages::context::{Buyer, DoorOrder, Org};
use crate::messages::{self, Context, Kind};
use crate::state::{AppState, PublicUrl};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sync_core::sync::http::DoorSaleEmail;

/// The largest body of the request.
const BODY_BYTES: usize = 4096;

/// The request (sync-core's `DoorSaleEmail`), documented.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads sync-core's own type
struct DoorSaleEmailDoc {
    /// The event.
    event: u32,
    /// The sale's receipt number.
    receipt: u64,
    /// The buyer's address (what `mail::check_address` accepts, white space around it aside).
    #[schema(
        max_length = 254,
        pattern = r#"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<>,;"]+@[^.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<>,;"][^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<>,;"]*\.[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<>,;"]*[^.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<>,;"][\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"#
    )]
    email: String,
}

/// The answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Queued {
    /// The outbox message.
    queued: i64,
}

#[utoipa::path(
    post,
    path = "/v1/door-sales/email",
    tag = "sync",
    request_body(content = DoorSaleEmailDoc, description = "Signed by the device (see sync-core's auth)"),
    responses(
        (status = 202, description = "Queued (signed by the hub): the tickets go to the address", body = Queued),
        (status = 401, description = "Unknown or revoked device, bad signature, stale or replayed request", body = String, content_type = "text/plain"),
        (status = 409, description = "The sale has not reached the hub yet (`not_synced`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the request may be", body = String, content_type = "text/plain"),
        (status = 422, description = "Not an e-mail address", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
pub(super) async fn email(State(state): State<AppState>, caller: DeviceCaller<BODY_BYTES>) -> Response {
    match queue(&state.db, &state.public_url, &caller).await {
        Ok(queued) => {
            mail::kick(&state.db);
            let body = serde_json::to_vec(&Queued { queued }).unwrap_or_default();
            caller.reply_json(&state.hub_key, &state.clock, StatusCode::ACCEPTED, body)
        }
        Err(e) => e.into_response(),
    }
}

async fn queue(db: &Db, public_url: &PublicUrl, caller: &DeviceCaller<BODY_BYTES>) -> Result<i64, ApiError> {
    let asked: DoorSaleEmail = serde_json::from_slice(&caller.body)
        .map_err(|e| ApiError::invalid("body", format!("not a door-sale e-mail request: {e}")))?;
    let address = asked.email.trim();
    mail::check_address(address).map_err(|m| ApiError::invalid("email", m))?;
    let mut tx = db.tenant(caller.org).await?;
    let name = door_order_name(caller.device.0, asked.receipt);
    let orders =
        store::door_orders(&mut tx, i64::from(asked.event.0), i64::from(caller.device.0), &name).await?;
    let Some(first) = orders.first() else {
        return Err(ApiError::Conflict {
            code: "not_synced",
            message: "This sale has not reached the hub yet: try again in a moment.".into(),
        });
    };
    let Some(facts) = crate::sales::store::mail_facts(&mut tx, first.id).await? else {
        return Err(ApiError::NotFound);
    };
    let mut door = Vec::with_capacity(orders.len());
    for order in &orders {
        store::set_email(&mut tx, order.id, address).await?;
        door.push(DoorOrder {
            code: order.code.clone(),
            tickets_url: format!(
                "{}/api/v1/public/orders/{}/{}/tickets.pdf",
                public_url.base(),
                order.code,
                order.secret
            ),
        });
    }
    let lang = Lang::parse(&facts.language).unwrap_or_default();
    let context = Context::DoorSale {
        org: Org { name: facts.org_name.clone() },
        event: crate::sales::buyer_mail::event_facts(&facts),
        buyer: Buyer { name: String::new(), email: address.to_owned() },
        orders: door,
    };
    let letter =
        messages::letter(&mut tx, Kind::DoorSaleTickets, lang, Some(facts.event_id), &context).await?;
    // No `once` key: every request is its own message (the buyer may give another address).
    let id = mail::enqueue_letter(&mut tx, address, &letter, None, None).await?.unwrap_or_default();
    tx.commit().await?;
    Ok(id)
}
