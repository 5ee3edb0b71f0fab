//! Sales over HTTP. Public (the shop front calls these, no login): checkout, the order page,
//! starting a payment. Staff: orders of an event, an order, refunds, cancelling a hold.

use super::checkout::{NewOrder, Placed, check};
use super::fulfil::complete_free;
use super::refunds::{NewRefund, record_refund, send_to_provider};
use crate::auth::{Caller, constant_time_eq};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::payments::PaymentRequest;
use crate::server::AppState;
use crate::tenancy::{Role, audit, now_ms};
use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};
use std::net::SocketAddr;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order))
        .routes(routes!(public_order))
        .routes(routes!(start_payment))
        .routes(routes!(list_orders))
        .routes(routes!(staff_order))
        .routes(routes!(refund))
        .routes(routes!(cancel))
}

/// Who sees orders (they hold customers' names and e-mails).
pub(crate) const ORDER_READERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer];
/// Who changes them.
pub(crate) const ORDER_WRITERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice];

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

fn sold_out() -> ApiError {
    ApiError::Conflict { code: "sold_out", message: "not enough tickets left for this order".into() }
}

#[utoipa::path(
    post,
    path = "/api/v1/public/events/{id}/orders",
    tag = "checkout",
    request_body = NewOrder,
    params(
        ("id" = i64, Path, description = "The event"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body get the same answer"),
    ),
    responses(
        (status = 201, description = "Pending, its tickets held until hold_expires_at (or paid at once if free). 409 sold_out when not enough are left.", body = serde_json::Value),
    ),
    security(()),
)]
async fn create_order(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(event): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let address = peer.ip().to_string();
    state.sales.limiter.check_key(&address).map_err(|_| ApiError::RateLimited { retry_after: 1 })?;
    let key = idempotency_key(&headers)?;
    let for_sale = state.sales.events.get(&state.db, event).await?;
    let hold_ms = i64::try_from(state.sales.options.hold.as_millis()).unwrap_or(i64::MAX);
    let mut order = check(&new, for_sale.org, event, for_sale.ends_at, &for_sale.types, now_ms(), hold_ms)?;
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
    match state.sales.batchers.place(&state.db, order).await? {
        Placed::Held { id, .. } if placed.total_minor == 0 => {
            complete_free(&state, org, id).await?;
            let mut tx = state.db.tenant(org).await?;
            let view = order_view(&mut tx, org, id, true).await?;
            tx.commit().await?;
            Ok((StatusCode::CREATED, Json(view)))
        }
        // Pending: answered from what was just written, without reading it back.
        Placed::Held { code, secret, created_at, .. } => Ok((
            StatusCode::CREATED,
            Json(json!({
                "code": code, "secret": secret, "status": "pending", "event_id": event, "email": placed.email,
                "name": placed.name, "currency": placed.currency, "total_minor": placed.total_minor,
                "refunded_minor": 0, "hold_expires_at": placed.hold_expires_at, "created_at": created_at,
                "paid_at": null, "channel": "online", "lines": placed.lines, "tickets": [],
            })),
        )),
        Placed::SoldOut { .. } => Err(sold_out()),
        Placed::Duplicate => {
            let key = key.ok_or_else(|| anyhow::anyhow!("a duplicate without an idempotency key"))?;
            replay(&state, org, event, &key, hash.as_deref())
                .await?
                .ok_or_else(|| anyhow::anyhow!("duplicate order vanished").into())
        }
    }
}

/// The answer an earlier request with the same key got, if there was one.
async fn replay(
    state: &AppState,
    org: i64,
    event: i64,
    key: &str,
    hash: Option<&str>,
) -> Result<Option<(StatusCode, Json<Value>)>, ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let row = sqlx::query("SELECT id, request_hash, status FROM orders WHERE event_id = $1 AND idempotency_key = $2 AND org_id = $3")
        .bind(event)
        .bind(key)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    if row.get::<Option<String>, _>(1).as_deref() != hash {
        return Err(key_reused());
    }
    if row.get::<String, _>(2) == "rejected" {
        return Err(sold_out());
    }
    let view = order_view(&mut tx, org, row.get(0), true).await?;
    tx.commit().await?;
    Ok(Some((StatusCode::CREATED, Json(view))))
}

