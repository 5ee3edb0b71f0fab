//! `/events/{id}/orders` (search) and `/orders/{code}` (an order with its tickets, payments,
//! refunds and check-ins; refunds through `POST /api/v1/orders/{code}/refunds`).

use super::{Layout, PagePath, PageQuery, PageResult, Staff, local_time, money, render};
use crate::sales::{ORDER_READERS, ORDER_WRITERS, OrderStatus};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// Most orders one search shows.
const SHOWN: i64 = 200;

struct OrderRow {
    code: String,
    name: String,
    email: String,
    status: String,
    total: String,
    refunded: String,
    channel: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    event: i64,
    event_name: String,
    query: String,
    orders: Vec<OrderRow>,
    more: bool,
}

#[derive(Deserialize)]
pub(super) struct Search {
    q: Option<String>,
}

/// `GET /events/{id}/orders?q=`: by name or e-mail (any part, any case), order code, or the
/// serial of one of its tickets.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
    PageQuery(search): PageQuery<Search>,
) -> PageResult {
    staff.0.require(ORDER_READERS)?;
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    // A NUL cannot be searched for (PostgreSQL refuses it in a comparison).
    let query = search.q.unwrap_or_default().replace('\0', "").trim().to_owned();
    let detail = super::event(&state, org, event).await?;
    let zone = detail.time_zone;
    // LIKE's wildcards in what was typed are meant literally.
    let like =
        format!("%{}%", query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let serial = query.trim_start_matches('#').parse::<i64>().unwrap_or(-1);
    let mut tx = state.db.tenant(org).await?;
    let rows = crate::sales::store::search(
        &mut tx,
        event,
        &query,
        &like,
        &query.to_ascii_uppercase(),
        serial,
        SHOWN + 1,
    )
    .await?;
    tx.commit().await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > SHOWN;
    let orders = rows
        .into_iter()
        .take(usize::try_from(SHOWN).unwrap_or(usize::MAX))
        .map(|o| OrderRow {
            status: o.status.as_str().to_owned(),
            total: money(o.total_minor, &o.currency),
            refunded: money(o.refunded_minor, &o.currency),
            channel: o.channel.label(),
            created: local_time(Some(o.created_at), &zone),
            code: o.code,
            name: o.name,
            email: o.email,
        })
        .collect();
    Ok(render(&OrdersPage { layout, event, event_name: detail.name, query, orders, more }))
}

struct TicketRow {
    serial: i64,
    type_name: String,
    price: String,
    valid: bool,
    /// Came with a bundle's ticket: refunded with it, not alone.
    part: bool,
    checkins: Vec<String>,
}

struct PaymentRow {
    method: String,
    status: String,
    amount: String,
    at: String,
}

struct RefundRow {
    amount: String,
    serials: String,
    reason: String,
    status: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    code: String,
    event: i64,
    event_name: String,
    status: String,
    name: String,
    email: String,
    total: String,
    refunded: String,
    channel: &'static str,
    created: String,
    tickets: Vec<TicketRow>,
    payments: Vec<PaymentRow>,
    refunds: Vec<RefundRow>,
    /// Chargebacks: "90.00 EUR · fraudulent · 2 Dec 21:30".
    disputes: Vec<String>,
    /// Texts to the buyer's phone: "+31612345678 by sms · sent · 2 Dec 21:30", with why not.
    texts: Vec<String>,
    can_refund: bool,
    /// The voucher it used.
    voucher: Option<String>,
    /// Its lines' discounts: "Day × 4 · Four or more: −40.00 EUR".
    discounts: Vec<String>,
    /// The seats it chose: "Stalls · Row F · Seat 12".
    seats: Vec<String>,
    /// Its valid seated tickets, which staff may move: (serial, "Stalls · Row F · Seat 12").
    movable: Vec<(i64, String)>,
    /// Free seats to move to: (plan id, "Stalls · Row F · Seat 12"), the first 5,000.
    free_seats: Vec<(String, String)>,
}

/// The order's valid seated tickets (serial, seat) and the event's free seats (plan id, seat),
/// the first 5,000, for the "move to another seat" forms.
async fn seat_moves(
    state: &AppState,
    staff: &Staff,
    o: &crate::sales::OrderView,
) -> Result<(Vec<(i64, String)>, Vec<(String, String)>), crate::error::ApiError> {
    let movable: Vec<(i64, String)> = o
        .tickets
        .iter()
        .filter(|t| t.status == "valid")
        .filter_map(|t| Some((t.serial, t.seat.clone()?)))
        .collect();
    if movable.is_empty() {
        return Ok((movable, Vec::new()));
    }
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let free = crate::seating::store::seats(&mut tx, o.event_id, Some("free")).await?;
    tx.commit().await?;
    Ok((movable, free.into_iter().take(5_000).map(|s| (s.seat_key.clone(), s.describe())).collect()))
}

/// An order's discounts, line by line: "Day × 4 · Four or more: −40.00 EUR".
fn discount_lines(lines: &[crate::sales::LineView], currency: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.discount_minor > 0)
        .map(|l| {
            format!(
                "{} × {} · {}: −{}",
                l.name,
                l.quantity,
                l.discount_reason,
                money(l.discount_minor, currency)
            )
        })
        .collect()
}

