//! After checkout: settling payments, issuing tickets, letting unpaid holds lapse.

use super::checkout::release_hold;
use crate::crypto::MasterKey;
use crate::db::{Db, values};
use crate::error::ApiError;
use crate::events::signing_key;
use crate::payments::ledger::{self, Refs};
use crate::server::AppState;
use crate::tenancy::now_ms;
use sqlx::{Acquire, Any, Row, Transaction};
use sync_core::ids::{Serial, TicketTypeId};
use sync_core::keys::EventKey;

/// What settling a payment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The order is paid and its tickets issued.
    Paid,
    /// Settled before (a retried webhook, a replay): nothing changed.
    Already,
    /// The hold had lapsed and the tickets were sold meanwhile: the payment is being refunded.
    Refunding {
        /// The refund.
        refund: i64,
    },
}

/// Settles payment `payment` of `org` as succeeded for `amount_minor` `currency`: ledger,
/// order paid, tickets issued — one transaction, idempotent. `webhook_event` (the provider's
/// event id) is remembered in the same transaction, so a replayed webhook changes nothing.
pub async fn settle(
    state: &AppState,
    org: i64,
    payment: i64,
    amount_minor: i64,
    currency: &str,
    webhook_event: Option<&str>,
) -> Result<Settled, ApiError> {
    let mut tx = state.db.tenant(org).await?;
    if let Some(event) = webhook_event {
        let fresh = sqlx::query(
            "INSERT INTO psp_events (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(event)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if fresh.rows_affected() == 0 {
            return Ok(Settled::Already);
        }
    }
    let row = sqlx::query(
        "UPDATE payments SET status = 'succeeded', settled_at = $1 WHERE id = $2 AND org_id = $3 \
         AND status IN ('created', 'pending') RETURNING order_id, amount_minor, currency",
    )
    .bind(now_ms())
    .bind(payment)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.commit().await?;
        return Ok(Settled::Already);
    };
    let (order, expected, expected_currency): (i64, i64, String) = (row.get(0), row.get(1), row.get(2));
    if expected != amount_minor || expected_currency != currency {
        return Err(anyhow::anyhow!(
            "payment {payment}: provider reports {amount_minor} {currency}, expected {expected} {expected_currency}"
        )
        .into());
    }
    let event: i64 = sqlx::query("SELECT event_id FROM orders WHERE id = $1 AND org_id = $2")
        .bind(order)
        .bind(org)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let provider = format!("psp:{}", state.sales.provider.name());
    let refs = Refs { order: Some(order), payment: Some(payment), refund: None };
    ledger::post(
        &mut tx,
        org,
        "payment",
        refs,
        currency,
        &[(provider, amount_minor), (ledger::revenue(event), -amount_minor)],
    )
    .await?;
    let outcome = if pay_order(&mut tx, &state.master, org, event, order).await? {
        Settled::Paid
    } else {
        let refund = super::refunds::NewRefund {
            order,
            payment: Some(payment),
            amount_minor,
            currency,
            serials: &[],
            reason: "the reservation lapsed before payment and the tickets were sold meanwhile",
            actor: "system",
            idempotency_key: None,
            provider: state.sales.provider.name(),
        };
        let refund = super::refunds::record_refund(&mut tx, org, refund).await?;
        Settled::Refunding { refund }
    };
    tx.commit().await?;
    if let Settled::Refunding { refund } = outcome {
        super::refunds::send_to_provider(state, org, refund).await;
    }
    Ok(outcome)
}

/// One line of an order, as paying it needs it.
struct PaidLine {
    ticket_type: i64,
    number: u16,
    quantity: i64,
    unit_price_minor: i64,
}

/// Marks `order` (of `event`) paid and issues its tickets: the next serials of the event
/// (dense: allocated only here, at payment), each signed with the event's current key. `false`
/// if its hold had lapsed and the tickets were sold meanwhile (nothing is changed then).
///
/// The event's two hot rows — the ticket types' counters, which every checkout of the event
/// also updates, and its serial counter — are updated last, so the locks on them are held only
/// for the final insert and the commit: reading the lines and the key, and marking the order,
/// happen before. (Measured in the flash sale: see docs/benchmarks.md, issue 8.)
pub async fn pay_order(
    tx: &mut Transaction<'static, Any>,
    master: &MasterKey,
    org: i64,
    event: i64,
    order: i64,
) -> Result<bool, ApiError> {
    let lines: Vec<PaidLine> = sqlx::query(
        "SELECT l.ticket_type_id, t.number, l.quantity, l.unit_price_minor FROM order_lines l \
         JOIN ticket_types t ON t.id = l.ticket_type_id WHERE l.order_id = $1 ORDER BY l.ticket_type_id",
    )
    .bind(order)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(PaidLine {
            ticket_type: r.get(0),
            number: u16::try_from(r.get::<i64, _>(1))?,
            quantity: r.get(2),
            unit_price_minor: r.get(3),
        })
    })
    .collect::<Result<_, std::num::TryFromIntError>>()
    .map_err(anyhow::Error::from)?;
    let key = signing_key(tx, master, event).await?;
    let now = now_ms();
    let from_pending = sqlx::query(
        "UPDATE orders SET status = 'paid', paid_at = $1, hold_expires_at = NULL WHERE id = $2 AND status = 'pending'",
    )
    .bind(now)
    .bind(order)
    .execute(&mut **tx)
    .await?;
    // Hot rows from here on, each in ticket type id order (as checkout takes them: no deadlock).
    if from_pending.rows_affected() == 1 {
        for line in &lines {
            sqlx::query("UPDATE ticket_types SET held = held - $1, sold = sold + $1 WHERE id = $2")
                .bind(line.quantity)
                .bind(line.ticket_type)
                .execute(&mut **tx)
                .await?;
        }
    } else if !revive(tx, order, &lines, now).await? {
        return Ok(false);
    }
    issue_tickets(tx, &key, org, event, order, &lines, now).await?;
    Ok(true)
}

