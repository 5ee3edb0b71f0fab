//! A seat through an order's life, each step one conditional statement:
//!
//! | order | seat |
//! |---|---|
//! | placed (checkout's batch, after its capacity) | free → held by it ([`take`]); not all free: the order is refused and holds none |
//! | paid | held → sold ([`sell`]) |
//! | lapsed or cancelled | held → free ([`release`]) |
//! | paid after lapsing | free → sold by it again if still free ([`revive`]); else the payment is refused like a sold-out one |
//! | refunded | sold → free ([`give_back`]) |
//!
//! What each order chose stays in `order_seats`, so a late payment asks for the same seats and
//! the order page shows them after a refund.

use super::store::numbered;
use crate::db::Tenant;
use sqlx::AnyConnection;
use sync_core::seating::Point;
use sync_core::seating::best::{self, Spot};

/// The seats an order wants of one seated ticket type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// The ticket type's id.
    pub ticket_type: i64,
    /// The seats chosen (plan ids); empty: the best available.
    pub keys: Vec<String>,
    /// How many.
    pub count: i64,
}

/// Why an order did not get its seats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoSeats {
    /// A seat it named is held, sold or blocked (or is not of its ticket type).
    Taken,
    /// No row has that many free seats together.
    NotTogether,
}

/// Holds the seats `wanted` for `order` (explicit ones, or the best available together, closest
/// to `focus`), all or none; records them in `order_seats`.
pub async fn take(
    tx: &mut Tenant,
    order: i64,
    wanted: &[Wanted],
    focus: Point,
) -> Result<Result<(), NoSeats>, sqlx::Error> {
    let mut got: Vec<(i64, i64)> = Vec::new();
    for w in wanted {
        let ids = if w.keys.is_empty() {
            let spots = free_spots(tx, w.ticket_type).await?;
            let only: Vec<Spot> = spots.iter().map(|(_, s)| *s).collect();
            let Some(chosen) = best::choose(&only, usize::try_from(w.count).unwrap_or(0), focus) else {
                undo(tx, order).await?;
                return Ok(Err(NoSeats::NotTogether));
            };
            let ids: Vec<i64> = chosen.iter().map(|i| spots[*i].0).collect();
            hold_ids(tx, order, &ids).await?
        } else {
            hold_keys(tx, order, w.ticket_type, &w.keys).await?
        };
        if i64::try_from(ids.len()).ok() != Some(w.count) {
            undo(tx, order).await?;
            return Ok(Err(NoSeats::Taken));
        }
        got.extend(ids.into_iter().map(|id| (id, w.ticket_type)));
    }
    tx.seats_changed().await?;
    let sql = format!(
        "INSERT INTO order_seats (order_id, org_id, seat_id, ticket_type_id) VALUES {}",
        crate::db::values(got.len(), "(?, ?, ?, ?)")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (seat, ticket_type) in &got {
        q = q.bind(order).bind(tx.org()).bind(*seat).bind(*ticket_type);
    }
    q.execute(&mut **tx).await?;
    Ok(Ok(()))
}

/// The free seats of `ticket_type` as best available sees them, by row and place (taken
/// seats are absent: a gap in `pos` keeps a block from spanning them).
async fn free_spots(tx: &mut Tenant, ticket_type: i64) -> Result<Vec<(i64, Spot)>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, row_key, pos, x, y FROM seats WHERE ticket_type_id = $1 AND org_id = $2 AND state = 'free' ORDER BY row_key, pos",
    )
    .bind(ticket_type)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    #[allow(clippy::cast_precision_loss)] // plan coordinates are at most 100,000
    Ok(rows
        .into_iter()
        .map(|(id, row, pos, x, y)| {
            let spot = Spot {
                row: u32::try_from(row).unwrap_or(u32::MAX),
                pos: u32::try_from(pos).unwrap_or(u32::MAX),
                x: x as f64,
                y: y as f64,
                free: true,
            };
            (id, spot)
        })
        .collect())
}

async fn hold_ids(tx: &mut Tenant, order: i64, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "UPDATE seats SET state = 'held', order_id = $1 WHERE org_id = $2 AND state = 'free' AND id IN ({}) RETURNING id",
        numbered(3, ids.len())
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(order).bind(tx.org());
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut **tx).await
}

