//! Sales over HTTP. Public (the shop front calls these, no login): the shop's event, checkout,
//! the order page, starting a payment. Staff: orders of an event, an order, refunds,
//! cancelling a hold.

use super::checkout::{NewOrder, Placed, Why, check};
use super::fulfil::complete_free;
use super::refunds::{NewRefund, record_refund, send_to_provider};
use super::views::{
    OrderStatus, OrderView, Orders, PaymentStarted, RefundMade, ShopEvent, ShopPart, StaffOrderView,
};
use super::{Sales, store};
use crate::auth::Caller;
use crate::codes::constant_time_eq;
use crate::crypto::MasterKey;
use crate::db::{Db, Notifier, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::payments::PaymentRequest;
use crate::query::ApiQuery;
use crate::state::{AppState, PublicUrl};
use crate::tenancy::Role;
use crate::vouchers::VoucherView;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shop))
        .routes(routes!(create_order))
        .routes(routes!(quote))
        .routes(routes!(public_order))
        .routes(routes!(start_payment))
        .routes(routes!(list_orders))
        .routes(routes!(staff_order))
        .routes(routes!(refund))
        .routes(routes!(revoke))
        .routes(routes!(cancel))
}

/// Who sees orders (they hold customers' names and e-mails).
pub const ORDER_READERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer];
/// Who changes them.
pub const ORDER_WRITERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice];

/// The `Idempotency-Key` header, if sent: 1–200 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().unwrap_or("");
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid("Idempotency-Key", "1–200 visible ASCII characters"));
    }
    Ok(Some(key.to_owned()))
}

fn key_reused() -> ApiError {
    ApiError::invalid("Idempotency-Key", "this key was used for a different request")
}

#[utoipa::path(
    get,
    path = "/api/v1/public/events/{id}",
    tag = "checkout",
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 200, description = "The event's shop: its ticket types, prices and what is left", body = ShopEvent),
    ),
    security(()),
)]
async fn shop(State(db): State<Db>, ApiPath(event): ApiPath<i64>) -> Result<Json<ShopEvent>, ApiError> {
    Ok(Json(shop_event(&db, event, None).await?))
}

/// The organization selling `event` (404 if there is no such event).
pub async fn shop_org(db: &Db, event: i64) -> Result<i64, ApiError> {
    let mut lookup = db.lookup().await?;
    let found = store::event_for_sale(&mut lookup, event).await?.ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    Ok(found.org_id)
}

/// The event's shop (the API and the shop page); 404 for a draft. Hidden ticket types are
/// left out, but for those `voucher` opens.
pub async fn shop_event(db: &Db, event: i64, voucher: Option<&VoucherView>) -> Result<ShopEvent, ApiError> {
    let mut lookup = db.lookup().await?;
    let found = store::event_for_sale(&mut lookup, event).await?.ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    if found.status == "draft" {
        return Err(ApiError::NotFound);
    }
    let mut tx = db.tenant(found.org_id).await?;
    let opens = |number: i64| voucher.is_some_and(|v| v.unlocks_hidden.0 && v.terms().scope.covers(number));
    let mut ticket_types = store::shop_types(&mut tx, event).await?;
    let bundles = crate::events::bundles::of_event(&mut tx, event).await?;
    let left: BTreeMap<i64, (i64, String)> =
        ticket_types.iter().map(|t| (t.number, (t.available, t.name.clone()))).collect();
    for t in &mut ticket_types {
        // A bundle is left as long as it and each of its parts are.
        for part in bundles.get(&t.number).into_iter().flatten() {
            let (available, name) = left.get(&i64::from(part.ticket_type)).cloned().unwrap_or_default();
            t.available = t.available.min(available / i64::from(part.quantity));
            t.includes.push(ShopPart { quantity: i64::from(part.quantity), name });
        }
    }
    ticket_types.retain(|t| !t.hidden.0 || opens(t.number));
    let seated = crate::events::store::seated_numbers(&mut tx, event).await?;
    for t in &mut ticket_types {
        t.seated = seated.contains(&t.number);
    }
    let about = crate::events::store::about(&mut tx, event).await?.unwrap_or_default();
    let organizer = crate::settings::organization(&mut tx).await?;
    tx.commit().await?;
    Ok(ShopEvent {
        id: event,
        name: found.name,
        on_sale: found.status == "on_sale" || found.status == "live",
        starts_at: found.starts_at,
        ends_at: found.ends_at,
        time_zone: found.time_zone,
        language: about.language,
        description: about.description,
        venue_name: about.venue_name,
        venue_address: about.venue_address,
        organizer: organizer.name,
        terms_url: organizer.terms_url,
        privacy_url: organizer.privacy_url,
        ticket_types,
    })
}

