//! Checkout: a validated order is placed with a hold on its tickets, or refused as sold out —
//! in batches (see the module above for why).

use super::redeem::{self, NoUse, VoucherUse};
use super::store::{self, SalePart, TypeForSale};
use crate::capacity;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::pricing::{self, Item, Refusal, Rule};
pub use crate::seating::holds::Wanted;
use crate::vouchers::VoucherView;
use crate::vouchers::rules::RuleView;
use crate::webhooks::EventType;
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
    /// A voucher code (case-insensitive): its price applies to the tickets it covers, and it
    /// may open hidden ticket types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[ ]*[A-Za-z0-9][A-Za-z0-9-]{2,31}[ ]*$")]
    pub voucher: Option<String>,
    /// The buyer's mobile number, in international form, written as people write it
    /// (`+31 6 1234 5678`): once the order is paid, the link to its tickets goes there too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = r"^[ ]*(\+|00)[1-9][0-9 ().-]{7,28}$")]
    pub phone: Option<String>,
    /// How the link reaches the phone: `sms` (the default) or `whatsapp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_via: Option<crate::texts::Via>,
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
    /// For a ticket type sold by seat: the seats chosen on the map (their ids in the plan),
    /// exactly `quantity`; none: the best `quantity` seats available together in one row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub seats: Vec<String>,
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
    /// The buyer's mobile number (E.164), or "".
    pub phone: String,
    /// How the ticket link reaches it.
    pub text_via: crate::texts::Via,
    /// Currency of every line.
    pub currency: String,
    /// Sum of the lines, their discounts taken off.
    pub total_minor: i64,
    /// The lines, sorted by ticket type id.
    pub lines: Vec<Line>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to tell a retry from a different order reusing a key.
    pub request_hash: Option<String>,
    /// When the hold lapses.
    pub hold_expires_at: i64,
    /// The voucher it uses, and its code.
    pub voucher: Option<VoucherUse>,
    /// The voucher's code.
    pub voucher_code: Option<String>,
    /// The event's automatic discounts, if a price tier is among them: the order is priced
    /// again, exactly, once its tickets' places in the sale are known.
    pub tiers: Option<Arc<[Rule]>>,
    /// When it was priced.
    pub priced_at: i64,
    /// What its bundles contain, each part per bundle (taken from capacity with them).
    pub parts: Vec<SalePart>,
    /// The seats it wants, per seated ticket type.
    pub seating: Vec<Wanted>,
    /// Where best available seats are counted from (the event's stage).
    pub focus: sync_core::seating::Point,
}

impl Order {
    /// How many of each ticket type (id → count) its bundles' parts take.
    pub fn part_totals(&self) -> BTreeMap<i64, i64> {
        part_totals(&self.parts, self.lines.iter().map(|l| (l.ticket_type, l.quantity)))
    }
}

