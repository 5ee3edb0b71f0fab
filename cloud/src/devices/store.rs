//! The queries of enrollment codes, devices and their events.

use super::DeviceRole;
use super::views::EventRef;
use crate::db::Tenant;
use sqlx::AnyConnection;

/// A device as stored.
#[derive(sqlx::FromRow)]
pub struct DeviceRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its role.
    #[sqlx(try_from = "String")]
    pub role: DeviceRole,
    /// Its app version at enrollment.
    pub app_version: String,
    /// When it enrolled.
    pub enrolled_at: i64,
    /// When it last synced.
    pub last_seen_at: Option<i64>,
    /// Its pending entries then.
    pub pending_entries: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// What a spent enrollment code was for.
#[derive(sqlx::FromRow)]
pub struct SpentCode {
    /// The organization.
    pub org_id: i64,
    /// The device's role.
    #[sqlx(try_from = "String")]
    pub role: DeviceRole,
    /// The device's name.
    pub name: String,
    /// Its events, comma-separated ids.
    pub events: String,
}

/// Stores a new enrollment code by its hash.
pub async fn insert_code(
    tx: &mut Tenant,
    code_hash: &str,
    role: DeviceRole,
    name: &str,
    events: &[i64],
    created_by: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let events: Vec<String> = events.iter().map(ToString::to_string).collect();
    sqlx::query(
        "INSERT INTO enrollment_codes (code_hash, org_id, role, name, events, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(code_hash)
    .bind(tx.org())
    .bind(role.as_str())
    .bind(name)
    .bind(events.join(","))
    .bind(created_by)
    .bind(tx.now())
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Spends the code with this hash, if it is unused and unexpired: only one request can. A
/// lookup across organizations (the code names its organization).
pub async fn spend_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    now: i64,
) -> Result<Option<SpentCode>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING org_id, role, name, events",
    )
    .bind(now)
    .bind(code_hash)
    .fetch_optional(conn)
    .await
}

/// Whether a device (of any organization) has this public key.
pub async fn key_taken(conn: &mut AnyConnection, public_key: &[u8]) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM devices WHERE public_key = $1")
        .bind(public_key)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// A new device's id.
pub async fn insert_device(
    tx: &mut Tenant,
    name: &str,
    role: DeviceRole,
    public_key: &[u8],
    app_version: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO devices (org_id, name, role, public_key, app_version, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(tx.org())
    .bind(name)
    .bind(role.as_str())
    .bind(public_key)
    .bind(app_version)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Records which device a code enrolled.
pub async fn set_code_device(tx: &mut Tenant, code_hash: &str, device: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE enrollment_codes SET device_id = $1 WHERE code_hash = $2 AND org_id = $3")
        .bind(device)
        .bind(code_hash)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Enrolls `device` for `event`.
pub async fn add_event(tx: &mut Tenant, device: i64, event: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO device_events (device_id, event_id, org_id) VALUES ($1, $2, $3)")
        .bind(device)
        .bind(event)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every device of the organization, by id.
pub async fn devices(tx: &mut Tenant) -> Result<Vec<DeviceRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, role, app_version, enrolled_at, last_seen_at, pending_entries, revoked_at FROM devices \
         WHERE org_id = $1 ORDER BY id",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Every device's events, with their names, by the events' start.
pub async fn device_events(tx: &mut Tenant) -> Result<Vec<EventRef>, sqlx::Error> {
    sqlx::query_as(
        "SELECT de.device_id, de.event_id, e.name FROM device_events de JOIN events e ON e.id = de.event_id \
         WHERE de.org_id = $1 ORDER BY e.starts_at, e.id",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The gate of each device's latest scan (its own latest entry, by the primary key).
pub async fn last_gates(tx: &mut Tenant) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.origin, COALESCE(g.name, '') FROM checkins c \
         JOIN (SELECT origin, MAX(seq) AS seq FROM checkins WHERE org_id = $1 GROUP BY origin) latest \
           ON latest.origin = c.origin AND latest.seq = c.seq \
         LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate WHERE c.org_id = $1",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Revokes device `id`: its name and role, or `None` if there is no such (unrevoked) device.
pub async fn revoke(tx: &mut Tenant, id: i64) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL RETURNING name, role",
    )
    .bind(tx.now())
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Renames device `id`.
pub async fn rename(tx: &mut Tenant, id: i64, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET name = $1 WHERE id = $2 AND org_id = $3")
        .bind(name)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The events device `id` was enrolled for: the documents it may sync.
pub async fn events_of(tx: &mut Tenant, id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT event_id FROM device_events WHERE device_id = $1 AND org_id = $2 ORDER BY event_id",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Every enrolment of the organization: `(device, event)`.
pub async fn enrolments(tx: &mut Tenant) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, event_id FROM device_events WHERE org_id = $1 ORDER BY device_id, event_id",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Records that device `id` was seen now with `pending` of its own entries not yet on the hub.
pub async fn seen(tx: &mut Tenant, id: i64, pending: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET last_seen_at = $1, pending_entries = $2 WHERE id = $3 AND org_id = $4")
        .bind(tx.now())
        .bind(pending)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A device's key and when it was revoked.
#[derive(sqlx::FromRow)]
pub struct DeviceKeyRow {
    /// Its Ed25519 public key.
    pub public_key: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// Device `id`'s key (revoked or not).
pub async fn key(tx: &mut Tenant, id: i64) -> Result<Option<DeviceKeyRow>, sqlx::Error> {
    sqlx::query_as("SELECT public_key, revoked_at FROM devices WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}
