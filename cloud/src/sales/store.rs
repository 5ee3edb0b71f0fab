//! The queries of online sales: orders, their lines and tickets, payments, refunds.
//!
//! Checkout's statements are batched (one round trip places a whole batch, see
//! `checkout.rs`); the capacity counters they move are [`crate::capacity`]'s.

use super::checkout::{Line, Order, Why};
use super::views::{
    CheckinView, LineView, OrderSummary, OrderView, PaymentView, RefundView, ShopTicketType, TicketView,
};
use crate::db::{Tenant, values};
use sqlx::AnyConnection;

/// An event as checkout and the shop need it (a lookup across organizations: the buyer names
/// only the event).
#[derive(sqlx::FromRow)]
pub struct EventForSale {
    /// Its organization.
    pub org_id: i64,
    /// Its name.
    pub name: String,
    /// `draft`, `on_sale`, …
    pub status: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's time zone.
    pub time_zone: String,
}

/// A ticket type as checkout needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TypeForSale {
    /// Its row id.
    pub id: i64,
    /// Its number within the event.
    pub number: i64,
    /// Its name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Sales open.
    pub sales_start: Option<i64>,
    /// Sales close.
    pub sales_end: Option<i64>,
    /// Sold only with a voucher that opens it.
    #[sqlx(try_from = "i64")]
    pub hidden: crate::json::Flag,
    /// Sold or held when it was read (a price tier's estimate; checkout counts exactly).
    pub taken: i64,
    /// Sold only with a ticket of another type.
    #[sqlx(try_from = "i64")]
    pub addon: crate::json::Flag,
    /// A bundle's parts (empty: not a bundle).
    #[sqlx(skip)]
    pub parts: Vec<SalePart>,
    /// Sold by seat.
    #[sqlx(skip)]
    pub seated: bool,
}

/// One part of a bundle, as checkout takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SalePart {
    /// The bundle's ticket type id.
    pub bundle_type_id: i64,
    /// The part's ticket type id.
    pub part_type_id: i64,
    /// Its number within the event (what its tickets carry).
    pub part_number: i64,
    /// How many one bundle contains.
    pub quantity: i64,
    /// Issued as a ticket of its own (1) or only counted (0).
    pub ticket: i64,
}