/// How many of each ticket type (id → count) `parts` take for `lines` (bundle type id, how
/// many bundles).
pub fn part_totals(parts: &[SalePart], lines: impl Iterator<Item = (i64, i64)>) -> BTreeMap<i64, i64> {
    let lines: BTreeMap<i64, i64> = lines.collect();
    let mut totals = BTreeMap::new();
    for p in parts {
        *totals.entry(p.part_type_id).or_default() += p.quantity * lines.get(&p.bundle_type_id).unwrap_or(&0);
    }
    totals
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
    /// Its automatic discounts.
    pub rules: Arc<[Rule]>,
    /// Where its plan's stage is (best available seats are closest to it).
    pub focus: sync_core::seating::Point,
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

/// Vouchers found by code, kept [`EVENT_TTL`] (2 s): a code a thousand buyers share is read
/// once per period rather than in a transaction of its own per order. Safe to cache: a
/// voucher's terms never change once made, and what may — blocked, uses left — is decided
/// again in the order's transaction.
#[derive(Clone, Default)]
pub struct VoucherCache {
    found: Arc<Mutex<HashMap<(i64, String), CachedVoucher>>>,
}

type CachedVoucher = (std::time::Instant, Arc<VoucherView>);

/// Vouchers kept at most (a flood of single-use codes clears it rather than grow it).
const VOUCHERS_KEPT: usize = 10_000;

impl VoucherCache {
    /// Voucher `code` of `event`, if read within the last 2 s.
    pub fn get(&self, event: i64, code: &str) -> Option<Arc<VoucherView>> {
        let found = self.found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        found
            .get(&(event, code.to_owned()))
            .filter(|(at, _)| at.elapsed() < EVENT_TTL)
            .map(|(_, v)| Arc::clone(v))
    }

    /// Keeps `voucher` of `event`.
    pub fn put(&self, event: i64, voucher: Arc<VoucherView>) {
        let mut found = self.found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if found.len() >= VOUCHERS_KEPT {
            found.clear();
        }
        found.insert((event, voucher.code.clone()), (std::time::Instant::now(), voucher));
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
    let mut types = store::types_for_sale(&mut tx, event).await?;
    for part in store::sale_parts(&mut tx, event).await? {
        if let Some(t) = types.iter_mut().find(|t| t.id == part.bundle_type_id) {
            t.parts.push(part);
        }
    }
    let rules =
        crate::vouchers::rules::list(&mut tx, event).await?.iter().filter_map(RuleView::rule).collect();
    let seated = crate::seating::store::seated_types(&mut tx, event).await?;
    for t in &mut types {
        t.seated = seated.contains(&t.id);
    }
    let focus = match crate::seating::store::seating(&mut tx, event).await? {
        Some((_, plan, _)) => {
            sync_core::seating::Plan::from_json(plan.as_bytes()).map_err(anyhow::Error::from)?.focus()
        }
        None => sync_core::seating::Point { x: 0.0, y: 0.0 },
    };
    tx.commit().await?;
    Ok(ForSale { org: found.org_id, name: found.name, ends_at: found.ends_at, types, rules, focus })
}

/// Checks `new` against `sale`'s types, sales windows and discounts and `voucher` (the one
/// `new` names, found) at `now`, and prices it.
pub fn check(
    new: &NewOrder,
    sale: &ForSale,
    event: i64,
    voucher: Option<&VoucherView>,
    now: i64,
    hold_ms: i64,
) -> Result<Order, ApiError> {
    let email = new.email.trim().to_lowercase();
    crate::checks::email("email", &email)?;
    crate::checks::text("name", &new.name, 200)?;
    let phone = match new.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => crate::texts::phone::normalize(p).map_err(|m| ApiError::invalid("phone", m))?,
        None => String::new(),
    };
    let priced = price_lines(&new.lines, sale, voucher, now)?;
    Ok(Order {
        org: sale.org,
        event,
        email,
        name: new.name.trim().to_owned(),
        phone,
        text_via: new.text_via.unwrap_or_default(),
        currency: priced.currency,
        total_minor: priced.total_minor,
        lines: priced.lines,
        idempotency_key: None,
        request_hash: None,
        hold_expires_at: now + hold_ms,
        voucher: priced.voucher,
        voucher_code: priced.voucher_code,
        tiers: sale.rules.iter().any(|r| r.first.is_some()).then(|| Arc::clone(&sale.rules)),
        priced_at: now,
        parts: priced.parts,
        seating: priced.seating,
        focus: sale.focus,
    })
}

/// Lines checked against the event and priced.
#[derive(Debug, Clone)]
pub struct Priced {
    /// The lines, sorted by ticket type id, each with its discount.
    pub lines: Vec<Line>,
    /// Their currency.
    pub currency: String,
    /// What they cost together.
    pub total_minor: i64,
    /// The voucher's uses.
    pub voucher: Option<VoucherUse>,
    /// The voucher's code.
    pub voucher_code: Option<String>,
    /// What its bundles contain, each part per bundle.
    pub parts: Vec<SalePart>,
    /// The seats it wants, per seated ticket type.
    pub seating: Vec<Wanted>,
}

/// Checks `new_lines` against `sale`'s types and sales windows at `now`, and prices them with
/// `voucher` and the event's automatic discounts (checkout, and the shop's price preview).
pub fn price_lines(
    new_lines: &[NewLine],
    sale: &ForSale,
    voucher: Option<&VoucherView>,
    now: i64,
) -> Result<Priced, ApiError> {
    if new_lines.is_empty() || new_lines.len() > 20 {
        return Err(ApiError::invalid("lines", "1–20 lines"));
    }
    let mut lines = BTreeMap::new();
    let mut currency: Option<&str> = None;
    let mut total_tickets = 0i64;
    let mut seating = Vec::new();
    for (i, line) in new_lines.iter().enumerate() {
        let field = |f: &str| format!("lines[{i}].{f}");
        let t = sale.types.iter().find(|t| t.number == i64::from(line.ticket_type)).ok_or_else(|| {
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
            hidden: t.hidden.0,
            taken_before: t.taken,
            discount_minor: 0,
            discount_reason: String::new(),
            voucher_uses: 0,
        };
        if let Some(wanted) = seats_wanted(i, t, &new_lines[i], &seating)? {
            seating.push(wanted);
        }
        if lines.insert(t.id, line).is_some() {
            return Err(ApiError::invalid(field("ticket_type"), "each ticket type once per order"));
        }
        if now < t.sales_start.unwrap_or(i64::MIN) || now >= t.sales_end.unwrap_or(sale.ends_at) {
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
    }
    if new_lines.iter().all(|l| addon(sale, l.ticket_type)) {
        let i = new_lines.len() - 1;
        return Err(ApiError::invalid(
            format!("lines[{i}].ticket_type"),
            "add-ons are sold only with a ticket",
        ));
    }
    if total_tickets > MAX_TICKETS_PER_ORDER {
        return Err(ApiError::invalid("lines", format!("at most {MAX_TICKETS_PER_ORDER} tickets per order")));
    }
    let mut lines: Vec<Line> = lines.into_values().collect();
    let parts: Vec<SalePart> = lines
        .iter()
        .filter_map(|l| sale.types.iter().find(|t| t.id == l.ticket_type))
        .flat_map(|t| t.parts.iter().copied())
        .collect();
    let voucher = match voucher {
        Some(v) => Some(usable(v, sale, now)?),
        None => None,
    };
    let used = apply_prices(&mut lines, voucher.map(|(v, _)| v), &sale.rules, now)?;
    let total_minor = lines.iter().map(|l| l.quantity * l.unit_price_minor - l.discount_minor).sum();
    seating.sort_by_key(|w| w.ticket_type);
    Ok(Priced {
        currency: currency.unwrap_or("EUR").to_owned(),
        total_minor,
        lines,
        voucher: voucher.map(|(v, reserve_type)| VoucherUse { id: v.id, uses: used, reserve_type }),
        voucher_code: voucher.map(|(v, _)| v.code.clone()),
        parts,
        seating,
    })
}

/// The seats line `i` wants of `t`: `None` for a type not sold by seat (which names none).
/// Chosen seats are exactly `quantity`, each once in the order (`before`: earlier lines').
fn seats_wanted(
    i: usize,
    t: &TypeForSale,
    line: &NewLine,
    before: &[Wanted],
) -> Result<Option<Wanted>, ApiError> {
    let field = format!("lines[{i}].seats");
    if !t.seated {
        if line.seats.is_empty() {
            return Ok(None);
        }
        return Err(ApiError::invalid(field, format!("{} is not sold by seat", t.name)));
    }
    if !line.seats.is_empty() && line.seats.len() != line.quantity as usize {
        return Err(ApiError::invalid(
            field,
            format!("{} seats chosen for {} tickets", line.seats.len(), line.quantity),
        ));
    }
    for (j, key) in line.seats.iter().enumerate() {
        if !crate::seating::seat_id(key) {
            return Err(ApiError::invalid(
                format!("{field}[{j}]"),
                "a seat id: 1–64 printable ASCII characters",
            ));
        }
        if line.seats[..j].contains(key) || before.iter().any(|w| w.keys.contains(key)) {
            return Err(ApiError::invalid(
                format!("{field}[{j}]"),
                format!("the seat {key:?} is chosen twice"),
            ));
        }
    }
    Ok(Some(Wanted { ticket_type: t.id, keys: line.seats.clone(), count: i64::from(line.quantity) }))
}

/// Whether ticket type `number` of `sale` is an add-on.
fn addon(sale: &ForSale, number: u16) -> bool {
    sale.types.iter().any(|t| t.number == i64::from(number) && t.addon.0)
}

/// `v` if it may be used at `now` (its period; blocking is decided in the order's
/// transaction), with the ticket type id it sets tickets aside of.
fn usable<'a>(
    v: &'a VoucherView,
    sale: &ForSale,
    now: i64,
) -> Result<(&'a VoucherView, Option<i64>), ApiError> {
    if v.valid_from.is_some_and(|from| now < from) {
        return Err(ApiError::Conflict {
            code: "voucher_not_valid",
            message: "this code is not valid yet".into(),
        });
    }
    if v.valid_until.is_some_and(|until| now >= until) || v.blocked_at.is_some() {
        return Err(ApiError::Conflict {
            code: "voucher_not_valid",
            message: "this code is no longer valid".into(),
        });
    }
    let reserve_type = if v.reserves.0 {
        let number: i64 = v.ticket_types.parse().map_err(|_| anyhow::anyhow!("voucher {} scope", v.id))?;
        sale.types.iter().find(|t| t.number == number).map(|t| t.id)
    } else {
        None
    };
    Ok((v, reserve_type))
}

/// Prices `lines` ([`pricing::price`]); the voucher's uses.
fn apply_prices(
    lines: &mut [Line],
    voucher: Option<&VoucherView>,
    rules: &[Rule],
    now: i64,
) -> Result<i64, ApiError> {
    let items: Vec<Item> = lines
        .iter()
        .map(|l| Item {
            taken_before: l.taken_before,
            number: l.number,
            quantity: l.quantity,
            list_price: l.unit_price_minor,
            hidden: l.hidden,
        })
        .collect();
    let terms = voucher.map(VoucherView::terms);
    let priced = pricing::price(&items, terms.as_ref(), rules, now).map_err(|refusal| match refusal {
        Refusal::Hidden { number } => {
            let i = lines.iter().position(|l| l.number == number).unwrap_or(0);
            ApiError::invalid(
                format!("lines[{i}].ticket_type"),
                format!("ticket type {number} is sold only with a code that opens it"),
            )
        }
        Refusal::OverPerOrder { max } => {
            ApiError::invalid("voucher", format!("this code covers at most {max} tickets per order"))
        }
        Refusal::NotApplicable => ApiError::invalid("voucher", "this code does not apply to these tickets"),
    })?;
    let mut uses = 0;
    for (line, p) in lines.iter_mut().zip(priced) {
        line.discount_minor = p.discount_minor;
        line.discount_reason = p.reason;
        line.voucher_uses = p.voucher_uses;
        uses += p.voucher_uses;
    }
    Ok(uses)
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
    /// List price of one.
    pub unit_price_minor: i64,
    /// Sold only with a voucher that opens it.
    #[serde(skip)]
    pub hidden: bool,
    /// Tickets of its type sold or held before it: an estimate until checkout knows.
    #[serde(skip)]
    pub taken_before: i64,
    /// Taken off the whole line.
    pub discount_minor: i64,
    /// Why.
    pub discount_reason: String,
    /// Voucher uses it takes.
    #[serde(skip)]
    pub voucher_uses: i64,
}

impl Line {
    /// As an order answers it.
    pub fn view(&self) -> super::views::LineView {
        super::views::LineView {
            ticket_type: self.number,
            name: self.name.clone(),
            quantity: self.quantity,
            unit_price_minor: self.unit_price_minor,
            discount_minor: self.discount_minor,
            discount_reason: self.discount_reason.clone(),
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
        /// A price tier moved its price from the one it was checked at (read it back).
        repriced: bool,
        /// The seats it holds, described, in plan order (best available chose them).
        seats: Vec<String>,
    },
    /// Refused (not enough tickets left, or the voucher's uses): recorded as rejected, with
    /// why, so a retry with its key hears the same.
    Refused {
        /// Order id.
        id: i64,
        /// Why.
        why: Why,
    },
    /// Another request with the same idempotency key placed it first.
    Duplicate,
}

/// Why an order was refused in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Not enough tickets left.
    SoldOut,
    /// Its voucher has fewer uses left than it needs.
    VoucherUsedUp,
    /// Its voucher was blocked.
    VoucherBlocked,
    /// A seat it chose was taken by another buyer first.
    SeatTaken,
    /// No row has the seats it asked for together.
    SeatsNotTogether,
}

impl Why {
    /// As stored in `orders.rejected_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SoldOut => "sold_out",
            Self::VoucherUsedUp => "voucher_used_up",
            Self::VoucherBlocked => "voucher_blocked",
            Self::SeatTaken => "seat_taken",
            Self::SeatsNotTogether => "seats_not_together",
        }
    }

    /// From `orders.rejected_reason` (an order refused before vouchers existed: sold out).
    pub fn parse(stored: Option<&str>) -> Self {
        match stored {
            Some("voucher_used_up") => Self::VoucherUsedUp,
            Some("voucher_blocked") => Self::VoucherBlocked,
            Some("seat_taken") => Self::SeatTaken,
            Some("seats_not_together") => Self::SeatsNotTogether,
            _ => Self::SoldOut,
        }
    }

    /// The problem the buyer gets.
    pub fn problem(self) -> ApiError {
        let (code, message) = match self {
            Self::SoldOut => ("sold_out", "not enough tickets left for this order"),
            Self::VoucherUsedUp => ("voucher_used_up", "this code has been used up"),
            Self::VoucherBlocked => ("voucher_not_valid", "this code is no longer valid"),
            Self::SeatTaken => {
                ("seat_taken", "a seat you chose was just taken by someone else: choose another")
            }
            Self::SeatsNotTogether => {
                ("seats_not_together", "no row has that many free seats together: choose seats on the map")
            }
        };
        ApiError::Conflict { code, message: message.into() }
    }
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
    let lines: Vec<(i64, Option<i64>, &Line)> = orders
        .iter()
        .zip(&ids)
        .filter_map(|(o, id)| id.map(|id| o.lines.iter().map(move |l| (id, o.voucher.map(|v| v.id), l))))
        .flatten()
        .collect();
    store::insert_lines(&mut tx, &lines).await?;
    let parts: Vec<(i64, SalePart)> = orders
        .iter()
        .zip(&ids)
        .filter_map(|(o, id)| id.map(|id| o.parts.iter().map(move |p| (id, *p))))
        .flatten()
        .collect();
    store::insert_parts(&mut tx, &parts).await?;

    // 3. Voucher uses, then capacity, last: the hot rows are locked only from here to the
    //    commit. An order that gets its voucher's uses but not its tickets gives the uses back.
    let placed: Vec<(usize, &Order)> = orders
        .iter()
        .zip(&ids)
        .enumerate()
        .filter(|(_, (_, id))| id.is_some())
        .map(|(i, (o, _))| (i, o))
        .collect();
    let just_orders: Vec<&Order> = placed.iter().map(|(_, o)| *o).collect();
    let vouchers = redeem::take(&mut tx, &just_orders).await?;
    let candidates: Vec<&Order> =
        just_orders.iter().zip(&vouchers).filter(|(_, v)| v.is_ok()).map(|(o, _)| *o).collect();
    let granted = take_capacity(&mut tx, &candidates).await?;
    let mut outcome: HashMap<usize, Result<(bool, Vec<String>), Why>> = HashMap::new();
    let mut granted = granted.into_iter();
    let mut got_tickets: Vec<Ticketed> = Vec::new();
    for ((i, o), voucher) in placed.iter().zip(vouchers) {
        let why = match voucher {
            Err(NoUse::UsedUp) => Why::VoucherUsedUp,
            Err(NoUse::Blocked) => Why::VoucherBlocked,
            Ok(()) => {
                if let Some(before) = granted.next().flatten() {
                    let id = ids[*i].ok_or_else(|| anyhow::anyhow!("a placed order without an id"))?;
                    got_tickets.push(Ticketed { index: *i, id, order: o, before });
                    continue;
                }
                if let Some(v) = o.voucher {
                    redeem::untake(&mut tx, v).await?;
                }
                Why::SoldOut
            }
        };
        outcome.insert(*i, Err(why));
    }
    // 4. The seats of every order that got its tickets, at once.
    let seats = take_seats(&mut tx, event, &got_tickets).await?;
    for (t, seats) in got_tickets.iter().zip(seats) {
        let result = match seats {
            // Priced again at its tickets' exact places if a price tier may apply.
            Ok(seats) => Ok((super::tiers::reprice(&mut tx, t.id, t.order, &t.before).await?, seats)),
            Err(why) => Err(why),
        };
        outcome.insert(t.index, result);
    }

    // 5. Orders refused are recorded as rejected (a retry with the key gets the same).
    let mut results = Vec::with_capacity(orders.len());
    let mut rejected: Vec<(i64, Why)> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        results.push(match (id, outcome.remove(&i)) {
            (Some(id), Some(Ok((repriced, seats)))) => {
                let (code, secret) = codes[i].clone();
                Placed::Held { id: *id, code, secret, created_at: now, repriced, seats }
            }
            (Some(id), Some(Err(why))) => {
                rejected.push((*id, why));
                Placed::Refused { id: *id, why }
            }
            _ => Placed::Duplicate,
        });
    }
    store::reject(&mut tx, &rejected).await?;
    if crate::webhooks::wants(&mut tx, EventType::OrderPlaced).await? {
        let held: Vec<i64> = results
            .iter()
            .filter_map(|p| if let Placed::Held { id, .. } = p { Some(*id) } else { None })
            .collect();
        let events = store::order_events(&mut tx, &held, false).await?;
        crate::webhooks::emit_all(&mut tx, EventType::OrderPlaced, &events).await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// An order of the batch that got its tickets.
struct Ticketed<'a> {
    /// Its place in the batch.
    index: usize,
    /// Its id.
    id: i64,
    order: &'a Order,
    /// How many of each of its ticket types were taken before it (a price tier's count).
    before: BTreeMap<i64, i64>,
}