/// Pays an order whose hold lapsed (expired or cancelled: the customer was slow) by selling its
/// tickets again if they are still there — each conditionally, all or none. `false` if not.
async fn revive(
    tx: &mut Transaction<'static, Any>,
    order: i64,
    lines: &[PaidLine],
    now: i64,
) -> Result<bool, ApiError> {
    let mut again = tx.begin().await?;
    for line in lines {
        let taken = sqlx::query(
            "UPDATE ticket_types SET sold = sold + $1 WHERE id = $2 AND sold + held + leased + $1 <= capacity",
        )
        .bind(line.quantity)
        .bind(line.ticket_type)
        .execute(&mut *again)
        .await?;
        if taken.rows_affected() == 0 {
            again.rollback().await?;
            return Ok(false);
        }
    }
    let revived = sqlx::query(
        "UPDATE orders SET status = 'paid', paid_at = $1, hold_expires_at = NULL WHERE id = $2 AND status IN ('expired', 'cancelled')",
    )
    .bind(now)
    .bind(order)
    .execute(&mut *again)
    .await?;
    if revived.rows_affected() == 0 {
        again.rollback().await?;
        return Ok(false);
    }
    again.commit().await?;
    Ok(true)
}

/// Issues the tickets of `lines`: serials allocated in ticket type number order, signed with
/// `key`, inserted in one statement.
async fn issue_tickets(
    tx: &mut Transaction<'static, Any>,
    key: &EventKey,
    org: i64,
    event: i64,
    order: i64,
    lines: &[PaidLine],
    now: i64,
) -> Result<(), ApiError> {
    let count: i64 = lines.iter().map(|l| l.quantity).sum();
    if count == 0 {
        return Ok(());
    }
    let mut by_number: Vec<&PaidLine> = lines.iter().collect();
    by_number.sort_by_key(|l| l.number);
    let mut serial = allocate_serials(tx, event, count).await?;
    let mut rows = Vec::new();
    for line in by_number {
        for _ in 0..line.quantity {
            let text = key.issue(Serial(serial), TicketTypeId(line.number), None).to_text();
            rows.push((serial, line.ticket_type, line.unit_price_minor, text));
            serial += 1;
        }
    }
    let sql = format!(
        "INSERT INTO tickets (org_id, event_id, serial, order_id, ticket_type_id, price_minor, text, status, issued_at) VALUES {}",
        values(rows.len(), "(?, ?, ?, ?, ?, ?, ?, 'valid', ?)")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (serial, type_id, price, text) in &rows {
        insert = insert
            .bind(org)
            .bind(event)
            .bind(i64::from(*serial))
            .bind(order)
            .bind(type_id)
            .bind(price)
            .bind(text)
            .bind(now);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// Takes `count` consecutive serials of `event`; returns the first.
pub async fn allocate_serials(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    count: i64,
) -> Result<u32, ApiError> {
    let next: i64 =
        sqlx::query("UPDATE events SET next_serial = next_serial + $1 WHERE id = $2 RETURNING next_serial")
            .bind(count)
            .bind(event)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
    let first = next - count;
    if next - 1 > i64::from(u32::MAX) {
        return Err(ApiError::Conflict {
            code: "serials_exhausted",
            message: "this event has issued every serial".into(),
        });
    }
    Ok(u32::try_from(first).map_err(anyhow::Error::from)?)
}

/// Completes an order that costs nothing: paid at once, tickets issued.
pub async fn complete_free(state: &AppState, org: i64, order: i64) -> Result<(), ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let event: i64 =
        sqlx::query("SELECT event_id FROM orders WHERE id = $1 AND org_id = $2 AND total_minor = 0")
            .bind(order)
            .bind(org)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
    pay_order(&mut tx, &state.master, org, event, order).await?;
    tx.commit().await?;
    Ok(())
}

/// Lets holds that lapsed by `now` go: their orders expire and their tickets are for sale
/// again. Returns how many. Safe to run on every hub instance at once (each order expires in
/// a conditional UPDATE, once).
pub async fn expire_holds(db: &Db, now: i64) -> Result<usize, ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM orders WHERE status = 'pending' AND hold_expires_at <= $1 \
             ORDER BY hold_expires_at LIMIT 1000",
            now,
        )
        .await?;
    let mut expired = 0;
    for (order, org) in due {
        let mut tx = db.tenant(org).await?;
        let done = sqlx::query(
            "UPDATE orders SET status = 'expired' WHERE id = $1 AND org_id = $2 AND status = 'pending'",
        )
        .bind(order)
        .bind(org)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            release_hold(&mut tx, order).await?;
            expired += 1;
        }
        tx.commit().await?;
    }
    Ok(expired)
}
