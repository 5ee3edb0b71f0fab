//! Paying orders and issuing their tickets, several orders in one transaction.
//!
//! Two phases, so that the event's hot rows are locked as briefly as possible:
//!
//! 1. [`gather`], per order, touches only the order's own rows: reads its lines, its voucher
//!    uses and its bundles' parts, and marks it paid (or finds that its hold lapsed).
//! 2. [`pay`], once for the whole batch, touches the rows every checkout and settlement of the
//!    event shares — vouchers, then ticket types in id order (as checkout takes them: no
//!    deadlock), then seats, then the event's serial counter — one statement per row for all
//!    the orders, then signs and inserts their tickets. The locks are held from there to the
//!    commit, and one commit serves the batch (measured: docs/benchmarks.md, issue 24).

use super::redeem::{self, HeldLine};
use super::store::{self, NewTicket, PaidLine, SalePart};
use crate::capacity;
use crate::crypto::MasterKey;
use crate::db::Tenant;
use crate::error::ApiError;
use crate::events::signing_key;
use crate::pricing::ticket_prices;
use crate::webhooks::EventType;
use sqlx::Connection;
use std::collections::BTreeMap;
use sync_core::ids::{SeatNumber, Serial, TicketTypeId};
use sync_core::keys::EventKey;

/// An order on its way to paid, with what phase 2 needs of it.
pub(super) struct Goods {
    /// The order.
    pub(super) order: i64,
    /// Its event.
    pub(super) event: i64,
    /// `true` if it was pending and is now marked paid; `false` if its hold had lapsed (it is
    /// sold again in phase 2 if its tickets are still there).
    pub(super) marked: bool,
    lines: Vec<PaidLine>,
    held: Vec<HeldLine>,
    parts: Vec<SalePart>,
    taken: Vec<(i64, i64)>,
}

/// Phase 1 for `order` of `event`: reads what it bought and marks it paid if it is pending.
pub(super) async fn gather(tx: &mut Tenant, event: i64, order: i64) -> Result<Goods, ApiError> {
    let lines = store::paid_lines(tx, order).await?;
    let held = redeem::lines(tx, order).await?;
    let parts = store::order_parts(tx, order).await?;
    let taken = store::parts_taken(tx, order).await?;
    let now = tx.now();
    let marked = store::mark_paid(tx, order, now, false).await?;
    Ok(Goods { order, event, marked, lines, held, parts, taken })
}

/// Phase 2 for `batch`: sells what each order held, sells again what each lapsed one needs if
/// it is still there, and issues the tickets of every order paid. One result per order:
/// `false` for a lapsed order whose tickets were sold meanwhile (nothing of it is changed).
pub(super) async fn pay(tx: &mut Tenant, master: &MasterKey, batch: &[Goods]) -> Result<Vec<bool>, ApiError> {
    let now = tx.now();
    let mut keys = BTreeMap::new();
    for g in batch {
        if let std::collections::btree_map::Entry::Vacant(e) = keys.entry(g.event) {
            e.insert(signing_key(tx, master, g.event).await?);
        }
    }
    let mut paid = vec![true; batch.len()];
    if batch.iter().any(|g| !g.marked) {
        // Selling a lapsed order again takes vouchers and ticket types one order at a time:
        // lock them all first, in the order checkout does.
        lock_hot_rows(tx, batch).await?;
        for (i, g) in batch.iter().enumerate().filter(|(_, g)| !g.marked) {
            paid[i] = revive(tx, g.order, &g.held, &g.taken, now).await?;
        }
    }
    let marked: Vec<&Goods> = batch.iter().filter(|g| g.marked).collect();
    // In voucher id order, as checkout locks them: two batches cannot deadlock on two vouchers.
    let mut held: Vec<HeldLine> = marked.iter().flat_map(|g| g.held.iter().copied()).collect();
    held.sort_by_key(|l| l.voucher_id);
    redeem::redeemed(tx, &held).await?;
    let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
    for g in &marked {
        for (ticket_type, n) in &g.taken {
            *sold.entry(*ticket_type).or_default() += n;
        }
        for line in &g.lines {
            *sold.entry(line.ticket_type_id).or_default() += line.quantity;
        }
    }
    for (ticket_type, n) in sold {
        capacity::sell_held(tx, ticket_type, n).await?;
    }
    let ids: Vec<i64> = marked.iter().map(|g| g.order).collect();
    crate::seating::holds::sell_all(tx, &ids).await?;
    let issued: Vec<&Goods> = batch.iter().zip(&paid).filter(|(_, p)| **p).map(|(g, _)| g).collect();
    issue_all(tx, &keys, &issued).await?;
    if !issued.is_empty() && crate::webhooks::wants(tx, EventType::OrderPaid).await? {
        let ids: Vec<i64> = issued.iter().map(|g| g.order).collect();
        let events = store::order_events(tx, &ids, true).await?;
        crate::webhooks::emit_all(tx, EventType::OrderPaid, &events).await?;
    }
    Ok(paid)
}

