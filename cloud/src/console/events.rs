//! `/events…`: the event list, the new-event form, an event's page.

use super::{Layout, PagePath, PageResult, Staff, local_time, money, render};
use crate::error::ApiError;
use crate::events::{Status, TicketTypeView};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

/// One event in the list.
struct EventRow {
    id: i64,
    name: String,
    status: &'static str,
    starts: String,
    sold: i64,
    capacity: i64,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    events: Vec<EventRow>,
}

/// `GET /events`: the latest first.
pub(super) async fn list(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let mut rows = crate::events::store::events(&mut tx).await?;
    tx.commit().await?;
    rows.reverse();
    let events = rows
        .into_iter()
        .map(|e| EventRow {
            id: e.id,
            status: e.status.label(),
            starts: local_time(Some(e.starts_at), &e.time_zone),
            name: e.name,
            sold: e.sold,
            capacity: e.capacity,
        })
        .collect();
    Ok(render(&EventsPage { layout, events }))
}

#[derive(Template)]
#[template(path = "event_new.html")]
struct NewEventPage {
    layout: Layout,
}

/// `GET /events/new`.
pub(super) async fn new(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    if !layout.can_write {
        return Err(ApiError::Forbidden.into());
    }
    Ok(render(&NewEventPage { layout }))
}

struct GateRow {
    number: i64,
    name: String,
    serves: &'static str,
}

struct TypeRow {
    number: i64,
    /// The price as typed in a form ("45.00").
    price_input: String,
    /// Its currency (the form reads the price in its minor units).
    currency: String,
    sales_start: Option<i64>,
    sales_end: Option<i64>,
    /// The entry policy as the API spells it.
    policy_value: String,
    /// The allowed gates as typed in a form ("1, 3"; empty: all).
    gates_input: String,
    /// What the shop says of it.
    description: String,
    name: String,
    price: String,
    capacity: i64,
    sold: i64,
    held: i64,
    leased: i64,
    /// Set aside for vouchers.
    reserved: i64,
    /// Sold only with a voucher that opens it.
    hidden: bool,
    /// Sold only with a ticket.
    addon: bool,
    /// What one of it contains, in words ("1 × Parking (own ticket), 1 × Saturday"); empty:
    /// not a bundle.
    contains: String,
    /// The other types it may contain, for the form: (number, name, quantity now or 0,
    /// issued as a ticket of its own).
    may_contain: Vec<(i64, String, u32, bool)>,
    window: String,
    policy: &'static str,
    gates: String,
}

/// A status change the event's page offers: (target status, button label, confirmation).
struct Transition {
    to: &'static str,
    label: &'static str,
    confirm: &'static str,
}

fn transitions(status: Status) -> Vec<Transition> {
    let cancel = Transition {
        to: "cancelled",
        label: "Cancel the event",
        confirm: "Cancel this event? Sales stop and this cannot be undone.",
    };
    match status {
        Status::Draft => {
            vec![Transition { to: "on_sale", label: "Publish: start selling", confirm: "" }, cancel]
        }
        Status::OnSale => vec![Transition { to: "live", label: "Doors open: go live", confirm: "" }, cancel],
        Status::Live => vec![
            Transition {
                to: "ended",
                label: "End the event",
                confirm: "End the event? Gates stop admitting.",
            },
            cancel,
        ],
        _ => Vec::new(),
    }
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    id: i64,
    name: String,
    status: String,
    status_label: &'static str,
    starts: String,
    ends: String,
    starts_ms: i64,
    ends_ms: i64,
    time_zone: String,
    /// Whether it may still change (not ended, not cancelled).
    open: bool,
    /// What buyers read about it (language, description, venue).
    about: crate::events::About,
    /// (code, name) of every language buyers may read.
    languages: Vec<(&'static str, &'static str)>,
    shop_url: String,
    gates: Vec<GateRow>,
    types: Vec<TypeRow>,
    transitions: Vec<Transition>,
    /// The automatic discounts: (id, name, what it gives, when).
    discounts: Vec<(i64, String, String, String)>,
    /// The currency of its ticket types (a discount's amounts are in it).
    currency: String,
    /// Its seating, or the plans it could be sold by.
    seating: super::seat_plans::SeatingPanel,
    /// (number, name) of the types a plan's category may sell as (not bundles).
    seatable: Vec<(i64, String)>,
}

