//! The queries of seating: plans, an event's seating, its seats and who holds them. Every
//! change of a seat's state is a conditional UPDATE here (free → held → sold, back to free),
//! so a seat is in at most one live hold or order whatever runs at once.

use super::{PlanRow, SeatRow};
use crate::db::{Tenant, values};
use sync_core::seating::Plan;

/// `$first, $first+1, …` for `n` values.
pub(super) fn numbered(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The organization of event `event` (the shop's seat map is reached by the event alone).
pub async fn event_org(db: &crate::db::Db, event: i64) -> Result<Option<i64>, crate::db::DbError> {
    let mut lookup = db.lookup().await?;
    let org = sqlx::query_scalar("SELECT org_id FROM events WHERE id = $1")
        .bind(event)
        .fetch_optional(&mut *lookup)
        .await?;
    lookup.commit().await?;
    Ok(org)
}

/// Stores a checked plan; its id.
pub async fn insert_plan(tx: &mut Tenant, plan: &Plan, json: &str, seats: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO seat_plans (org_id, name, plan, seats, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(tx.org())
    .bind(plan.name.trim())
    .bind(json)
    .bind(seats)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Replaces plan `id`; `false` if there is none.
pub async fn update_plan(
    tx: &mut Tenant,
    id: i64,
    plan: &Plan,
    json: &str,
    seats: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE seat_plans SET name = $1, plan = $2, seats = $3, updated_at = $4 WHERE id = $5 AND org_id = $6")
        .bind(plan.name.trim())
        .bind(json)
        .bind(seats)
        .bind(tx.now())
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Plan `id` with its JSON.
pub async fn plan(tx: &mut Tenant, id: i64) -> Result<Option<(PlanRow, String)>, sqlx::Error> {
    let row: Option<(i64, String, i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, name, seats, created_at, updated_at, plan FROM seat_plans WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id, name, seats, created_at, updated_at, json)| {
        (PlanRow { id, name, seats, created_at, updated_at }, json)
    }))
}

/// The organization's plans, by name.
pub async fn plans(tx: &mut Tenant) -> Result<Vec<PlanRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, seats, created_at, updated_at FROM seat_plans WHERE org_id = $1 ORDER BY name, id",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Deletes plan `id` unless an event uses it: `Ok(false)` if none, `Err` names the event.
pub async fn delete_plan(tx: &mut Tenant, id: i64) -> Result<Result<bool, i64>, sqlx::Error> {
    let used: Option<i64> = sqlx::query_scalar(
        "SELECT event_id FROM event_seating WHERE plan_id = $1 AND org_id = $2 ORDER BY event_id LIMIT 1",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(event) = used {
        return Ok(Err(event));
    }
    let done = sqlx::query("DELETE FROM seat_plans WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(Ok(done.rows_affected() == 1))
}

/// An event's seating as stored: plan id, the plan's JSON, the category map's JSON.
pub async fn seating(tx: &mut Tenant, event: i64) -> Result<Option<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT plan_id, plan, categories FROM event_seating WHERE event_id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await
}

/// How many of the event's seats are held or sold, and how many of the ticket types
/// `types` are sold, held or leased (a plan may change only while both are 0).
pub async fn in_use(tx: &mut Tenant, event: i64, types: &[i64]) -> Result<i64, sqlx::Error> {
    let seats: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM seats WHERE event_id = $1 AND org_id = $2 AND state IN ('held', 'sold')",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await?;
    if types.is_empty() {
        return Ok(seats);
    }
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(sold + held + leased), 0) AS BIGINT) FROM ticket_types WHERE org_id = $1 AND id IN ({})",
        numbered(2, types.len())
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(tx.org());
    for t in types {
        q = q.bind(*t);
    }
    let taken: i64 = q.fetch_one(&mut **tx).await?;
    Ok(seats + taken)
}

/// Removes the event's seating and seats (none held or sold: see [`in_use`]).
pub async fn remove(tx: &mut Tenant, event: i64) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM seats WHERE event_id = $1 AND org_id = $2",
        "DELETE FROM event_seating WHERE event_id = $1 AND org_id = $2",
    ] {
        sqlx::query(sql).bind(event).bind(tx.org()).execute(&mut **tx).await?;
    }
    tx.seats_changed().await
}