/// Locks the vouchers and the ticket types `batch` uses, each kind in id order.
async fn lock_hot_rows(tx: &mut Tenant, batch: &[Goods]) -> Result<(), sqlx::Error> {
    let vouchers: std::collections::BTreeSet<i64> =
        batch.iter().flat_map(|g| g.held.iter().filter_map(|l| l.voucher_id)).collect();
    let types: std::collections::BTreeSet<i64> = batch
        .iter()
        .flat_map(|g| g.lines.iter().map(|l| l.ticket_type_id).chain(g.taken.iter().map(|t| t.0)))
        .collect();
    // One statement per row, in id order: an `IN (…)` list would lock them in the order the scan
    // meets them, which is not checkout's. (Only a batch with a lapsed order comes here: rare.)
    for (sql, ids) in [
        ("UPDATE vouchers SET held = held WHERE id = $1", vouchers),
        ("UPDATE ticket_types SET held = held WHERE id = $1", types),
    ] {
        for id in ids {
            sqlx::query(sql).bind(id).execute(&mut **tx).await?;
        }
    }
    Ok(())
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

/// Issues the tickets of `orders`: per event, the next serials (dense: allocated only here, at
/// payment, one counter update for the batch), each signed with the event's current key (read
/// before the hot rows were locked).
async fn issue_all(
    tx: &mut Tenant,
    keys: &BTreeMap<i64, EventKey>,
    orders: &[&Goods],
) -> Result<(), ApiError> {
    let mut by_event: BTreeMap<i64, Vec<&Goods>> = BTreeMap::new();
    for g in orders {
        by_event.entry(g.event).or_default().push(g);
    }
    for (event, orders) in by_event {
        let count: i64 = orders.iter().map(|g| ticket_count(&g.lines, &g.parts)).sum();
        if count == 0 {
            continue;
        }
        let key = keys.get(&event).ok_or_else(|| anyhow::anyhow!("no key read for event {event}"))?;
        let mut serial = capacity::allocate_serials(tx, event, count).await?;
        for g in orders {
            let seats = crate::seating::holds::of_order(tx, g.order).await?;
            let tickets = tickets_of(key, &g.lines, &g.parts, seats, &mut serial)?;
            if !tickets.is_empty() {
                store::insert_tickets(tx, event, g.order, &tickets).await?;
            }
        }
    }
    Ok(())
}

/// How many tickets `lines` issue: one per ticket bought, plus its bundle's parts that are
/// tickets of their own.
fn ticket_count(lines: &[PaidLine], parts: &[SalePart]) -> i64 {
    lines
        .iter()
        .map(|l| l.quantity * (1 + separate(parts, l.ticket_type_id).map(|p| p.quantity).sum::<i64>()))
        .sum()
}

/// The parts of bundle `bundle` that are tickets of their own.
fn separate(parts: &[SalePart], bundle: i64) -> impl Iterator<Item = &SalePart> {
    parts.iter().filter(move |p| p.bundle_type_id == bundle && p.ticket == 1)
}

/// The tickets of `lines`, numbered from `serial` on in ticket type number order, signed with
/// `key`. Each bundle ticket is followed by its parts that are tickets of their own, priced 0
/// and marked as its parts. `seats`: (ticket type, seat id, seat number) the order chose, in
/// plan order — its tickets take them in turn.
fn tickets_of(
    key: &EventKey,
    lines: &[PaidLine],
    parts: &[SalePart],
    seats: Vec<(i64, i64, i64)>,
    serial: &mut u32,
) -> Result<Vec<NewTicket>, ApiError> {
    let mut by_number: Vec<&PaidLine> = lines.iter().collect();
    by_number.sort_by_key(|l| l.number);
    let mut by_type: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for (ticket_type, seat, number) in seats {
        by_type.entry(ticket_type).or_default().push((seat, number));
    }
    let mut tickets = Vec::new();
    for line in by_number {
        let number = u16::try_from(line.number).map_err(anyhow::Error::from)?;
        let mut line_seats = by_type.remove(&line.ticket_type_id).unwrap_or_default().into_iter();
        for price_minor in ticket_prices(line.quantity, line.unit_price_minor, line.discount_minor) {
            let bundle = *serial;
            let seat = line_seats.next();
            let seat_number = seat.map(|(_, n)| u16::try_from(n).map(SeatNumber)).transpose();
            let seat_number = seat_number.map_err(anyhow::Error::from)?;
            let text = key.issue_seat(Serial(bundle), TicketTypeId(number), None, seat_number).to_text();
            let seat_id = seat.map(|(id, _)| id);
            tickets.push(NewTicket {
                serial: bundle,
                ticket_type_id: line.ticket_type_id,
                price_minor,
                text,
                part_of: None,
                seat_id,
            });
            *serial += 1;
            for part in separate(parts, line.ticket_type_id) {
                let part_number = u16::try_from(part.part_number).map_err(anyhow::Error::from)?;
                for _ in 0..part.quantity {
                    let text = key.issue(Serial(*serial), TicketTypeId(part_number), None).to_text();
                    let ticket_type_id = part.part_type_id;
                    tickets.push(NewTicket {
                        serial: *serial,
                        ticket_type_id,
                        price_minor: 0,
                        text,
                        part_of: Some(bundle),
                        seat_id: None,
                    });
                    *serial += 1;
                }
            }
        }
    }
    Ok(tickets)
}
