//! `/events/{id}/live`: the live dashboard, updated over server-sent events.
//!
//! The stream sends a [`Snapshot`] when it opens and again whenever the organization's journal
//! changes — the same [`Notifier`](crate::journal::Notifier) that wakes devices' long-polls, so
//! a check-in a device syncs reaches the dashboard as soon as its transaction commits (and
//! from another hub instance through LISTEN/NOTIFY). Changes that arrive while a snapshot is
//! being computed fold into the next one: a busy gate costs one query set per snapshot, not
//! one per scan. Without changes a snapshot still goes out every 15 s, so "offline for more
//! than N minutes" moves on by itself.

use super::{Layout, PageResult, Staff, render};
use crate::error::ApiError;
use crate::server::AppState;
use crate::tenancy::now_ms;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::convert::Infallible;
use std::time::Duration;

/// Minutes of check-ins the chart shows.
const CHART_MINUTES: i64 = 60;
/// A snapshot at least this often, changes or not.
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Template)]
#[template(path = "live.html")]
struct LivePage {
    layout: Layout,
    event: i64,
    event_name: String,
    offline_minutes: i64,
}

#[derive(Deserialize)]
pub(super) struct Options {
    /// A device counts as offline after this many minutes without contact (default 5).
    offline_minutes: Option<i64>,
}

impl Options {
    fn minutes(&self) -> i64 {
        self.offline_minutes.unwrap_or(5).clamp(1, 24 * 60)
    }
}

/// `GET /events/{id}/live`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(event): Path<i64>,
    Query(options): Query<Options>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let name = super::event_name(&state, staff.0.org_id, event).await?;
    Ok(render(&LivePage { layout, event, event_name: name, offline_minutes: options.minutes() }))
}

/// Admissions through one gate in one minute.
#[derive(Serialize)]
struct GateMinute {
    /// Minutes before now (0 = this minute).
    ago: i64,
    gate: String,
    count: i64,
}

/// A device that has not been heard from.
#[derive(Serialize)]
struct Offline {
    name: String,
    minutes: Option<i64>,
}

/// What the dashboard shows, at one moment.
#[derive(Serialize)]
struct Snapshot {
    at: i64,
    admitted: i64,
    inside: i64,
    sold_today: i64,
    double_admissions: i64,
    per_minute: Vec<GateMinute>,
    offline: Vec<Offline>,
}

async fn snapshot(
    state: &AppState,
    org: i64,
    event: i64,
    offline_minutes: i64,
) -> Result<Snapshot, ApiError> {
    let now = now_ms();
    let mut tx = state.db.tenant(org).await?;
    let zone = crate::reports::event_zone(&mut tx, org, event).await?;
    let since = (now / 60_000 - (CHART_MINUTES - 1)) * 60_000;
    let per_minute = sqlx::query(
        "SELECT c.at / 60000, COALESCE(g.name, ''), COUNT(*) FROM checkins c \
         LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate \
         WHERE c.event_id = $1 AND c.at >= $2 AND c.verdict IN ('admitted', 're_entry') \
         GROUP BY c.at / 60000, g.name ORDER BY 1",
    )
    .bind(event)
    .bind(since)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| GateMinute { ago: now / 60_000 - r.get::<i64, _>(0), gate: r.get(1), count: r.get(2) })
    .collect();
    let admitted: i64 = sqlx::query(
        "SELECT COUNT(*) FROM checkins WHERE event_id = $1 AND verdict IN ('admitted', 're_entry')",
    )
    .bind(event)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    let midnight = jiff::Timestamp::from_millisecond(now)
        .ok()
        .and_then(|t| t.to_zoned(zone).start_of_day().ok())
        .map_or(now, |d| d.timestamp().as_millisecond());
    let sold_today: i64 = sqlx::query(
        "SELECT COUNT(*) FROM tickets t JOIN orders o ON o.id = t.order_id \
         WHERE t.event_id = $1 AND o.status = 'paid' AND o.paid_at >= $2",
    )
    .bind(event)
    .bind(midnight)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    let offline = sqlx::query(
        "SELECT d.name, d.last_seen_at FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND d.revoked_at IS NULL AND (d.last_seen_at IS NULL OR d.last_seen_at < $2) \
         ORDER BY d.last_seen_at, d.name",
    )
    .bind(event)
    .bind(now - offline_minutes * 60_000)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| Offline { name: r.get(0), minutes: r.get::<Option<i64>, _>(1).map(|t| (now - t) / 60_000) })
    .collect();
    let inside = crate::reports::inside_now(&mut tx, event).await?;
    let double_admissions = crate::reports::double_admission_count(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Snapshot { at: now, admitted, inside, sold_today, double_admissions, per_minute, offline })
}

/// `GET /events/{id}/live/stream`: snapshots as server-sent events (`data:` JSON).
pub(super) async fn stream(
    State(state): State<AppState>,
    staff: Staff,
    Path(event): Path<i64>,
    Query(options): Query<Options>,
) -> axum::response::Response {
    let org = staff.0.org_id;
    // The event must be this organization's before anything is streamed.
    if let Err(e) = super::event_name(&state, org, event).await {
        return super::error_page(&e);
    }
    let changes = state.notifier.subscribe(org);
    let minutes = options.minutes();
    Sse::new(snapshots(state, org, event, minutes, changes)).keep_alive(KeepAlive::default()).into_response()
}

fn snapshots(
    state: AppState,
    org: i64,
    event: i64,
    minutes: i64,
    changes: tokio::sync::watch::Receiver<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((state, changes, true), move |(state, mut changes, first)| async move {
        if !first {
            // A change, or the heartbeat; a closed notifier (hub shutting down) ends the stream.
            if let Ok(Err(_)) = tokio::time::timeout(HEARTBEAT, changes.changed()).await {
                return None;
            }
        }
        changes.borrow_and_update();
        let event = match snapshot(&state, org, event, minutes).await {
            Ok(s) => {
                Event::default().json_data(&s).unwrap_or_else(|_| Event::default().comment("unserializable"))
            }
            // The page keeps its last figures and says the hub is not answering.
            Err(e) => {
                tracing::warn!(error = %e, "live dashboard snapshot failed");
                Event::default().event("unavailable").data("the hub could not read the figures")
            }
        };
        Some((Ok(event), (state, changes, false)))
    })
}
