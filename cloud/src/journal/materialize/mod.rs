//! Relational views of journal entries, written in the transaction that stores the entry
//! (idempotent by origin and sequence number, so a replayed entry changes nothing):
//!
//! - a scan → a `checkins` row (the reports, the live dashboard, the inside count);
//! - a door sale → a paid box-office order with its tickets, payment and ledger lines; the
//!   leased rights become sold ones (`door.rs`);
//! - a void → its tickets revoked, the money booked back, the capacity returned;
//! - a lease return → the unsold rights back to capacity;
//! - a closed cashier shift → a `shifts` row with its report;
//! - a door price → the door sale's line priced (list, discount, reason), its voucher uses
//!   redeemed; a voucher return → the lease's unused uses back to the voucher (`door_price.rs`);
//! - a door sale's seats → the leased seats sold to its order, named by its tickets
//!   (`door_seats.rs`); a void frees its tickets' seats, a return the seats left unsold;
//! - and, for each, the webhook events it causes (`hooks.rs`).
//!
//! Anything inconsistent a device reports is logged and skipped, never refused: the money was
//! taken at the door, and a refusal would stop the device's sync.

mod door;
mod door_price;
mod door_seats;
mod hooks;
pub mod store;

use crate::db::Tenant;
use sync_core::journal::{Entry, Payload};

/// Materializes entries of the transaction's organization, in order. Consecutive scans become
/// check-ins in one statement — unless a webhook partner wants double admissions: that event
/// counts a ticket's check-ins so far, so each scan's row must be there before the next one's
/// event is decided, and scans go one at a time.
pub async fn entries(tx: &mut Tenant, entries: &[Entry]) -> Result<(), anyhow::Error> {
    let together = !crate::webhooks::wants(tx, crate::webhooks::EventType::AdmissionDouble).await?;
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let scans = rest.iter().take_while(|e| matches!(e.payload, Payload::Scan(_))).count();
        if together && scans > 0 {
            let (run, after) = rest.split_at(scans);
            let checkins =
                run.iter().filter_map(|e| checkin_of(e).transpose()).collect::<Result<Vec<_>, _>>()?;
            store::insert_checkins(tx, &checkins).await?;
            for e in run {
                hooks::entry(tx, e).await?;
            }
            rest = after;
        } else {
            entry(tx, first).await?;
            rest = &rest[1..];
        }
    }
    Ok(())
}

/// The check-in a scan entry records (`None` for other entries).
fn checkin_of(e: &Entry) -> Result<Option<store::Checkin<'static>>, anyhow::Error> {
    let Payload::Scan(scan) = &e.payload else { return Ok(None) };
    Ok(Some(store::Checkin {
        origin: i64::from(e.origin.0),
        seq: i64::try_from(e.seq)?,
        event: i64::from(e.event.0),
        serial: scan.ticket.map(|t| i64::from(t.serial.0)),
        ticket_type: scan.ticket.map(|t| i64::from(t.ticket_type.0)),
        direction: match scan.direction {
            sync_core::manifest::Direction::Entry => "entry",
            sync_core::manifest::Direction::Exit => "exit",
        },
        gate: i64::from(scan.gate.0),
        verdict: scan.verdict.code(),
        at: scan.at.0,
        hlc: i64::try_from(e.hlc.0)?,
    }))
}

/// Materializes entry `e` of the transaction's organization.
pub async fn entry(tx: &mut Tenant, e: &Entry) -> Result<(), anyhow::Error> {
    match &e.payload {
        Payload::Scan(_) => {
            if let Some(checkin) = checkin_of(e)? {
                store::insert_checkins(tx, &[checkin]).await?;
            }
        }
        Payload::DoorSale(sale) => door::sale(tx, e, sale).await?,
        Payload::Void(void) => door::void(tx, e, void).await?,
        Payload::LeaseReturn(ret) => door::lease_return(tx, e, ret).await?,
        Payload::Shift(shift) => door::shift(tx, e, shift).await?,
        Payload::DoorPrice(price) => door_price::price(tx, e, price).await?,
        Payload::VoucherReturn(ret) => door_price::voucher_return(tx, e, ret).await?,
        Payload::DoorSeats(seats) => door_seats::sold(tx, e, seats).await?,
        _ => {}
    }
    hooks::entry(tx, e).await
}

/// The name a door sale's order carries: its box office and receipt number.
pub fn door_order_name(device: u32, receipt: u64) -> String {
    format!("Door sale {device}-{receipt}")
}
