//! The live figures of an event at one moment: what the console's dashboard streams and
//! `GET /api/v1/events/{id}/live` answers.

use super::queries;
use crate::db::Db;
use crate::error::ApiError;
use serde::Serialize;
use utoipa::ToSchema;

/// Minutes of check-ins the chart shows.
pub const CHART_MINUTES: i64 = 60;

/// Admissions through one gate in one minute.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GateMinute {
    /// Minutes before now (0 = this minute).
    pub ago: i64,
    /// The gate's name.
    pub gate: String,
    /// Admissions.
    pub count: i64,
}

/// A device that has not been heard from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Offline {
    /// Its name.
    pub name: String,
    /// Minutes since it was last heard from (absent: never).
    pub minutes: Option<i64>,
}

/// What the dashboard shows, at one moment.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Snapshot {
    /// When (Unix ms).
    pub at: i64,
    /// Admissions so far (re-entries included).
    pub admitted: i64,
    /// People inside now.
    pub inside: i64,
    /// Tickets paid since midnight, venue time.
    pub sold_today: i64,
    /// Single-entry tickets admitted more than once.
    pub double_admissions: i64,
    /// Admissions per gate and minute, the last [`CHART_MINUTES`] minutes.
    pub per_minute: Vec<GateMinute>,
    /// Devices not heard from for `offline_minutes`.
    pub offline: Vec<Offline>,
}

/// The organization's `event` now; devices count as offline after `offline_minutes`.
pub async fn snapshot(db: &Db, org: i64, event: i64, offline_minutes: i64) -> Result<Snapshot, ApiError> {
    let mut tx = db.tenant(org).await?;
    let now = tx.now();
    let zone = queries::event_zone(&mut tx, event).await?;
    let since = (now / 60_000 - (CHART_MINUTES - 1)) * 60_000;
    let per_minute = queries::admissions_per_minute(&mut tx, event, since)
        .await?
        .into_iter()
        .map(|(minute, gate, count)| GateMinute { ago: now / 60_000 - minute, gate, count })
        .collect();
    let admitted = queries::admitted(&mut tx, event).await?;
    let midnight = jiff::Timestamp::from_millisecond(now)
        .ok()
        .and_then(|t| t.to_zoned(zone).start_of_day().ok())
        .map_or(now, |d| d.timestamp().as_millisecond());
    let sold_today = queries::sold_since(&mut tx, event, midnight).await?;
    let offline = queries::quiet_devices(&mut tx, event, now - offline_minutes * 60_000)
        .await?
        .into_iter()
        .map(|(name, seen)| Offline { name, minutes: seen.map(|t| (now - t) / 60_000) })
        .collect();
    let inside = super::inside_now(&mut tx, event).await?;
    let double_admissions = super::double_admission_count(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Snapshot { at: now, admitted, inside, sold_today, double_admissions, per_minute, offline })
}
