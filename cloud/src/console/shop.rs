//! The public shop, for buyers (no login): `/shop/{event}` — the checkout link organizers
//! share — and `/shop/orders/{code}/{secret}`, the buyer's order with its tickets, where the
//! payment provider sends them back. Buying goes through the public checkout API
//! (`shop.js`), with an idempotency key so a double click or a retry never buys twice.
//! With a provider whose card form runs in the hub's page (Stripe Elements), the buyer pays on
//! `/shop/orders/{code}/{secret}/pay/{payment}` (`pay.js`).
//!
//! Every page is in the buyer's language ([`shop_words::choose`]: `?lang=`, else the browser's
//! `Accept-Language`, else the event's), with times on the venue's clock; the pages work with
//! the keyboard alone and at phone width (`cloud/tests/shop.rs`).

use super::shop_words::{Words, choose, words};
use super::{PagePath, PageQuery, PageResult, render};
use crate::lang::Lang;
use crate::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::net::SocketAddr;

/// "Few left" from this many down.
const FEW: i64 = 10;
/// Most of one type in one order (what the quantity box allows).
const MOST: i64 = 20;

struct ShopType {
    number: i64,
    name: String,
    description: String,
    price: String,
    price_minor: i64,
    currency: String,
    /// Why it cannot be bought now, if it cannot.
    unavailable: Option<&'static str>,
    /// "Only 3 left", when few are.
    few: Option<String>,
    /// The most the quantity box takes.
    most: i64,
    /// Sold only with a ticket.
    addon: bool,
    /// A bundle's contents ("1 × Parking, 1 × Drinks"); empty: not a bundle.
    includes: String,
    /// Sold by seat: picked on the map, or the best available.
    seated: bool,
}

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    w: Words,
    event: i64,
    name: String,
    when: String,
    venue: String,
    /// The description, paragraph by paragraph.
    description: Vec<String>,
    organizer: String,
    terms_url: String,
    privacy_url: String,
    on_sale: bool,
    types: Vec<ShopType>,
    /// Some type is sold by seat: the page shows the live seat map.
    seated: bool,
    /// The answer to "send me my tickets again", once asked.
    again: bool,
    /// The voucher code of the shop's link.
    code: String,
    /// (code, name, chosen) of every language.
    languages: Vec<(&'static str, &'static str, bool)>,
}

/// `?lang=` on a shop page (and on the shop itself `?voucher=`: a link with a code, which
/// fills in the code and shows the hidden ticket types it opens).
#[derive(Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
    voucher: Option<String>,
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// `GET /shop/{event}`: the shop as `GET /api/v1/public/events/{id}` answers it.
pub(super) async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PagePath(event): PagePath<i64>,
    PageQuery(q): PageQuery<LangQuery>,
    headers: HeaderMap,
) -> PageResult {
    let code = q.voucher.as_deref().filter(|c| !c.trim().is_empty());
    let voucher = match code {
        Some(code) => {
            let org = crate::sales::shop_org(&state.db, event).await?;
            // An unknown code in a link is not an error page: the shop opens, and says so when
            // the buyer asks the price with it.
            crate::sales::routes::find_voucher(
                &state.db,
                &state.sales,
                org,
                event,
                Some(code),
                &peer.ip().to_string(),
            )
            .await
            .ok()
            .flatten()
        }
        None => None,
    };
    let shown = Shown { voucher: voucher.as_ref(), code: code.unwrap_or("").trim().to_owned(), again: false };
    shop_page(&state, event, q.lang.as_deref(), accept_language(&headers), shown).await
}

/// What a shop page shows beyond the event: the voucher of its link, the code typed, and the
/// answer to "send me my tickets again".
struct Shown<'a> {
    voucher: Option<&'a crate::vouchers::VoucherView>,
    code: String,
    again: bool,
}