/// An order as JSON: lines, tickets (with their signed text), and — for its owner's link —
/// the secret.
async fn order_view(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    id: i64,
    with_secret: bool,
) -> Result<Value, ApiError> {
    let o = sqlx::query(
        "SELECT code, secret, status, event_id, email, name, currency, total_minor, refunded_minor, hold_expires_at, \
         created_at, paid_at, channel FROM orders WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let lines: Vec<Value> = sqlx::query(
        "SELECT t.number, t.name, l.quantity, l.unit_price_minor FROM order_lines l JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE l.order_id = $1 ORDER BY t.number",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| json!({"ticket_type": r.get::<i64,_>(0), "name": r.get::<String,_>(1), "quantity": r.get::<i64,_>(2), "unit_price_minor": r.get::<i64,_>(3)}))
    .collect();
    let tickets: Vec<Value> = sqlx::query(
        "SELECT k.serial, t.number, k.status, k.text, k.price_minor FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id \
         WHERE k.order_id = $1 ORDER BY k.serial",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| json!({"serial": r.get::<i64,_>(0), "ticket_type": r.get::<i64,_>(1), "status": r.get::<String,_>(2), "text": r.get::<String,_>(3), "price_minor": r.get::<i64,_>(4)}))
    .collect();
    let mut view = json!({
        "code": o.get::<String,_>(0), "status": o.get::<String,_>(2), "event_id": o.get::<i64,_>(3),
        "email": o.get::<String,_>(4), "name": o.get::<String,_>(5), "currency": o.get::<String,_>(6),
        "total_minor": o.get::<i64,_>(7), "refunded_minor": o.get::<i64,_>(8), "hold_expires_at": o.get::<Option<i64>,_>(9),
        "created_at": o.get::<i64,_>(10), "paid_at": o.get::<Option<i64>,_>(11), "channel": o.get::<String,_>(12),
        "lines": lines, "tickets": tickets,
    });
    if with_secret {
        view["secret"] = json!(o.get::<String, _>(1));
    }
    Ok(view)
}

/// Finds an order by its code and checks the customer's secret (404 for either mistake).
pub(crate) async fn by_code_and_secret(
    state: &AppState,
    code: &str,
    secret: &str,
) -> Result<(i64, i64), ApiError> {
    let (id, org, stored) = by_code(state, code).await?;
    if !constant_time_eq(secret, &stored) {
        return Err(ApiError::NotFound);
    }
    Ok((id, org))
}

/// An order's id, organization and secret by its code (the lookup that finds the organization).
async fn by_code(state: &AppState, code: &str) -> Result<(i64, i64, String), ApiError> {
    let mut system = state.db.lookup().await?;
    let row = sqlx::query("SELECT id, org_id, secret FROM orders WHERE code = $1")
        .bind(code.to_ascii_uppercase())
        .fetch_optional(&mut *system)
        .await?
        .ok_or(ApiError::NotFound)?;
    system.commit().await?;
    Ok((row.get(0), row.get(1), row.get(2)))
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
        (status = 200, description = "The order, with its tickets once paid", body = serde_json::Value),
    ),
    security(()),
)]
async fn public_order(
    State(state): State<AppState>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (id, org) = by_code_and_secret(&state, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let view = order_view(&mut tx, org, id, true).await?;
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
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body get the same answer"),
    ),
    responses(
        (status = 201, description = "A payment at the provider: send the customer to checkout_url", body = serde_json::Value),
    ),
    security(()),
)]
async fn start_payment(
    State(state): State<AppState>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (order, org) = by_code_and_secret(&state, &code, &secret).await?;
    let key = idempotency_key(&headers)?;
    let mut tx = state.db.tenant(org).await?;
    if let Some(key) = &key {
        let existing = sqlx::query(
            "SELECT id, status, checkout_url FROM payments WHERE order_id = $1 AND idempotency_key = $2",
        )
        .bind(order)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(p) = existing {
            return Ok((
                StatusCode::CREATED,
                Json(
                    json!({"payment_id": p.get::<i64,_>(0), "status": p.get::<String,_>(1), "checkout_url": p.get::<Option<String>,_>(2)}),
                ),
            ));
        }
    }
    let o =
        sqlx::query("SELECT status, total_minor, currency, code FROM orders WHERE id = $1 AND org_id = $2")
            .bind(order)
            .bind(org)
            .fetch_one(&mut *tx)
            .await?;
    let (status, amount, currency, code): (String, i64, String, String) =
        (o.get(0), o.get(1), o.get(2), o.get(3));
    if status != "pending" || amount == 0 {
        return Err(ApiError::Conflict {
            code: "order_not_payable",
            message: format!(
                "this order is {status}; only a pending order with something to pay can be paid"
            ),
        });
    }
    let payment: i64 = sqlx::query(
        "INSERT INTO payments (org_id, order_id, method, status, amount_minor, currency, idempotency_key, created_at) \
         VALUES ($1, $2, 'online', 'created', $3, $4, $5, $6) RETURNING id",
    )
    .bind(org)
    .bind(order)
    .bind(amount)
    .bind(&currency)
    .bind(&key)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    tx.commit().await?;
    // The provider is called outside any transaction: it may take seconds.
    let base = state.public_url.trim_end_matches('/');
    let request = PaymentRequest {
        amount_minor: amount,
        currency,
        reference: format!("pay_{payment}"),
        description: format!("Order {code}"),
        webhook_url: format!("{base}{}", crate::payments::webhook::PATH),
        // Back to the buyer's order page in the shop.
        return_url: format!("{base}/shop/orders/{code}/{secret}"),
    };
    let created = state.sales.provider.create_payment(&request).await;
    let mut tx = state.db.tenant(org).await?;
    match created {
        Ok(p) => {
            sqlx::query("UPDATE payments SET status = 'pending', provider_ref = $1, checkout_url = $2 WHERE id = $3 AND status = 'created'")
                .bind(&p.id)
                .bind(&p.checkout_url)
                .bind(payment)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok((
                StatusCode::CREATED,
                Json(json!({"payment_id": payment, "status": "pending", "checkout_url": p.checkout_url})),
            ))
        }
        Err(e) => {
            tracing::warn!(payment, error = %e, "the payment provider did not create a payment");
            sqlx::query("UPDATE payments SET status = 'failed' WHERE id = $1")
                .bind(payment)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Err(ApiError::Unavailable)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderFilter {
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/orders",
    tag = "orders",
    params(
        ("id" = i64, Path, description = "The event"),
        ("status" = Option<String>, Query, description = "Only orders with this status"),
    ),
    responses(
        (status = 200, description = "The event's orders", body = serde_json::Value),
    ),
)]
async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    Query(filter): Query<OrderFilter>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ORDER_READERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, caller.org_id, event).await?; // 404 for others' events
    let rows = sqlx::query(
        "SELECT code, status, email, name, total_minor, refunded_minor, currency, created_at, channel FROM orders \
         WHERE event_id = $1 AND org_id = $2 AND ($3 = '' OR status = $3) ORDER BY id",
    )
    .bind(event)
    .bind(caller.org_id)
    .bind(filter.status.unwrap_or_default())
    .fetch_all(&mut *tx)
    .await?;
    let orders: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"code": r.get::<String,_>(0), "status": r.get::<String,_>(1), "email": r.get::<String,_>(2),
                   "name": r.get::<String,_>(3), "total_minor": r.get::<i64,_>(4), "refunded_minor": r.get::<i64,_>(5),
                   "currency": r.get::<String,_>(6), "created_at": r.get::<i64,_>(7), "channel": r.get::<String,_>(8)})
        })
        .collect();
    Ok(Json(json!({ "orders": orders })))
}