/// An order's chargebacks, in words.
fn dispute_lines(view: &crate::sales::StaffOrderView, zone: &str) -> Vec<String> {
    view.disputes
        .iter()
        .map(|d| {
            let reason = d.reason.replace('_', " ");
            format!(
                "{} · {reason} · {}",
                money(d.amount_minor, &d.currency),
                local_time(Some(d.created_at), zone)
            )
        })
        .collect()
}

/// An order's texts and what became of each, in words.
fn text_lines(view: &crate::sales::StaffOrderView, zone: &str) -> Vec<String> {
    view.texts
        .iter()
        .map(|t| {
            let why = t
                .last_error
                .as_deref()
                .filter(|_| t.state != "sent")
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            format!(
                "{} by {} · {}{why} · {}",
                t.recipient,
                t.via,
                t.state,
                local_time(Some(t.created_at), zone)
            )
        })
        .collect()
}

/// `GET /orders/{code}`: the order as the API's `GET /api/v1/orders/{code}` answers it.
pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(code): PagePath<String>,
) -> PageResult {
    staff.0.require(ORDER_READERS)?;
    let layout = staff.layout(&state, "events").await?;
    let view = crate::sales::staff_order_by_code(&state.db, &staff.0, &code).await?;
    let zone = view.time_zone.clone();
    let (disputes, texts) = (dispute_lines(&view, &zone), text_lines(&view, &zone));
    let o = view.order;
    let currency = o.currency.clone();
    let discounts = discount_lines(&o.lines, &currency);
    let tickets = o
        .tickets
        .iter()
        .map(|t| TicketRow {
            serial: t.serial,
            type_name: match (t.part_of, &t.seat) {
                (Some(bundle), _) => format!("{} (with ticket {bundle})", t.ticket_type_name),
                (None, Some(seat)) => format!("{} · {seat}", t.ticket_type_name),
                (None, None) => t.ticket_type_name.clone(),
            },
            price: money(t.price_minor, &currency),
            valid: t.status == "valid",
            part: t.part_of.is_some(),
            // "21:30 · admitted · entry (Main gate, North 1)"
            checkins: view
                .checkins
                .iter()
                .filter(|c| c.serial == t.serial)
                .map(|c| {
                    format!(
                        "{} · {} · {} ({}, {})",
                        local_time(Some(c.at), &zone),
                        c.verdict.replace('_', " "),
                        c.direction,
                        c.gate,
                        c.device
                    )
                })
                .collect(),
        })
        .collect();
    let payments = view
        .payments
        .into_iter()
        .map(|p| PaymentRow {
            method: p.method.replace('_', " "),
            amount: money(p.amount_minor, &currency),
            at: local_time(Some(p.created_at), &zone),
            status: p.status,
        })
        .collect();
    let refunds = view
        .refunds
        .into_iter()
        .map(|r| RefundRow {
            amount: money(r.amount_minor, &currency),
            serials: r.serials.to_string(),
            at: local_time(Some(r.created_at), &zone),
            reason: r.reason,
            status: r.status,
            by: r.created_by,
        })
        .collect();
    let can_refund = ORDER_WRITERS.contains(&staff.0.role) && o.status == OrderStatus::Paid;
    let (movable, free_seats) =
        if can_refund { seat_moves(&state, &staff, &o).await? } else { Default::default() };
    Ok(render(&OrderPage {
        movable,
        free_seats,
        disputes,
        texts,
        discounts,
        voucher: o.voucher.clone(),
        seats: o.seats.clone(),
        can_refund,
        layout,
        event: o.event_id,
        event_name: o.event_name,
        status: o.status.as_str().to_owned(),
        name: o.name,
        email: o.email,
        total: money(o.total_minor, &currency),
        refunded: money(o.refunded_minor, &currency),
        channel: o.channel.label(),
        created: local_time(Some(o.created_at), &zone),
        code: o.code,
        tickets,
        payments,
        refunds,
    }))
}