/// The header parameter every retry-safe operation takes.
const IDEMPOTENCY_KEY: &str =
    "Makes a retry safe: the same key and body get the same answer (1–200 visible ASCII characters)";

#[utoipa::path(
    post,
    path = "/api/v1/public/events/{id}/orders",
    tag = "checkout",
    request_body = NewOrder,
    params(
        ("id" = i64, Path, description = "The event"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY, pattern = "^[!-~]{1,200}$"),
    ),
    responses(
        (status = 201, description = "Pending, its tickets held until hold_expires_at (or paid at once if free)", body = OrderView),
        (status = 409, description = "Not enough tickets left (`sold_out`), or not on sale (`not_on_sale`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many checkouts from this address: wait Retry-After seconds", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "Too busy right now: retry (with the same Idempotency-Key)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn create_order(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(master): State<MasterKey>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(event): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let address = peer.ip().to_string();
    sales.limiter.check_key(&address).map_err(|_| ApiError::RateLimited { retry_after: 1 })?;
    let key = idempotency_key(&headers)?;
    let for_sale = sales.events.get(&db, event).await?;
    let hold_ms = i64::try_from(sales.options.hold.as_millis()).unwrap_or(i64::MAX);
    let now = db.clock().now_ms();
    let voucher = find_voucher(&db, &sales, for_sale.org, event, new.voucher.as_deref(), &address).await?;
    let mut order = check(&new, &for_sale, event, voucher.as_ref(), now, hold_ms)?;
    let org = order.org;
    if let Some(key) = &key {
        let body = serde_json::to_vec(&new).map_err(anyhow::Error::from)?;
        order.request_hash =
            Some(hex::encode(Sha256::new().chain_update(event.to_le_bytes()).chain_update(body).finalize()));
        order.idempotency_key = Some(key.clone());
    }
    // A retry is recognised by the batch itself (the key is unique per event), so the common
    // first attempt costs no extra lookup.
    let hash = order.request_hash.clone();
    let placed = order.clone();
    match sales.batchers.place(&db, order).await? {
        // A price tier moved its price: answered as stored (and completed if now free).
        Placed::Held { id, repriced: true, .. } => {
            let view = stored_view(&db, org, id).await?;
            if view.total_minor > 0 {
                return Ok((StatusCode::CREATED, Json(view)));
            }
            complete_free(&db, &master, &sales, org, id).await?;
            Ok((StatusCode::CREATED, Json(stored_view(&db, org, id).await?)))
        }
        Placed::Held { id, .. } if placed.total_minor == 0 => {
            complete_free(&db, &master, &sales, org, id).await?;
            Ok((StatusCode::CREATED, Json(stored_view(&db, org, id).await?)))
        }
        // Pending: answered from what was just written (with the seats it got), without
        // reading it back.
        Placed::Held { code, secret, created_at, seats, .. } => Ok((
            StatusCode::CREATED,
            Json(OrderView {
                code,
                secret: Some(secret),
                status: OrderStatus::Pending,
                event_id: event,
                event_name: for_sale.name.clone(),
                email: placed.email,
                name: placed.name,
                currency: placed.currency,
                total_minor: placed.total_minor,
                refunded_minor: 0,
                hold_expires_at: Some(placed.hold_expires_at),
                created_at,
                paid_at: None,
                channel: super::views::Channel::Online,
                voucher: placed.voucher_code.clone(),
                lines: placed.lines.iter().map(super::checkout::Line::view).collect(),
                tickets: Vec::new(),
                seats,
            }),
        )),
        Placed::Refused { why, .. } => Err(why.problem()),
        Placed::Duplicate => {
            let key = key.ok_or_else(|| anyhow::anyhow!("a duplicate without an idempotency key"))?;
            replay(&db, org, event, &key, hash.as_deref())
                .await?
                .ok_or_else(|| anyhow::anyhow!("duplicate order vanished").into())
        }
    }
}

/// An order about to be placed: what the shop asks the price of.
#[derive(Clone, Debug, Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// What to buy.
    #[schema(min_items = 1, max_items = 20)]
    pub lines: Vec<super::checkout::NewLine>,
    /// A voucher code.
    #[serde(default)]
    #[schema(pattern = "^[ ]*[A-Za-z0-9][A-Za-z0-9-]{2,31}[ ]*$")]
    pub voucher: Option<String>,
}

