//! Checkout: a validated order is placed with a hold on its tickets, or refused as sold out —
//! in batches (see the module above for why).

use crate::db::{Db, values};
use crate::error::ApiError;
use crate::tenancy::now_ms;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Checkouts queued per event before new ones are turned away (503, retry).
const QUEUE: usize = 4096;
/// Most tickets in one order.
pub const MAX_TICKETS_PER_ORDER: i64 = 50;

/// An order as the customer sends it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// What to buy.
    pub lines: Vec<NewLine>,
    /// The buyer's e-mail.
    pub email: String,
    /// The buyer's name.
    pub name: String,
}

/// One ticket type and how many.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// The ticket type's number within the event (1, 2, …).
    pub ticket_type: u16,
    /// How many.
    pub quantity: u32,
}

/// A ticket type as checkout needs it.
pub struct TypeForSale {
    id: i64,
    number: i64,
    name: String,
    price_minor: i64,
    currency: String,
    sales_start: Option<i64>,
    sales_end: Option<i64>,
}

/// An order checked against the event, ready to place.
#[derive(Debug, Clone)]
pub struct Order {
    /// The organization.
    pub org: i64,
    /// The event.
    pub event: i64,
    /// The buyer's e-mail.
    pub email: String,
    /// The buyer's name.
    pub name: String,
    /// Currency of every line.
    pub currency: String,
    /// Sum of the lines.
    pub total_minor: i64,
    /// The lines, sorted by ticket type id.
    pub lines: Vec<Line>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to tell a retry from a different order reusing a key.
    pub request_hash: Option<String>,
    /// When the hold lapses.
    pub hold_expires_at: i64,
}

/// An event on sale, as checkout needs it.
pub struct ForSale {
    /// Its organization.
    pub org: i64,
    /// When it ends (default end of sales).
    pub ends_at: i64,
    /// Its ticket types.
    pub types: Vec<TypeForSale>,
}

/// How long checkout trusts what it read about an event: a change of prices, windows or status
/// reaches checkout within this time, and a flash sale reads the event once per period instead
/// of once per order. (Capacity is never cached: it is decided in the order's transaction.)
const EVENT_TTL: std::time::Duration = std::time::Duration::from_secs(2);

type Cached = (std::time::Instant, Arc<ForSale>);

/// Events on sale, read at most once per [`EVENT_TTL`].
#[derive(Clone, Default)]
pub struct EventCache {
    events: Arc<Mutex<HashMap<i64, Cached>>>,
}

impl EventCache {
    /// The event `event` if it is on sale; 404 if there is no such event, 409 if not on sale.
    pub async fn get(&self, db: &Db, event: i64) -> Result<Arc<ForSale>, ApiError> {
        {
            let events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((at, e)) = events.get(&event)
                && at.elapsed() < EVENT_TTL
            {
                return Ok(Arc::clone(e));
            }
        }
        let (org, ends_at, types) = load_event(db, event).await?;
        let loaded = Arc::new(ForSale { org, ends_at, types });
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        events.insert(event, (std::time::Instant::now(), Arc::clone(&loaded)));
        Ok(loaded)
    }
}

/// The event's ticket types for sale, with the event's organization; 404 if there is no such
/// event, 409 if it is not on sale.
async fn load_event(db: &Db, event: i64) -> Result<(i64, i64, Vec<TypeForSale>), ApiError> {
    let mut system = db.lookup().await?;
    let row = sqlx::query("SELECT org_id, status, ends_at FROM events WHERE id = $1")
        .bind(event)
        .fetch_optional(&mut *system)
        .await?
        .ok_or(ApiError::NotFound)?;
    system.commit().await?;
    let (org, status, ends_at): (i64, String, i64) = (row.get(0), row.get(1), row.get(2));
    if status != "on_sale" && status != "live" {
        return Err(ApiError::Conflict { code: "not_on_sale", message: "this event is not on sale".into() });
    }
    let mut tx = db.tenant(org).await?;
    let types = sqlx::query(
        "SELECT id, number, name, price_minor, currency, sales_start, sales_end FROM ticket_types \
         WHERE event_id = $1 AND org_id = $2 ORDER BY number",
    )
    .bind(event)
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| TypeForSale {
        id: r.get(0),
        number: r.get(1),
        name: r.get(2),
        price_minor: r.get(3),
        currency: r.get(4),
        sales_start: r.get(5),
        sales_end: r.get(6),
    })
    .collect();
    tx.commit().await?;
    Ok((org, ends_at, types))
}

