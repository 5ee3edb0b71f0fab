//! The queries of events, gates, ticket types and signing keys.

use super::views::{EventSummary, GateView, TicketTypeView};
use super::{About, NewGate, NewTicketType, Status};
use crate::db::Tenant;

/// An event's own row.
#[derive(sqlx::FromRow)]
pub struct EventRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its status.
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's IANA time zone.
    pub time_zone: String,
    /// Seconds of clock skew gates tolerate.
    pub clock_skew_tolerance_secs: i64,
}

/// A sealed signing key.
#[derive(sqlx::FromRow)]
pub struct SealedKey {
    /// Its id within the event.
    pub key_id: i64,
    /// Its seed, sealed with the master key.
    pub sealed_secret: Vec<u8>,
}

/// A public key devices verify with.
#[derive(sqlx::FromRow)]
pub struct PublicKeyRow {
    /// Its id within the event.
    pub key_id: i64,
    /// The Ed25519 key.
    pub public_key: Vec<u8>,
}

/// A device listed in a manifest.
#[derive(sqlx::FromRow)]
pub struct ManifestDevice {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its key.
    pub public_key: Vec<u8>,
}

/// Whether the organization has event `id`.
pub async fn exists(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

/// A new draft event's id.
pub async fn insert_event(
    tx: &mut Tenant,
    name: &str,
    time_zone: &str,
    starts_at: i64,
    ends_at: i64,
    clock_skew_tolerance_secs: u32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO events (org_id, name, time_zone, starts_at, ends_at, status, clock_skew_tolerance_secs, next_serial, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, 1, $7) RETURNING id",
    )
    .bind(tx.org())
    .bind(name)
    .bind(time_zone)
    .bind(starts_at)
    .bind(ends_at)
    .bind(i64::from(clock_skew_tolerance_secs))
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Sets what buyers read about `event`.
pub async fn set_about(tx: &mut Tenant, event: i64, about: &About) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE events SET language = $1, description = $2, venue_name = $3, venue_address = $4 WHERE id = $5 AND org_id = $6",
    )
    .bind(about.language.code())
    .bind(&about.description)
    .bind(&about.venue_name)
    .bind(&about.venue_address)
    .bind(event)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What buyers read about `event`.
