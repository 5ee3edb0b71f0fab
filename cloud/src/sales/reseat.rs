//! Moving a buyer to another seat (the organizer reseats someone: a broken seat, a wheelchair
//! space, a family split by the best-available choice).
//!
//! A seated ticket carries its seat under the signature, so a move cannot edit it: in one
//! transaction the new seat is taken (only if free: one conditional UPDATE, invariant 1 of
//! [`crate::seating`]), the old seat is freed, the old ticket is revoked as `reissued` — gates learn it
//! through the journal as they learn any revocation — and a new ticket with a new serial is
//! signed for the new seat, at the same price. The buyer is mailed the order's tickets again,
//! once per move. A seat of another ticket type is refused: that is another price, so a refund
//! and a sale.

use super::Sales;
use super::buyer_mail::{self, Reason};
use super::routes::{ORDER_WRITERS, staff_lookup};
use super::store::{NewTicket, event_of_order, insert_tickets, revoke_tickets};
use crate::auth::Caller;
use crate::crypto::MasterKey;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::seating::store;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use sync_core::ids::{SeatNumber, Serial, TicketTypeId};
use sync_core::journal::{Payload, RevocationEntry};
use sync_core::keys::EventKey;
use sync_core::revocation::RevocationReason;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The route, with its OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(move_ticket))
}

/// Where a ticket moves to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeat {
    /// The seat's id in the plan: a free seat of the ticket's own ticket type.
    #[schema(min_length = 1, max_length = 64, pattern = "^[!-~]+$")]
    pub seat: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/tickets/{serial}/seat",
    tag = "orders",
    request_body = NewSeat,
    params(
        ("code" = String, Path, description = "The order's code"),
        ("serial" = u32, Path, description = "The ticket to move"),
    ),
    responses(
        (status = 200, description = "Moved: the old ticket is revoked at every gate (`reissued`), a new one holds the new seat, and the buyer is mailed the tickets again. Owners, admins, box office.", body = Moved),
        (status = 409, description = "The seat is not free (`seat_taken`) or sells as another ticket type (`seat_other_type`); the ticket is not valid (`ticket_not_valid`) or has no seat (`ticket_not_seated`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn move_ticket(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(master): State<MasterKey>,
    caller: Caller,
    ApiPath((code, serial)): ApiPath<(String, u32)>,
    ApiJson(body): ApiJson<NewSeat>,
) -> Result<Json<Moved>, ApiError> {
    Ok(Json(move_to(&db, &sales, &master, &caller, &code, serial, &body.seat).await?))
}

/// Moves ticket `serial` of order `code` to seat `to`, for staff (the API and the console).
pub async fn move_to(
    db: &Db,
    sales: &Sales,
    master: &MasterKey,
    caller: &Caller,
    code: &str,
    serial: u32,
    to: &str,
) -> Result<Moved, ApiError> {
    caller.require(ORDER_WRITERS)?;
    let order = staff_lookup(db, caller, code).await?;
    let mut tx = db.tenant(caller.org_id).await?;
    let event = event_of_order(&mut tx, order, false).await?;
    let key = crate::events::signing_key(&mut tx, master, event).await?;
    let moved = reseat(&mut tx, &key, event, order, serial, to).await?;
    buyer_mail::tickets(
        &mut tx,
        &sales.public_url,
        order,
        Reason::Reseated { serial: i64::from(moved.serial) },
    )
    .await?;
    let details = serde_json::json!({"revoked": moved.revoked, "serial": moved.serial, "seat": to});
    tx.audit(&caller.actor(), "order.reseat", &format!("order:{code}"), details).await?;
    tx.commit().await?;
    crate::mail::kick(db);
    Ok(moved)
}

/// What a move did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Moved {
    /// The old ticket, revoked at every gate.
    pub revoked: u32,
    /// The new ticket's serial.
    pub serial: u32,
    /// The new seat ("Stalls · Row F · Seat 12").
    pub seat: String,
    /// The new ticket's signed text (what its QR code holds).
    pub text: String,
}

/// Moves ticket `serial` of paid order `order` (of `event`) to the seat `to` (its plan id),
/// signing the new ticket with `key`. The caller queues the buyer's mail and commits.
pub async fn reseat(
    tx: &mut Tenant,
    key: &EventKey,
    event: i64,
    order: i64,
    serial: u32,
    to: &str,
) -> Result<Moved, ApiError> {
    if !crate::seating::seat_id(to) {
        return Err(ApiError::invalid("seat", "a seat id: 1–64 printable ASCII characters"));
    }
    let ticket = store::ticket_seat(tx, event, order, serial).await?.ok_or(ApiError::NotFound)?;
    if ticket.status != "valid" {
        return Err(conflict(
            "ticket_not_valid",
            format!("ticket {serial} is {}: only a valid ticket moves", ticket.status),
        ));
    }
    let Some(from) = ticket.seat_id else {
        return Err(conflict("ticket_not_seated", format!("ticket {serial} has no seat to move from")));
    };
    let Some(seat) = store::by_keys(tx, event, &[to.to_owned()]).await?.pop() else {
        return Err(ApiError::invalid("seat", format!("no seat {to:?} in this event")));
    };
    if seat.id == from {
        return Err(ApiError::invalid("seat", format!("ticket {serial} is in seat {to:?} already")));
    }
    if seat.ticket_type_id != ticket.ticket_type_id {
        return Err(conflict(
            "seat_other_type",
            format!(
                "seat {to:?} ({}) sells as another ticket type, at another price: refund this ticket and sell that seat",
                seat.category
            ),
        ));
    }
    if !store::move_sold(tx, order, from, seat.id).await? {
        return Err(conflict(
            "seat_taken",
            format!("{} is {}: choose a free seat", seat.describe(), seat.state),
        ));
    }
    if revoke_tickets(tx, event, order, &[serial]).await? != 1 {
        return Err(conflict(
            "ticket_not_valid",
            format!("ticket {serial} changed meanwhile: reload and try again"),
        ));
    }
    let revocation =
        RevocationEntry { first: Serial(serial), last: Serial(serial), reason: RevocationReason::Reissued };
    append_hub_entry(tx, event, Payload::Revocation(revocation)).await?;
    let new_serial = crate::capacity::allocate_serials(tx, event, 1).await?;
    let type_number = u16::try_from(ticket.type_number).map_err(anyhow::Error::from)?;
    let number = u16::try_from(seat.number).map_err(anyhow::Error::from)?;
    let text = key
        .issue_seat(Serial(new_serial), TicketTypeId(type_number), None, Some(SeatNumber(number)))
        .to_text();
    let new = NewTicket {
        serial: new_serial,
        ticket_type_id: ticket.ticket_type_id,
        price_minor: ticket.price_minor,
        text: text.clone(),
        part_of: None,
        seat_id: Some(seat.id),
    };
    insert_tickets(tx, event, order, &[new]).await?;
    Ok(Moved { revoked: serial, serial: new_serial, seat: seat.describe(), text })
}

fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError::Conflict { code, message }
}