/// A staff member's view of an order of their organization (404 otherwise).
async fn staff_lookup(state: &AppState, caller: &Caller, code: &str) -> Result<i64, ApiError> {
    let (id, org, _) = by_code(state, code).await?;
    if org != caller.org_id {
        return Err(ApiError::NotFound);
    }
    Ok(id)
}

#[utoipa::path(
    get,
    path = "/api/v1/orders/{code}",
    tag = "orders",
    params(
        ("code" = String, Path, description = "The order's code"),
    ),
    responses(
        (status = 200, description = "The order with its tickets, payments and refunds", body = serde_json::Value),
    ),
)]
async fn staff_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ORDER_READERS)?;
    let id = staff_lookup(&state, &caller, &code).await?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let mut view = order_view(&mut tx, caller.org_id, id, false).await?;
    view["payments"] = sqlx::query("SELECT id, method, status, amount_minor, provider_ref, created_at, settled_at FROM payments WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| json!({"id": r.get::<i64,_>(0), "method": r.get::<String,_>(1), "status": r.get::<String,_>(2), "amount_minor": r.get::<i64,_>(3),
                        "provider_ref": r.get::<Option<String>,_>(4), "created_at": r.get::<i64,_>(5), "settled_at": r.get::<Option<i64>,_>(6)}))
        .collect();
    view["refunds"] = sqlx::query("SELECT id, amount_minor, serials, reason, status, created_by, created_at FROM refunds WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| json!({"id": r.get::<i64,_>(0), "amount_minor": r.get::<i64,_>(1), "serials": r.get::<String,_>(2), "reason": r.get::<String,_>(3),
                        "status": r.get::<String,_>(4), "created_by": r.get::<String,_>(5), "created_at": r.get::<i64,_>(6)}))
        .collect();
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// Tickets to refund; all valid ones if absent.
    #[serde(default)]
    serials: Option<Vec<u32>>,
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/refunds",
    tag = "orders",
    request_body = RefundBody,
    params(
        ("code" = String, Path, description = "The order's code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body get the same answer"),
    ),
    responses(
        (status = 201, description = "Refunded: the tickets are revoked at every gate and back on sale. Owners, admins, box office.", body = serde_json::Value),
    ),
)]
async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(ORDER_WRITERS)?;
    if body.reason.trim().is_empty() || body.reason.len() > 500 {
        return Err(ApiError::invalid("reason", "1–500 characters"));
    }
    let key = idempotency_key(&headers)?;
    let order = staff_lookup(&state, &caller, &code).await?;
    let org = caller.org_id;
    let mut tx = state.db.tenant(org).await?;
    if let Some(key) = &key {
        let done = sqlx::query("SELECT id, amount_minor, serials, status FROM refunds WHERE order_id = $1 AND idempotency_key = $2")
            .bind(order)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = done {
            return Ok((
                StatusCode::CREATED,
                Json(refund_json(r.get(0), r.get(1), &r.get::<String, _>(2), &r.get::<String, _>(3))),
            ));
        }
    }
    let status: String =
        sqlx::query("SELECT status FROM orders WHERE id = $1").bind(order).fetch_one(&mut *tx).await?.get(0);
    if status != "paid" {
        return Err(ApiError::Conflict {
            code: "order_not_paid",
            message: format!("this order is {status}: nothing to refund"),
        });
    }
    let (serials, amount, currency) = refundable(&mut tx, order, body.serials.as_deref()).await?;
    let payment: Option<i64> = sqlx::query(
        "SELECT id FROM payments WHERE order_id = $1 AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
    )
    .bind(order)
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| r.get(0));
    let actor = caller.actor();
    let refund = record_refund(
        &mut tx,
        org,
        NewRefund {
            order,
            payment,
            amount_minor: amount,
            currency: &currency,
            serials: &serials,
            reason: body.reason.trim(),
            actor: &actor,
            idempotency_key: key.as_deref(),
            provider: state.sales.provider.name(),
        },
    )
    .await?;
    audit(
        &mut tx,
        org,
        &actor,
        "order.refund",
        &format!("order:{code}"),
        json!({"serials": serials, "amount_minor": amount}),
    )
    .await?;
    tx.commit().await?;
    state.notifier.notify(org);
    send_to_provider(&state, org, refund).await;
    let mut tx = state.db.tenant(org).await?;
    let status: String = sqlx::query("SELECT status FROM refunds WHERE id = $1")
        .bind(refund)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    tx.commit().await?;
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    Ok((StatusCode::CREATED, Json(refund_json(refund, amount, &list, &status))))
}