/// Holds the seats each of `ticketed` wants, the whole batch at once ([`crate::seating::take`];
/// after the capacity: the ticket types' rows, locked first in id order, order the seat locks
/// too, so two instances cannot deadlock on seats). One that does not get every one gives back
/// its capacity (one statement per ticket type for all of them) and voucher uses and is
/// refused. (A price tier's count for later orders of the batch still includes it: a tier with
/// seats may give one ticket the next tier's price early, never the reverse.) One result per
/// order: the seats it got, described.
async fn take_seats(
    tx: &mut Tenant,
    event: i64,
    ticketed: &[Ticketed<'_>],
) -> Result<Vec<Result<Vec<String>, Why>>, ApiError> {
    let asks: Vec<crate::seating::take::Ask<'_>> = ticketed
        .iter()
        .filter(|t| !t.order.seating.is_empty())
        .map(|t| crate::seating::take::Ask { order: t.id, wanted: &t.order.seating, focus: t.order.focus })
        .collect();
    let mut answers = crate::seating::take::take(tx, event, &asks).await?.into_iter();
    let mut results = Vec::with_capacity(ticketed.len());
    let mut give_back: BTreeMap<i64, i64> = BTreeMap::new();
    for t in ticketed {
        let answer = if t.order.seating.is_empty() {
            Ok(Vec::new())
        } else {
            answers.next().ok_or_else(|| anyhow::anyhow!("a seated order without an answer"))?
        };
        let no = match answer {
            Ok(seats) => {
                results.push(Ok(seats));
                continue;
            }
            Err(no) => no,
        };
        for (ticket_type, n) in from_sale(t.order) {
            *give_back.entry(ticket_type).or_default() += n;
        }
        if let Some(v) = t.order.voucher {
            redeem::untake(tx, v).await?;
        }
        results.push(Err(match no {
            crate::seating::holds::NoSeats::Taken => Why::SeatTaken,
            crate::seating::holds::NoSeats::NotTogether => Why::SeatsNotTogether,
        }));
    }
    for (ticket_type, n) in give_back {
        capacity::hold(tx, ticket_type, -n).await?;
    }
    Ok(results)
}

/// What an order takes from its ticket types' general sale (id → count): its lines, less the
/// tickets its voucher had set aside (those move from `reserved` to `held` with the voucher's
/// uses), and its bundles' parts.
fn from_sale(o: &Order) -> BTreeMap<i64, i64> {
    let mut wanted = o.part_totals();
    for l in &o.lines {
        let aside = match o.voucher {
            Some(v) if v.reserve_type == Some(l.ticket_type) => l.voucher_uses,
            _ => 0,
        };
        if l.quantity > aside {
            *wanted.entry(l.ticket_type).or_default() += l.quantity - aside;
        }
    }
    wanted
}

/// For each order that got its tickets, how many of each of its ticket types (id → count)
/// were sold or held before them (a price tier's count); `None` for an order that did not.
pub type Taken = Option<BTreeMap<i64, i64>>;

/// Holds capacity for `orders` in arrival order; returns which got theirs. First tries the
/// whole batch at once (one conditional UPDATE per ticket type); if that does not fit, order by
/// order, each all-or-nothing. (Undone by hand rather than with savepoints: a savepoint costs
/// two more round trips while the hot row is locked, on the path every batch takes.)
async fn take_capacity(tx: &mut Tenant, orders: &[&Order]) -> Result<Vec<Taken>, ApiError> {
    let mut totals: BTreeMap<i64, i64> = BTreeMap::new();
    for o in orders {
        for (ticket_type, quantity) in from_sale(o) {
            *totals.entry(ticket_type).or_default() += quantity;
        }
    }
    if let Some(after) = hold_all(tx, totals.clone()).await? {
        // Each order's tickets come after those of the orders before it in the batch.
        let mut next: BTreeMap<i64, i64> = after.iter().map(|(t, n)| (*t, n - totals[t])).collect();
        return Ok(orders
            .iter()
            .map(|o| {
                let mut before = BTreeMap::new();
                for (ticket_type, quantity) in from_sale(o) {
                    let at = next.entry(ticket_type).or_default();
                    before.insert(ticket_type, *at);
                    *at += quantity;
                }
                Some(before)
            })
            .collect());
    }
    let mut granted = Vec::with_capacity(orders.len());
    for o in orders {
        let wanted = from_sale(o);
        let after = hold_all(tx, wanted.clone()).await?;
        granted.push(after.map(|after| after.into_iter().map(|(t, n)| (t, n - wanted[&t])).collect()));
    }
    Ok(granted)
}

/// Holds every `(ticket type, quantity)` (in ticket type id order: no deadlock) or, if one
/// does not fit, none; how many of each are sold or held after.
async fn hold_all(
    tx: &mut Tenant,
    lines: BTreeMap<i64, i64>,
) -> Result<Option<BTreeMap<i64, i64>>, ApiError> {
    let mut taken = BTreeMap::new();
    for (ticket_type, quantity) in &lines {
        let Some(after) = capacity::hold(tx, *ticket_type, *quantity).await? else {
            for ticket_type in taken.keys() {
                capacity::hold(tx, *ticket_type, -lines[ticket_type]).await?;
            }
            return Ok(None);
        };
        taken.insert(*ticket_type, after);
    }
    Ok(Some(taken))
}

/// Gives back the tickets and voucher uses an order held (its hold lapsed, or it was
/// cancelled).
pub async fn release_hold(tx: &mut Tenant, order: i64) -> Result<(), ApiError> {
    redeem::release(tx, order).await?;
    if crate::webhooks::wants(tx, EventType::OrderCancelled).await? {
        let events = store::order_events(tx, &[order], false).await?;
        crate::webhooks::emit_all(tx, EventType::OrderCancelled, &events).await?;
    }
    Ok(())
}