/// Stores the event's seating and its seats.
pub async fn assign(
    tx: &mut Tenant,
    event: i64,
    plan_id: i64,
    plan_json: &str,
    categories_json: &str,
    seats: &[NewSeat],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_seating (event_id, org_id, plan_id, plan, categories, assigned_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event)
    .bind(tx.org())
    .bind(plan_id)
    .bind(plan_json)
    .bind(categories_json)
    .bind(tx.now())
    .execute(&mut **tx)
    .await?;
    // 14 parameters a row: 1,000 rows stay under PostgreSQL's 65,535 bind parameters.
    for chunk in seats.chunks(1000) {
        let sql = format!(
            "INSERT INTO seats (org_id, event_id, number, seat_key, ticket_type_id, category, section, row_label, label, \
             row_key, pos, x, y, flags) VALUES {}",
            values(chunk.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q
                .bind(tx.org())
                .bind(event)
                .bind(s.number)
                .bind(&s.key)
                .bind(s.ticket_type_id)
                .bind(&s.category)
                .bind(&s.section)
                .bind(&s.row_label)
                .bind(&s.label)
                .bind(s.row_key)
                .bind(s.pos)
                .bind(s.x)
                .bind(s.y)
                .bind(&s.flags);
        }
        q.execute(&mut **tx).await?;
    }
    tx.seats_changed().await
}

/// A seat to store.
pub struct NewSeat {
    /// Compact id within the event.
    pub number: i64,
    /// The plan's seat id.
    pub key: String,
    /// The ticket type it sells as.
    pub ticket_type_id: i64,
    /// Its category.
    pub category: String,
    /// Section name.
    pub section: String,
    /// Row label.
    pub row_label: String,
    /// Seat label.
    pub label: String,
    /// Its row across the plan.
    pub row_key: i64,
    /// Its place in the row.
    pub pos: i64,
    /// Where it is (rounded).
    pub x: i64,
    /// Where it is (rounded).
    pub y: i64,
    /// Accessibility, comma-separated.
    pub flags: String,
}

const SEAT_COLUMNS: &str = "s.id, s.number, s.seat_key, s.ticket_type_id, t.number AS ticket_type, s.category, s.section, \
     s.row_label, s.label, s.row_key, s.pos, s.x, s.y, s.flags, s.state, o.code AS order_code, s.blocked_reason, s.lease_id";

/// The event's seats (in `state`, if given), in plan order.
pub async fn seats(tx: &mut Tenant, event: i64, state: Option<&str>) -> Result<Vec<SeatRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SEAT_COLUMNS} FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id \
         LEFT JOIN orders o ON o.id = s.order_id WHERE s.event_id = $1 AND s.org_id = $2 {} ORDER BY s.number",
        if state.is_some() { "AND s.state = $3" } else { "" }
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(event).bind(tx.org());
    if let Some(state) = state {
        q = q.bind(state);
    }
    q.fetch_all(&mut **tx).await
}