/// The tickets a refund covers (`wanted`, or every valid one), their total and currency.
async fn refundable(
    tx: &mut Transaction<'static, Any>,
    order: i64,
    wanted: Option<&[u32]>,
) -> Result<(Vec<u32>, i64, String), ApiError> {
    let valid: Vec<(u32, i64, String)> = sqlx::query(
        "SELECT k.serial, k.price_minor, o.currency FROM tickets k JOIN orders o ON o.id = k.order_id \
         WHERE k.order_id = $1 AND k.status = 'valid' ORDER BY k.serial",
    )
    .bind(order)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .filter_map(|r| Some((u32::try_from(r.get::<i64, _>(0)).ok()?, r.get(1), r.get(2))))
    .collect();
    let serials: Vec<u32> = match wanted {
        None => valid.iter().map(|t| t.0).collect(),
        Some(wanted) => {
            if let Some(bad) = wanted.iter().find(|s| !valid.iter().any(|t| t.0 == **s)) {
                return Err(ApiError::invalid(
                    "serials",
                    format!("{bad} is not a valid ticket of this order"),
                ));
            }
            let mut wanted = wanted.to_vec();
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
    let currency = valid[0].2.clone();
    Ok((serials, amount, currency))
}

fn refund_json(id: i64, amount: i64, serials: &str, status: &str) -> Value {
    let serials: Vec<u32> = serials.split(',').filter_map(|s| s.parse().ok()).collect();
    json!({"id": id, "amount_minor": amount, "serials": serials, "status": status})
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{code}/cancel",
    tag = "orders",
    params(
        ("code" = String, Path, description = "The order's code"),
    ),
    responses(
        (status = 204, description = "Cancelled; its hold released"),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ORDER_WRITERS)?;
    let order = staff_lookup(&state, &caller, &code).await?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let done = sqlx::query("UPDATE orders SET status = 'cancelled', hold_expires_at = NULL WHERE id = $1 AND org_id = $2 AND status = 'pending'")
        .bind(order)
        .bind(caller.org_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            code: "order_not_pending",
            message: "only a pending order can be cancelled; refund a paid one".into(),
        });
    }
    super::checkout::release_hold(&mut tx, order).await?;
    audit(&mut tx, caller.org_id, &caller.actor(), "order.cancel", &format!("order:{code}"), json!({}))
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
