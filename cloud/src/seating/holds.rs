//! A seat through an order's life, each step one conditional statement:
//!
//! | order | seat |
//! |---|---|
//! | placed (checkout's batch, after its capacity) | free → held by it ([`super::take`], the whole batch at once); not all free: the order is refused and holds none |
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

/// `order`'s hold lapsed or it was cancelled: its seats are free again.
pub async fn release(tx: &mut Tenant, order: i64) -> Result<(), sqlx::Error> {
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

/// `orders` were paid: their held seats are sold, in one statement.
pub async fn sell_all(tx: &mut Tenant, orders: &[i64]) -> Result<(), sqlx::Error> {
    if orders.is_empty() {
        return Ok(());
    }
    // Order ids are numbers from the database, not input: safe to inline.
    let ids = orders.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let sold = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE seats SET state = 'sold' WHERE order_id IN ({ids}) AND state = 'held'"
    )))
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
