//! Reserved seating in the hub: an organization's seat plans (sync-core's
//! [`sync_core::seating::Plan`], native or pretix's format), an event sold by seat (its
//! categories mapped to ticket types), its seats and their state, and the seat map the shop
//! draws.
//!
//! Invariants:
//! 1. a seat is in at most one live hold or order: only a conditional UPDATE from `free` takes
//!    one (`holds`), and the table's CHECK says a held or sold seat names its order;
//! 2. a seated ticket type's capacity is its number of seats (a standing category's, its
//!    areas' capacity): set when the plan is assigned, refused when edited by hand, so the
//!    capacity counters checkout already takes and the seats agree;
//! 3. an event's plan is a copy: editing the organization's plan never moves a sold seat, and
//!    an event's seating changes only while none of its seats or seated types is sold, held or
//!    leased;
//! 4. a seated type is leased by seat only: a lease of it names its seats, each leased to that
//!    lease alone (`leased`), which online checkout never takes; it is never in a bundle (a
//!    bundle would take its capacity without a seat).

pub mod assign;
pub mod holds;
pub mod leased;
pub mod live;
pub mod routes;
pub mod store;
pub mod take;

use crate::db::Tenant;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The routes, with their OpenAPI documentation.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    routes::routes()
}

/// A stored plan, without its drawing.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct PlanRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its seats.
    pub seats: i64,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// One seat of an event, as staff see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct SeatRow {
    /// Row id.
    #[serde(skip)]
    pub id: i64,
    /// Its compact number within the event (plan order, from 0).
    pub number: i64,
    /// Its id in the plan.
    #[serde(rename = "seat")]
    pub seat_key: String,
    /// Its ticket type's row id.
    #[serde(skip)]
    pub ticket_type_id: i64,
    /// The ticket type it sells as.
    pub ticket_type: i64,
    /// Its category.
    pub category: String,
    /// Its section.
    pub section: String,
    /// Its row.
    #[serde(rename = "row")]
    pub row_label: String,
    /// Its label.
    pub label: String,
    /// Its row across the plan.
    #[serde(skip)]
    pub row_key: i64,
    /// Its place in the row.
    #[serde(skip)]
    pub pos: i64,
    /// Where it is drawn.
    pub x: i64,
    /// Where it is drawn.
    pub y: i64,
    /// Accessibility: `wheelchair`, `companion`, `restricted_view`, comma-separated.
    pub flags: String,
    /// `free`, `held` (an unpaid order), `sold`, `blocked` or `leased` (to a box office).
    pub state: String,
    /// The order holding it.
    #[serde(rename = "order")]
    pub order_code: Option<String>,
    /// Why it is blocked.
    pub blocked_reason: Option<String>,
    /// The box-office lease holding it (leased), or it was sold under (sold at the door).
    #[serde(rename = "lease")]
    pub lease_id: Option<i64>,
}

impl SeatRow {
    /// "Stalls · Row F · Seat 12": how tickets, the order page and the gate name it.
    pub fn describe(&self) -> String {
        describe(&self.section, &self.row_label, &self.label)
    }
}

