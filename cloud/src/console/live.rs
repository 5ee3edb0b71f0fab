//! `/events/{id}/live`: the live dashboard, updated over server-sent events.
//!
//! The stream sends a [`Snapshot`] when it opens and again whenever the organization's journal
//! changes — the same [`Notifier`](crate::db::Notifier) that wakes devices' long-polls, so
//! a check-in a device syncs reaches the dashboard as soon as its transaction commits (and
//! from another hub instance through LISTEN/NOTIFY). Changes that arrive while a snapshot is
//! being computed fold into the next one: a busy gate costs one query set per snapshot, not
//! one per scan. Without changes a snapshot still goes out every 15 s, so "offline for more
//! than N minutes" moves on by itself.
//!
//! The open dashboards of one event share each snapshot ([`Snapshots`]): the first stream to
//! wake reads and serializes it, the others send what it made. Five thousand dashboards open
//! on one event (a festival's staff, a screen per bar) cost one query set per change, not five
//! thousand (docs/benchmarks.md, "Open connections").

use super::{Layout, PagePath, PageQuery, PageResult, Staff, render};
use crate::reports::live::snapshot;
use crate::shared_reads::{SharedReads, Wanted};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A snapshot at least this often, changes or not.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// A stream opening or beating takes a shared snapshot up to this old (the streams of one
/// event opened at different moments: without it each would read its own every 15 s).
const REUSE_AT_MOST: Duration = Duration::from_secs(5);

/// Which dashboards can share a snapshot: organization, event, offline threshold (minutes).
type Key = (i64, i64, i64);

/// The last snapshot of each event's dashboard (its JSON), shared by its open streams.
pub type Snapshots = Arc<SharedReads<Key, String>>;

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
    PagePath(event): PagePath<i64>,
    PageQuery(options): PageQuery<Options>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let name = super::event(&state, staff.0.org_id, event).await?.name;
    Ok(render(&LivePage { layout, event, event_name: name, offline_minutes: options.minutes() }))
}

/// `GET /events/{id}/live/stream`: snapshots as server-sent events (`data:` JSON).
pub(super) async fn stream(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
    PageQuery(options): PageQuery<Options>,
) -> axum::response::Response {
    let org = staff.0.org_id;
    // The event must be this organization's before anything is streamed.
    if let Err(e) = super::event(&state, org, event).await {
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
        // Opening or beating, the figures must be recent ("offline for N minutes" moves on).
        let mut fresh = first;
        if !first {
            // A change, or the heartbeat; a closed notifier (hub shutting down) ends the stream.
            match tokio::time::timeout(HEARTBEAT, changes.changed()).await {
                Ok(Err(_)) => return None,
                Err(_) => fresh = true,
                Ok(Ok(())) => {}
            }
        }
        let wanted = Wanted {
            count: *changes.borrow_and_update(),
            since: fresh.then(|| Instant::now().checked_sub(REUSE_AT_MOST)).flatten(),
        };
        let read = || async {
            let figures = snapshot(&state.db, org, event, minutes).await?;
            serde_json::to_string(&figures).map_err(|e| crate::error::ApiError::Internal(e.into()))
        };
        let shared = state.dashboard_snapshots.get(&(org, event, minutes), wanted, read).await;
        let event = match shared {
            Ok(data) => Event::default().data(data.as_str()),
            // The page keeps its last figures and says the hub is not answering.
            Err(e) => {
                tracing::warn!(error = %e, "live dashboard snapshot failed");
                Event::default().event("unavailable").data("the hub could not read the figures")
            }
        };
        Some((Ok(event), (state, changes, false)))
    })
}