/// The event's automatic discounts as its page lists them: (id, name, what it gives, when).
async fn discount_rows(
    state: &AppState,
    org: i64,
    event: i64,
    currency: &str,
    zone: &str,
) -> Result<Vec<(i64, String, String, String)>, crate::error::ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let rules = crate::vouchers::rules::list(&mut tx, event).await?;
    tx.commit().await?;
    Ok(rules
        .iter()
        .map(|r| {
            let gives = super::vouchers::gives(&r.mode, r.value, r.free, currency);
            let scope = if r.ticket_types.is_empty() {
                "every type".to_owned()
            } else {
                format!("types {}", r.ticket_types)
            };
            let mut gives = format!("{gives} · {scope} · from {} in an order", r.min_quantity);
            if let Some(first) = r.first_tickets {
                gives = format!("{gives} · the first {first} of each type");
            }
            (r.id, r.name.clone(), gives, super::vouchers::period(r.valid_from, r.valid_until, zone))
        })
        .collect())
}

/// What one of bundle `t` contains, in words ("1 × Parking (own ticket), 1 × Saturday").
fn contains(t: &TicketTypeView, all: &[TicketTypeView]) -> String {
    let name = |n: u16| {
        all.iter().find(|t| t.number == i64::from(n)).map_or_else(|| n.to_string(), |t| t.name.clone())
    };
    t.includes
        .iter()
        .map(|p| {
            let own = if p.separate_ticket { " (own ticket)" } else { "" };
            format!("{} × {}{own}", p.quantity, name(p.ticket_type))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The types `t`'s form offers as its parts: every other one, with how many it contains now.
fn may_contain(t: &TicketTypeView, all: &[TicketTypeView]) -> Vec<(i64, String, u32, bool)> {
    all.iter()
        .filter(|o| o.number != t.number)
        .map(|o| {
            let now = t.includes.iter().find(|p| i64::from(p.ticket_type) == o.number);
            let (quantity, own) = now.map_or((0, true), |p| (p.quantity, p.separate_ticket));
            (o.number, o.name.clone(), quantity, own)
        })
        .collect()
}

/// `GET /events/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let event = super::event(&state, staff.0.org_id, id).await?;
    let zone = event.time_zone.clone();
    let gate_name = |n: &u16| {
        event
            .gates
            .iter()
            .find(|g| g.number == i64::from(*n))
            .map_or_else(|| n.to_string(), |g| g.name.clone())
    };
    let types: Vec<TypeRow> = event
        .ticket_types
        .iter()
        .map(|t| {
            let gates: Vec<String> = t.allowed_gates.0.iter().map(ToString::to_string).collect();
            TypeRow {
                policy_value: t.entry_policy.as_str().to_owned(),
                gates_input: gates.join(", "),
                number: t.number,
                price_input: sync_core::money::format_amount(t.price_minor, &t.currency),
                currency: t.currency.clone(),
                sales_start: t.sales_start,
                sales_end: t.sales_end,
                name: t.name.clone(),
                description: t.description.clone(),
                price: money(t.price_minor, &t.currency),
                capacity: t.capacity,
                sold: t.sold,
                held: t.held,
                leased: t.leased,
                reserved: t.reserved,
                hidden: t.hidden.0,
                addon: t.addon.0,
                contains: contains(t, &event.ticket_types),
                may_contain: may_contain(t, &event.ticket_types),
                window: match (t.sales_start, t.sales_end) {
                    (None, None) => "From publishing to the end".into(),
                    (from, to) => format!("{} – {}", local_time(from, &zone), local_time(to, &zone)),
                },
                policy: t.entry_policy.label(),
                gates: if t.allowed_gates.0.is_empty() {
                    "All gates".into()
                } else {
                    t.allowed_gates.0.iter().map(gate_name).collect::<Vec<_>>().join(", ")
                },
            }
        })
        .collect();
    let gates = event
        .gates
        .iter()
        .map(|g| GateRow { number: g.number, name: g.name.clone(), serves: g.serves.label() })
        .collect();
    let currency = super::vouchers::currency(&event);
    let discounts = discount_rows(&state, staff.0.org_id, id, &currency, &zone).await?;
    let seating = super::seat_plans::panel(&state, staff.0.org_id, id, &event.ticket_types).await?;
    let seatable = event
        .ticket_types
        .iter()
        .filter(|t| t.includes.is_empty())
        .map(|t| (t.number, t.name.clone()))
        .collect();
    Ok(render(&EventPage {
        seating,
        seatable,
        discounts,
        currency,
        layout,
        id,
        status_label: event.status.label(),
        transitions: transitions(event.status),
        open: event.status.is_open(),
        status: event.status.as_str().to_owned(),
        starts_ms: event.starts_at,
        ends_ms: event.ends_at,
        starts: local_time(Some(event.starts_at), &zone),
        ends: local_time(Some(event.ends_at), &zone),
        shop_url: format!("{}/shop/{id}", state.public_url.base()),
        languages: crate::lang::Lang::ALL.iter().map(|l| (l.code(), l.name())).collect(),
        about: event.about,
        name: event.name,
        time_zone: zone,
        gates,
        types,
    }))
}
