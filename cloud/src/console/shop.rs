//! The public shop, for buyers (no login): `/shop/{event}` — the checkout link organizers
//! share — and `/shop/orders/{code}/{secret}`, the buyer's order with its tickets, where the
//! payment provider sends them back. Buying goes through the public checkout API
//! (`shop.js`), with an idempotency key so a double click or a retry never buys twice.

use super::{PageResult, local_time, money, render};
use crate::error::ApiError;
use crate::server::AppState;
use crate::tenancy::now_ms;
use askama::Template;
use axum::extract::{Path, State};
use sqlx::Row;

struct ShopType {
    number: i64,
    name: String,
    price: String,
    /// Why it cannot be bought now, if it cannot.
    unavailable: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    event: i64,
    name: String,
    when: String,
    on_sale: bool,
    types: Vec<ShopType>,
}

/// `GET /shop/{event}`.
pub(super) async fn page(State(state): State<AppState>, Path(event): Path<i64>) -> PageResult {
    let mut system = state.db.lookup().await?;
    let row = sqlx::query("SELECT org_id, name, status, starts_at, time_zone FROM events WHERE id = $1")
        .bind(event)
        .fetch_optional(&mut *system)
        .await?
        .ok_or(ApiError::NotFound)?;
    system.commit().await?;
    let (org, status): (i64, String) = (row.get(0), row.get(2));
    if status == "draft" {
        return Err(ApiError::NotFound.into());
    }
    let now = now_ms();
    let mut tx = state.db.tenant(org).await?;
    let types = sqlx::query(
        "SELECT number, name, price_minor, currency, capacity - sold - held - leased, sales_start, sales_end \
         FROM ticket_types WHERE event_id = $1 ORDER BY number",
    )
    .bind(event)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let (left, start, end): (i64, Option<i64>, Option<i64>) = (r.get(4), r.get(5), r.get(6));
        ShopType {
            number: r.get(0),
            name: r.get(1),
            price: money(r.get(2), &r.get::<String, _>(3)),
            unavailable: if left <= 0 {
                Some("Sold out")
            } else if start.is_some_and(|s| now < s) {
                Some("Not on sale yet")
            } else if end.is_some_and(|e| now >= e) {
                Some("Sales have closed")
            } else {
                None
            },
        }
    })
    .collect();
    tx.commit().await?;
    Ok(render(&ShopPage {
        event,
        name: row.get(1),
        when: local_time(Some(row.get(3)), &row.get::<String, _>(4)),
        on_sale: status == "on_sale" || status == "live",
        types,
    }))
}

struct BoughtTicket {
    serial: i64,
    type_name: String,
    valid: bool,
}

#[derive(Template)]
#[template(path = "shop_order.html")]
struct OrderPage {
    code: String,
    secret: String,
    event_name: String,
    status: String,
    name: String,
    total: String,
    tickets: Vec<BoughtTicket>,
}

/// `GET /shop/orders/{code}/{secret}`.
pub(super) async fn order(
    State(state): State<AppState>,
    Path((code, secret)): Path<(String, String)>,
) -> PageResult {
    let (id, org) = crate::sales::by_code_and_secret(&state, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let o = sqlx::query(
        "SELECT o.code, o.status, o.name, o.total_minor, o.currency, e.name FROM orders o JOIN events e ON e.id = o.event_id \
         WHERE o.id = $1 AND o.org_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_one(&mut *tx)
    .await?;
    let tickets = sqlx::query(
        "SELECT k.serial, t.name, k.status FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id \
         WHERE k.order_id = $1 ORDER BY k.serial",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| BoughtTicket { serial: r.get(0), type_name: r.get(1), valid: r.get::<String, _>(2) == "valid" })
    .collect();
    tx.commit().await?;
    Ok(render(&OrderPage {
        code: o.get(0),
        secret,
        status: o.get(1),
        name: o.get(2),
        total: money(o.get(3), &o.get::<String, _>(4)),
        event_name: o.get(5),
        tickets,
    }))
}
