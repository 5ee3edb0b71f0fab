//! The statements that turn journal entries into rows of the relational tables.

use crate::db::Tenant;

/// A lease a device holds.
#[derive(sqlx::FromRow)]
pub struct HeldLease {
    /// The lease.
    pub id: i64,
    /// Its ticket type (row id).
    pub ticket_type_id: i64,
    /// Its first serial.
    pub first_serial: i64,
    /// Its last serial.
    pub last_serial: i64,
    /// Where its unsold rights were returned from, if they were.
    pub returned_from: Option<i64>,
}

/// A door-sale ticket just revoked by a void.
#[derive(sqlx::FromRow)]
pub struct Voided {
    /// Its order.
    pub order_id: i64,
    /// What it cost.
    pub price_minor: i64,
    /// Its ticket type (row id).
    pub ticket_type_id: i64,
}

/// An order's first payment.
#[derive(sqlx::FromRow)]
pub struct FirstPayment {
    /// The payment.
    pub id: i64,
    /// `cash`, `card_present`, `comp`, `online`.
    pub method: String,
    /// ISO 4217 code.
    pub currency: String,
}

/// A scan, as `checkins` keeps it.
pub struct Checkin<'a> {
    /// The scanning device.
    pub origin: i64,
    /// Its entry's sequence number.
    pub seq: i64,
    /// The event.
    pub event: i64,
    /// The ticket's serial, if it was a ticket.
    pub serial: Option<i64>,
    /// Its ticket type's number.
    pub ticket_type: Option<i64>,
    /// `entry` or `exit`.
    pub direction: &'a str,
    /// The gate's number.
    pub gate: i64,
    /// The verdict's code.
    pub verdict: &'a str,
    /// The device's wall clock at the scan.
    pub at: i64,
    /// The entry's hybrid logical clock (orders movements across devices).
    pub hlc: i64,
}