/// The parts of every bundle of `event`.
pub async fn sale_parts(tx: &mut Tenant, event: i64) -> Result<Vec<SalePart>, sqlx::Error> {
    sqlx::query_as(
        "SELECT bp.bundle_type_id, bp.part_type_id, p.number AS part_number, bp.quantity, bp.ticket \
         FROM bundle_parts bp JOIN ticket_types t ON t.id = bp.bundle_type_id \
         JOIN ticket_types p ON p.id = bp.part_type_id WHERE t.event_id = $1 AND bp.org_id = $2 \
         ORDER BY bp.bundle_type_id, bp.part_type_id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Records what the bundles of orders took: `(order, part)`, each part per bundle.
pub async fn insert_parts(tx: &mut Tenant, parts: &[(i64, SalePart)]) -> Result<(), sqlx::Error> {
    if parts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO order_parts (order_id, org_id, bundle_type_id, part_type_id, quantity, ticket) VALUES {}",
        values(parts.len(), "(?, ?, ?, ?, ?, ?)")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (order, p) in parts {
        insert = insert
            .bind(order)
            .bind(tx.org())
            .bind(p.bundle_type_id)
            .bind(p.part_type_id)
            .bind(p.quantity)
            .bind(p.ticket);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// How many of each ticket type (id, count) the bundles of `order` took, by type id.
pub async fn parts_taken(conn: &mut AnyConnection, order: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.part_type_id, CAST(SUM(p.quantity * l.quantity) AS BIGINT) FROM order_parts p \
         JOIN order_lines l ON l.order_id = p.order_id AND l.ticket_type_id = p.bundle_type_id \
         WHERE p.order_id = $1 GROUP BY p.part_type_id ORDER BY p.part_type_id",
    )
    .bind(order)
    .fetch_all(conn)
    .await
}

/// What the bundles of `order` took (each part per bundle), by bundle and part type id.
pub async fn order_parts(conn: &mut AnyConnection, order: i64) -> Result<Vec<SalePart>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.bundle_type_id, o.part_type_id, t.number AS part_number, o.quantity, o.ticket \
         FROM order_parts o JOIN ticket_types t ON t.id = o.part_type_id WHERE o.order_id = $1 \
         ORDER BY o.bundle_type_id, o.part_type_id",
    )
    .bind(order)
    .fetch_all(conn)
    .await
}

/// An order's id, organization and secret.
#[derive(sqlx::FromRow)]
pub struct OrderKey {
    /// The order.
    pub id: i64,
    /// Its organization.
    pub org_id: i64,
    /// The buyer's secret.
    pub secret: String,
}

/// An earlier order with the same idempotency key.
#[derive(sqlx::FromRow)]
pub struct Replayed {
    /// The order.
    pub id: i64,
    /// The request it answered.
    pub request_hash: Option<String>,
    /// Its status.
    pub status: String,
    /// Why it was refused, if it was.
    pub rejected_reason: Option<String>,
}

/// What an order costs and where it stands (for paying or refunding it).
#[derive(sqlx::FromRow)]
pub struct Payable {
    /// Its code.
    pub code: String,
    /// Its status.
    pub status: String,
    /// Its event.
    pub event_id: i64,
    /// What it costs.
    pub total_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// A payment found by its idempotency key.
#[derive(sqlx::FromRow)]
pub struct KnownPayment {
    /// The payment.
    pub id: i64,
    /// Its status.
    pub status: String,
    /// Where the customer pays.
    pub checkout_url: Option<String>,
    /// What the payment page confirms it with (Stripe).
    pub client_secret: Option<String>,
}

/// A payment just settled.
#[derive(sqlx::FromRow)]
pub struct SettledPayment {
    /// Its order.
    pub order_id: i64,
    /// What the hub asked for.
    pub amount_minor: i64,
    /// In what.
    pub currency: String,
}

/// One line of an order, as paying it needs it.
#[derive(sqlx::FromRow)]
pub struct PaidLine {
    /// The ticket type's row id.
    pub ticket_type_id: i64,
    /// Its number within the event.
    pub number: i64,
    /// How many.
    pub quantity: i64,
    /// The list price of one.
    pub unit_price_minor: i64,
    /// Taken off the whole line.
    pub discount_minor: i64,
}

/// A ticket to issue.
pub struct NewTicket {
    /// Its serial.
    pub serial: u32,
    /// Its ticket type's row id.
    pub ticket_type_id: i64,
    /// What it cost.
    pub price_minor: i64,
    /// Its signed text.
    pub text: String,
    /// The serial of the bundle ticket it is a part of.
    pub part_of: Option<u32>,
    /// Its seat.
    pub seat_id: Option<i64>,
}

/// A refund recorded earlier under the same idempotency key.
#[derive(sqlx::FromRow)]
pub struct KnownRefund {
    /// The refund.
    pub id: i64,
    /// How much.
    pub amount_minor: i64,
    /// Comma-separated serials.
    pub serials: String,
    /// Its status.
    pub status: String,
}

/// A refund to record.
pub struct RefundRow<'a> {
    /// The order.
    pub order: i64,
    /// The payment the money goes back through.
    pub payment: Option<i64>,
    /// How much.
    pub amount_minor: i64,
    /// In what.
    pub currency: &'a str,
    /// Comma-separated serials.
    pub serials: &'a str,
    /// Why.
    pub reason: &'a str,
    /// `pending` or `succeeded`.
    pub status: &'a str,
    /// The client's idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// Who.
    pub created_by: &'a str,
}

// --- the shop and checkout --------------------------------------------------------------------

/// Event `id`, whoever's it is.
pub async fn event_for_sale(conn: &mut AnyConnection, id: i64) -> Result<Option<EventForSale>, sqlx::Error> {
    sqlx::query_as("SELECT org_id, name, status, starts_at, ends_at, time_zone FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The event's ticket types, by number.
pub async fn types_for_sale(tx: &mut Tenant, event: i64) -> Result<Vec<TypeForSale>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, number, name, price_minor, currency, sales_start, sales_end, hidden, sold + held AS taken, addon FROM ticket_types \
         WHERE event_id = $1 AND org_id = $2 ORDER BY number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The event's ticket types with what is left, by number.
pub async fn shop_types(tx: &mut Tenant, event: i64) -> Result<Vec<ShopTicketType>, sqlx::Error> {
    sqlx::query_as(
        "SELECT number, name, price_minor, currency, capacity - sold - held - leased - reserved AS available, sales_start, sales_end, description, hidden, addon \
         FROM ticket_types WHERE event_id = $1 AND org_id = $2 ORDER BY number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Inserts `orders` (one event's) pending, in one statement, with `codes` (code, secret) and
/// dated `now`; an idempotency key already used inserts nothing. Returns `(id, code)` of each
/// inserted.
pub async fn insert_pending(
    tx: &mut Tenant,
    event: i64,
    orders: &[Order],
    codes: &[(String, String)],
    now: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO orders (org_id, event_id, code, secret, status, channel, email, name, currency, \
         total_minor, hold_expires_at, idempotency_key, request_hash, created_at, voucher_id, phone, text_via) VALUES {} \
         ON CONFLICT (event_id, idempotency_key) DO NOTHING RETURNING id, code",
        values(orders.len(), "(?, ?, ?, ?, 'pending', 'online', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    );
    let mut insert = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for (o, (code, secret)) in orders.iter().zip(codes) {
        insert = insert
            .bind(tx.org())
            .bind(event)
            .bind(code)
            .bind(secret)
            .bind(&o.email)
            .bind(&o.name)
            .bind(&o.currency)
            .bind(o.total_minor)
            .bind(o.hold_expires_at)
            .bind(&o.idempotency_key)
            .bind(&o.request_hash)
            .bind(now)
            .bind(o.voucher.map(|v| v.id))
            .bind(&o.phone)
            .bind(o.text_via.as_str());
    }
    insert.fetch_all(&mut **tx).await
}

/// Inserts order lines `(order, its voucher, line)` in one statement: each with its list
/// price, discount, reason and voucher uses.
pub async fn insert_lines(tx: &mut Tenant, lines: &[(i64, Option<i64>, &Line)]) -> Result<(), sqlx::Error> {
    if lines.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO order_lines (order_id, org_id, ticket_type_id, quantity, unit_price_minor, discount_minor, \
         discount_reason, voucher_id, voucher_uses) VALUES {}",
        values(lines.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (order, voucher, l) in lines {
        insert = insert
            .bind(order)
            .bind(tx.org())
            .bind(l.ticket_type)
            .bind(l.quantity)
            .bind(l.unit_price_minor)
            .bind(l.discount_minor)
            .bind(&l.discount_reason)
            .bind(voucher.filter(|_| l.voucher_uses > 0))
            .bind(l.voucher_uses);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// Marks orders that were refused as rejected, with why.
pub async fn reject(tx: &mut Tenant, refused: &[(i64, Why)]) -> Result<(), sqlx::Error> {
    for why in [Why::SoldOut, Why::VoucherUsedUp, Why::VoucherBlocked, Why::SeatTaken, Why::SeatsNotTogether]
    {
        let ids: Vec<i64> = refused.iter().filter(|(_, w)| *w == why).map(|(id, _)| *id).collect();
        reject_for(tx, &ids, why).await?;
    }
    Ok(())
}

async fn reject_for(tx: &mut Tenant, ids: &[i64], why: Why) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    // Ids are numbers from the database, not input: safe to inline.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE orders SET status = 'rejected', hold_expires_at = NULL, rejected_reason = $2 WHERE id IN ({list}) AND org_id = $1"
    )))
    .bind(tx.org())
    .bind(why.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The order of `event` placed with idempotency key `key`.
pub async fn by_idempotency_key(
    tx: &mut Tenant,
    event: i64,
    key: &str,
) -> Result<Option<Replayed>, sqlx::Error> {
    sqlx::query_as("SELECT id, request_hash, status, rejected_reason FROM orders WHERE event_id = $1 AND idempotency_key = $2 AND org_id = $3")
        .bind(event)
        .bind(key)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// The order with this code, whoever's it is.
pub async fn by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<OrderKey>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id, secret FROM orders WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await
}

// --- reading orders ----------------------------------------------------------------------------

/// An order as stored: what it answers, with the buyer's secret and the venue's time zone.
pub struct StoredOrder {
    /// The order with its lines (its tickets are read apart).
    pub view: OrderView,
    /// The buyer's secret.
    pub secret: String,
    /// The venue's time zone.
    pub time_zone: String,
}

/// Order `id` with its event's name and its lines, in one query (its tickets apart: an order
/// page reads two queries, not three).
pub async fn order(tx: &mut Tenant, id: i64) -> Result<Option<StoredOrder>, sqlx::Error> {
    /// The order on every row, and one of its lines (none for an order without lines).
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        view: OrderView,
        secret: String,
        time_zone: String,
        line_type: Option<i64>,
        line_name: Option<String>,
        line_quantity: Option<i64>,
        line_price: Option<i64>,
        line_discount: Option<i64>,
        line_reason: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT o.code, o.secret, o.status, o.event_id, e.name AS event_name, o.email, o.name, o.currency, o.total_minor, \
                o.refunded_minor, o.hold_expires_at, o.created_at, o.paid_at, o.channel, e.time_zone, \
                t.number AS line_type, t.name AS line_name, l.quantity AS line_quantity, l.unit_price_minor AS line_price, \
                l.discount_minor AS line_discount, l.discount_reason AS line_reason, v.code AS voucher \
         FROM orders o JOIN events e ON e.id = o.event_id LEFT JOIN vouchers v ON v.id = o.voucher_id \
         LEFT JOIN order_lines l ON l.order_id = o.id LEFT JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE o.id = $1 AND o.org_id = $2 ORDER BY t.number",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut first = None;
    for row in rows {
        if let (Some(ticket_type), Some(name), Some(quantity), Some(unit_price_minor)) =
            (row.line_type, row.line_name, row.line_quantity, row.line_price)
        {
            lines.push(LineView {
                ticket_type,
                name,
                quantity,
                unit_price_minor,
                discount_minor: row.line_discount.unwrap_or(0),
                discount_reason: row.line_reason.unwrap_or_default(),
            });
        }
        if first.is_none() {
            first = Some(StoredOrder { view: row.view, secret: row.secret, time_zone: row.time_zone });
        }
    }
    Ok(first.map(|mut order| {
        order.view.lines = lines;
        order
    }))
}

/// The order's tickets, by serial.
pub async fn tickets(tx: &mut Tenant, order: i64) -> Result<Vec<TicketView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.serial, t.number AS ticket_type, t.name AS ticket_type_name, k.status, k.text, k.price_minor, k.part_of, \
         CASE WHEN s.id IS NULL THEN NULL ELSE s.section || ' · Row ' || s.row_label || ' · Seat ' || s.label END AS seat \
         FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id LEFT JOIN seats s ON s.id = k.seat_id \
         WHERE k.order_id = $1 AND k.org_id = $2 ORDER BY k.serial",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The order's payments, oldest first.
pub async fn payments(tx: &mut Tenant, order: i64) -> Result<Vec<PaymentView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, method, status, amount_minor, provider_ref, created_at, settled_at FROM payments \
         WHERE order_id = $1 AND org_id = $2 ORDER BY id",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The order's refunds, oldest first.
pub async fn refunds(tx: &mut Tenant, order: i64) -> Result<Vec<RefundView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, amount_minor, serials, reason, status, created_by, created_at FROM refunds \
         WHERE order_id = $1 AND org_id = $2 ORDER BY id",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Scans of the order's tickets, by time.
pub async fn checkins(tx: &mut Tenant, event: i64, order: i64) -> Result<Vec<CheckinView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.serial, c.at, c.verdict, c.direction, COALESCE(g.name, '') AS gate, COALESCE(d.name, '') AS device \
         FROM checkins c LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate LEFT JOIN devices d ON d.id = c.origin \
         WHERE c.event_id = $1 AND c.org_id = $2 AND c.serial IN (SELECT serial FROM tickets WHERE order_id = $3) ORDER BY c.at",
    )
    .bind(event)
    .bind(tx.org())
    .bind(order)
    .fetch_all(&mut **tx)
    .await
}

/// Up to `limit` orders of `event` (with `status`, if given) after order id `after`, oldest first.
pub async fn orders_of_event(
    tx: &mut Tenant,
    event: i64,
    status: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<OrderSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, status, email, name, total_minor, refunded_minor, currency, created_at, channel FROM orders \
         WHERE event_id = $1 AND org_id = $2 AND ($3 = '' OR status = $3) AND id > $4 ORDER BY id LIMIT $5",
    )
    .bind(event)
    .bind(tx.org())
    .bind(status.unwrap_or(""))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// The id of order `code` of `event`, if it is one of the event's.
pub async fn order_id_of_event(tx: &mut Tenant, event: i64, code: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM orders WHERE code = $1 AND event_id = $2 AND org_id = $3")
        .bind(code)
        .bind(event)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// Up to `limit` orders of `event` whose buyer's name or e-mail contains `like` (a LIKE
/// pattern, escaped with `\`), whose code is `code`, or with a ticket of serial `serial`;
/// newest first.
pub async fn search(
    tx: &mut Tenant,
    event: i64,
    query: &str,
    like: &str,
    code: &str,
    serial: i64,
    limit: i64,
) -> Result<Vec<OrderSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.code, o.status, o.email, o.name, o.total_minor, o.refunded_minor, o.currency, o.created_at, o.channel \
         FROM orders o WHERE o.event_id = $1 AND o.org_id = $2 AND ($3 = '' \
            OR LOWER(o.name) LIKE $4 ESCAPE '\\' OR LOWER(o.email) LIKE $4 ESCAPE '\\' OR o.code = $5 \
            OR o.id IN (SELECT k.order_id FROM tickets k WHERE k.event_id = $1 AND k.serial = $6)) \
         ORDER BY o.id DESC LIMIT $7",
    )
    .bind(event)
    .bind(tx.org())
    .bind(query)
    .bind(like)
    .bind(code)
    .bind(serial)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// A ticket's text and status.
pub async fn ticket(
    tx: &mut Tenant,
    order: i64,
    serial: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT text, status FROM tickets WHERE order_id = $1 AND serial = $2 AND org_id = $3")
        .bind(order)
        .bind(serial)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

// --- paying -----------------------------------------------------------------------------------

/// Order `id`'s cost and status.
pub async fn payable(tx: &mut Tenant, id: i64) -> Result<Option<Payable>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, status, event_id, total_minor, currency FROM orders WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The payment of `order` started with idempotency key `key`.
pub async fn payment_by_key(
    tx: &mut Tenant,
    order: i64,
    key: &str,
) -> Result<Option<KnownPayment>, sqlx::Error> {
    sqlx::query_as("SELECT id, status, checkout_url, client_secret FROM payments WHERE order_id = $1 AND idempotency_key = $2 AND org_id = $3")
        .bind(order)
        .bind(key)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// A new online payment, not yet at the provider; its id.
pub async fn insert_payment(
    tx: &mut Tenant,
    order: i64,
    amount: i64,
    currency: &str,
    key: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO payments (org_id, order_id, method, status, amount_minor, currency, idempotency_key, created_at) \
         VALUES ($1, $2, 'online', 'created', $3, $4, $5, $6) RETURNING id",
    )
    .bind(tx.org())
    .bind(order)
    .bind(amount)
    .bind(currency)
    .bind(key)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// The provider created the payment.
pub async fn payment_created(
    tx: &mut Tenant,
    id: i64,
    provider_ref: &str,
    checkout_url: &str,
    client_secret: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET status = 'pending', provider_ref = $1, checkout_url = $2, client_secret = $3 WHERE id = $4 AND org_id = $5 AND status = 'created'")
        .bind(provider_ref)
        .bind(checkout_url)
        .bind(client_secret)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Payment `id` of `order` as its payment page needs it: (status, client secret).
pub async fn payment_for_page(
    tx: &mut Tenant,
    order: i64,
    id: i64,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, client_secret FROM payments WHERE id = $1 AND order_id = $2 AND org_id = $3",
    )
    .bind(id)
    .bind(order)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The provider's reference of payment `id`.
pub async fn provider_ref(tx: &mut Tenant, id: i64) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT provider_ref FROM payments WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(tx.org())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.flatten())
}

/// The payment failed (the provider refused it, or said so later).
pub async fn payment_failed(tx: &mut Tenant, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET status = 'failed' WHERE id = $1 AND org_id = $2 AND status IN ('created', 'pending')")
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The hub's payment (and its organization) the provider calls `provider_ref` (a lookup
/// across organizations: a refund event names only the provider's payment).
pub async fn payment_by_provider_ref(
    conn: &mut AnyConnection,
    provider_ref: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id FROM payments WHERE provider_ref = $1")
        .bind(provider_ref)
        .fetch_optional(conn)
        .await
}

/// A dispute (chargeback) of an order's payment.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct DisputeView {
    /// The provider's dispute id.
    pub provider_ref: String,
    /// What the bank holds back, in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The provider's word for why (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// When the hub heard of it (Unix ms).
    pub created_at: i64,
}

/// A dispute to record (`false` if the provider's dispute id was recorded before).
pub async fn insert_dispute(
    tx: &mut Tenant,
    order: i64,
    payment: i64,
    dispute: &DisputeView,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO disputes (org_id, order_id, payment_id, provider_ref, amount_minor, currency, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (provider_ref) DO NOTHING",
    )
    .bind(tx.org())
    .bind(order)
    .bind(payment)
    .bind(&dispute.provider_ref)
    .bind(dispute.amount_minor)
    .bind(&dispute.currency)
    .bind(&dispute.reason)
    .bind(dispute.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The disputes of `order`, oldest first.
pub async fn disputes(tx: &mut Tenant, order: i64) -> Result<Vec<DisputeView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider_ref, amount_minor, currency, reason, created_at FROM disputes \
         WHERE order_id = $1 AND org_id = $2 ORDER BY id",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The order of payment `id`.
pub async fn order_of_payment(tx: &mut Tenant, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT order_id FROM payments WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// A settled payment with what the hub has refunded of it so far.
#[derive(Debug, sqlx::FromRow)]
pub struct RefundablePayment {
    /// Its order.
    pub order_id: i64,
    /// What was collected.
    pub amount_minor: i64,
    /// In what.
    pub currency: String,
    /// Refunds the hub recorded for it, done or on their way (their money is spoken for).
    pub refunded_minor: i64,
}

/// Payment `id`, if it succeeded, with the sum of its refunds (pending or done).
pub async fn refundable_payment(tx: &mut Tenant, id: i64) -> Result<Option<RefundablePayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.order_id, p.amount_minor, p.currency, \
         COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.payment_id = p.id \
                   AND r.status IN ('pending', 'succeeded')), 0) AS refunded_minor \
         FROM payments p WHERE p.id = $1 AND p.org_id = $2 AND p.status = 'succeeded'",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The organization of payment `id` with provider reference `provider_ref` (a lookup across
/// organizations: a webhook names only the payment).
pub async fn payment_org(
    conn: &mut AnyConnection,
    id: i64,
    provider_ref: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT org_id FROM payments WHERE id = $1 AND provider_ref = $2")
        .bind(id)
        .bind(provider_ref)
        .fetch_optional(conn)
        .await
}

/// Remembers a provider's event id; `false` if it was seen before.
pub async fn remember_provider_event(tx: &mut Tenant, id: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("INSERT INTO psp_events (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(tx.now())
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks payment `id` succeeded, if it was waiting — or had failed: a Stripe PaymentIntent
/// whose first card was declined stays open, and the buyer's second card succeeds on it.
pub async fn payment_succeeded(tx: &mut Tenant, id: i64) -> Result<Option<SettledPayment>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE payments SET status = 'succeeded', settled_at = $1 WHERE id = $2 AND org_id = $3 \
         AND status IN ('created', 'pending', 'failed') RETURNING order_id, amount_minor, currency",
    )
    .bind(tx.now())
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The event of order `id` (only if it is free, with `free_only`).
pub async fn event_of_order(tx: &mut Tenant, id: i64, free_only: bool) -> Result<i64, sqlx::Error> {
    let sql = if free_only {
        "SELECT event_id FROM orders WHERE id = $1 AND org_id = $2 AND total_minor = 0"
    } else {
        "SELECT event_id FROM orders WHERE id = $1 AND org_id = $2"
    };
    sqlx::query_scalar(sql).bind(id).bind(tx.org()).fetch_one(&mut **tx).await
}

/// The order's lines with their ticket types' numbers, by ticket type id.
pub async fn paid_lines(tx: &mut Tenant, order: i64) -> Result<Vec<PaidLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.ticket_type_id, t.number, l.quantity, l.unit_price_minor, l.discount_minor FROM order_lines l \
         JOIN ticket_types t ON t.id = l.ticket_type_id WHERE l.order_id = $1 ORDER BY l.ticket_type_id",
    )
    .bind(order)
    .fetch_all(&mut **tx)
    .await
}

/// Marks the order paid, if it was pending (or, with `revive`, if its hold had lapsed or it
/// was cancelled); `false` if it was neither.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    order: i64,
    now: i64,
    revive: bool,
) -> Result<bool, sqlx::Error> {
    let sql = if revive {
        "UPDATE orders SET status = 'paid', paid_at = $1, hold_expires_at = NULL WHERE id = $2 AND status IN ('expired', 'cancelled')"
    } else {
        "UPDATE orders SET status = 'paid', paid_at = $1, hold_expires_at = NULL WHERE id = $2 AND status = 'pending'"
    };
    Ok(sqlx::query(sql).bind(now).bind(order).execute(conn).await?.rows_affected() == 1)
}

/// Inserts issued tickets of `order` in one statement.
pub async fn insert_tickets(
    tx: &mut Tenant,
    event: i64,
    order: i64,
    tickets: &[NewTicket],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO tickets (org_id, event_id, serial, order_id, ticket_type_id, price_minor, text, status, issued_at, part_of, seat_id) VALUES {}",
        values(tickets.len(), "(?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?)")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for t in tickets {
        insert = insert
            .bind(tx.org())
            .bind(event)
            .bind(i64::from(t.serial))
            .bind(order)
            .bind(t.ticket_type_id)
            .bind(t.price_minor)
            .bind(&t.text)
            .bind(tx.now())
            .bind(t.part_of.map(i64::from))
            .bind(t.seat_id);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// Expires order `id` if it is still pending; `false` otherwise.
pub async fn expire(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'expired' WHERE id = $1 AND org_id = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels order `id` if it is still pending; `false` otherwise.
pub async fn cancel(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'cancelled', hold_expires_at = NULL WHERE id = $1 AND org_id = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The order's lines as (ticket type id, quantity): what its hold took.
pub async fn held(tx: &mut Tenant, order: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT ticket_type_id, quantity FROM order_lines WHERE order_id = $1 AND org_id = $2")
        .bind(order)
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

// --- refunding --------------------------------------------------------------------------------

/// The refund of `order` made with idempotency key `key`.
pub async fn refund_by_key(
    tx: &mut Tenant,
    order: i64,
    key: &str,
) -> Result<Option<KnownRefund>, sqlx::Error> {
    sqlx::query_as("SELECT id, amount_minor, serials, status FROM refunds WHERE order_id = $1 AND idempotency_key = $2 AND org_id = $3")
        .bind(order)
        .bind(key)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// The order's latest successful payment.
pub async fn succeeded_payment(tx: &mut Tenant, order: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM payments WHERE order_id = $1 AND org_id = $2 AND status = 'succeeded' ORDER BY id DESC LIMIT 1")
        .bind(order)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// A payment's method.
pub async fn payment_method(tx: &mut Tenant, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT method FROM payments WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// Records a refund; its id.
pub async fn insert_refund(tx: &mut Tenant, r: &RefundRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO refunds (org_id, order_id, payment_id, amount_minor, currency, serials, reason, status, idempotency_key, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(tx.org())
    .bind(r.order)
    .bind(r.payment)
    .bind(r.amount_minor)
    .bind(r.currency)
    .bind(r.serials)
    .bind(r.reason)
    .bind(r.status)
    .bind(r.idempotency_key)
    .bind(r.created_by)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Adds `amount` to what the order had refunded.
pub async fn add_refunded(tx: &mut Tenant, order: i64, amount: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET refunded_minor = refunded_minor + $1 WHERE id = $2 AND org_id = $3")
        .bind(amount)
        .bind(order)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Revokes the order's valid tickets with these serials; how many were.
pub async fn revoke_tickets(
    tx: &mut Tenant,
    event: i64,
    order: i64,
    serials: &[u32],
) -> Result<u64, sqlx::Error> {
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    // Serials are numbers, not input text: safe to inline.
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE tickets SET status = 'revoked', revoked_at = $1 WHERE event_id = $2 AND order_id = $3 AND org_id = $4 \
         AND status = 'valid' AND serial IN ({list})"
    )))
    .bind(tx.now())
    .bind(event)
    .bind(order)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// How many of these serials are of each ticket type: (ticket type id, count). Parts of
/// bundles are left out: they go back with their bundle's ticket (`order_parts`).
pub async fn types_of_serials(
    tx: &mut Tenant,
    event: i64,
    serials: &[u32],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT ticket_type_id, COUNT(*) FROM tickets WHERE event_id = $1 AND org_id = $2 AND serial IN ({list}) \
         AND part_of IS NULL GROUP BY ticket_type_id"
    )))
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// A pending refund's provider payment reference and amount.
pub async fn pending_refund(tx: &mut Tenant, id: i64) -> Result<Option<(Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.provider_ref, r.amount_minor FROM refunds r JOIN payments p ON p.id = r.payment_id \
         WHERE r.id = $1 AND r.org_id = $2 AND r.status = 'pending'",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The provider confirmed the refund.
pub async fn refund_succeeded(tx: &mut Tenant, id: i64, provider_ref: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refunds SET status = 'succeeded', provider_ref = $1 WHERE id = $2 AND org_id = $3")
        .bind(provider_ref)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A refund's status.
pub async fn refund_status(tx: &mut Tenant, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM refunds WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

// --- telling the buyer ----------------------------------------------------------------------

/// What the buyer's e-mails say about an order.
#[derive(sqlx::FromRow)]
pub struct MailFacts {
    /// Its code.
    pub code: String,
    /// Its secret (the order page's link).
    pub secret: String,
    /// Its status.
    pub status: String,
    /// The buyer's name.
    pub name: String,
    /// The buyer's address ('' if none was given: a door sale).
    pub email: String,
    /// ISO 4217 code.
    pub currency: String,
    /// What it cost.
    pub total_minor: i64,
    /// The event.
    pub event_id: i64,
    /// The event's name.
    pub event_name: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's IANA time zone.
    pub time_zone: String,
    /// The event's language code.
    pub language: String,
    /// Where ('' if not said).
    pub venue_name: String,
    /// Its address ('' if not said).
    pub venue_address: String,
    /// The organizer's name: who the mail is from.
    pub org_name: String,
    /// The buyer's mobile number (E.164), or "".
    pub phone: String,
    /// "sms" or "whatsapp".
    pub text_via: String,
}

/// Order `order`'s facts for the buyer's e-mails.
pub async fn mail_facts(tx: &mut Tenant, order: i64) -> Result<Option<MailFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.code, o.secret, o.status, o.name, o.email, o.currency, o.total_minor, o.event_id, e.name AS event_name, \
                e.starts_at, e.ends_at, e.time_zone, e.language, e.venue_name, e.venue_address, g.name AS org_name, \
                o.phone, o.text_via \
         FROM orders o JOIN events e ON e.id = o.event_id JOIN organizations g ON g.id = o.org_id \
         WHERE o.id = $1 AND o.org_id = $2",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Order `order`'s lines as (ticket type name, quantity), in the type's order.
pub async fn line_names(tx: &mut Tenant, order: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.name, l.quantity FROM order_lines l JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE l.order_id = $1 AND t.org_id = $2 ORDER BY t.number",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// How many tickets order `order` has: (issued, still valid).
pub async fn ticket_count(tx: &mut Tenant, order: i64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'valid' THEN 1 ELSE 0 END), 0) FROM tickets \
         WHERE order_id = $1 AND org_id = $2",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await
}

/// The paid online orders of `event` bought with `email` (any case), newest first, at most 20.
pub async fn paid_orders_of(tx: &mut Tenant, event: i64, email: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM orders WHERE event_id = $1 AND org_id = $2 AND LOWER(email) = $3 AND status = 'paid' \
         ORDER BY id DESC LIMIT 20",
    )
    .bind(event)
    .bind(tx.org())
    .bind(email.to_lowercase())
    .fetch_all(&mut **tx)
    .await
}

// --- reconciliation ---------------------------------------------------------------------------

const RECONCILABLE: &str = "SELECT p.id, o.code AS order_code, p.provider_ref, p.status, p.amount_minor, p.currency, \
        CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0) AS BIGINT) AS refunded_minor, \
        p.created_at \
     FROM payments p JOIN orders o ON o.id = p.order_id \
     WHERE p.org_id = $1 AND p.method = 'online' AND p.provider_ref IS NOT NULL";

/// The organization's online payments made since `since`, and those among `named` (the
/// provider's payment ids) made before: what reconciliation compares with the provider.
pub async fn reconcilable_payments(
    tx: &mut Tenant,
    since: i64,
    named: &[&str],
) -> Result<Vec<crate::payments::reconcile::HubPayment>, sqlx::Error> {
    let mut found: Vec<crate::payments::reconcile::HubPayment> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{RECONCILABLE} AND p.created_at >= $2 ORDER BY p.id")))
            .bind(tx.org())
            .bind(since)
            .fetch_all(&mut **tx)
            .await?;
    let known: std::collections::HashSet<String> = found.iter().map(|p| p.provider_ref.clone()).collect();
    let mut older: Vec<&str> = named.iter().copied().filter(|r| !known.contains(*r)).collect();
    older.sort_unstable();
    older.dedup();
    // A few hundred ids per statement: within every backend's limit on parameters.
    for chunk in older.chunks(500) {
        let placeholders = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!("{RECONCILABLE} AND p.provider_ref IN ({placeholders}) ORDER BY p.id");
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tx.org());
        for r in chunk {
            query = query.bind(*r);
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

/// What the buyer's refund notice says of refund `id`: its order, amount, and how many tickets
/// it cancelled.
pub async fn refund_for_notice(tx: &mut Tenant, id: i64) -> Result<Option<(i64, i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT order_id, amount_minor, serials FROM refunds WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// Orders `ids` as webhooks carry them, in the order of `ids` (their valid tickets with them
/// if `with_tickets`): two statements for any number.
pub async fn order_events(
    tx: &mut Tenant,
    ids: &[i64],
    with_tickets: bool,
) -> Result<Vec<crate::webhooks::events::OrderEvent>, sqlx::Error> {
    use crate::webhooks::events::{OrderEvent, TicketRef};
    type Row = (i64, String, i64, String, String, String, i64, String, Option<String>);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Ids are numbers from the database, not input: safe to inline.
    let list = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT o.id, o.code, o.event_id, o.status, o.name, o.email, o.total_minor, o.currency, v.code \
         FROM orders o LEFT JOIN vouchers v ON v.id = o.voucher_id WHERE o.id IN ({list}) AND o.org_id = $1"
    )))
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut tickets: std::collections::HashMap<i64, Vec<TicketRef>> = std::collections::HashMap::new();
    if with_tickets {
        let found: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT t.order_id, t.serial, tt.number FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id \
             WHERE t.order_id IN ({list}) AND t.org_id = $1 AND t.status = 'valid' ORDER BY t.serial"
        )))
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await?;
        for (order, serial, number) in found {
            let (Ok(serial), Ok(ticket_type)) = (u32::try_from(serial), u16::try_from(number)) else {
                continue;
            };
            tickets.entry(order).or_default().push(TicketRef { serial, ticket_type });
        }
    }
    let mut by_id: std::collections::HashMap<i64, OrderEvent> = rows
        .into_iter()
        .map(|(id, order, event, status, name, email, total_minor, currency, voucher)| {
            let tickets = tickets.remove(&id).unwrap_or_default();
            (id, OrderEvent { order, event, status, name, email, total_minor, currency, voucher, tickets })
        })
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
