//! Checkout: a validated order is placed with a hold on its tickets, or refused as sold out —
//! in batches (see the module above for why).

use super::store::{self, TypeForSale};
use crate::capacity;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Checkouts queued per event before new ones are turned away (503, retry).
const QUEUE: usize = 4096;
/// Most tickets in one order.
pub const MAX_TICKETS_PER_ORDER: i64 = 50;

/// An order as the customer sends it. Each ticket type at most once; at most
/// [`MAX_TICKETS_PER_ORDER`] tickets together, all in one currency.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// What to buy.
    #[schema(min_items = 1, max_items = 20)]
    pub lines: Vec<NewLine>,
    /// The buyer's e-mail.
    #[schema(
        max_length = 254,
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub email: String,
    /// The buyer's name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
}

/// One ticket type and how many.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// The ticket type's number within the event (1, 2, …).
    pub ticket_type: u16,
    /// How many.
    #[schema(minimum = 1, maximum = 50)]
    pub quantity: u32,
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
    /// Its name.
    pub name: String,
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

/// Events on sale, read at most once per `EVENT_TTL` (2 s).
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
        let loaded = Arc::new(load_event(db, event).await?);
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        events.insert(event, (std::time::Instant::now(), Arc::clone(&loaded)));
        Ok(loaded)
    }
}

/// The event and its ticket types for sale; 404 if there is no such event, 409 if it is not
/// on sale.
async fn load_event(db: &Db, event: i64) -> Result<ForSale, ApiError> {
    let mut lookup = db.lookup().await?;
    let found = store::event_for_sale(&mut lookup, event).await?.ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    if found.status != "on_sale" && found.status != "live" {
        return Err(ApiError::Conflict { code: "not_on_sale", message: "this event is not on sale".into() });
    }
    let mut tx = db.tenant(found.org_id).await?;
    let types = store::types_for_sale(&mut tx, event).await?;
    tx.commit().await?;
    Ok(ForSale { org: found.org_id, name: found.name, ends_at: found.ends_at, types })
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
    crate::checks::email("email", &email)?;
    crate::checks::text("name", &new.name, 200)?;
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

impl Line {
    /// As an order answers it.
    pub fn view(&self) -> super::views::LineView {
        super::views::LineView {
            ticket_type: self.number,
            name: self.name.clone(),
            quantity: self.quantity,
            unit_price_minor: self.unit_price_minor,
        }
    }
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

/// Places `orders` (all of one event) in one transaction. Returns one result per order.
async fn place_batch(db: &Db, orders: &[Order]) -> Result<Vec<Placed>, ApiError> {
    let (org, event) = (orders[0].org, orders[0].event);
    let mut tx = db.tenant(org).await?;
    let now = tx.now();

    // 1. The orders, pending. A key used twice (here, or by a concurrent request on another
    //    hub instance) inserts once; the other learns it is a duplicate.
    let mut codes = Vec::with_capacity(orders.len());
    for _ in orders {
        codes.push((crate::codes::order_code()?, crate::codes::random_token()?));
    }
    let inserted: HashMap<String, i64> = store::insert_pending(&mut tx, event, orders, &codes, now)
        .await?
        .into_iter()
        .map(|(id, code)| (code, id))
        .collect();
    let ids: Vec<Option<i64>> = codes.iter().map(|(code, _)| inserted.get(code).copied()).collect();

    // 2. Their lines.
    let lines: Vec<(i64, i64, i64, i64)> = orders
        .iter()
        .zip(&ids)
        .filter_map(|(o, id)| {
            id.map(|id| o.lines.iter().map(move |l| (id, l.ticket_type, l.quantity, l.unit_price_minor)))
        })
        .flatten()
        .collect();
    store::insert_lines(&mut tx, &lines).await?;

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
    store::reject(&mut tx, &rejected).await?;
    tx.commit().await?;
    Ok(results)
}

/// Holds capacity for `orders` in arrival order; returns which got theirs. First tries the
/// whole batch at once (one conditional UPDATE per ticket type); if that does not fit, order by
/// order, each all-or-nothing. (Undone by hand rather than with savepoints: a savepoint costs
/// two more round trips while the hot row is locked, on the path every batch takes.)
async fn take_capacity(tx: &mut Tenant, orders: &[&Order]) -> Result<Vec<bool>, ApiError> {
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
async fn hold_all(tx: &mut Tenant, lines: impl Iterator<Item = (i64, i64)>) -> Result<bool, ApiError> {
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

/// The conditional UPDATE ([`capacity::hold`]).
async fn hold(tx: &mut Tenant, ticket_type: i64, quantity: i64) -> Result<bool, ApiError> {
    Ok(capacity::hold(tx, ticket_type, quantity).await?)
}

/// Gives back the tickets an order held (its hold lapsed, or it was cancelled).
pub async fn release_hold(tx: &mut Tenant, order: i64) -> Result<(), ApiError> {
    for (ticket_type, quantity) in store::held(tx, order).await? {
        capacity::release_held(tx, ticket_type, quantity).await?;
    }
    Ok(())
}