/// Checks `new` against the event's types and sales windows at `now`.
pub fn check(
    new: &NewOrder,
    org: i64,
    event: i64,
    event_ends_at: i64,
    types: &[TypeForSale],
    now: i64,
    hold_ms: i64,
) -> Result<Order, ApiError> {
    let email = new.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid("email", "an e-mail address"));
    }
    if new.name.trim().is_empty() || new.name.len() > 200 {
        return Err(ApiError::invalid("name", "1–200 characters"));
    }
    if new.lines.is_empty() || new.lines.len() > 20 {
        return Err(ApiError::invalid("lines", "1–20 lines"));
    }
    let mut lines = BTreeMap::new();
    let mut currency: Option<&str> = None;
    let mut total_tickets = 0i64;
    let mut total_minor = 0i64;
    for (i, line) in new.lines.iter().enumerate() {
        let field = |f: &str| format!("lines[{i}].{f}");
        let t = types.iter().find(|t| t.number == i64::from(line.ticket_type)).ok_or_else(|| {
            ApiError::invalid(field("ticket_type"), format!("no ticket type {}", line.ticket_type))
        })?;
        let quantity = i64::from(line.quantity);
        if quantity == 0 {
            return Err(ApiError::invalid(field("quantity"), "at least 1"));
        }
        let line = Line {
            ticket_type: t.id,
            number: t.number,
            name: t.name.clone(),
            quantity,
            unit_price_minor: t.price_minor,
        };
        if lines.insert(t.id, line).is_some() {
            return Err(ApiError::invalid(field("ticket_type"), "each ticket type once per order"));
        }
        if now < t.sales_start.unwrap_or(i64::MIN) || now >= t.sales_end.unwrap_or(event_ends_at) {
            return Err(ApiError::Conflict {
                code: "not_on_sale",
                message: format!("{} is not on sale now", t.name),
            });
        }
        match currency {
            Some(c) if c != t.currency => {
                return Err(ApiError::invalid("lines", "all tickets of an order must be in one currency"));
            }
            _ => currency = Some(&t.currency),
        }
        total_tickets += quantity;
        total_minor += quantity * t.price_minor;
    }
    if total_tickets > MAX_TICKETS_PER_ORDER {
        return Err(ApiError::invalid("lines", format!("at most {MAX_TICKETS_PER_ORDER} tickets per order")));
    }
    Ok(Order {
        org,
        event,
        email,
        name: new.name.trim().to_owned(),
        currency: currency.unwrap_or("EUR").to_owned(),
        total_minor,
        lines: lines.into_values().collect(),
        idempotency_key: None,
        request_hash: None,
        hold_expires_at: now + hold_ms,
    })
}

/// One line of a checked order.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// The ticket type's id.
    #[serde(skip)]
    pub ticket_type: i64,
    /// Its number within the event.
    #[serde(rename = "ticket_type")]
    pub number: i64,
    /// Its name.
    pub name: String,
    /// How many.
    pub quantity: i64,
    /// Price of one.
    pub unit_price_minor: i64,
}

/// What placing an order came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Pending, its tickets held.
    Held {
        /// Order id.
        id: i64,
        /// Its code.
        code: String,
        /// The customer's secret.
        secret: String,
        /// When it was created.
        created_at: i64,
    },
    /// Not enough tickets left; the order is recorded as rejected.
    SoldOut {
        /// Order id.
        id: i64,
    },
    /// Another request with the same idempotency key placed it first.
    Duplicate,
}

