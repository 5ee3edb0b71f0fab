//! Door sales, voids, lease returns and closed shifts from box-office journals.

use super::store::{self, ClosedShift};
use crate::capacity;
use crate::db::Tenant;
use crate::payments::ledger::{self, Refs};
use sync_core::journal::shift::ShiftEntry;
use sync_core::journal::{DoorSale, Entry, LeaseReturn, PaymentMethod, Void};

/// A door sale: a paid box-office order with its tickets, payment and ledger lines; leased
/// rights become sold. Idempotent (the entry's origin and sequence number are the order's
/// idempotency key).
pub(super) async fn sale(tx: &mut Tenant, e: &Entry, sale: &DoorSale) -> Result<(), anyhow::Error> {
    let lease_id = i64::try_from(sale.lease.0)?;
    let Some(lease) = store::held_lease(tx, lease_id, i64::from(e.origin.0)).await? else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "door sale under a lease the device does not hold; not materialized"
        );
        return Ok(());
    };
    let serials: Vec<i64> = sale
        .serials
        .iter()
        .map(|s| i64::from(s.0))
        .filter(|s| (lease.first_serial..=lease.last_serial).contains(s))
        .collect();
    if serials.len() != sale.serials.len() {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "door sale lists serials outside its lease; those are skipped"
        );
    }
    if serials.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(serials.len())?;
    let event = i64::from(e.event.0);
    let at = e.hlc.time().0;
    let key = format!("door:{}:{}", e.origin.0, e.seq);
    let total = sale.total_minor.max(0);
    let name = super::door_order_name(e.origin.0, sale.receipt);
    let order = store::insert_door_order(
        tx,
        event,
        &crate::codes::order_code()?,
        &crate::codes::random_token()?,
        i64::from(e.origin.0),
        &name,
        &sale.currency,
        total,
        &key,
        at,
    )
    .await?;
    let Some(order) = order else { return Ok(()) }; // materialized before
    let unit = total / count;
    store::insert_line(tx, order, lease.ticket_type_id, count, unit).await?;
    for &serial in &serials {
        store::insert_door_ticket(tx, event, serial, order, lease.ticket_type_id, unit, at).await?;
    }
    payment(tx, e, order, sale).await?;
    capacity::sell_leased(tx, lease.ticket_type_id, count).await?;
    store::add_lease_sold(tx, lease.id, count).await?;
    Ok(())
}

/// The ledger account a door payment's money sits on.
fn account(method: &str, device: u32, event: i64) -> String {
    match method {
        "card_present" => format!("card:device:{device}"),
        "comp" => format!("comp:event:{event}"),
        _ => format!("cash:device:{device}"),
    }
}

/// The payment of a door sale and its ledger lines (none for nothing paid).
async fn payment(tx: &mut Tenant, e: &Entry, order: i64, sale: &DoorSale) -> Result<(), anyhow::Error> {
    let event = i64::from(e.event.0);
    let (method, reference) = match &sale.payment {
        PaymentMethod::Cash => ("cash", None),
        PaymentMethod::Card { reference } => {
            ("card_present", Some(format!("terminal:{}:{reference}", e.origin.0)))
        }
        PaymentMethod::Comp { .. } => ("comp", None),
    };
    let at = e.hlc.time().0;
    let payment =
        store::insert_door_payment(tx, order, method, sale.total_minor.max(0), &sale.currency, reference, at)
            .await?;
    if sale.total_minor > 0 {
        let refs = Refs { order: Some(order), payment: Some(payment), refund: None };
        let lines = [
            (account(method, e.origin.0, event), sale.total_minor),
            (ledger::revenue(event), -sale.total_minor),
        ];
        ledger::post(tx, "door_sale", refs, &sale.currency, &lines)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

/// A void: the door-sale tickets are revoked (the device's entry already revokes them at
/// every gate), their money booked back, their capacity returned.
pub(super) async fn void(tx: &mut Tenant, e: &Entry, void: &Void) -> Result<(), anyhow::Error> {
    let event = i64::from(e.event.0);
    for serial in &void.serials {
        let Some(voided) = store::revoke_ticket(tx, event, i64::from(serial.0), e.hlc.time().0).await? else {
            continue; // unknown or voided before: idempotent
        };
        store::add_refunded(tx, voided.order_id, voided.price_minor).await?;
        capacity::unsell(tx, voided.ticket_type_id, 1).await?;
        store::free_voided_seat(tx, event, i64::from(serial.0)).await?;
        if let (Some(p), true) = (store::first_payment(tx, voided.order_id).await?, voided.price_minor > 0) {
            let refs = Refs { order: Some(voided.order_id), payment: Some(p.id), refund: None };
            let price = voided.price_minor;
            let lines = [(ledger::revenue(event), price), (account(&p.method, e.origin.0, event), -price)];
            ledger::post(tx, "door_void", refs, &p.currency, &lines)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// A return: rights from `first_unsold` to the lease's end go back to capacity.
pub(super) async fn lease_return(tx: &mut Tenant, e: &Entry, ret: &LeaseReturn) -> Result<(), anyhow::Error> {
    let Some(lease) = store::held_lease(tx, i64::try_from(ret.lease.0)?, i64::from(e.origin.0)).await? else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "return of a lease the device does not hold; ignored"
        );
        return Ok(());
    };
    let (first, last) = (lease.first_serial, lease.last_serial);
    let from = i64::from(ret.first_unsold.0).clamp(first, last + 1);
    let already_from = lease.returned_from.unwrap_or(last + 1);
    // Only the part not returned before: a repeated or later return changes nothing.
    if from >= already_from {
        return Ok(());
    }
    store::return_lease_from(tx, lease.id, from).await?;
    capacity::release_leased(tx, lease.ticket_type_id, already_from - from).await?;
    store::free_leased_seats(tx, lease.id).await?;
    Ok(())
}

/// A closed shift, as its closing entry reports it (idempotent by device and opening).
/// Openings are not stored: a shift exists for the hub once it is closed.
pub(super) async fn shift(tx: &mut Tenant, e: &Entry, shift: &ShiftEntry) -> Result<(), anyhow::Error> {
    let ShiftEntry::Close { opened, report } = shift else { return Ok(()) };
    let closed = ClosedShift {
        event: i64::from(e.event.0),
        device: i64::from(e.origin.0),
        opened_seq: i64::try_from(*opened)?,
        report,
    };
    store::insert_shift(tx, &closed, &serde_json::to_string(report)?).await?;
    Ok(())
}