/// What an order would cost now, line by line: the price checkout charges if it is placed
/// now (an early-bird price can end, and a voucher be used up, in between).
#[derive(Clone, Debug, serde::Serialize, ToSchema)]
pub struct Quote {
    /// ISO 4217 code.
    pub currency: String,
    /// The whole order, discounts taken off.
    pub total_minor: i64,
    /// Each line with its list price, discount and reason.
    pub lines: Vec<super::views::LineView>,
    /// The voucher applied (in capitals), if one was given.
    pub voucher: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/public/events/{id}/quote",
    tag = "checkout",
    request_body = QuoteRequest,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 200, description = "What the order would cost now, with each line's discount and why", body = Quote),
        (status = 409, description = "Not on sale (`not_on_sale`), the voucher is not valid now (`voucher_not_valid`), or it has fewer uses left than the order needs (`voucher_used_up`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many unknown codes from this address: wait Retry-After seconds", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn quote(
    State(db): State<Db>,
    State(sales): State<Sales>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(event): ApiPath<i64>,
    ApiJson(asked): ApiJson<QuoteRequest>,
) -> Result<Json<Quote>, ApiError> {
    Ok(Json(price_quote(&db, &sales, event, &asked, &peer.ip().to_string()).await?))
}

/// What `asked` would cost at `event` now (the API and the shop page); `address` is the
/// client's, for the voucher attempts.
pub async fn price_quote(
    db: &Db,
    sales: &Sales,
    event: i64,
    asked: &QuoteRequest,
    address: &str,
) -> Result<Quote, ApiError> {
    let for_sale = sales.events.get(db, event).await?;
    let voucher = find_voucher(db, sales, for_sale.org, event, asked.voucher.as_deref(), address).await?;
    let priced =
        super::checkout::price_lines(&asked.lines, &for_sale, voucher.as_ref(), db.clock().now_ms())?;
    // Said now rather than at checkout (where it is decided): fewer uses left than it needs.
    if let (Some(v), Some(used)) = (&voucher, priced.voucher)
        && used.uses > v.uses_left()
    {
        return Err(super::checkout::Why::VoucherUsedUp.problem());
    }
    Ok(Quote {
        currency: priced.currency,
        total_minor: priced.total_minor,
        lines: priced.lines.iter().map(super::checkout::Line::view).collect(),
        voucher: priced.voucher_code,
    })
}

/// The voucher `code` names for `event`, if a code was given. An unknown code costs the
/// client's `address` one of its attempts ([`crate::vouchers::attempts`]); an address out of
/// attempts is answered 429 whatever it enters.
pub async fn find_voucher(
    db: &Db,
    sales: &Sales,
    org: i64,
    event: i64,
    code: Option<&str>,
    address: &str,
) -> Result<Option<VoucherView>, ApiError> {
    let Some(code) = code else { return Ok(None) };
    let now = db.clock().now_ms();
    sales.attempts.check(address, now).map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let found = match crate::vouchers::normalize(code) {
        Some(code) => {
            if let Some(cached) = sales.vouchers.get(event, &code) {
                Some(cached)
            } else {
                let mut tx = db.tenant(org).await?;
                let found = crate::vouchers::store::by_code(&mut tx, event, &code).await?.map(Arc::new);
                tx.commit().await?;
                if let Some(v) = &found {
                    sales.vouchers.put(event, Arc::clone(v));
                }
                found
            }
        }
        None => None,
    };
    let Some(found) = found else {
        sales.attempts.failed(address, now);
        return Err(ApiError::invalid("voucher", "there is no such code for this event"));
    };
    Ok(Some(Arc::unwrap_or_clone(found)))
}

/// The answer an earlier request with the same key got, if there was one.
async fn replay(
    db: &Db,
    org: i64,
    event: i64,
    key: &str,
    hash: Option<&str>,
) -> Result<Option<(StatusCode, Json<OrderView>)>, ApiError> {
    let mut tx = db.tenant(org).await?;
    let Some(earlier) = store::by_idempotency_key(&mut tx, event, key).await? else { return Ok(None) };
    if earlier.request_hash.as_deref() != hash {
        return Err(key_reused());
    }
    if earlier.status == "rejected" {
        return Err(Why::parse(earlier.rejected_reason.as_deref()).problem());
    }
    let view = order_view(&mut tx, earlier.id, true).await?;
    tx.commit().await?;
    Ok(Some((StatusCode::CREATED, Json(view))))
}

/// Order `id` of `org` as its buyer sees it, read in a transaction of its own.
async fn stored_view(db: &Db, org: i64, id: i64) -> Result<OrderView, ApiError> {
    let mut tx = db.tenant(org).await?;
    let view = order_view(&mut tx, id, true).await?;
    tx.commit().await?;
    Ok(view)
}

/// An order with its lines and tickets — and, for its buyer's link, the secret.
pub async fn order_view(tx: &mut Tenant, id: i64, with_secret: bool) -> Result<OrderView, ApiError> {
    Ok(stored_order(tx, id, with_secret).await?.view)
}

/// [`order_view`], with the venue's time zone.
async fn stored_order(tx: &mut Tenant, id: i64, with_secret: bool) -> Result<store::StoredOrder, ApiError> {
    let mut order = store::order(tx, id).await?.ok_or(ApiError::NotFound)?;
    order.view.tickets = store::tickets(tx, id).await?;
    order.view.seats = crate::seating::holds::described(tx, id).await?;
    order.view.secret = with_secret.then(|| order.secret.clone());
    Ok(order)
}

/// An order as staff see it: with payments, refunds and check-ins (the API and the console).
pub async fn staff_order_view(tx: &mut Tenant, id: i64) -> Result<StaffOrderView, ApiError> {
    let store::StoredOrder { view: order, time_zone, .. } = stored_order(tx, id, false).await?;
    Ok(StaffOrderView {
        time_zone,
        payments: store::payments(tx, id).await?,
        refunds: store::refunds(tx, id).await?,
        disputes: store::disputes(tx, id).await?,
        checkins: store::checkins(tx, order.event_id, id).await?,
        texts: crate::texts::store::of_order(tx, id).await?,
        order,
    })
}

/// Finds an order by its code and checks the customer's secret (404 for either mistake):
/// its id and organization.
pub async fn by_code_and_secret(db: &Db, code: &str, secret: &str) -> Result<(i64, i64), ApiError> {
    let found = by_code(db, code).await?;
    if !constant_time_eq(secret, &found.secret) {
        return Err(ApiError::NotFound);
    }
    Ok((found.id, found.org_id))
}

/// An order by its code (the lookup that finds the organization).
async fn by_code(db: &Db, code: &str) -> Result<store::OrderKey, ApiError> {
    if !crate::checks::lookupable(code, 64) {
        return Err(ApiError::NotFound);
    }
    let mut lookup = db.lookup().await?;
    let found = store::by_code(&mut lookup, &code.to_ascii_uppercase()).await?.ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    Ok(found)
}

#[utoipa::path(
    get,
    path = "/api/v1/public/orders/{code}/{secret}",
    tag = "checkout",
    params(
        ("code" = String, Path, description = "The order's code"),
        ("secret" = String, Path, description = "The order's secret (from the confirmation)"),
    ),
    responses(
        (status = 200, description = "The order, with its tickets once paid", body = OrderView),
    ),
    security(()),
)]
async fn public_order(
    State(db): State<Db>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
) -> Result<Json<OrderView>, ApiError> {
    let (id, org) = by_code_and_secret(&db, &code, &secret).await?;
    let mut tx = db.tenant(org).await?;
    let view = order_view(&mut tx, id, true).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[utoipa::path(
    post,
    path = "/api/v1/public/orders/{code}/{secret}/payments",
    tag = "checkout",
    params(
        ("code" = String, Path, description = "The order's code"),
        ("secret" = String, Path, description = "The order's secret (from the confirmation)"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY, pattern = "^[!-~]{1,200}$"),
    ),
    responses(
        (status = 201, description = "A payment at the provider: send the customer to checkout_url", body = PaymentStarted),
        (status = 409, description = "The order is not pending, or costs nothing (`order_not_payable`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The payment provider did not answer: retry", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn start_payment(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(public_url): State<PublicUrl>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PaymentStarted>), ApiError> {
    let (order, org) = by_code_and_secret(&db, &code, &secret).await?;
    let key = idempotency_key(&headers)?;
    let mut tx = db.tenant(org).await?;
    if let Some(key) = &key
        && let Some(p) = store::payment_by_key(&mut tx, order, key).await?
    {
        return Ok((
            StatusCode::CREATED,
            Json(PaymentStarted {
                payment_id: p.id,
                status: p.status,
                checkout_url: p.checkout_url,
                client_secret: p.client_secret,
            }),
        ));
    }
    let o = store::payable(&mut tx, order).await?.ok_or(ApiError::NotFound)?;
    if o.status != "pending" || o.total_minor == 0 {
        return Err(ApiError::Conflict {
            code: "order_not_payable",
            message: format!(
                "this order is {}; only a pending order with something to pay can be paid",
                o.status
            ),
        });
    }
    let payment = store::insert_payment(&mut tx, order, o.total_minor, &o.currency, key.as_deref()).await?;
    tx.commit().await?;
    // The provider is called outside any transaction: it may take seconds.
    let base = public_url.base();
    let request = PaymentRequest {
        amount_minor: o.total_minor,
        currency: o.currency,
        reference: format!("pay_{payment}"),
        description: format!("Order {}", o.code),
        webhook_url: format!("{base}{}", super::provider_webhook::PATH),
        // Back to the buyer's order page in the shop.
        return_url: format!("{base}/shop/orders/{}/{secret}", o.code),
        payment_page_url: format!("{base}/shop/orders/{}/{secret}/pay/{payment}", o.code),
    };
    let created = sales.provider.create_payment(&request).await;
    let mut tx = db.tenant(org).await?;
    match created {
        Ok(p) => {
            store::payment_created(&mut tx, payment, &p.id, &p.checkout_url, p.client_secret.as_deref())
                .await?;
            tx.commit().await?;
            Ok((
                StatusCode::CREATED,
                Json(PaymentStarted {
                    payment_id: payment,
                    status: "pending".into(),
                    checkout_url: Some(p.checkout_url),
                    client_secret: p.client_secret,
                }),
            ))
        }
        Err(e) => {
            tracing::warn!(payment, error = %e, "the payment provider did not create a payment");
            store::payment_failed(&mut tx, payment).await?;
            tx.commit().await?;
            Err(ApiError::Unavailable)
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OrderFilter {
    /// Only orders with this status.
    #[param(inline)]
    status: Option<StatusFilter>,
    /// Orders per page (1 to 1,000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// The page after the order with this code (the last of the previous page); 404 if the
    /// event has no such order.
    starting_after: Option<String>,
}

/// An order status to filter by.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum StatusFilter {
    Pending,
    Paid,
    Rejected,
    Expired,
    Cancelled,
}

impl StatusFilter {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/orders",
    tag = "orders",
    params(("id" = i64, Path, description = "The event"), OrderFilter),
    responses(
        (status = 200, description = "A page of the event's orders, oldest first", body = Orders),
    ),
)]
async fn list_orders(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<OrderFilter>,
) -> Result<Json<Orders>, ApiError> {
    caller.require(ORDER_READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?; // 404 for others' events
    let limit = filter.limit.unwrap_or(100);
    crate::checks::range("limit", limit, 1, 1000)?;
    let after = match &filter.starting_after {
        // An order nobody has is 404, as everywhere in the API.
        Some(code) => store::order_id_of_event(&mut tx, event, code).await?.ok_or(ApiError::NotFound)?,
        None => 0,
    };
    let status = filter.status.map(StatusFilter::as_str);
    let mut orders = store::orders_of_event(&mut tx, event, status, after, limit + 1).await?;
    tx.commit().await?;
    let has_more = orders.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    orders.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Json(Orders { orders, has_more }))
}

/// A staff member's view of an order of their organization (404 otherwise).
pub(super) async fn staff_lookup(db: &Db, caller: &Caller, code: &str) -> Result<i64, ApiError> {
    let found = by_code(db, code).await?;
    if found.org_id != caller.org_id {
        return Err(ApiError::NotFound);
    }
    Ok(found.id)
}

/// Order `code` of the caller's organization as staff see it (the API and the console).
pub async fn staff_order_by_code(db: &Db, caller: &Caller, code: &str) -> Result<StaffOrderView, ApiError> {
    let id = staff_lookup(db, caller, code).await?;
    let mut tx = db.tenant(caller.org_id).await?;
    let view = staff_order_view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(view)
}

#[utoipa::path(
    get,
    path = "/api/v1/orders/{code}",
    tag = "orders",
    params(("code" = String, Path, description = "The order's code")),
    responses(
        (status = 200, description = "The order with its tickets, payments, refunds and check-ins", body = StaffOrderView),
    ),
)]
async fn staff_order(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<StaffOrderView>, ApiError> {
    caller.require(ORDER_READERS)?;
    Ok(Json(staff_order_by_code(&db, &caller, &code).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// Tickets to refund (valid tickets of this order); all valid ones if absent.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 10_000)]
    serials: Option<Vec<u32>>,
    /// Why, for the record.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    reason: String,
    /// Give the revoked tickets' voucher uses back, so the code may be used again (default:
    /// no — a used code stays used).
    #[serde(default)]
    give_back_voucher: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/refunds",
    tag = "orders",
    request_body = RefundBody,
    params(
        ("code" = String, Path, description = "The order's code"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY, pattern = "^[!-~]{1,200}$"),
    ),
    responses(
        (status = 201, description = "Refunded: the tickets are revoked at every gate and back on sale. Owners, admins, box office.", body = RefundMade),
        (status = 409, description = "Not paid (`order_not_paid`), nothing left to refund (`nothing_to_refund`), or a ticket refunded already or changed meanwhile (`ticket_not_refundable`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn refund(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<(StatusCode, Json<RefundMade>), ApiError> {
    cancel_tickets(&db, &sales, &notifier, &caller, &code, &headers, body, Money::Back).await
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/revocations",
    tag = "orders",
    request_body = RefundBody,
    params(
        ("code" = String, Path, description = "The order's code"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY, pattern = "^[!-~]{1,200}$"),
    ),
    responses(
        (status = 201, description = "Cancelled without paying anything back (the money went another way: a chargeback took it): the tickets are revoked at every gate and back on sale. Owners, admins, box office.", body = RefundMade),
        (status = 409, description = "Not paid (`order_not_paid`), nothing left to cancel (`nothing_to_refund`), or a ticket cancelled already or changed meanwhile (`ticket_not_refundable`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn revoke(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<(StatusCode, Json<RefundMade>), ApiError> {
    cancel_tickets(&db, &sales, &notifier, &caller, &code, &headers, body, Money::Kept).await
}

/// Whether cancelling tickets pays their price back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Money {
    /// A refund: the price goes back through the payment.
    Back,
    /// A revocation: nothing is paid back (a chargeback took the money already).
    Kept,
}

/// Cancels tickets of order `code`: revoked at every gate, back on sale, and (a refund) their
/// price paid back. One idempotency key, one cancellation.
#[allow(clippy::too_many_arguments)] // the handlers' extracted parts, passed on as they are
async fn cancel_tickets(
    db: &Db,
    sales: &Sales,
    notifier: &Notifier,
    caller: &Caller,
    code: &str,
    headers: &HeaderMap,
    body: RefundBody,
    money: Money,
) -> Result<(StatusCode, Json<RefundMade>), ApiError> {
    caller.require(ORDER_WRITERS)?;
    crate::checks::note("reason", &body.reason, 500)?;
    if body.serials.as_ref().is_some_and(|s| s.is_empty() || s.len() > 10_000) {
        return Err(ApiError::invalid("serials", "1–10000 serials, or none for every valid ticket"));
    }
    let key = idempotency_key(headers)?;
    let order = staff_lookup(db, caller, code).await?;
    let mut tx = db.tenant(caller.org_id).await?;
    if let Some(key) = &key
        && let Some(done) = store::refund_by_key(&mut tx, order, key).await?
    {
        let serials = super::views::Serials::try_from(done.serials).map_err(anyhow::Error::from)?.0;
        return Ok((
            StatusCode::CREATED,
            Json(RefundMade { id: done.id, amount_minor: done.amount_minor, serials, status: done.status }),
        ));
    }
    let o = store::payable(&mut tx, order).await?.ok_or(ApiError::NotFound)?;
    if o.status != "paid" {
        return Err(ApiError::Conflict {
            code: "order_not_paid",
            message: format!("this order is {}: nothing to refund", o.status),
        });
    }
    let (serials, price) = refundable(&mut tx, order, body.serials.as_deref()).await?;
    let amount = if money == Money::Back { price } else { 0 };
    let payment = store::succeeded_payment(&mut tx, order).await?;
    let actor = caller.actor();
    let new = NewRefund {
        order,
        payment,
        amount_minor: amount,
        currency: &o.currency,
        serials: &serials,
        reason: body.reason.trim(),
        actor: &actor,
        idempotency_key: key.as_deref(),
        provider: sales.provider.name(),
        done_at_provider: false,
        give_back_voucher: body.give_back_voucher,
    };
    let refund = record_refund(&mut tx, &sales.public_url, new).await?;
    let action = if money == Money::Back { "order.refund" } else { "order.revoke" };
    tx.audit(&actor, action, &format!("order:{code}"), json!({"serials": serials, "amount_minor": amount}))
        .await?;
    tx.commit_and_notify(notifier).await?;
    crate::mail::kick(db);
    send_to_provider(db, sales, caller.org_id, refund).await;
    let mut tx = db.tenant(caller.org_id).await?;
    let status = store::refund_status(&mut tx, refund).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(RefundMade { id: refund, amount_minor: amount, serials, status })))
}

/// The tickets a refund covers (`wanted`, or every valid one) and their total. A ticket of
/// this order refunded already is a conflict with its state (409, as for a second refund of
/// the whole order); a serial that is no ticket of this order is refused beside the field (422).
/// A bundle's ticket brings its parts that are tickets of their own (they cost nothing apart);
/// such a part alone is refused (422): its bundle's ticket is refunded instead.
async fn refundable(
    tx: &mut Tenant,
    order: i64,
    wanted: Option<&[u32]>,
) -> Result<(Vec<u32>, i64), ApiError> {
    let tickets = store::tickets(tx, order).await?;
    let valid: Vec<(u32, i64)> = tickets
        .iter()
        .filter(|t| t.status == "valid")
        .filter_map(|t| Some((u32::try_from(t.serial).ok()?, t.price_minor)))
        .collect();
    let serials: Vec<u32> = match wanted {
        None => valid.iter().map(|t| t.0).collect(),
        Some(wanted) => {
            if let Some(bad) = wanted.iter().find(|s| !valid.iter().any(|t| t.0 == **s)) {
                if tickets.iter().any(|t| t.serial == i64::from(*bad)) {
                    return Err(ApiError::Conflict {
                        code: "ticket_not_refundable",
                        message: format!("ticket {bad} is refunded already"),
                    });
                }
                return Err(ApiError::invalid(
                    "serials",
                    format!("{bad} is not a valid ticket of this order"),
                ));
            }
            if let Some((part, bundle)) = tickets.iter().find_map(|t| {
                let bundle = t.part_of?;
                (wanted.contains(&u32::try_from(t.serial).ok()?)
                    && !wanted.contains(&u32::try_from(bundle).ok()?))
                .then_some((t.serial, bundle))
            }) {
                return Err(ApiError::invalid(
                    "serials",
                    format!(
                        "ticket {part} came with ticket {bundle} (a bundle): refund that one, its parts go with it"
                    ),
                ));
            }
            let parts = tickets.iter().filter(|t| t.status == "valid").filter_map(|t| {
                let bundle = u32::try_from(t.part_of?).ok()?;
                if wanted.contains(&bundle) { u32::try_from(t.serial).ok() } else { None }
            });
            let mut wanted: Vec<u32> = wanted.iter().copied().chain(parts).collect();
            wanted.sort_unstable();
            wanted.dedup();
            wanted
        }
    };
    if serials.is_empty() {
        return Err(ApiError::Conflict {
            code: "nothing_to_refund",
            message: "every ticket of this order is already refunded".into(),
        });
    }
    let amount: i64 = valid.iter().filter(|t| serials.contains(&t.0)).map(|t| t.1).sum();
    Ok((serials, amount))
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/cancel",
    tag = "orders",
    params(("code" = String, Path, description = "The order's code")),
    responses(
        (status = 204, description = "Cancelled; its hold released"),
        (status = 409, description = "Only a pending order can be cancelled (`order_not_pending`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn cancel(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ORDER_WRITERS)?;
    let order = staff_lookup(&db, &caller, &code).await?;
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::cancel(&mut tx, order).await? {
        return Err(ApiError::Conflict {
            code: "order_not_pending",
            message: "only a pending order can be cancelled; refund a paid one".into(),
        });
    }
    super::checkout::release_hold(&mut tx, order).await?;
    tx.audit(&caller.actor(), "order.cancel", &format!("order:{code}"), json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
