//! `/devices`: enrollment codes (as text and QR code) and the fleet.

use super::{Layout, PageResult, Staff, render};
use crate::server::AppState;
use crate::tenancy::now_ms;
use askama::Template;
use axum::extract::State;
use sqlx::Row;
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
    let events: Vec<EventChoice> = sqlx::query(
        "SELECT id, name FROM events WHERE org_id = $1 AND status NOT IN ('ended', 'cancelled') ORDER BY starts_at, id",
    )
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| EventChoice { id: r.get(0), name: r.get(1) })
    .collect();
    let mut names: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT de.device_id, e.name FROM device_events de JOIN events e ON e.id = de.event_id \
         WHERE de.org_id = $1 ORDER BY e.starts_at",
    )
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    {
        names.entry(r.get(0)).or_default().push(r.get(1));
    }
    // The gate of each device's latest scan (its own latest entry, by the primary key).
    let mut gates: HashMap<i64, String> = HashMap::new();
    for r in sqlx::query(
        "SELECT c.origin, COALESCE(g.name, '') FROM checkins c \
         JOIN (SELECT origin, MAX(seq) AS seq FROM checkins WHERE org_id = $1 GROUP BY origin) latest \
           ON latest.origin = c.origin AND latest.seq = c.seq \
         LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate WHERE c.org_id = $1",
    )
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    {
        gates.insert(r.get(0), r.get(1));
    }
    let now = now_ms();
    let devices = sqlx::query(
        "SELECT id, name, role, app_version, last_seen_at, pending_entries, revoked_at FROM devices \
         WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, name, id",
    )
    .bind(org)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let id: i64 = r.get(0);
        DeviceRow {
            id,
            name: r.get(1),
            role: if r.get::<String, _>(2) == "box_office" { "Box office" } else { "Gate" },
            events: names.get(&id).map(|n| n.join(", ")).unwrap_or_default(),
            app_version: r.get(3),
            last_seen: ago(r.get(4), now),
            gate: gates.get(&id).cloned().unwrap_or_default(),
            revocations: r
                .get::<Option<i64>, _>(4)
                .map_or_else(|| "none yet".into(), |t| format!("as of {}", ago(Some(t), now))),
            pending: r.get(5),
            revoked: r.get::<Option<i64>, _>(6).is_some(),
        }
    })
    .collect();
    tx.commit().await?;
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
