//! The public shop, for buyers (no login): `/shop/{event}` — the checkout link organizers
//! share — and `/shop/orders/{code}/{secret}`, the buyer's order with its tickets, where the
//! payment provider sends them back. Buying goes through the public checkout API
//! (`shop.js`), with an idempotency key so a double click or a retry never buys twice.
//! With a provider whose card form runs in the hub's page (Stripe Elements), the buyer pays on
//! `/shop/orders/{code}/{secret}/pay/{payment}` (`pay.js`).

use super::{PagePath, PageResult, local_time, money, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect};
use std::net::SocketAddr;

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
    /// The answer to "send me my tickets again", once asked.
    again: Option<&'static str>,
}

/// `GET /shop/{event}`: the shop as `GET /api/v1/public/events/{id}` answers it.
pub(super) async fn page(State(state): State<AppState>, PagePath(event): PagePath<i64>) -> PageResult {
    shop_page(&state, event, None).await
}

/// The shop's "send me my tickets again" form.
#[derive(serde::Deserialize)]
pub(super) struct Again {
    email: String,
}

/// `POST /shop/{event}/tickets-again`: as `POST /api/v1/public/events/{id}/tickets-again`,
/// answered with the shop page saying the same words whatever the address.
pub(super) async fn again(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PagePath(event): PagePath<i64>,
    axum::Form(asked): axum::Form<Again>,
) -> PageResult {
    crate::sales::resend::send_again(&state.db, &state.sales, &peer.ip().to_string(), event, &asked.email)
        .await?;
    shop_page(&state, event, Some(crate::sales::resend::AGAIN_MESSAGE)).await
}

async fn shop_page(state: &AppState, event: i64, again: Option<&'static str>) -> PageResult {
    let shop = crate::sales::shop_event(&state.db, event).await?;
    let now = state.clock.now_ms();
    let types = shop
        .ticket_types
        .into_iter()
        .map(|t| ShopType {
            price: money(t.price_minor, &t.currency),
            unavailable: if t.available <= 0 {
                Some("Sold out")
            } else if t.sales_start.is_some_and(|s| now < s) {
                Some("Not on sale yet")
            } else if t.sales_end.is_some_and(|e| now >= e) {
                Some("Sales have closed")
            } else {
                None
            },
            number: t.number,
            name: t.name,
        })
        .collect();
    Ok(render(&ShopPage {
        event,
        when: local_time(Some(shop.starts_at), &shop.time_zone),
        name: shop.name,
        on_sale: shop.on_sale,
        types,
        again,
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
    /// What was paid back, if anything ("90.00 EUR").
    refunded: Option<String>,
    tickets: Vec<BoughtTicket>,
}

/// `GET /shop/orders/{code}/{secret}`: the order as `GET /api/v1/public/orders/{code}/{secret}`
/// answers it.
pub(super) async fn order(
    State(state): State<AppState>,
    PagePath((code, secret)): PagePath<(String, String)>,
) -> PageResult {
    let (id, org) = crate::sales::by_code_and_secret(&state.db, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let o = crate::sales::order_view(&mut tx, id, false).await?;
    tx.commit().await?;
    let tickets = o
        .tickets
        .into_iter()
        .map(|t| BoughtTicket { serial: t.serial, type_name: t.ticket_type_name, valid: t.status == "valid" })
        .collect();
    Ok(render(&OrderPage {
        refunded: (o.refunded_minor > 0).then(|| money(o.refunded_minor, &o.currency)),
        total: money(o.total_minor, &o.currency),
        code: o.code,
        secret,
        status: o.status.as_str().to_owned(),
        name: o.name,
        event_name: o.event_name,
        tickets,
    }))
}

#[derive(Template)]
#[template(path = "shop_pay.html")]
struct PayPage {
    event_name: String,
    code: String,
    total: String,
    publishable_key: String,
    script_url: String,
    client_secret: String,
    order_page: String,
}

/// `GET /shop/orders/{code}/{secret}/pay/{payment}`: the card form of a provider that runs in
/// the hub's page. An order no longer waiting for payment, a payment that is not this order's
/// or has nothing to confirm, or a provider with a hosted page: the order page instead.
pub(super) async fn pay(
    State(state): State<AppState>,
    PagePath((code, secret, payment)): PagePath<(String, String, i64)>,
) -> PageResult {
    let (id, org) = crate::sales::by_code_and_secret(&state.db, &code, &secret).await?;
    let order_page = format!("/shop/orders/{code}/{secret}");
    let Some(form) = state.sales.provider.card_form() else {
        return Ok(Redirect::to(&order_page).into_response());
    };
    let mut tx = state.db.tenant(org).await?;
    let o = crate::sales::order_view(&mut tx, id, false).await?;
    let found = crate::sales::store::payment_for_page(&mut tx, id, payment).await?;
    tx.commit().await?;
    let client_secret = match found {
        Some((status, Some(client_secret)))
            if o.status.as_str() == "pending" && (status == "pending" || status == "failed") =>
        {
            client_secret
        }
        _ => return Ok(Redirect::to(&order_page).into_response()),
    };
    Ok(render(&PayPage {
        total: money(o.total_minor, &o.currency),
        event_name: o.event_name,
        code: o.code,
        publishable_key: form.publishable_key,
        script_url: form.script_url,
        client_secret,
        order_page,
    }))
}