/// The shop's "send me my tickets again" form.
#[derive(Deserialize)]
pub(super) struct Again {
    email: String,
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /shop/{event}/seats/live`: the seat map's changes as server-sent events
/// ([`crate::seating::live`]).
pub(super) async fn seats_live(
    State(state): State<AppState>,
    PagePath(event): PagePath<i64>,
) -> axum::response::Response {
    match crate::seating::live::stream(state.db.clone(), state.seat_snapshots.clone(), event).await {
        Ok(sse) => sse.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /shop/{event}/tickets-again`: as `POST /api/v1/public/events/{id}/tickets-again`,
/// answered with the shop page saying the same words whatever the address.
pub(super) async fn again(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PagePath(event): PagePath<i64>,
    headers: HeaderMap,
    axum::Form(asked): axum::Form<Again>,
) -> PageResult {
    crate::sales::resend::send_again(&state.db, &state.sales, &peer.ip().to_string(), event, &asked.email)
        .await?;
    let shown = Shown { voucher: None, code: String::new(), again: true };
    shop_page(&state, event, asked.lang.as_deref(), accept_language(&headers), shown).await
}

async fn shop_page(
    state: &AppState,
    event: i64,
    asked: Option<&str>,
    accept: Option<&str>,
    shown: Shown<'_>,
) -> PageResult {
    let shop = crate::sales::shop_event(&state.db, event, shown.voucher).await?;
    let lang = choose(asked, accept, shop.language);
    let w = words(lang);
    let now = state.clock.now_ms();
    let types = shop
        .ticket_types
        .into_iter()
        .map(|t| {
            let unavailable = if t.available <= 0 {
                Some(w.sold_out)
            } else if t.sales_start.is_some_and(|s| now < s) {
                Some(w.not_yet)
            } else if t.sales_end.is_some_and(|e| now >= e) {
                Some(w.closed)
            } else {
                None
            };
            ShopType {
                price: lang.money(t.price_minor, &t.currency),
                few: (unavailable.is_none() && t.available <= FEW).then(|| w.few_left(t.available)),
                most: t.available.clamp(0, MOST),
                unavailable,
                price_minor: t.price_minor,
                addon: t.addon.0,
                includes: t
                    .includes
                    .iter()
                    .map(|p| format!("{} × {}", p.quantity, p.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                seated: t.seated,
                currency: t.currency,
                number: t.number,
                name: t.name,
                description: t.description,
            }
        })
        .collect::<Vec<ShopType>>();
    let seated = types.iter().any(|t| t.seated);
    let venue = [shop.venue_name.as_str(), shop.venue_address.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let description =
        shop.description.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
    Ok(render(&ShopPage {
        languages: Lang::ALL.iter().map(|l| (l.code(), l.name(), *l == lang)).collect(),
        when: lang.time_range(shop.starts_at, shop.ends_at, &shop.time_zone),
        event,
        name: shop.name,
        venue,
        description,
        organizer: shop.organizer,
        terms_url: shop.terms_url,
        privacy_url: shop.privacy_url,
        on_sale: shop.on_sale,
        types,
        seated,
        again: shown.again,
        code: shown.code,
        w,
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
    w: Words,
    code: String,
    secret: String,
    event_name: String,
    when: String,
    status: String,
    name: String,
    email: String,
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
    PageQuery(q): PageQuery<LangQuery>,
    headers: HeaderMap,
) -> PageResult {
    let (id, org) = crate::sales::by_code_and_secret(&state.db, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let o = crate::sales::order_view(&mut tx, id, false).await?;
    let facts = crate::sales::store::mail_facts(&mut tx, id).await?;
    tx.commit().await?;
    let event_lang = facts.as_ref().and_then(|f| Lang::parse(&f.language)).unwrap_or_default();
    let lang = choose(q.lang.as_deref(), accept_language(&headers), event_lang);
    let when =
        facts.as_ref().map_or_else(String::new, |f| lang.time_range(f.starts_at, f.ends_at, &f.time_zone));
    let tickets = o
        .tickets
        .into_iter()
        .map(|t| BoughtTicket {
            serial: t.serial,
            // "Seat · Stalls · Row F · Seat 12" for a ticket sold by seat.
            type_name: match t.seat {
                Some(seat) => format!("{} · {seat}", t.ticket_type_name),
                None => t.ticket_type_name,
            },
            valid: t.status == "valid",
        })
        .collect();
    Ok(render(&OrderPage {
        w: words(lang),
        refunded: (o.refunded_minor > 0).then(|| lang.money(o.refunded_minor, &o.currency)),
        total: lang.money(o.total_minor, &o.currency),
        code: o.code,
        secret,
        when,
        status: o.status.as_str().to_owned(),
        name: o.name,
        email: o.email,
        event_name: o.event_name,
        tickets,
    }))
}

#[derive(Template)]
#[template(path = "shop_pay.html")]
struct PayPage {
    w: Words,
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
    PageQuery(q): PageQuery<LangQuery>,
    headers: HeaderMap,
) -> PageResult {
    let (id, org) = crate::sales::by_code_and_secret(&state.db, &code, &secret).await?;
    let order_page = format!("/shop/orders/{code}/{secret}");
    let Some(form) = state.sales.provider.card_form() else {
        return Ok(Redirect::to(&order_page).into_response());
    };
    let mut tx = state.db.tenant(org).await?;
    let o = crate::sales::order_view(&mut tx, id, false).await?;
    let found = crate::sales::store::payment_for_page(&mut tx, id, payment).await?;
    let facts = crate::sales::store::mail_facts(&mut tx, id).await?;
    tx.commit().await?;
    let client_secret = match found {
        Some((status, Some(client_secret)))
            if o.status.as_str() == "pending" && (status == "pending" || status == "failed") =>
        {
            client_secret
        }
        _ => return Ok(Redirect::to(&order_page).into_response()),
    };
    let event_lang = facts.as_ref().and_then(|f| Lang::parse(&f.language)).unwrap_or_default();
    let lang = choose(q.lang.as_deref(), accept_language(&headers), event_lang);
    Ok(render(&PayPage {
        w: words(lang),
        total: lang.money(o.total_minor, &o.currency),
        event_name: o.event_name,
        code: o.code,
        publishable_key: form.publishable_key,
        script_url: form.script_url,
        client_secret,
        order_page,
    }))
}