type Reply = oneshot::Sender<Result<Placed, ApiError>>;
type Queue = mpsc::Sender<(Order, Reply)>;

/// One batching worker per event, started on first use.
#[derive(Clone)]
pub struct Batchers {
    events: Arc<Mutex<HashMap<i64, Queue>>>,
    max_batch: usize,
}

impl Batchers {
    /// Workers placing up to `max_batch` orders per transaction.
    pub fn new(max_batch: usize) -> Self {
        Self { events: Arc::default(), max_batch: max_batch.max(1) }
    }

    /// Places `order` (in a batch with whatever else is queued for its event).
    pub async fn place(&self, db: &Db, order: Order) -> Result<Placed, ApiError> {
        let sender = {
            let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            events
                .entry(order.event)
                .or_insert_with(|| {
                    let (tx, rx) = mpsc::channel(QUEUE);
                    tokio::spawn(run(db.clone(), rx, self.max_batch));
                    tx
                })
                .clone()
        };
        let (reply, answer) = oneshot::channel();
        sender.try_send((order, reply)).map_err(|_| ApiError::Unavailable)?;
        answer.await.map_err(|_| ApiError::Unavailable)?
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<(Order, Reply)>, max_batch: usize) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (orders, replies): (Vec<Order>, Vec<Reply>) = batch.into_iter().unzip();
        match place_batch(&db, &orders).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every client may retry (with its key).
                tracing::error!(error = %e, orders = orders.len(), "placing a batch of orders failed");
                for reply in replies {
                    let _ = reply.send(Err(ApiError::Unavailable));
                }
            }
        }
    }
}

