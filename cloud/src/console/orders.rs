//! `/events/{id}/orders` (search) and `/orders/{code}` (an order with its tickets, payments,
//! refunds and check-ins; refunds through `POST /api/v1/orders/{code}/refunds`).

use super::{Layout, PageResult, Staff, local_time, money, render};
use crate::error::ApiError;
use crate::sales::{ORDER_READERS, ORDER_WRITERS};
use crate::server::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use sqlx::Row;

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

fn channel(c: &str) -> &'static str {
    if c == "box_office" { "Box office" } else { "Online" }
}

/// `GET /events/{id}/orders?q=`: by name or e-mail (any part, any case), order code, or the
/// serial of one of its tickets.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(event): Path<i64>,
    Query(search): Query<Search>,
) -> PageResult {
    staff.0.require(ORDER_READERS)?;
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let query = search.q.unwrap_or_default().trim().to_owned();
    let mut tx = state.db.tenant(org).await?;
    let event_row = sqlx::query("SELECT name, time_zone FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let zone: String = event_row.get(1);
    // LIKE's wildcards in what was typed are meant literally.
    let like =
        format!("%{}%", query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let serial = query.trim_start_matches('#').parse::<i64>().unwrap_or(-1);
    let rows = sqlx::query(
        "SELECT o.code, o.name, o.email, o.status, o.total_minor, o.refunded_minor, o.currency, o.channel, o.created_at \
         FROM orders o WHERE o.event_id = $1 AND o.org_id = $2 AND ($3 = '' \
            OR LOWER(o.name) LIKE $4 ESCAPE '\\' OR LOWER(o.email) LIKE $4 ESCAPE '\\' OR o.code = $5 \
            OR EXISTS (SELECT 1 FROM tickets k WHERE k.order_id = o.id AND k.event_id = $1 AND k.serial = $6)) \
         ORDER BY o.id DESC LIMIT $7",
    )
    .bind(event)
    .bind(org)
    .bind(&query)
    .bind(&like)
    .bind(query.to_ascii_uppercase())
    .bind(serial)
    .bind(SHOWN + 1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > SHOWN;
    let orders = rows
        .iter()
        .take(usize::try_from(SHOWN).unwrap_or(usize::MAX))
        .map(|r| {
            let currency: String = r.get(6);
            OrderRow {
                code: r.get(0),
                name: r.get(1),
                email: r.get(2),
                status: r.get(3),
                total: money(r.get(4), &currency),
                refunded: money(r.get(5), &currency),
                channel: channel(&r.get::<String, _>(7)),
                created: local_time(Some(r.get(8)), &zone),
            }
        })
        .collect();
    Ok(render(&OrdersPage { layout, event, event_name: event_row.get(0), query, orders, more }))
}

struct TicketRow {
    serial: i64,
    type_name: String,
    price: String,
    valid: bool,
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
    can_refund: bool,
}

/// An order's tickets, each with its check-ins ("21:30 · admitted · entry (Main gate, North 1)").
async fn tickets_with_checkins(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    event: i64,
    id: i64,
    zone: &str,
    currency: &str,
) -> Result<Vec<TicketRow>, ApiError> {
    let mut tickets: Vec<TicketRow> = sqlx::query(
        "SELECT k.serial, t.name, k.price_minor, k.status FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id \
         WHERE k.order_id = $1 ORDER BY k.serial",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| TicketRow {
        serial: r.get(0),
        type_name: r.get(1),
        price: money(r.get(2), currency),
        valid: r.get::<String, _>(3) == "valid",
        checkins: Vec::new(),
    })
    .collect();
    for c in sqlx::query(
        "SELECT c.serial, c.at, c.verdict, c.direction, COALESCE(g.name, ''), COALESCE(d.name, '') FROM checkins c \
         LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate LEFT JOIN devices d ON d.id = c.origin \
         WHERE c.event_id = $1 AND c.serial IN (SELECT serial FROM tickets WHERE order_id = $2) ORDER BY c.at",
    )
    .bind(event)
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    {
        let serial: i64 = c.get(0);
        if let Some(t) = tickets.iter_mut().find(|t| t.serial == serial) {
            t.checkins.push(format!(
                "{} · {} · {} ({}, {})",
                local_time(Some(c.get(1)), zone),
                c.get::<String, _>(2).replace('_', " "),
                c.get::<String, _>(3),
                c.get::<String, _>(4),
                c.get::<String, _>(5)
            ));
        }
    }
    Ok(tickets)
}

/// `GET /orders/{code}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
) -> PageResult {
    staff.0.require(ORDER_READERS)?;
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let mut tx = state.db.tenant(org).await?;
    let o = sqlx::query(
        "SELECT o.id, o.code, o.status, o.name, o.email, o.total_minor, o.refunded_minor, o.currency, o.channel, \
                o.created_at, e.id, e.name, e.time_zone \
         FROM orders o JOIN events e ON e.id = o.event_id WHERE o.code = $1 AND o.org_id = $2",
    )
    .bind(code.to_ascii_uppercase())
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let (id, currency, event, zone): (i64, String, i64, String) = (o.get(0), o.get(7), o.get(10), o.get(12));
    let tickets = tickets_with_checkins(&mut tx, event, id, &zone, &currency).await?;
    let payments = sqlx::query(
        "SELECT method, status, amount_minor, created_at FROM payments WHERE order_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| PaymentRow {
        method: r.get::<String, _>(0).replace('_', " "),
        status: r.get(1),
        amount: money(r.get(2), &currency),
        at: local_time(Some(r.get(3)), &zone),
    })
    .collect();
    let refunds = sqlx::query(
        "SELECT amount_minor, serials, reason, status, created_by, created_at FROM refunds WHERE order_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| RefundRow {
        amount: money(r.get(0), &currency),
        serials: r.get(1),
        reason: r.get(2),
        status: r.get(3),
        by: r.get(4),
        at: local_time(Some(r.get(5)), &zone),
    })
    .collect();
    tx.commit().await?;
    let status: String = o.get(2);
    Ok(render(&OrderPage {
        can_refund: ORDER_WRITERS.contains(&staff.0.role) && status == "paid",
        layout,
        code: o.get(1),
        event,
        event_name: o.get(11),
        status,
        name: o.get(3),
        email: o.get(4),
        total: money(o.get(5), &currency),
        refunded: money(o.get(6), &currency),
        channel: channel(&o.get::<String, _>(8)),
        created: local_time(Some(o.get(9)), &zone),
        tickets,
        payments,
        refunds,
    }))
}
