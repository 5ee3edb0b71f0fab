//! `/devices`: enrollment codes (as text and QR code) and the fleet.

use super::{Layout, PageResult, Staff, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use std::collections::HashMap;

struct DeviceRow {
    id: i64,
    name: String,
    role: &'static str,
    events: String,
    last_seen: String,
    /// The gate of its latest scan (devices do not report their gate otherwise).
    gate: String,
    /// How fresh its revocation list is: every sync brings all revocations, so it is as old
    /// as the last sync.
    revocations: String,
    app_version: String,
    pending: i64,
    revoked: bool,
}

struct EventChoice {
    id: i64,
    name: String,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    layout: Layout,
    devices: Vec<DeviceRow>,
    events: Vec<EventChoice>,
}

/// "3 min ago", "2 h ago", "never".
fn ago(then: Option<i64>, now: i64) -> String {
    let Some(then) = then else { return "never".into() };
    let secs = (now - then).max(0) / 1000;
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// `GET /devices`.
pub(super) async fn page(State(state): State<AppState>, staff: Staff) -> PageResult {
    let layout = staff.layout(&state, "devices").await?;
    let org = staff.0.org_id;
    let mut tx = state.db.tenant(org).await?;
    let all_events = crate::events::store::events(&mut tx).await?;
    tx.commit().await?;
    let names: HashMap<i64, &str> = all_events.iter().map(|e| (e.id, e.name.as_str())).collect();
    let events = all_events
        .iter()
        .filter(|e| e.status.is_open())
        .map(|e| EventChoice { id: e.id, name: e.name.clone() })
        .collect();
    let now = state.clock.now_ms();
    let mut fleet = crate::devices::fleet(&state.db, org).await?;
    // Working devices first, by name.
    fleet.sort_by(|a, b| (a.revoked, &a.name, a.id).cmp(&(b.revoked, &b.name, b.id)));
    let devices = fleet
        .into_iter()
        .map(|d| DeviceRow {
            events: d.events.iter().filter_map(|e| names.get(e).copied()).collect::<Vec<_>>().join(", "),
            last_seen: ago(d.last_seen_at, now),
            gate: d.last_gate.unwrap_or_default(),
            revocations: d
                .last_seen_at
                .map_or_else(|| "none yet".into(), |t| format!("as of {}", ago(Some(t), now))),
            id: d.id,
            name: d.name,
            role: d.role.label(),
            app_version: d.app_version,
            pending: d.pending_entries,
            revoked: d.revoked,
        })
        .collect();
    Ok(render(&DevicesPage { layout, devices, events }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_seen_reads_in_words() {
        assert_eq!(super::ago(None, 0), "never");
        assert_eq!(super::ago(Some(0), 59_000), "59 s ago");
        assert_eq!(super::ago(Some(0), 180_000), "3 min ago");
        assert_eq!(super::ago(Some(0), 7_200_000), "2 h ago");
    }
}
