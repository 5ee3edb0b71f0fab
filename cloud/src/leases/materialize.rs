//! Door sales, voids and returns from box-office journals, materialized in the transaction
//! that stores the entry (see the module above).

use super::release_rights;
use crate::payments::ledger::{self, Refs};
use sqlx::{Any, Row, Transaction};
use sync_core::ids::DeviceId;
use sync_core::journal::shift::ShiftEntry;
use sync_core::journal::{DoorSale, Entry, LeaseId, LeaseReturn, PaymentMethod, Void};

/// The lease `lease` of `org` if `device` holds it: (id, type id, first, last).
async fn held_lease(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    lease: LeaseId,
    device: DeviceId,
) -> Result<Option<(i64, i64, i64, i64)>, anyhow::Error> {
    let row = sqlx::query("SELECT id, ticket_type_id, first_serial, last_serial FROM leases WHERE id = $1 AND org_id = $2 AND device_id = $3")
        .bind(i64::try_from(lease.0)?)
        .bind(org)
        .bind(i64::from(device.0))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
}

/// A door sale from the journal: a paid box-office order with its tickets, payment and ledger
/// lines; leased rights become sold. Idempotent (the entry's origin and sequence number are
/// the order's idempotency key). Anything inconsistent is logged and skipped, never refused:
/// the money was taken at the door, and a refusal would stop the device's sync.
pub async fn materialize_door_sale(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    e: &Entry,
    sale: &DoorSale,
) -> Result<(), anyhow::Error> {
    let Some((lease, type_id, first, last)) = held_lease(tx, org, sale.lease, e.origin).await? else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "door sale under a lease the device does not hold; not materialized"
        );
        return Ok(());
    };
    let serials: Vec<i64> =
        sale.serials.iter().map(|s| i64::from(s.0)).filter(|s| (first..=last).contains(s)).collect();
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
    let code = crate::sales::checkout::new_code()?;
    let order: Option<i64> = sqlx::query(
        "INSERT INTO orders (org_id, event_id, code, secret, status, channel, device_id, email, name, currency, total_minor, \
         idempotency_key, created_at, paid_at) VALUES ($1, $2, $3, $4, 'paid', 'box_office', $5, '', $10, $6, $7, $8, $9, $9) \
         ON CONFLICT (event_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(org)
    .bind(event)
    .bind(&code)
    .bind(crate::auth::random_token()?)
    .bind(i64::from(e.origin.0))
    .bind(&sale.currency)
    .bind(sale.total_minor.max(0))
    .bind(&key)
    .bind(at)
    .bind(super::order_name(e.origin.0, sale.receipt))
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.get(0));
    let Some(order) = order else { return Ok(()) }; // materialized before
    let unit = sale.total_minor.max(0) / count;
    sqlx::query("INSERT INTO order_lines (order_id, org_id, ticket_type_id, quantity, unit_price_minor) VALUES ($1, $2, $3, $4, $5)")
        .bind(order)
        .bind(org)
        .bind(type_id)
        .bind(count)
        .bind(unit)
        .execute(&mut **tx)
        .await?;
    for serial in &serials {
        // The device signed these tickets; the hub never held their text.
        sqlx::query(
            "INSERT INTO tickets (org_id, event_id, serial, order_id, ticket_type_id, price_minor, text, status, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, '', 'valid', $7) ON CONFLICT (event_id, serial) DO NOTHING",
        )
        .bind(org)
        .bind(event)
        .bind(serial)
        .bind(order)
        .bind(type_id)
        .bind(unit)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    record_door_payment(tx, org, e, order, sale).await?;
    // Leased rights become sold ones.
    sqlx::query(
        "UPDATE ticket_types SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END, sold = sold + $1 WHERE id = $2",
    )
    .bind(count)
    .bind(type_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE leases SET sold = sold + $1 WHERE id = $2 AND sold + $1 <= last_serial - first_serial + 1",
    )
    .bind(count)
    .bind(lease)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The payment of a door sale and its ledger lines (none for a comp).
async fn record_door_payment(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    e: &Entry,
    order: i64,
    sale: &DoorSale,
) -> Result<(), anyhow::Error> {
    let event = i64::from(e.event.0);
    let at = e.hlc.time().0;
    let (method, account) = match &sale.payment {
        PaymentMethod::Cash => ("cash", format!("cash:device:{}", e.origin.0)),
        PaymentMethod::Card { .. } => ("card_present", format!("card:device:{}", e.origin.0)),
        PaymentMethod::Comp { .. } => ("comp", format!("comp:event:{event}")),
    };
    let reference = match &sale.payment {
        PaymentMethod::Card { reference } => Some(reference.clone()),
        _ => None,
    };
    let payment: i64 = sqlx::query(
        "INSERT INTO payments (org_id, order_id, method, status, amount_minor, currency, provider_ref, created_at, settled_at) \
         VALUES ($1, $2, $3, 'succeeded', $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(org)
    .bind(order)
    .bind(method)
    .bind(sale.total_minor.max(0))
    .bind(&sale.currency)
    .bind(reference.map(|r| format!("terminal:{}:{r}", e.origin.0)))
    .bind(at)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if sale.total_minor > 0 {
        let refs = Refs { order: Some(order), payment: Some(payment), refund: None };
        ledger::post(
            tx,
            org,
            "door_sale",
            refs,
            &sale.currency,
            &[(account, sale.total_minor), (ledger::revenue(event), -sale.total_minor)],
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

/// A void from the journal: the door-sale tickets are revoked (the device's entry already
/// revokes them at every gate), their money booked back, their capacity returned.
pub async fn materialize_void(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    e: &Entry,
    void: &Void,
) -> Result<(), anyhow::Error> {
    let event = i64::from(e.event.0);
    for serial in &void.serials {
        let row = sqlx::query(
            "UPDATE tickets SET status = 'revoked', revoked_at = $1 WHERE event_id = $2 AND serial = $3 AND org_id = $4 \
             AND status = 'valid' RETURNING order_id, price_minor, ticket_type_id",
        )
        .bind(e.hlc.time().0)
        .bind(event)
        .bind(i64::from(serial.0))
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { continue }; // unknown or voided before: idempotent
        let (order, price, type_id): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        sqlx::query("UPDATE orders SET refunded_minor = refunded_minor + $1 WHERE id = $2 AND refunded_minor + $1 <= total_minor")
            .bind(price)
            .bind(order)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "UPDATE ticket_types SET sold = CASE WHEN sold >= 1 THEN sold - 1 ELSE 0 END WHERE id = $1",
        )
        .bind(type_id)
        .execute(&mut **tx)
        .await?;
        let payment =
            sqlx::query("SELECT id, method, currency FROM payments WHERE order_id = $1 ORDER BY id LIMIT 1")
                .bind(order)
                .fetch_optional(&mut **tx)
                .await?;
        if let (Some(p), true) = (payment, price > 0) {
            let (payment, method, currency): (i64, String, String) = (p.get(0), p.get(1), p.get(2));
            let account = match method.as_str() {
                "card_present" => format!("card:device:{}", e.origin.0),
                "comp" => format!("comp:event:{event}"),
                _ => format!("cash:device:{}", e.origin.0),
            };
            let refs = Refs { order: Some(order), payment: Some(payment), refund: None };
            ledger::post(
                tx,
                org,
                "door_void",
                refs,
                &currency,
                &[(ledger::revenue(event), price), (account, -price)],
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// A return from the journal: rights from `first_unsold` to the lease's end go back to capacity.
pub async fn materialize_return(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    e: &Entry,
    ret: &LeaseReturn,
) -> Result<(), anyhow::Error> {
    let Some((lease, type_id, first, last)) = held_lease(tx, org, ret.lease, e.origin).await? else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "return of a lease the device does not hold; ignored"
        );
        return Ok(());
    };
    let from = i64::from(ret.first_unsold.0).clamp(first, last + 1);
    let before: Option<i64> = sqlx::query("SELECT returned_from FROM leases WHERE id = $1")
        .bind(lease)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    let already_from = before.unwrap_or(last + 1);
    // Only the part not returned before: a repeated or later return changes nothing.
    if from >= already_from {
        return Ok(());
    }
    sqlx::query(
        "UPDATE leases SET returned_from = $1, status = CASE WHEN status = 'active' THEN 'returned' ELSE status END \
         WHERE id = $2",
    )
    .bind(from)
    .bind(lease)
    .execute(&mut **tx)
    .await?;
    release_rights(tx, type_id, already_from - from).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// A closed shift from a box office's journal, as its closing entry reports it (idempotent by
/// device and opening). Openings are not stored: a shift exists for the hub once it is closed.
pub async fn materialize_shift(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    e: &Entry,
    shift: &ShiftEntry,
) -> Result<(), anyhow::Error> {
    let ShiftEntry::Close { opened, report } = shift else { return Ok(()) };
    sqlx::query(
        "INSERT INTO shifts (org_id, event_id, device_id, opened_seq, cashier, currency, opened_at, closed_at, receipts, \
         voided_receipts, sold_minor, voided_minor, float_minor, expected_cash_minor, counted_cash_minor, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (org_id, device_id, opened_seq) DO NOTHING",
    )
    .bind(org)
    .bind(i64::from(e.event.0))
    .bind(i64::from(e.origin.0))
    .bind(i64::try_from(*opened)?)
    .bind(&report.cashier)
    .bind(&report.currency)
    .bind(report.opened_at.0)
    .bind(report.closed_at.0)
    .bind(i64::from(report.receipts))
    .bind(i64::from(report.voided_receipts))
    .bind(report.sold_minor())
    .bind(report.voided_minor())
    .bind(report.float_minor)
    .bind(report.expected_cash_minor)
    .bind(report.counted_cash_minor)
    .bind(serde_json::to_string(report)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