pub async fn about(tx: &mut Tenant, event: i64) -> Result<Option<About>, sqlx::Error> {
    sqlx::query_as(
        "SELECT language, description, venue_name, venue_address FROM events WHERE id = $1 AND org_id = $2",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Inserts ticket type `number` of `event`.
pub async fn insert_type(
    tx: &mut Tenant,
    event: i64,
    number: i64,
    t: &NewTicketType,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_types (org_id, event_id, number, name, price_minor, currency, capacity, sales_start, sales_end, entry_policy, allowed_gates, description, hidden, addon) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(tx.org())
    .bind(event)
    .bind(number)
    .bind(t.name.trim())
    .bind(t.price_minor)
    .bind(&t.currency)
    .bind(t.capacity)
    .bind(t.sales_start)
    .bind(t.sales_end)
    .bind(super::policy_str(t.entry_policy))
    .bind(super::gates_str(&t.allowed_gates))
    .bind(t.description.trim())
    .bind(i64::from(t.hidden))
    .bind(i64::from(t.addon))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts gate `number` of `event`.
pub async fn insert_gate(tx: &mut Tenant, event: i64, number: i64, g: &NewGate) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO gates (org_id, event_id, number, name, serves) VALUES ($1, $2, $3, $4, $5)")
        .bind(tx.org())
        .bind(event)
        .bind(number)
        .bind(g.name.trim())
        .bind(super::serves_str(g.serves))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The event's next signing key id (1 for its first).
pub async fn next_key_id(tx: &mut Tenant, event: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(key_id), 0) + 1 FROM event_keys WHERE event_id = $1 AND org_id = $2",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await
}

/// Stores a signing key.
pub async fn insert_key(
    tx: &mut Tenant,
    event: i64,
    key_id: i64,
    public: &[u8],
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_keys (org_id, event_id, key_id, public_key, sealed_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tx.org())
    .bind(event)
    .bind(key_id)
    .bind(public)
    .bind(sealed)
    .bind(tx.now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The event's newest unretired signing key.
pub async fn newest_key(tx: &mut Tenant, event: i64) -> Result<Option<SealedKey>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key_id, sealed_secret FROM event_keys WHERE event_id = $1 AND org_id = $2 AND retired_at IS NULL \
         ORDER BY key_id DESC LIMIT 1",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The event's unretired public keys.
pub async fn public_keys(tx: &mut Tenant, event: i64) -> Result<Vec<PublicKeyRow>, sqlx::Error> {
    sqlx::query_as("SELECT key_id, public_key FROM event_keys WHERE event_id = $1 AND org_id = $2 AND retired_at IS NULL ORDER BY key_id")
        .bind(event)
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

/// The event's unrevoked devices.
pub async fn manifest_devices(tx: &mut Tenant, event: i64) -> Result<Vec<ManifestDevice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.name, d.public_key FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND de.org_id = $2 AND d.revoked_at IS NULL ORDER BY d.id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Event `id`.
pub async fn event(tx: &mut Tenant, id: i64) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, status, starts_at, ends_at, time_zone, clock_skew_tolerance_secs FROM events WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The organization's events, soonest first, with what is sold of what may be.
pub async fn events(tx: &mut Tenant) -> Result<Vec<EventSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.name, e.status, e.starts_at, e.ends_at, e.time_zone, \
                CAST(COALESCE((SELECT SUM(sold) FROM ticket_types t WHERE t.event_id = e.id), 0) AS BIGINT) AS sold, \
                CAST(COALESCE((SELECT SUM(capacity) FROM ticket_types t WHERE t.event_id = e.id), 0) AS BIGINT) AS capacity \
         FROM events e WHERE e.org_id = $1 ORDER BY e.starts_at, e.id",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The event's gates, by number.
pub async fn gates(tx: &mut Tenant, event: i64) -> Result<Vec<GateView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT number, name, serves FROM gates WHERE event_id = $1 AND org_id = $2 ORDER BY number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The event's ticket types, by number.
pub async fn ticket_types(tx: &mut Tenant, event: i64) -> Result<Vec<TicketTypeView>, sqlx::Error> {
    let mut types: Vec<TicketTypeView> = sqlx::query_as(
        "SELECT number, name, price_minor, currency, capacity, sold, held, leased, reserved, hidden, addon, entry_policy, allowed_gates, sales_start, sales_end, description \
         FROM ticket_types WHERE event_id = $1 AND org_id = $2 ORDER BY number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut bundles = super::bundles::of_event(tx, event).await?;
    for t in &mut types {
        t.includes = bundles.remove(&t.number).unwrap_or_default();
    }
    Ok(types)
}

/// The numbers of the event's ticket types that sell seats (seating's table, read here because
/// a seated type's capacity and parts are not edited by hand: seating sits above events).
pub async fn seated_numbers(tx: &mut Tenant, event: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT t.number FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id \
         WHERE s.event_id = $1 AND s.org_id = $2 ORDER BY t.number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Ticket type `number` of `event`.
pub async fn ticket_type(
    tx: &mut Tenant,
    event: i64,
    number: i64,
) -> Result<Option<TicketTypeView>, sqlx::Error> {
    let mut found: Option<TicketTypeView> = sqlx::query_as(
        "SELECT number, name, price_minor, currency, capacity, sold, held, leased, reserved, hidden, addon, entry_policy, allowed_gates, sales_start, sales_end, description \
         FROM ticket_types WHERE event_id = $1 AND org_id = $2 AND number = $3",
    )
    .bind(event)
    .bind(tx.org())
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(t) = &mut found {
        t.includes = super::bundles::of_event(tx, event).await?.remove(&number).unwrap_or_default();
    }
    Ok(found)
}

/// Moves the event from `from` to `to`; `false` if its status was no longer `from`.
pub async fn set_status(tx: &mut Tenant, event: i64, from: Status, to: Status) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE events SET status = $1 WHERE id = $2 AND org_id = $3 AND status = $4")
        .bind(to.as_str())
        .bind(event)
        .bind(tx.org())
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes the event's name, zone and times. A new zone restarts its report schedules' clock:
/// slots count from now, and the next round sets each one's next slot on the new clock (a
/// statement on their table here, since this layer is below theirs).
pub async fn update_event(
    tx: &mut Tenant,
    event: i64,
    name: &str,
    zone: &str,
    starts: i64,
    ends: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_schedules SET since = $1, next_at = 0 WHERE event_id = $2 AND org_id = $3 \
         AND (SELECT time_zone FROM events WHERE id = $2) <> $4",
    )
    .bind(tx.now())
    .bind(event)
    .bind(tx.org())
    .bind(zone)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE events SET name = $1, time_zone = $2, starts_at = $3, ends_at = $4 WHERE id = $5 AND org_id = $6")
        .bind(name)
        .bind(zone)
        .bind(starts)
        .bind(ends)
        .bind(event)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes ticket type `number` of `event` (never its currency).
pub async fn update_type(
    tx: &mut Tenant,
    event: i64,
    number: i64,
    t: &NewTicketType,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ticket_types SET name = $1, price_minor = $2, capacity = $3, entry_policy = $4, allowed_gates = $5, \
         sales_start = $6, sales_end = $7, description = $11, hidden = $12, addon = $13 WHERE event_id = $8 AND org_id = $9 AND number = $10",
    )
    .bind(t.name.trim())
    .bind(t.price_minor)
    .bind(t.capacity)
    .bind(super::policy_str(t.entry_policy))
    .bind(super::gates_str(&t.allowed_gates))
    .bind(t.sales_start)
    .bind(t.sales_end)
    .bind(event)
    .bind(tx.org())
    .bind(number)
    .bind(t.description.trim())
    .bind(i64::from(t.hidden))
    .bind(i64::from(t.addon))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many gates the event has.
pub async fn gate_count(tx: &mut Tenant, event: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM gates WHERE event_id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

/// The next gate number of the event.
pub async fn next_gate_number(tx: &mut Tenant, event: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM gates WHERE event_id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

/// The next ticket type number of the event.
pub async fn next_type_number(tx: &mut Tenant, event: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM ticket_types WHERE event_id = $1 AND org_id = $2",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await
}