async fn hold_keys(
    tx: &mut Tenant,
    order: i64,
    ticket_type: i64,
    keys: &[String],
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "UPDATE seats SET state = 'held', order_id = $1 WHERE org_id = $2 AND ticket_type_id = $3 AND state = 'free' \
         AND seat_key IN ({}) RETURNING id",
        numbered(4, keys.len())
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(order).bind(tx.org()).bind(ticket_type);
    for k in keys {
        q = q.bind(k);
    }
    q.fetch_all(&mut **tx).await
}

/// Frees what `order` held in this transaction (it did not get all its seats).
async fn undo(tx: &mut Tenant, order: i64) -> Result<(), sqlx::Error> {
    let freed = sqlx::query(
        "UPDATE seats SET state = 'free', order_id = NULL WHERE order_id = $1 AND state = 'held'",
    )
    .bind(order)
    .execute(&mut **tx)
    .await?;
    if freed.rows_affected() > 0 {
        tx.seats_changed().await?;
    }
    Ok(())
}

/// `order`'s hold lapsed or it was cancelled: its seats are free again.
pub async fn release(tx: &mut Tenant, order: i64) -> Result<(), sqlx::Error> {
    undo(tx, order).await
}

/// `order` was paid: its held seats are sold.
pub async fn sell(tx: &mut Tenant, order: i64) -> Result<(), sqlx::Error> {
    let sold = sqlx::query("UPDATE seats SET state = 'sold' WHERE order_id = $1 AND state = 'held'")
        .bind(order)
        .execute(&mut **tx)
        .await?;
    if sold.rows_affected() > 0 {
        tx.seats_changed().await?;
    }
    Ok(())
}

/// `order` was paid after its hold lapsed: sells it the seats it chose if every one is still
/// free; `false` if not (the caller rolls back).
pub async fn revive(conn: &mut AnyConnection, order: i64) -> Result<bool, sqlx::Error> {
    let chosen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM order_seats WHERE order_id = $1")
        .bind(order)
        .fetch_one(&mut *conn)
        .await?;
    if chosen == 0 {
        return Ok(true);
    }
    let sold = sqlx::query(
        "UPDATE seats SET state = 'sold', order_id = $1 WHERE state = 'free' \
         AND id IN (SELECT seat_id FROM order_seats WHERE order_id = $1)",
    )
    .bind(order)
    .execute(&mut *conn)
    .await?;
    Ok(i64::try_from(sold.rows_affected()).ok() == Some(chosen))
}

/// The seats `order` chose: (ticket type id, seat id, seat number), in plan order (tickets are
/// issued onto them; the number is what the signed ticket carries).
pub async fn of_order(tx: &mut Tenant, order: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT os.ticket_type_id, s.id, s.number FROM order_seats os JOIN seats s ON s.id = os.seat_id \
         WHERE os.order_id = $1 AND os.org_id = $2 ORDER BY s.number",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The seats `order` chose, described ("Stalls · Row F · Seat 12"), in plan order.
pub async fn described(tx: &mut Tenant, order: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.section, s.row_label, s.label FROM order_seats os JOIN seats s ON s.id = os.seat_id \
         WHERE os.order_id = $1 AND os.org_id = $2 ORDER BY s.number",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|(section, row, seat)| super::describe(section, row, seat)).collect())
}

/// Refunded tickets `serials` of `order`: their seats are free again.
pub async fn give_back(tx: &mut Tenant, event: i64, order: i64, serials: &[u32]) -> Result<(), sqlx::Error> {
    if serials.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE seats SET state = 'free', order_id = NULL WHERE order_id = $1 AND state = 'sold' AND id IN \
         (SELECT seat_id FROM tickets WHERE event_id = $2 AND order_id = $1 AND seat_id IS NOT NULL AND serial IN ({}))",
        numbered(3, serials.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order).bind(event);
    for s in serials {
        q = q.bind(i64::from(*s));
    }
    if q.execute(&mut **tx).await?.rows_affected() > 0 {
        tx.seats_changed().await?;
    }
    Ok(())
}
