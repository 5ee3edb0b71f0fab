//! Seats sold at the door, offline, never twice.
//!
//! A seat lease is a lease whose `LeaseSeats` names its seats: the hub leased each of them to
//! this lease alone (no other lease, no online order can take a leased seat), and the device
//! sells only those, one serial of the lease's range per seat. A seat is free on this device
//! while it is in its lease and no `DoorSeats` of the lease names it — a voided ticket keeps
//! its seat sold here, as its serial stays sold, so the desk never sells it again (the hub
//! frees it for sale online). Two box offices therefore never sell one seat: their leases hold
//! different seats, and each sells only from its own.
//!
//! [`assign`] is the pure part: which lease's serial each asked-for seat is sold with.

use super::box_office::SellError;
use crate::ids::{SeatNumber, Serial};
use crate::journal::LeaseId;
use std::collections::{BTreeMap, BTreeSet};

/// What a sale takes: per lease, each ticket's serial and its seat (`S`: a seat, or for a sale
/// that may be without seats, an `Option` of one).
pub(super) type Picks<S> = Vec<(LeaseId, Vec<(Serial, S)>)>;

/// A lease the sale may draw on: its free serials (lowest first) and, for a seat lease, its
/// free seats.
pub(super) struct Drawable {
    /// The lease.
    pub lease: LeaseId,
    /// Serials not sold yet, lowest first.
    pub serials: Vec<Serial>,
    /// A seat lease's seats not sold yet; `None` for a lease of places without seats.
    pub seats: Option<BTreeSet<SeatNumber>>,
}

/// For seats `wanted` (distinct), the serial each is sold with, grouped by lease in the order
/// of `leases`: every seat must be free in a seat lease of `leases`. `name` words a seat for
/// the cashier.
///
/// # Errors
/// [`SellError::SeatNotHere`] for the first seat no lease holds free.
pub(super) fn assign(
    leases: &[&Drawable],
    wanted: &[SeatNumber],
    name: impl Fn(SeatNumber) -> String,
) -> Result<Picks<SeatNumber>, SellError> {
    let mut taken: BTreeMap<LeaseId, Vec<(Serial, SeatNumber)>> = BTreeMap::new();
    for &seat in wanted {
        let lease = leases
            .iter()
            .find(|l| {
                let used = taken.get(&l.lease).map_or(0, Vec::len);
                l.seats.as_ref().is_some_and(|s| s.contains(&seat)) && used < l.serials.len()
            })
            .ok_or_else(|| SellError::SeatNotHere(name(seat)))?;
        let picks = taken.entry(lease.lease).or_default();
        picks.push((lease.serials[picks.len()], seat));
    }
    Ok(leases.iter().filter_map(|l| taken.remove(&l.lease).map(|picks| (l.lease, picks))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(id: u64, serials: std::ops::Range<u32>, seats: &[u16]) -> Drawable {
        Drawable {
            lease: LeaseId(id),
            serials: serials.map(Serial).collect(),
            seats: Some(seats.iter().copied().map(SeatNumber).collect()),
        }
    }

    #[test]
    fn each_seat_is_sold_with_a_serial_of_the_lease_that_holds_it() {
        let leases = [lease(1, 10..12, &[4, 5]), lease(2, 20..23, &[7, 8, 9])];
        let picks = assign(&[&leases[0], &leases[1]], &[SeatNumber(8), SeatNumber(4), SeatNumber(9)], |s| {
            s.to_string()
        })
        .unwrap();
        assert_eq!(
            picks,
            vec![
                (LeaseId(1), vec![(Serial(10), SeatNumber(4))]),
                (LeaseId(2), vec![(Serial(20), SeatNumber(8)), (Serial(21), SeatNumber(9))]),
            ]
        );
    }

    #[test]
    fn a_seat_outside_every_lease_or_of_a_lease_without_seats_is_refused_by_name() {
        let mut places = lease(3, 0..5, &[]);
        places.seats = None;
        let leases = [lease(1, 10..12, &[4, 5]), places];
        let refused =
            assign(&[&leases[0], &leases[1]], &[SeatNumber(4), SeatNumber(6)], |s| format!("seat {s}"))
                .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "seat 6 is not this desk's to sell: it is sold, or not in its lease."
        );
    }
}