/// Whether `key` can be a seat id (the plan's rule: 1–64 printable ASCII characters).
pub fn seat_id(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// "Stalls · Row F · Seat 12".
pub fn describe(section: &str, row: &str, seat: &str) -> String {
    sync_core::seating::SeatName { section, row, seat }.to_string()
}

/// `(section, row, label)` seats named compactly, in the order given, a run of one row's seats
/// together: "Stalls · Row A · Seats 5, 6; Balcony · Row B · Seat 1" (a lease's seats, in
/// the console).
pub fn describe_list(seats: &[(String, String, String)]) -> String {
    let mut runs: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for (section, row, label) in seats {
        match runs.last_mut() {
            Some((s, r, labels)) if s == section && r == row => labels.push(label),
            _ => runs.push((section, row, vec![label])),
        }
    }
    runs.iter()
        .map(|(section, row, labels)| {
            let noun = if labels.len() == 1 { "Seat" } else { "Seats" };
            format!("{section} · Row {row} · {noun} {}", labels.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_list_of_seats_names_each_row_once() {
        let seat = |s: &str, r: &str, l: &str| (s.to_owned(), r.to_owned(), l.to_owned());
        let seats = [
            seat("Stalls", "A", "5"),
            seat("Stalls", "A", "6"),
            seat("Balcony", "B", "1"),
            seat("Stalls", "A", "7"),
        ];
        assert_eq!(
            super::describe_list(&seats),
            "Stalls · Row A · Seats 5, 6; Balcony · Row B · Seat 1; Stalls · Row A · Seat 7"
        );
        assert_eq!(super::describe_list(&seats[..1]), super::describe("Stalls", "A", "5"));
        assert_eq!(super::describe_list(&[]), "");
    }
}

/// Which ticket type each category of the plan sells as.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeating {
    /// The organization's plan (copied to the event).
    pub plan: i64,
    /// Category name → ticket type number. Every category with seats or standing places is
    /// named; a ticket type sells either seats or standing places.
    pub categories: BTreeMap<String, u16>,
}

/// An event's seating and its seats by state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SeatingView {
    /// The plan it was copied from.
    pub plan: i64,
    /// The plan's name.
    pub name: String,
    /// Category → ticket type number.
    pub categories: BTreeMap<String, u16>,
    /// Seats per ticket type, category and state.
    pub seats: Vec<SeatCount>,
}

/// How many seats of a ticket type and category are in each state.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct SeatCount {
    /// The ticket type.
    pub ticket_type: i64,
    /// The category.
    pub category: String,
    /// Free to sell.
    pub free: i64,
    /// Held by unpaid orders.
    pub held: i64,
    /// Sold.
    pub sold: i64,
    /// Blocked.
    pub blocked: i64,
    /// Leased to a box office, to sell at the door.
    pub leased: i64,
}

/// An event's seating as stored; `None` if it is not sold by seat.
pub async fn seating_view(tx: &mut Tenant, event: i64) -> Result<Option<SeatingView>, ApiError> {
    let Some((plan, json, categories)) = store::seating(tx, event).await? else {
        return Ok(None);
    };
    let name = sync_core::seating::Plan::from_json(json.as_bytes()).map_err(anyhow::Error::from)?.name;
    let categories: BTreeMap<String, u16> = serde_json::from_str(&categories).map_err(anyhow::Error::from)?;
    let mut seats: Vec<SeatCount> = Vec::new();
    for (ticket_type, category, state, n) in store::counts(tx, event).await? {
        if seats.last().is_none_or(|c| c.ticket_type != ticket_type || c.category != category) {
            seats.push(SeatCount { ticket_type, category: category.clone(), ..SeatCount::default() });
        }
        let count = seats.last_mut().ok_or_else(|| anyhow::anyhow!("no seat count"))?;
        match state.as_str() {
            "free" => count.free = n,
            "held" => count.held = n,
            "sold" => count.sold = n,
            "leased" => count.leased = n,
            _ => count.blocked = n,
        }
    }
    Ok(Some(SeatingView { plan, name, categories, seats }))
}

/// Refuses leasing ticket type `id`, or making it a bundle or a part, if it sells seats.
pub async fn refuse_if_seated(tx: &mut Tenant, id: i64) -> Result<(), ApiError> {
    if store::is_seated(tx, id).await? {
        return Err(seated_conflict());
    }
    Ok(())
}

/// A seated ticket type cannot be bundled, nor leased without naming its seats: said in words.
pub fn seated_conflict() -> ApiError {
    ApiError::Conflict {
        code: "seated_type",
        message:
            "this ticket type sells reserved seats: it is not bundled, and the organizer leases it by seat"
                .into(),
    }
}
