//! The schedules' queries: schedules, and their runs (each run's row is its slot's claim).

use crate::db::Tenant;
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// A schedule as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScheduleRow {
    /// Its id.
    pub id: i64,
    /// Its event (whose clock it keeps).
    pub event_id: i64,
    /// The report's name.
    pub report: String,
    /// Minutes after local midnight.
    pub minute: i64,
    /// "mon,tue,…".
    pub days: String,
    /// "owner,admin".
    pub roles: String,
    /// 1: paused.
    pub paused: i64,
    /// Slots after this are due.
    pub since: i64,
    /// Its next slot (or, after a failed run, when it is tried again).
    pub next_at: i64,
    /// Runs failed in a row.
    pub failures: i64,
    /// Why the last failed ("" if it did not).
    pub last_error: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

const COLUMNS: &str = "id, event_id, report, minute, days, roles, paused, since, next_at, failures, last_error, created_by, created_at";

/// What a schedule is made of.
pub struct Fields<'a> {
    /// The event.
    pub event: i64,
    /// The report's name.
    pub report: &'a str,
    /// Minutes after local midnight.
    pub minute: i64,
    /// "mon,tue,…".
    pub days: &'a str,
    /// "owner,admin".
    pub roles: &'a str,
    /// Paused.
    pub paused: bool,
    /// Slots after this are due (now, when it is made or changed).
    pub since: i64,
    /// Its next slot.
    pub next_at: i64,
}

/// Stores a new schedule; its id.
pub async fn insert(tx: &mut Tenant, f: &Fields<'_>, actor: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO report_schedules (org_id, event_id, report, minute, days, roles, paused, since, next_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(tx.org())
    .bind(f.event)
    .bind(f.report)
    .bind(f.minute)
    .bind(f.days)
    .bind(f.roles)
    .bind(i64::from(f.paused))
    .bind(f.since)
    .bind(f.next_at)
    .bind(actor)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Changes schedule `id` (its event stays).
pub async fn update(tx: &mut Tenant, id: i64, f: &Fields<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_schedules SET report = $1, minute = $2, days = $3, roles = $4, paused = $5, since = $6, next_at = $7 \
         WHERE id = $8 AND org_id = $9",
    )
    .bind(f.report)
    .bind(f.minute)
    .bind(f.days)
    .bind(f.roles)
    .bind(i64::from(f.paused))
    .bind(f.since)
    .bind(f.next_at)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes schedule `id` and its runs.
pub async fn delete(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM report_runs WHERE schedule_id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    let gone = sqlx::query("DELETE FROM report_schedules WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(gone.rows_affected() == 1)
}

/// Schedule `id` of the organization.
pub async fn schedule(tx: &mut Tenant, id: i64) -> Result<Option<ScheduleRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_schedules WHERE id = $1 AND org_id = $2"
    )))
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Schedule `id` for a run, locked on PostgreSQL until the transaction ends: a change saved
/// meanwhile waits, and the run works from what is stored, not from a copy read before.
pub async fn schedule_for_run(tx: &mut Tenant, id: i64) -> Result<Option<ScheduleRow>, sqlx::Error> {
    let lock = match tx.backend() {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "", // the transaction holds the database's write lock
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_schedules WHERE id = $1 AND org_id = $2{lock}"
    )))
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Records a failed run of schedule `id`: tried again at `retry_at`, its slots still due.
pub async fn failed(tx: &mut Tenant, id: i64, retry_at: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_schedules SET failures = failures + 1, last_error = $1, next_at = $2 WHERE id = $3 AND org_id = $4",
    )
    .bind(error)
    .bind(retry_at)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The schedules of `event`, oldest first.
pub async fn of_event(tx: &mut Tenant, event: i64) -> Result<Vec<ScheduleRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_schedules WHERE event_id = $1 AND org_id = $2 ORDER BY id"
    )))
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// How many schedules `event` has.
pub async fn count(tx: &mut Tenant, event: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM report_schedules WHERE event_id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

/// Up to 100 schedules of every organization whose next slot has come: (id, organization).
pub async fn due(conn: &mut AnyConnection, now: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id FROM report_schedules WHERE next_at <= $1 AND paused = 0 ORDER BY next_at LIMIT 100")
        .bind(now)
        .fetch_all(conn)
        .await
}

/// Claims `slot` of schedule `id` for a run: its id, or `None` if the slot was run already (by
/// this instance or another — the unique index decides, waiting for a concurrent claim to
/// commit or roll back).
pub async fn claim(tx: &mut Tenant, id: i64, slot: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO report_runs (org_id, schedule_id, slot_at, ran_at, outcome) VALUES ($1, $2, $3, $4, 'running') \
         ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING id",
    )
    .bind(tx.org())
    .bind(id)
    .bind(slot)
    .bind(tx.now())
    .fetch_optional(&mut **tx)
    .await
}

/// Records how run `run` ended.
pub async fn finish(
    tx: &mut Tenant,
    run: i64,
    outcome: &str,
    recipients: i64,
    covered_by: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_runs SET outcome = $1, recipients = $2, covered_by = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(outcome)
    .bind(recipients)
    .bind(covered_by)
    .bind(run)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves schedule `id` on: slots up to `since` are done, the next is at `next_at`.
pub async fn advance(tx: &mut Tenant, id: i64, since: i64, next_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_schedules SET since = CASE WHEN since > $1 THEN since ELSE $1 END, next_at = $2, \
         failures = 0, last_error = '' WHERE id = $3 AND org_id = $4",
    )
    .bind(since)
    .bind(next_at)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One run of a schedule, as the console and the API show it.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RunRow {
    /// Its id.
    pub id: i64,
    /// When it was due (Unix ms).
    pub slot_at: i64,
    /// When it ran (Unix ms).
    pub ran_at: i64,
    /// `sent` (its mail went to `recipients` members), `caught_up` (due while the hub was
    /// down; its report went with run `covered_by`), `nobody` (no member has the roles), or
    /// `sent_now` (asked for by hand).
    pub outcome: String,
    /// How many members it was mailed to.
    pub recipients: i64,
    /// The run whose mail covered this one.
    pub covered_by: Option<i64>,
}

/// The latest `limit` runs of schedule `id`, newest first.
pub async fn runs(tx: &mut Tenant, id: i64, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, slot_at, ran_at, outcome, recipients, covered_by FROM report_runs \
         WHERE schedule_id = $1 AND org_id = $2 ORDER BY slot_at DESC, id DESC LIMIT $3",
    )
    .bind(id)
    .bind(tx.org())
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// An event as a report's message names it.
#[derive(sqlx::FromRow)]
pub struct EventRow {
    /// Its name.
    pub name: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's time zone.
    pub time_zone: String,
    /// The venue's name.
    pub venue_name: String,
    /// The venue's address.
    pub venue_address: String,
}

/// Event `event` of the organization, for a report's message.
pub async fn event_facts(tx: &mut Tenant, event: i64) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, starts_at, ends_at, time_zone, venue_name, venue_address FROM events WHERE id = $1 AND org_id = $2",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}
