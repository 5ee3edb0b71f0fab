//! Seats leased to a box office, to sell at the door offline.
//!
//! Granting a lease of a seated type names its seats: each is taken from free for that lease
//! alone, in the lease's transaction (a seat already held, sold, blocked or leased refuses the
//! whole grant), and the hub writes a `LeaseSeats` entry just before the `LeaseGrant`, so the
//! device knows which seats are its own to sell. Online checkout takes only free seats, so it
//! never sells a leased one. What the device then reports — seats sold, voided, the unsold
//! returned — is materialized by the journal (`journal/materialize/door_seats.rs`), whose
//! `free_leased_seats` also frees what a lease reclaimed by the organizer had not sold.

use super::store;
use crate::db::Tenant;
use crate::error::ApiError;
use std::collections::BTreeSet;
use sync_core::ids::SeatNumber;

/// Most seats in one lease: its `LeaseSeats` entry lists them all.
pub const MAX_SEATS: usize = 1000;

/// Leases the seats `keys` of `event`, all of ticket type `ticket_type` (row id, number
/// `type_number`), to `lease`: their numbers. All or none.
///
/// # Errors
/// 422 for a seat that does not exist, is named twice or sells as another type; 409
/// `seat_taken` for one that is not free.
pub async fn take(
    tx: &mut Tenant,
    event: i64,
    (ticket_type, type_number): (i64, u16),
    lease: i64,
    keys: &[String],
) -> Result<Vec<SeatNumber>, ApiError> {
    if keys.is_empty() || keys.len() > MAX_SEATS {
        return Err(ApiError::invalid("seats", format!("1 to {MAX_SEATS} seats")));
    }
    if let Some(bad) = keys.iter().position(|k| !super::seat_id(k)) {
        return Err(ApiError::invalid(format!("seats[{bad}]"), "a seat id: 1–64 printable ASCII characters"));
    }
    if keys.iter().collect::<BTreeSet<_>>().len() != keys.len() {
        return Err(ApiError::invalid("seats", "each seat once"));
    }
    let found = store::by_keys(tx, event, keys).await?;
    if let Some(missing) = keys.iter().find(|k| !found.iter().any(|s| &s.seat_key == *k)) {
        return Err(ApiError::invalid("seats", format!("no seat {missing:?} in this event")));
    }
    if let Some(other) = found.iter().find(|s| s.ticket_type_id != ticket_type) {
        return Err(ApiError::invalid(
            "seats",
            format!("{} sells as ticket type {}, not {type_number}", other.describe(), other.ticket_type),
        ));
    }
    let ids: Vec<i64> = found.iter().map(|s| s.id).collect();
    let leased = store::lease(tx, &ids, lease).await?;
    if leased != ids.len() as u64 {
        let seat = found
            .iter()
            .find(|s| s.state != "free")
            .map_or_else(|| "a seat is taken".to_owned(), |s| format!("{} is {}", s.describe(), s.state));
        return Err(ApiError::Conflict {
            code: "seat_taken",
            message: format!("{seat}: nothing was leased"),
        });
    }
    found
        .iter()
        .map(|s| u16::try_from(s.number).map(SeatNumber).map_err(|e| ApiError::Internal(e.into())))
        .collect()
}
