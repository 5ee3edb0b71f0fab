//! `/events/{id}/leases`: box-office leases per device — rights, sold, serial range, expiry —
//! with grant, extend and reclaim (through `/api/v1/…/leases`).

use super::{Layout, PagePath, PageResult, Staff, local_time, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use std::collections::BTreeMap;

struct LeaseRow {
    id: i64,
    device: String,
    ticket_type: String,
    /// A seat lease's seats, named ("Stalls · Row A · Seats 1, 2"); empty without seats.
    seats: String,
    range: String,
    rights: i64,
    sold: i64,
    left: i64,
    expires: String,
    status: String,
    active: bool,
}

struct Choice {
    id: i64,
    name: String,
}

#[derive(Template)]
#[template(path = "leases.html")]
struct LeasesPage {
    layout: Layout,
    event: i64,
    event_name: String,
    leases: Vec<LeaseRow>,
    devices: Vec<Choice>,
    types: Vec<Choice>,
}

/// `GET /events/{id}/leases`: active leases first, newest first.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let detail = super::event(&state, org, event).await?;
    let zone = detail.time_zone.clone();
    let mut tx = state.db.tenant(org).await?;
    let mut views = crate::leases::store::leases(&mut tx, event).await?;
    let devices = crate::leases::store::box_offices(&mut tx, event).await?;
    let mut seats: BTreeMap<i64, Vec<(String, String, String)>> = BTreeMap::new();
    for (lease, section, row, label) in crate::seating::store::lease_seat_names(&mut tx, event).await? {
        seats.entry(lease).or_default().push((section, row, label));
    }
    tx.commit().await?;
    views.sort_by_key(|l| std::cmp::Reverse((l.status == "active", l.id)));
    let leases = views
        .into_iter()
        .map(|l| LeaseRow {
            id: l.id,
            seats: seats.get(&l.id).map(|s| crate::seating::describe_list(s)).unwrap_or_default(),
            range: format!("{}–{}", l.first_serial, l.last_serial),
            rights: l.rights(),
            left: l.left(),
            sold: l.sold,
            expires: local_time(Some(l.expires_at), &zone),
            active: l.status == "active",
            device: l.device,
            ticket_type: l.ticket_type_name,
            status: l.status,
        })
        .collect();
    let devices = devices.into_iter().map(|(id, name)| Choice { id, name }).collect();
    let types = detail.ticket_types.into_iter().map(|t| Choice { id: t.number, name: t.name }).collect();
    Ok(render(&LeasesPage { layout, event, event_name: detail.name, leases, devices, types }))
}
