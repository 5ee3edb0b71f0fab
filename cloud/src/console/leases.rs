//! `/events/{id}/leases`: box-office leases per device — rights, sold, serial range, expiry —
//! with grant, extend and reclaim (through `/api/v1/…/leases`).

use super::{Layout, PageResult, Staff, local_time, render};
use crate::error::ApiError;
use crate::server::AppState;
use askama::Template;
use axum::extract::{Path, State};
use sqlx::Row;

struct LeaseRow {
    id: i64,
    device: String,
    ticket_type: String,
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

/// `GET /events/{id}/leases`.
pub(super) async fn page(State(state): State<AppState>, staff: Staff, Path(event): Path<i64>) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let mut tx = state.db.tenant(org).await?;
    let e = sqlx::query("SELECT name, time_zone FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let zone: String = e.get(1);
    let leases = sqlx::query(
        "SELECT l.id, d.name, t.name, l.first_serial, l.last_serial, l.sold, l.status, l.expires_at, l.returned_from \
         FROM leases l JOIN devices d ON d.id = l.device_id JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE l.event_id = $1 AND l.org_id = $2 ORDER BY l.status = 'active' DESC, l.id DESC",
    )
    .bind(event)
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let (first, last, sold): (i64, i64, i64) = (r.get(3), r.get(4), r.get(5));
        let status: String = r.get(6);
        // Rights returned by the device are no longer its own.
        let rights = r.get::<Option<i64>, _>(8).unwrap_or(last + 1) - first;
        let active = status == "active";
        LeaseRow {
            id: r.get(0),
            device: r.get(1),
            ticket_type: r.get(2),
            range: format!("{first}–{last}"),
            rights,
            sold,
            left: if active { (rights - sold).max(0) } else { 0 },
            expires: local_time(Some(r.get(7)), &zone),
            status,
            active,
        }
    })
    .collect();
    let devices = sqlx::query(
        "SELECT d.id, d.name FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND d.role = 'box_office' AND d.revoked_at IS NULL ORDER BY d.name",
    )
    .bind(event)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| Choice { id: r.get(0), name: r.get(1) })
    .collect();
    let types = sqlx::query("SELECT number, name FROM ticket_types WHERE event_id = $1 ORDER BY number")
        .bind(event)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Choice { id: r.get(0), name: r.get(1) })
        .collect();
    tx.commit().await?;
    Ok(render(&LeasesPage { layout, event, event_name: e.get(0), leases, devices, types }))
}
