//! After checkout: settling payments, issuing tickets, letting unpaid holds lapse.

use super::Sales;
use super::buyer_mail::Reason as MailReason;
use super::checkout::release_hold;
use super::redeem::{self, HeldLine};
use super::store::{self, NewTicket, PaidLine, SalePart};
use crate::capacity;
use crate::crypto::MasterKey;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::events::signing_key;
use crate::payments::ledger::{self, Refs};
use crate::pricing::ticket_prices;
use crate::webhooks::EventType;
use sqlx::Connection;
use std::collections::BTreeMap;
use sync_core::ids::{SeatNumber, Serial, TicketTypeId};
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

/// A payment the provider says succeeded.
#[derive(Debug, Clone, Copy)]
pub struct Succeeded<'a> {
    /// The hub's payment.
    pub payment: i64,
    /// What the provider collected.
    pub amount_minor: i64,
    /// In what.
    pub currency: &'a str,
    /// The provider's event id, remembered in the same transaction so a replayed webhook
    /// changes nothing.
    pub webhook_event: Option<&'a str>,
}

/// Settles a payment of `org` as succeeded: ledger, order paid, tickets issued — one
/// transaction, idempotent.
pub async fn settle(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    org: i64,
    paid: Succeeded<'_>,
) -> Result<Settled, ApiError> {
    let mut tx = db.tenant(org).await?;
    if let Some(event) = paid.webhook_event
        && !store::remember_provider_event(&mut tx, event).await?
    {
        return Ok(Settled::Already);
    }
    let Some(payment) = store::payment_succeeded(&mut tx, paid.payment).await? else {
        tx.commit().await?;
        return Ok(Settled::Already);
    };
    let (amount, currency) = (paid.amount_minor, paid.currency);
    if payment.amount_minor != amount || payment.currency != currency {
        return Err(anyhow::anyhow!(
            "payment {}: provider reports {amount} {currency}, expected {} {}",
            paid.payment,
            payment.amount_minor,
            payment.currency
        )
        .into());
    }
    let order = payment.order_id;
    let event = store::event_of_order(&mut tx, order, false).await?;
    let provider = format!("psp:{}", sales.provider.name());
    let refs = Refs { order: Some(order), payment: Some(paid.payment), refund: None };
    ledger::post(
        &mut tx,
        "payment",
        refs,
        currency,
        &[(provider, amount), (ledger::revenue(event), -amount)],
    )
    .await?;
    let outcome = if pay_order(&mut tx, master, event, order).await? {
        super::buyer_mail::tickets(&mut tx, &sales.public_url, order, MailReason::Paid).await?;
        Settled::Paid
    } else {
        let refund = super::refunds::NewRefund {
            order,
            payment: Some(paid.payment),
            amount_minor: amount,
            currency,
            serials: &[],
            reason: "the reservation lapsed before payment and the tickets were sold meanwhile",
            actor: "system",
            idempotency_key: None,
            provider: sales.provider.name(),
            done_at_provider: false,
            give_back_voucher: false,
        };
        let refund = super::refunds::record_refund(&mut tx, &sales.public_url, refund).await?;
        Settled::Refunding { refund }
    };
    tx.commit().await?;
    if let Settled::Refunding { refund } = outcome {
        super::refunds::send_to_provider(db, sales, org, refund).await;
    }
    Ok(outcome)
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
    tx: &mut Tenant,
    master: &MasterKey,
    event: i64,
    order: i64,
) -> Result<bool, ApiError> {
    let lines = store::paid_lines(tx, order).await?;
    let held = redeem::lines(tx, order).await?;
    let parts = store::order_parts(tx, order).await?;
    let taken = store::parts_taken(tx, order).await?;
    let key = signing_key(tx, master, event).await?;
    let now = tx.now();
    // Hot rows from here on: vouchers, then ticket types in id order (as checkout takes them:
    // no deadlock).
    if store::mark_paid(tx, order, now, false).await? {
        redeem::redeemed(tx, &held).await?;
        let mut sold: BTreeMap<i64, i64> = taken.into_iter().collect();
        for line in &lines {
            *sold.entry(line.ticket_type_id).or_default() += line.quantity;
        }
        for (ticket_type, n) in sold {
            capacity::sell_held(tx, ticket_type, n).await?;
        }
        crate::seating::holds::sell(tx, order).await?;
    } else if !revive(tx, order, &held, &taken, now).await? {
        return Ok(false);
    }
    issue_tickets(tx, &key, event, order, &lines, &parts).await?;
    if crate::webhooks::wants(tx, EventType::OrderPaid).await? {
        let events = store::order_events(tx, &[order], true).await?;
        crate::webhooks::emit_all(tx, EventType::OrderPaid, &events).await?;
    }
    Ok(true)
}

/// Pays an order whose hold lapsed (expired or cancelled: the customer was slow) by selling its
/// tickets (and its voucher's uses) again if they are still there — each conditionally, all or
/// none (a savepoint). `false` if not.
async fn revive(
    tx: &mut Tenant,
    order: i64,
    lines: &[HeldLine],
    parts: &[(i64, i64)],
    now: i64,
) -> Result<bool, ApiError> {
    let mut again = (**tx).begin().await?;
    if !redeem::revive(&mut again, lines, parts).await?
        || !crate::seating::holds::revive(&mut again, order).await?
    {
        again.rollback().await?;
        return Ok(false);
    }
    if !store::mark_paid(&mut again, order, now, true).await? {
        again.rollback().await?;
        return Ok(false);
    }
    again.commit().await?;
    tx.seats_changed().await?; // its seats, if it has any, are sold again
    Ok(true)
}