/// A customer-facing order code: 8 characters that cannot be misread.
pub fn new_code() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    Ok(bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

/// Places `orders` (all of one event) in one transaction. Returns one result per order.
async fn place_batch(db: &Db, orders: &[Order]) -> Result<Vec<Placed>, ApiError> {
    let (org, event) = (orders[0].org, orders[0].event);
    let now = now_ms();
    let mut tx = db.tenant(org).await?;

    // 1. The orders, pending. A key used twice (here, or by a concurrent request on another
    //    hub instance) inserts once; the other learns it is a duplicate.
    let mut codes = Vec::with_capacity(orders.len());
    for _ in orders {
        codes.push((new_code()?, crate::auth::random_token()?));
    }
    let sql = format!(
        "INSERT INTO orders (org_id, event_id, code, secret, status, channel, email, name, currency, \
         total_minor, hold_expires_at, idempotency_key, request_hash, created_at) VALUES {} \
         ON CONFLICT (event_id, idempotency_key) DO NOTHING RETURNING id, code",
        values(orders.len(), "(?, ?, ?, ?, 'pending', 'online', ?, ?, ?, ?, ?, ?, ?, ?)")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (o, (code, secret)) in orders.iter().zip(&codes) {
        insert = insert
            .bind(org)
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
            .bind(now);
    }
    let inserted: HashMap<String, i64> = insert
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0)))
        .collect();
    let ids: Vec<Option<i64>> = codes.iter().map(|(code, _)| inserted.get(code).copied()).collect();

    // 2. Their lines.
    let lines: Vec<(i64, &Line)> = orders
        .iter()
        .zip(&ids)
        .filter_map(|(o, id)| id.map(|id| o.lines.iter().map(move |l| (id, l))))
        .flatten()
        .collect();
    if !lines.is_empty() {
        let sql = format!(
            "INSERT INTO order_lines (order_id, org_id, ticket_type_id, quantity, unit_price_minor) VALUES {}",
            values(lines.len(), "(?, ?, ?, ?, ?)")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, line) in &lines {
            insert = insert
                .bind(id)
                .bind(org)
                .bind(line.ticket_type)
                .bind(line.quantity)
                .bind(line.unit_price_minor);
        }
        insert.execute(&mut *tx).await?;
    }

    // 3. Capacity, last: the hot rows are locked only from here to the commit.
    let placed: Vec<&Order> =
        orders.iter().zip(&ids).filter(|(_, id)| id.is_some()).map(|(o, _)| o).collect();
    let granted = take_capacity(&mut tx, &placed).await?;

    // 4. Orders that did not fit are recorded as rejected (a retry with the key gets the same).
    let mut results = Vec::with_capacity(orders.len());
    let mut granted = granted.into_iter();
    let mut rejected = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        results.push(match id {
            None => Placed::Duplicate,
            Some(id) if granted.next().unwrap_or(false) => {
                let (code, secret) = codes[i].clone();
                Placed::Held { id: *id, code, secret, created_at: now }
            }
            Some(id) => {
                rejected.push(*id);
                Placed::SoldOut { id: *id }
            }
        });
    }
    if !rejected.is_empty() {
        let list = rejected.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        // Ids are numbers from the database, not input: safe to inline.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE orders SET status = 'rejected', hold_expires_at = NULL WHERE id IN ({list})"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// Holds capacity for `orders` in arrival order; returns which got theirs. First tries the
/// whole batch at once (one conditional UPDATE per ticket type); if that does not fit, order by
/// order, each all-or-nothing. (Undone by hand rather than with savepoints: a savepoint costs
/// two more round trips while the hot row is locked, on the path every batch takes.)
async fn take_capacity(tx: &mut Transaction<'static, Any>, orders: &[&Order]) -> Result<Vec<bool>, ApiError> {
    let mut totals: BTreeMap<i64, i64> = BTreeMap::new();
    for o in orders {
        for line in &o.lines {
            *totals.entry(line.ticket_type).or_default() += line.quantity;
        }
    }
    if hold_all(tx, totals.into_iter()).await? {
        return Ok(vec![true; orders.len()]);
    }
    let mut granted = Vec::with_capacity(orders.len());
    for o in orders {
        granted.push(hold_all(tx, o.lines.iter().map(|l| (l.ticket_type, l.quantity))).await?);
    }
    Ok(granted)
}

/// Holds every `(ticket type, quantity)` or, if one does not fit, none.
async fn hold_all(
    tx: &mut Transaction<'static, Any>,
    lines: impl Iterator<Item = (i64, i64)>,
) -> Result<bool, ApiError> {
    let mut taken: Vec<(i64, i64)> = Vec::new();
    for (ticket_type, quantity) in lines {
        if !hold(tx, ticket_type, quantity).await? {
            for (ticket_type, quantity) in taken {
                hold(tx, ticket_type, -quantity).await?;
            }
            return Ok(false);
        }
        taken.push((ticket_type, quantity));
    }
    Ok(true)
}

/// The conditional UPDATE: holds `quantity` of `ticket_type` if that many are left (a
/// negative quantity gives back, and always fits).
async fn hold(tx: &mut Transaction<'static, Any>, ticket_type: i64, quantity: i64) -> Result<bool, ApiError> {
    let done = sqlx::query(
        "UPDATE ticket_types SET held = held + $1 WHERE id = $2 AND sold + held + leased + $1 <= capacity",
    )
    .bind(quantity)
    .bind(ticket_type)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back the tickets an order held (its hold lapsed, or it was cancelled).
pub async fn release_hold(tx: &mut Transaction<'static, Any>, order: i64) -> Result<(), ApiError> {
    let lines = sqlx::query("SELECT ticket_type_id, quantity FROM order_lines WHERE order_id = $1")
        .bind(order)
        .fetch_all(&mut **tx)
        .await?;
    for line in lines {
        sqlx::query("UPDATE ticket_types SET held = held - $1 WHERE id = $2")
            .bind(line.get::<i64, _>(1))
            .bind(line.get::<i64, _>(0))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
