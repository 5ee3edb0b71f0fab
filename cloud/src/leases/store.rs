//! The queries of box-office leases.

use super::views::LeaseView;
use crate::db::Tenant;
use crate::devices::DeviceRole;

/// A device that may hold a lease of the event.
#[derive(sqlx::FromRow)]
pub struct LeaseDevice {
    /// Its key.
    pub public_key: Vec<u8>,
    /// Its role.
    #[sqlx(try_from = "String")]
    pub role: DeviceRole,
}

/// A lease, for changing it.
#[derive(sqlx::FromRow)]
pub struct LeaseRow {
    /// Its event.
    pub event_id: i64,
    /// Its device.
    pub device_id: i64,
    /// Its ticket type (row id).
    pub ticket_type_id: i64,
    /// That type's number.
    pub number: i64,
    /// Its first serial.
    pub first_serial: i64,
    /// Its last serial.
    pub last_serial: i64,
    /// `active`, `returned`, `revoked`.
    pub status: String,
}

/// A lease to insert.
pub struct NewLeaseRow<'a> {
    /// The event.
    pub event: i64,
    /// The device.
    pub device: i64,
    /// The ticket type (row id).
    pub ticket_type: i64,
    /// Its serials.
    pub first: u32,
    /// Its serials.
    pub last: u32,
    /// Until when it sells.
    pub expires_at: i64,
    /// Who granted it.
    pub created_by: &'a str,
}

/// The event's end (Unix ms), if the organization has the event.
pub async fn event_end(tx: &mut Tenant, event: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT ends_at FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// Device `id`, if it is enrolled for `event` and not revoked.
pub async fn device_of_event(
    tx: &mut Tenant,
    id: i64,
    event: i64,
) -> Result<Option<LeaseDevice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.public_key, d.role FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE d.id = $1 AND d.org_id = $2 AND de.event_id = $3 AND d.revoked_at IS NULL",
    )
    .bind(id)
    .bind(tx.org())
    .bind(event)
    .fetch_optional(&mut **tx)
    .await
}

/// Device `id`'s public key.
pub async fn device_key(tx: &mut Tenant, id: i64) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar("SELECT public_key FROM devices WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

/// The row id of ticket type `number` of `event`.
pub async fn ticket_type_id(tx: &mut Tenant, event: i64, number: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM ticket_types WHERE event_id = $1 AND org_id = $2 AND number = $3")
        .bind(event)
        .bind(tx.org())
        .bind(number)
        .fetch_optional(&mut **tx)
        .await
}

/// A new lease's id.
pub async fn insert(tx: &mut Tenant, l: &NewLeaseRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO leases (org_id, event_id, device_id, ticket_type_id, first_serial, last_serial, expires_at, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9) RETURNING id",
    )
    .bind(tx.org())
    .bind(l.event)
    .bind(l.device)
    .bind(l.ticket_type)
    .bind(i64::from(l.first))
    .bind(i64::from(l.last))
    .bind(l.expires_at)
    .bind(l.created_by)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// The event's leases: active first, newest first.
pub async fn leases(tx: &mut Tenant, event: i64) -> Result<Vec<LeaseView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.device_id, d.name AS device, t.number AS ticket_type, t.name AS ticket_type_name, \
                l.first_serial, l.last_serial, l.sold, l.status, l.expires_at, l.returned_from \
         FROM leases l JOIN devices d ON d.id = l.device_id JOIN ticket_types t ON t.id = l.ticket_type_id \
         WHERE l.event_id = $1 AND l.org_id = $2 ORDER BY l.id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Lease `id`.
pub async fn lease(tx: &mut Tenant, id: i64) -> Result<Option<LeaseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.event_id, l.device_id, l.ticket_type_id, t.number, l.first_serial, l.last_serial, l.status \
         FROM leases l JOIN ticket_types t ON t.id = l.ticket_type_id WHERE l.id = $1 AND l.org_id = $2",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Moves the lease's expiry later; `false` if `expires_at` is not later.
pub async fn extend(tx: &mut Tenant, id: i64, expires_at: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE leases SET expires_at = $1 WHERE id = $2 AND org_id = $3 AND expires_at < $1")
            .bind(expires_at)
            .bind(id)
            .bind(tx.org())
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The highest serial of `first..=last` that has a ticket (sold and synced).
pub async fn highest_sold(
    tx: &mut Tenant,
    event: i64,
    first: i64,
    last: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(serial) FROM tickets WHERE event_id = $1 AND org_id = $2 AND serial BETWEEN $3 AND $4",
    )
    .bind(event)
    .bind(tx.org())
    .bind(first)
    .bind(last)
    .fetch_one(&mut **tx)
    .await
}

/// Marks the lease revoked from serial `from` on.
pub async fn revoke(tx: &mut Tenant, id: i64, from: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE leases SET status = 'revoked', returned_from = $1 WHERE id = $2 AND org_id = $3")
        .bind(from)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The event's box offices that may get a lease, by name (the console's grant form).
pub async fn box_offices(tx: &mut Tenant, event: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.name FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND de.org_id = $2 AND d.role = 'box_office' AND d.revoked_at IS NULL ORDER BY d.name",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// A door sale's orders, for e-mailing its tickets.
#[derive(sqlx::FromRow)]
pub struct DoorOrder {
    /// The order.
    pub id: i64,
    /// Its code.
    pub code: String,
    /// Its secret.
    pub secret: String,
}

/// The orders a box office's door sale became (by its order name).
pub async fn door_orders(
    tx: &mut Tenant,
    event: i64,
    device: i64,
    name: &str,
) -> Result<Vec<DoorOrder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.code, o.secret FROM orders o \
         WHERE o.org_id = $1 AND o.event_id = $2 AND o.device_id = $3 AND o.channel = 'box_office' AND o.name = $4 ORDER BY o.id",
    )
    .bind(tx.org())
    .bind(event)
    .bind(device)
    .bind(name)
    .fetch_all(&mut **tx)
    .await
}

/// Sets the buyer's address of an order.
pub async fn set_email(tx: &mut Tenant, order: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET email = $1 WHERE id = $2 AND org_id = $3")
        .bind(email)
        .bind(order)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