/// Issues the tickets of `lines`: serials allocated in ticket type number order, signed with
/// `key`, inserted in one statement. Each bundle ticket is followed by its parts that are
/// tickets of their own (`parts`, each per bundle), priced 0 and marked as its parts.
async fn issue_tickets(
    tx: &mut Tenant,
    key: &EventKey,
    event: i64,
    order: i64,
    lines: &[PaidLine],
    parts: &[SalePart],
) -> Result<(), ApiError> {
    let separate = |bundle: i64| parts.iter().filter(move |p| p.bundle_type_id == bundle && p.ticket == 1);
    let count: i64 = lines
        .iter()
        .map(|l| l.quantity * (1 + separate(l.ticket_type_id).map(|p| p.quantity).sum::<i64>()))
        .sum();
    if count == 0 {
        return Ok(());
    }
    let mut by_number: Vec<&PaidLine> = lines.iter().collect();
    by_number.sort_by_key(|l| l.number);
    // The seats it chose, in plan order per ticket type: its tickets take them in turn.
    let mut seats: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for (ticket_type, seat, number) in crate::seating::holds::of_order(tx, order).await? {
        seats.entry(ticket_type).or_default().push((seat, number));
    }
    let mut serial = capacity::allocate_serials(tx, event, count).await?;
    let mut tickets = Vec::new();
    for line in by_number {
        let number = u16::try_from(line.number).map_err(anyhow::Error::from)?;
        let mut line_seats = seats.remove(&line.ticket_type_id).unwrap_or_default().into_iter();
        for price_minor in ticket_prices(line.quantity, line.unit_price_minor, line.discount_minor) {
            let bundle = serial;
            let seat = line_seats.next();
            let seat_number = seat.map(|(_, n)| u16::try_from(n).map(SeatNumber)).transpose();
            let seat_number = seat_number.map_err(anyhow::Error::from)?;
            let text = key.issue_seat(Serial(serial), TicketTypeId(number), None, seat_number).to_text();
            tickets.push(NewTicket {
                serial,
                ticket_type_id: line.ticket_type_id,
                price_minor,
                text,
                part_of: None,
                seat_id: seat.map(|(id, _)| id),
            });
            serial += 1;
            for part in separate(line.ticket_type_id) {
                let part_number = u16::try_from(part.part_number).map_err(anyhow::Error::from)?;
                for _ in 0..part.quantity {
                    let text = key.issue(Serial(serial), TicketTypeId(part_number), None).to_text();
                    let ticket_type_id = part.part_type_id;
                    tickets.push(NewTicket {
                        serial,
                        ticket_type_id,
                        price_minor: 0,
                        text,
                        part_of: Some(bundle),
                        seat_id: None,
                    });
                    serial += 1;
                }
            }
        }
    }
    store::insert_tickets(tx, event, order, &tickets).await?;
    Ok(())
}

/// Completes an order that costs nothing: paid at once, tickets issued, the buyer's
/// confirmation on its way.
pub async fn complete_free(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    org: i64,
    order: i64,
) -> Result<(), ApiError> {
    let mut tx = db.tenant(org).await?;
    let event = store::event_of_order(&mut tx, order, true).await?;
    pay_order(&mut tx, master, event, order).await?;
    super::buyer_mail::tickets(&mut tx, &sales.public_url, order, MailReason::Paid).await?;
    tx.commit().await?;
    crate::mail::kick(db);
    Ok(())
}

/// Lets holds that lapsed by now go: their orders expire and their tickets are for sale again.
/// Returns how many. Safe to run on every hub instance at once (each order expires in a
/// conditional UPDATE, once).
pub async fn expire_holds(db: &Db) -> Result<usize, ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM orders WHERE status = 'pending' AND hold_expires_at <= $1 \
             ORDER BY hold_expires_at LIMIT 1000",
            db.clock().now_ms(),
        )
        .await?;
    let mut expired = 0;
    for (order, org) in due {
        let mut tx = db.tenant(org).await?;
        if store::expire(&mut tx, order).await? {
            release_hold(&mut tx, order).await?;
            expired += 1;
        }
        tx.commit().await?;
    }
    Ok(expired)
}

/// Payments the provider collected whose webhook never reached the hub (it was down when the
/// provider sent it, or the provider gave up), found by asking the provider about every
/// payment still pending after `older_than_ms` — for three hours (the longest hold is two),
/// after which a payment nobody completed is left alone, so abandoned checkouts cost the
/// provider's rate limit little — and settled as the webhook would have: tickets, or the
/// refund of a payment too late for them. Returns how many were settled. Idempotent with the
/// webhook: whichever comes second finds the payment settled.
pub async fn recover_missed_payments(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    older_than_ms: i64,
) -> Result<usize, ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM payments WHERE status = 'pending' AND provider_ref IS NOT NULL \
             AND created_at <= $1 AND created_at > $1 - 10800000 ORDER BY id LIMIT 100",
            db.clock().now_ms() - older_than_ms,
        )
        .await?;
    let mut settled = 0;
    for (payment, org) in due {
        let mut tx = db.tenant(org).await?;
        let provider_ref = store::provider_ref(&mut tx, payment).await?;
        tx.commit().await?;
        let Some(provider_ref) = provider_ref else { continue };
        let collected = match sales.provider.collected(&provider_ref).await {
            Ok(Some(collected)) => collected,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(payment, error = %e, "could not ask the provider about a pending payment");
                continue;
            }
        };
        let paid = Succeeded {
            payment,
            amount_minor: collected.amount_minor,
            currency: &collected.currency,
            webhook_event: None,
        };
        if settle(db, master, sales, org, paid).await? != Settled::Already {
            tracing::info!(payment, "settled a payment whose webhook never came");
            settled += 1;
        }
    }
    Ok(settled)
}