/// Stores scans (idempotent by origin and sequence number): a statement per 128 (11
/// parameters each, anonymous on SQLite: see [`crate::db::Backend::placeholders`]).
pub async fn insert_checkins(tx: &mut Tenant, checkins: &[Checkin<'_>]) -> Result<(), sqlx::Error> {
    for part in checkins.chunks(128) {
        let sql = format!(
            "INSERT INTO checkins (org_id, origin, seq, event_id, serial, ticket_type, direction, gate, verdict, at, hlc) \
             VALUES {} ON CONFLICT DO NOTHING",
            crate::db::repeated(part.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(tx.backend().placeholders(&sql)));
        for c in part {
            insert = insert
                .bind(tx.org())
                .bind(c.origin)
                .bind(c.seq)
                .bind(c.event)
                .bind(c.serial)
                .bind(c.ticket_type)
                .bind(c.direction)
                .bind(c.gate)
                .bind(c.verdict)
                .bind(c.at)
                .bind(c.hlc);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Lease `lease` if `device` holds it.
pub async fn held_lease(tx: &mut Tenant, lease: i64, device: i64) -> Result<Option<HeldLease>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, ticket_type_id, first_serial, last_serial, returned_from FROM leases \
         WHERE id = $1 AND org_id = $2 AND device_id = $3",
    )
    .bind(lease)
    .bind(tx.org())
    .bind(device)
    .fetch_optional(&mut **tx)
    .await
}

/// A door sale's order, paid; `None` if the sale was materialized before (same key).
#[allow(clippy::too_many_arguments)] // one row's columns
pub async fn insert_door_order(
    tx: &mut Tenant,
    event: i64,
    code: &str,
    secret: &str,
    device: i64,
    name: &str,
    currency: &str,
    total_minor: i64,
    key: &str,
    at: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO orders (org_id, event_id, code, secret, status, channel, device_id, email, name, currency, total_minor, \
         idempotency_key, created_at, paid_at) VALUES ($1, $2, $3, $4, 'paid', 'box_office', $5, '', $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (event_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(tx.org())
    .bind(event)
    .bind(code)
    .bind(secret)
    .bind(device)
    .bind(name)
    .bind(currency)
    .bind(total_minor)
    .bind(key)
    .bind(at)
    .fetch_optional(&mut **tx)
    .await
}

/// An order line.
pub async fn insert_line(
    tx: &mut Tenant,
    order: i64,
    ticket_type: i64,
    quantity: i64,
    unit: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO order_lines (order_id, org_id, ticket_type_id, quantity, unit_price_minor) VALUES ($1, $2, $3, $4, $5)")
        .bind(order)
        .bind(tx.org())
        .bind(ticket_type)
        .bind(quantity)
        .bind(unit)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A ticket the device signed (the hub never held its text).
pub async fn insert_door_ticket(
    tx: &mut Tenant,
    event: i64,
    serial: i64,
    order: i64,
    ticket_type: i64,
    price: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tickets (org_id, event_id, serial, order_id, ticket_type_id, price_minor, text, status, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, '', 'valid', $7) ON CONFLICT (event_id, serial) DO NOTHING",
    )
    .bind(tx.org())
    .bind(event)
    .bind(serial)
    .bind(order)
    .bind(ticket_type)
    .bind(price)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A payment taken at the door; its id.
pub async fn insert_door_payment(
    tx: &mut Tenant,
    order: i64,
    method: &str,
    amount: i64,
    currency: &str,
    reference: Option<String>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO payments (org_id, order_id, method, status, amount_minor, currency, provider_ref, created_at, settled_at) \
         VALUES ($1, $2, $3, 'succeeded', $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(tx.org())
    .bind(order)
    .bind(method)
    .bind(amount)
    .bind(currency)
    .bind(reference)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
}

/// Counts `n` more sold under the lease (never past its size).
pub async fn add_lease_sold(tx: &mut Tenant, lease: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE leases SET sold = sold + $1 WHERE id = $2 AND org_id = $3 AND sold + $1 <= last_serial - first_serial + 1")
        .bind(n)
        .bind(lease)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Revokes a valid ticket; what it was, or `None` if unknown or revoked before.
pub async fn revoke_ticket(
    tx: &mut Tenant,
    event: i64,
    serial: i64,
    at: i64,
) -> Result<Option<Voided>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE tickets SET status = 'revoked', revoked_at = $1 WHERE event_id = $2 AND serial = $3 AND org_id = $4 \
         AND status = 'valid' RETURNING order_id, price_minor, ticket_type_id",
    )
    .bind(at)
    .bind(event)
    .bind(serial)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Adds `amount` to what the order had refunded (never past its total).
pub async fn add_refunded(tx: &mut Tenant, order: i64, amount: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET refunded_minor = refunded_minor + $1 WHERE id = $2 AND org_id = $3 AND refunded_minor + $1 <= total_minor")
        .bind(amount)
        .bind(order)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The order's first payment.
pub async fn first_payment(tx: &mut Tenant, order: i64) -> Result<Option<FirstPayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, method, currency FROM payments WHERE order_id = $1 AND org_id = $2 ORDER BY id LIMIT 1",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Marks the lease's rights from serial `from` returned.
pub async fn return_lease_from(tx: &mut Tenant, lease: i64, from: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE leases SET returned_from = $1, status = CASE WHEN status = 'active' THEN 'returned' ELSE status END \
         WHERE id = $2 AND org_id = $3",
    )
    .bind(from)
    .bind(lease)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A closed cashier shift (idempotent by device and opening).
pub struct ClosedShift<'a> {
    /// The event.
    pub event: i64,
    /// The box office.
    pub device: i64,
    /// The sequence number of its opening entry.
    pub opened_seq: i64,
    /// The report as the device closed it.
    pub report: &'a sync_core::journal::shift::ShiftReport,
}

/// Stores a closed shift.
pub async fn insert_shift(
    tx: &mut Tenant,
    s: &ClosedShift<'_>,
    report_json: &str,
) -> Result<(), sqlx::Error> {
    let r = s.report;
    sqlx::query(
        "INSERT INTO shifts (org_id, event_id, device_id, opened_seq, cashier, currency, opened_at, closed_at, receipts, \
         voided_receipts, sold_minor, voided_minor, float_minor, expected_cash_minor, counted_cash_minor, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (org_id, device_id, opened_seq) DO NOTHING",
    )
    .bind(tx.org())
    .bind(s.event)
    .bind(s.device)
    .bind(s.opened_seq)
    .bind(&r.cashier)
    .bind(&r.currency)
    .bind(r.opened_at.0)
    .bind(r.closed_at.0)
    .bind(i64::from(r.receipts))
    .bind(i64::from(r.voided_receipts))
    .bind(r.sold_minor())
    .bind(r.voided_minor())
    .bind(r.float_minor)
    .bind(r.expected_cash_minor)
    .bind(r.counted_cash_minor)
    .bind(report_json)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Seat `number` of `event`, leased to `lease`, sold at the door as the ticket with `serial`:
/// the seat sold to the ticket's order, the ticket naming it, the order keeping it. `false`
/// if the seat is not leased to the lease (reclaimed since) or the ticket is unknown.
pub async fn sell_leased_seat(
    tx: &mut Tenant,
    event: i64,
    lease: i64,
    serial: i64,
    number: i64,
) -> Result<bool, sqlx::Error> {
    let sold: Option<(i64, i64, i64)> = sqlx::query_as(
        "UPDATE seats SET state = 'sold', order_id = (SELECT order_id FROM tickets WHERE event_id = $1 AND serial = $2 AND org_id = $5) \
         WHERE event_id = $1 AND number = $3 AND lease_id = $4 AND org_id = $5 AND state = 'leased' \
         AND EXISTS (SELECT 1 FROM tickets WHERE event_id = $1 AND serial = $2 AND org_id = $5) \
         RETURNING id, order_id, ticket_type_id",
    )
    .bind(event)
    .bind(serial)
    .bind(number)
    .bind(lease)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((seat, order, ticket_type)) = sold else { return Ok(false) };
    sqlx::query("UPDATE tickets SET seat_id = $1 WHERE event_id = $2 AND serial = $3 AND org_id = $4")
        .bind(seat)
        .bind(event)
        .bind(serial)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO order_seats (order_id, org_id, seat_id, ticket_type_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(order)
    .bind(tx.org())
    .bind(seat)
    .bind(ticket_type)
    .execute(&mut **tx)
    .await?;
    tx.seats_changed().await?;
    Ok(true)
}

/// The seat of `event`'s ticket `serial`, voided at the door: free to sell online again.
pub async fn free_voided_seat(tx: &mut Tenant, event: i64, serial: i64) -> Result<(), sqlx::Error> {
    let freed = sqlx::query(
        "UPDATE seats SET state = 'free', order_id = NULL, lease_id = NULL WHERE state = 'sold' AND org_id = $3 AND id = \
         (SELECT seat_id FROM tickets WHERE event_id = $1 AND serial = $2 AND org_id = $3)",
    )
    .bind(event)
    .bind(serial)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if freed > 0 {
        tx.seats_changed().await?;
    }
    Ok(())
}

/// The seats still leased to `lease`, unsold when its box office returns it or the organizer
/// reclaims it: free to sell online again.
pub async fn free_leased_seats(tx: &mut Tenant, lease: i64) -> Result<(), sqlx::Error> {
    let freed = sqlx::query(
        "UPDATE seats SET state = 'free', lease_id = NULL WHERE lease_id = $1 AND org_id = $2 AND state = 'leased'",
    )
    .bind(lease)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if freed > 0 {
        tx.seats_changed().await?;
    }
    Ok(())
}

/// How many times ticket `serial` of `event` was admitted, if its type allows one admission
/// (0 for a multi-entry type): the double-admissions report's rule.
pub async fn single_entry_admissions(tx: &mut Tenant, event: i64, serial: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM checkins c JOIN ticket_types t ON t.event_id = c.event_id AND t.number = c.ticket_type \
         WHERE c.event_id = $1 AND c.org_id = $2 AND c.serial = $3 AND c.verdict = 'admitted' \
         AND t.entry_policy <> 'multi_entry'",
    )
    .bind(event)
    .bind(tx.org())
    .bind(serial)
    .fetch_one(&mut **tx)
    .await
}
