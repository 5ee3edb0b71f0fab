//! A door sale's seats (`DoorSeats`, written by the box office with the sale it seats): each
//! seat leased to the sale's lease becomes sold to the sale's order, and its ticket names it.
//! A seat no longer leased to that lease (the organizer reclaimed the lease before the sale
//! synced: its serial is revoked at every gate) is logged and skipped, never refused.

use super::store;
use crate::db::Tenant;
use sync_core::journal::{DoorSeats, Entry};

/// Materializes `seats` (entry `e`): after the `DoorSale` it seats, which made the tickets.
pub(super) async fn sold(tx: &mut Tenant, e: &Entry, seats: &DoorSeats) -> Result<(), anyhow::Error> {
    let lease = i64::try_from(seats.lease.0)?;
    if store::held_lease(tx, lease, i64::from(e.origin.0)).await?.is_none() {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "seats sold under a lease the device does not hold; ignored"
        );
        return Ok(());
    }
    let event = i64::from(e.event.0);
    for (serial, seat) in &seats.seats {
        if !store::sell_leased_seat(tx, event, lease, i64::from(serial.0), i64::from(seat.0)).await? {
            tracing::warn!(
                origin = e.origin.0,
                seq = e.seq,
                serial = serial.0,
                seat = seat.0,
                "a door sale's seat not leased to its lease (reclaimed before it synced); ignored"
            );
        }
    }
    Ok(())
}