/// The seats of `event` named by `keys`.
pub async fn by_keys(tx: &mut Tenant, event: i64, keys: &[String]) -> Result<Vec<SeatRow>, sqlx::Error> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(1000) {
        let sql = format!(
            "SELECT {SEAT_COLUMNS} FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id \
             LEFT JOIN orders o ON o.id = s.order_id WHERE s.event_id = $1 AND s.org_id = $2 AND s.seat_key IN ({}) ORDER BY s.number",
            numbered(3, chunk.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(event).bind(tx.org());
        for k in chunk {
            q = q.bind(k);
        }
        found.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

/// Blocks the free seats `ids` with `reason`; how many were blocked.
pub async fn block(tx: &mut Tenant, ids: &[i64], reason: &str) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "UPDATE seats SET state = 'blocked', blocked_reason = $1 WHERE org_id = $2 AND state = 'free' AND id IN ({})",
        numbered(3, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(reason).bind(tx.org());
    for id in ids {
        q = q.bind(*id);
    }
    let blocked = q.execute(&mut **tx).await?.rows_affected();
    tx.seats_changed().await?;
    Ok(blocked)
}

/// Frees the blocked seats `ids`; how many were freed.
pub async fn unblock(tx: &mut Tenant, ids: &[i64]) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "UPDATE seats SET state = 'free', blocked_reason = NULL WHERE org_id = $1 AND state = 'blocked' AND id IN ({})",
        numbered(2, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tx.org());
    for id in ids {
        q = q.bind(*id);
    }
    let freed = q.execute(&mut **tx).await?.rows_affected();
    tx.seats_changed().await?;
    Ok(freed)
}

/// Leases the free seats `ids` to lease `lease`; how many were leased.
pub async fn lease(tx: &mut Tenant, ids: &[i64], lease: i64) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "UPDATE seats SET state = 'leased', lease_id = $1 WHERE org_id = $2 AND state = 'free' AND id IN ({})",
        numbered(3, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lease).bind(tx.org());
    for id in ids {
        q = q.bind(*id);
    }
    let leased = q.execute(&mut **tx).await?.rows_affected();
    tx.seats_changed().await?;
    Ok(leased)
}

/// The seats of lease `lease` (leased still, or sold under it), by lease: (lease, seat id).
pub async fn of_leases(tx: &mut Tenant, event: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lease_id, seat_key FROM seats WHERE event_id = $1 AND org_id = $2 AND lease_id IS NOT NULL ORDER BY lease_id, number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The seats of the event's seat leases (leased still, or sold under them), by lease in plan
/// order: (lease, section, row, label).
pub async fn lease_seat_names(
    tx: &mut Tenant,
    event: i64,
) -> Result<Vec<(i64, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lease_id, section, row_label, label FROM seats WHERE event_id = $1 AND org_id = $2 \
         AND lease_id IS NOT NULL ORDER BY lease_id, number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Seats per ticket type and state: (ticket type number, category, state, count).
pub async fn counts(tx: &mut Tenant, event: i64) -> Result<Vec<(i64, String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.number, s.category, s.state, COUNT(*) FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id \
         WHERE s.event_id = $1 AND s.org_id = $2 GROUP BY t.number, s.category, s.state ORDER BY t.number, s.category, s.state",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The seats of the event that are not free, with their state (held, sold, blocked): what the
/// live seat map streams.
pub async fn not_free(tx: &mut Tenant, event: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seat_key, state FROM seats WHERE event_id = $1 AND org_id = $2 AND state <> 'free'",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The seat ids of the event that are not free (held, sold, blocked): what the shop's map
/// draws as taken.
pub async fn taken(tx: &mut Tenant, event: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT seat_key FROM seats WHERE event_id = $1 AND org_id = $2 AND state <> 'free' ORDER BY number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The ids of the event's ticket types that sell seats.
pub async fn seated_types(tx: &mut Tenant, event: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT ticket_type_id FROM seats WHERE event_id = $1 AND org_id = $2 ORDER BY ticket_type_id")
        .bind(event)
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

/// The event's ticket types: number → id.
pub async fn type_ids(
    tx: &mut Tenant,
    event: i64,
) -> Result<std::collections::BTreeMap<i64, i64>, sqlx::Error> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT number, id FROM ticket_types WHERE event_id = $1 AND org_id = $2")
            .bind(event)
            .bind(tx.org())
            .fetch_all(&mut **tx)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Sets ticket type `id`'s capacity to `n` unless more than that is sold, held, leased or set
/// aside; `false` then.
pub async fn set_capacity(tx: &mut Tenant, id: i64, n: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ticket_types SET capacity = $1 WHERE id = $2 AND org_id = $3 AND sold + held + leased + reserved <= $1",
    )
    .bind(n)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether ticket type `id` sells seats.
pub async fn is_seated(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seats WHERE ticket_type_id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// A ticket of an order, as moving it to another seat needs it.
#[derive(sqlx::FromRow)]
pub struct TicketSeat {
    /// Its ticket type's row id.
    pub ticket_type_id: i64,
    /// Its ticket type's number (what the signed ticket names).
    pub type_number: i64,
    /// What it cost.
    pub price_minor: i64,
    /// `valid`, `revoked`, …
    pub status: String,
    /// Its seat.
    pub seat_id: Option<i64>,
}

/// Ticket `serial` of `order` (of `event`).
pub async fn ticket_seat(
    tx: &mut Tenant,
    event: i64,
    order: i64,
    serial: u32,
) -> Result<Option<TicketSeat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.ticket_type_id, t.number AS type_number, k.price_minor, k.status, k.seat_id FROM tickets k \
         JOIN ticket_types t ON t.id = k.ticket_type_id \
         WHERE k.event_id = $1 AND k.order_id = $2 AND k.serial = $3 AND k.org_id = $4",
    )
    .bind(event)
    .bind(order)
    .bind(i64::from(serial))
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Moves `order`'s sold seat `from` to seat `to` if `to` is free: `to` sold to it, `from` free,
/// the order's choice updated. `false` (nothing changed) if `to` was not free.
pub async fn move_sold(tx: &mut Tenant, order: i64, from: i64, to: i64) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE seats SET state = 'sold', order_id = $1 WHERE id = $2 AND org_id = $3 AND state = 'free'",
    )
    .bind(order)
    .bind(to)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE seats SET state = 'free', order_id = NULL WHERE id = $1 AND order_id = $2 AND org_id = $3",
    )
    .bind(from)
    .bind(order)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE order_seats SET seat_id = $1 WHERE order_id = $2 AND seat_id = $3 AND org_id = $4")
        .bind(to)
        .bind(order)
        .bind(from)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    tx.seats_changed().await?;
    Ok(true)
}
