//! `/events…`: the event list, the new-event form, an event's page.

use super::{Layout, PageResult, Staff, local_time, money, render};
use crate::error::ApiError;
use crate::server::AppState;
use askama::Template;
use axum::extract::{Path, State};
use sqlx::Row;

/// One event in the list.
struct EventRow {
    id: i64,
    name: String,
    status: &'static str,
    starts: String,
    sold: i64,
    capacity: i64,
}

/// How a status reads (and its CSS class is the stored value).
pub(super) fn status_label(status: &str) -> &'static str {
    match status {
        "draft" => "Draft",
        "on_sale" => "On sale",
        "live" => "Live",
        "ended" => "Ended",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    events: Vec<EventRow>,
}

/// `GET /events`.
pub(super) async fn list(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let rows = sqlx::query(
        "SELECT e.id, e.name, e.status, e.starts_at, e.time_zone, \
                CAST(COALESCE((SELECT SUM(sold) FROM ticket_types t WHERE t.event_id = e.id), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(capacity) FROM ticket_types t WHERE t.event_id = e.id), 0) AS BIGINT) \
         FROM events e WHERE e.org_id = $1 ORDER BY e.starts_at DESC, e.id DESC",
    )
    .bind(staff.0.org_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let events = rows
        .iter()
        .map(|r| EventRow {
            id: r.get(0),
            name: r.get(1),
            status: status_label(&r.get::<String, _>(2)),
            starts: local_time(Some(r.get(3)), &r.get::<String, _>(4)),
            sold: r.get(5),
            capacity: r.get(6),
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
    sales_start: Option<i64>,
    sales_end: Option<i64>,
    /// The entry policy as the API spells it.
    policy_value: String,
    /// The allowed gates as typed in a form ("1, 3"; empty: all).
    gates_input: String,
    name: String,
    price: String,
    capacity: i64,
    sold: i64,
    held: i64,
    leased: i64,
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

fn transitions(status: &str) -> Vec<Transition> {
    let cancel = Transition {
        to: "cancelled",
        label: "Cancel the event",
        confirm: "Cancel this event? Sales stop and this cannot be undone.",
    };
    match status {
        "draft" => vec![Transition { to: "on_sale", label: "Publish: start selling", confirm: "" }, cancel],
        "on_sale" => vec![Transition { to: "live", label: "Doors open: go live", confirm: "" }, cancel],
        "live" => vec![
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
    shop_url: String,
    gates: Vec<GateRow>,
    types: Vec<TypeRow>,
    transitions: Vec<Transition>,
}

/// `GET /events/{id}`.
pub(super) async fn detail(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let event = sqlx::query(
        "SELECT name, status, starts_at, ends_at, time_zone FROM events WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(staff.0.org_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let zone: String = event.get(4);
    let gates: Vec<GateRow> =
        sqlx::query("SELECT number, name, serves FROM gates WHERE event_id = $1 ORDER BY number")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| GateRow {
                number: r.get(0),
                name: r.get(1),
                serves: match r.get::<String, _>(2).as_str() {
                    "entry_only" => "Entry only",
                    "exit_only" => "Exit only",
                    _ => "Entry and exit",
                },
            })
            .collect();
    let gate_name = |n: &str| {
        n.parse::<i64>()
            .ok()
            .and_then(|n| gates.iter().find(|g| g.number == n))
            .map_or_else(|| n.to_owned(), |g| g.name.clone())
    };
    let types: Vec<TypeRow> = sqlx::query(
        "SELECT name, price_minor, currency, capacity, sold, held, leased, sales_start, sales_end, entry_policy, allowed_gates, number \
         FROM ticket_types WHERE event_id = $1 ORDER BY number",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let allowed: String = r.get(10);
        let price: i64 = r.get(1);
        TypeRow {
            policy_value: r.get(9),
            gates_input: allowed.replace(',', ", "),
            number: r.get(11),
            price_input: format!("{}.{:02}", price / 100, price % 100),
            sales_start: r.get(7),
            sales_end: r.get(8),
            name: r.get(0),
            price: money(r.get(1), &r.get::<String, _>(2)),
            capacity: r.get(3),
            sold: r.get(4),
            held: r.get(5),
            leased: r.get(6),
            window: match (r.get::<Option<i64>, _>(7), r.get::<Option<i64>, _>(8)) {
                (None, None) => "From publishing to the end".into(),
                (from, to) => format!("{} – {}", local_time(from, &zone), local_time(to, &zone)),
            },
            policy: match r.get::<String, _>(9).as_str() {
                "multi_entry" => "Multi entry",
                "exit_reentry" => "Exit and re-entry",
                _ => "Single entry",
            },
            gates: if allowed.is_empty() {
                "All gates".into()
            } else {
                allowed.split(',').map(gate_name).collect::<Vec<_>>().join(", ")
            },
        }
    })
    .collect();
    tx.commit().await?;
    let status: String = event.get(1);
    Ok(render(&EventPage {
        layout,
        id,
        name: event.get(0),
        status_label: status_label(&status),
        transitions: transitions(&status),
        open: status != "ended" && status != "cancelled",
        status,
        starts_ms: event.get(2),
        ends_ms: event.get(3),
        starts: local_time(Some(event.get(2)), &zone),
        ends: local_time(Some(event.get(3)), &zone),
        shop_url: format!("{}/shop/{id}", state.public_url.trim_end_matches('/')),
        time_zone: zone,
        gates,
        types,
    }))
}
