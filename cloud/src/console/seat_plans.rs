//! `/seat-plans…`: the organization's plans, the builder (a page around `builder.js`, which
//! reads and saves the plan through the API), and the seating panel of an event's page
//! (which plan sells it, its seats by category and state, or the forms that choose one).

use super::{Layout, PagePath, PageResult, Staff, local_time, render};
use crate::error::ApiError;
use crate::events::TicketTypeView;
use crate::seating::{SeatingView, store};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

/// A plan in the list.
struct PlanItem {
    id: i64,
    name: String,
    seats: i64,
    changed: String,
}

#[derive(Template)]
#[template(path = "seat_plans.html")]
struct PlansPage {
    layout: Layout,
    plans: Vec<PlanItem>,
}

/// `GET /seat-plans`.
pub(super) async fn list(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "plans").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let rows = store::plans(&mut tx).await?;
    tx.commit().await?;
    let plans = rows
        .into_iter()
        .map(|p| PlanItem {
            id: p.id,
            name: p.name,
            seats: p.seats,
            changed: format!("{} UTC", local_time(Some(p.updated_at), "UTC")),
        })
        .collect();
    Ok(render(&PlansPage { layout, plans }))
}

#[derive(Template)]
#[template(path = "seat_plan.html")]
struct BuilderPage {
    layout: Layout,
    /// The plan edited; 0 for a new one.
    plan_id: i64,
    title: String,
}

/// `GET /seat-plans/new`.
pub(super) async fn new(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "plans").await?;
    if !layout.can_write {
        return Err(ApiError::Forbidden.into());
    }
    Ok(render(&BuilderPage { layout, plan_id: 0, title: "New seat plan".into() }))
}

/// `GET /seat-plans/{id}`.
pub(super) async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "plans").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let (row, _) = store::plan(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(render(&BuilderPage { layout, plan_id: id, title: row.name }))
}

/// One category of the event's seating, as its page shows it.
pub(super) struct SeatedCategory {
    pub category: String,
    pub ticket_type: String,
    pub free: i64,
    pub held: i64,
    pub sold: i64,
    pub blocked: i64,
    pub leased: i64,
}

/// A plan the event could be sold by: its id, name, and categories (with seats or standing
/// places) to map to ticket types.
pub(super) struct PlanChoice {
    pub id: i64,
    pub name: String,
    pub categories: Vec<String>,
}

/// The seating panel of an event's page.
#[derive(Default)]
pub(super) struct SeatingPanel {
    /// The plan it is sold by, if it is.
    pub plan: Option<String>,
    /// Then: its categories' seats by state.
    pub categories: Vec<SeatedCategory>,
    /// Else: the plans it could be sold by.
    pub plans: Vec<PlanChoice>,
}

/// The panel for `event`, whose ticket types are `types`.
pub(super) async fn panel(
    state: &AppState,
    org: i64,
    event: i64,
    types: &[TicketTypeView],
) -> Result<SeatingPanel, ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let seated = crate::seating::seating_view(&mut tx, event).await?;
    let panel = if let Some(SeatingView { name, seats, .. }) = seated {
        let type_name =
            |n: i64| types.iter().find(|t| t.number == n).map_or_else(|| n.to_string(), |t| t.name.clone());
        let categories = seats
            .into_iter()
            .map(|c| SeatedCategory {
                ticket_type: type_name(c.ticket_type),
                category: c.category,
                free: c.free,
                held: c.held,
                sold: c.sold,
                blocked: c.blocked,
                leased: c.leased,
            })
            .collect();
        SeatingPanel { plan: Some(name), categories, plans: Vec::new() }
    } else {
        let mut plans = Vec::new();
        for row in store::plans(&mut tx).await? {
            let Some((_, json)) = store::plan(&mut tx, row.id).await? else { continue };
            let plan = sync_core::seating::Plan::from_json(json.as_bytes()).map_err(anyhow::Error::from)?;
            let summary = plan.check().map_err(anyhow::Error::from)?;
            let categories = plan
                .categories
                .iter()
                .filter(|c| {
                    summary.seats.get(&c.name).is_some_and(|n| *n > 0)
                        || summary.standing.contains_key(&c.name)
                })
                .map(|c| c.name.clone())
                .collect();
            plans.push(PlanChoice { id: row.id, name: row.name, categories });
        }
        SeatingPanel { plans, ..SeatingPanel::default() }
    };
    tx.commit().await?;
    Ok(panel)
}

/// A blocked or leased seat, as the seats page lists it: why, or to which box office.
struct ListedSeat {
    seat: String,
    name: String,
    why: String,
}

#[derive(Template)]
#[template(path = "event_seats.html")]
struct SeatsPage {
    layout: Layout,
    event: i64,
    event_name: String,
    /// The event's plan (native JSON, safe inside a `<script>`).
    plan_json: String,
    /// Which ticket type each category sells as (JSON, safe inside a `<script>` too).
    categories_json: String,
    blocked: Vec<ListedSeat>,
    leased: Vec<ListedSeat>,
    /// The event's box offices: (device id, name).
    devices: Vec<(i64, String)>,
}

/// JSON with "</" written "<\/": the same value, and it cannot end the script element.
fn in_script(json: &str) -> String {
    json.replace("</", "<\\/")
}

/// `GET /events/{id}/seats`: the event's seats on its plan, to block, release and lease.
pub(super) async fn seats(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let detail = super::event(&state, staff.0.org_id, event).await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let (_, plan, categories) = store::seating(&mut tx, event).await?.ok_or(ApiError::NotFound)?;
    let blocked = store::seats(&mut tx, event, Some("blocked"))
        .await?
        .into_iter()
        .map(|s| ListedSeat {
            name: s.describe(),
            why: s.blocked_reason.clone().unwrap_or_default(),
            seat: s.seat_key,
        })
        .collect();
    let devices = crate::leases::store::box_offices(&mut tx, event).await?;
    let device_of: std::collections::BTreeMap<i64, String> =
        crate::leases::store::leases(&mut tx, event).await?.into_iter().map(|l| (l.id, l.device)).collect();
    let leased = store::seats(&mut tx, event, Some("leased"))
        .await?
        .into_iter()
        .map(|s| {
            let lease = s.lease_id.unwrap_or_default();
            let device = device_of.get(&lease).cloned().unwrap_or_default();
            ListedSeat { name: s.describe(), why: format!("{device} (lease {lease})"), seat: s.seat_key }
        })
        .collect();
    tx.commit().await?;
    let (plan_json, categories_json) = (in_script(&plan), in_script(&categories));
    let page = SeatsPage {
        layout,
        event,
        event_name: detail.name,
        plan_json,
        categories_json,
        blocked,
        leased,
        devices,
    };
    Ok(render(&page))
}
