//! The counters of a ticket type's one capacity — `sold`, `held` (unpaid online orders),
//! `leased` (rights given to box offices), `reserved` (set aside for vouchers) — and the
//! event's serial numbers. Online checkout,
//! box-office leases and what devices report through sync all move the same counters, so
//! their statements live here once.
//!
//! The invariant, checked by the database as well: `sold + held + leased + reserved <=
//! capacity`. Only a conditional UPDATE adds to `held`, `leased` or `reserved`; the others never fail (a device's report of
//! money taken at the door must not stop its sync), and never go below zero.

use crate::db::Tenant;
use crate::error::ApiError;

/// Takes `n` rights of ticket type `id` for a box office; `false` if fewer are left.
pub async fn lease(tx: &mut Tenant, id: i64, n: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE ticket_types SET leased = leased + $1 WHERE id = $2 AND org_id = $3 AND sold + held + leased + reserved + $1 <= capacity")
        .bind(n)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `n` leased rights of ticket type `id` back to capacity.
pub async fn release_leased(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ticket_types SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END WHERE id = $2 AND org_id = $3")
        .bind(n)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `n` leased rights of ticket type `id` were sold at the door.
pub async fn sell_leased(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ticket_types SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END, sold = sold + $1 \
         WHERE id = $2 AND org_id = $3",
    )
    .bind(n)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `n` sold tickets of ticket type `id` are back on sale (refunded, voided).
pub async fn unsell(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ticket_types SET sold = CASE WHEN sold >= $1 THEN sold - $1 ELSE 0 END WHERE id = $2 AND org_id = $3")
        .bind(n)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets `n` tickets of type `id` aside for a voucher; `false` if fewer are left.
pub async fn reserve(tx: &mut Tenant, id: i64, n: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ticket_types SET reserved = reserved + $1 WHERE id = $2 AND org_id = $3 \
         AND sold + held + leased + reserved + $1 <= capacity",
    )
    .bind(n)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `n` tickets of type `id` set aside for a voucher back to general sale.
pub async fn unreserve(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ticket_types SET reserved = reserved - $1 WHERE id = $2 AND org_id = $3")
        .bind(n)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves `n` tickets of type `id` from set aside to `to` (`held` for an order placed with the
/// voucher, `sold` for one paid after its hold lapsed), or back with a negative `n` (`held`:
/// a lapsed hold; `sold`: a refund that gives the use back) — if that many are there.
pub async fn move_reserved(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    n: i64,
    to: Counter,
) -> Result<bool, sqlx::Error> {
    let sql = match to {
        Counter::Held => {
            "UPDATE ticket_types SET reserved = reserved - $1, held = held + $1 WHERE id = $2 AND reserved >= $1 AND held + $1 >= 0"
        }
        Counter::Sold => {
            "UPDATE ticket_types SET reserved = reserved - $1, sold = sold + $1 WHERE id = $2 AND reserved >= $1 AND sold + $1 >= 0"
        }
    };
    Ok(sqlx::query(sql).bind(n).bind(id).execute(conn).await?.rows_affected() == 1)
}

/// Where reserved tickets go.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Held by an unpaid order.
    Held,
    /// Sold.
    Sold,
}

/// Takes `count` consecutive serials of `event`; returns the first.
pub async fn allocate_serials(tx: &mut Tenant, event: i64, count: i64) -> Result<u32, ApiError> {
    let next: i64 = sqlx::query_scalar("UPDATE events SET next_serial = next_serial + $1 WHERE id = $2 AND org_id = $3 RETURNING next_serial")
        .bind(count)
        .bind(event)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await?;
    let first = next - count;
    if next - 1 > i64::from(u32::MAX) {
        return Err(ApiError::Conflict {
            code: "serials_exhausted",
            message: "this event has issued every serial".into(),
        });
    }
    Ok(u32::try_from(first).map_err(anyhow::Error::from)?)
}

// Checkout's and settling's statements: the hottest rows of a flash sale. They name the row by
// id alone (it came from the organization's own rows in the same transaction), so the plan is
// one primary-key update.

/// Holds `n` of ticket type `id` for an unpaid order if that many are left (a negative `n`
/// gives back, and always fits); `None` if not, else how many are sold or held now (a price
/// tier counts them).
pub async fn hold(tx: &mut Tenant, id: i64, n: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE ticket_types SET held = held + $1 WHERE id = $2 AND sold + held + leased + reserved + $1 <= capacity \
         RETURNING sold + held",
    )
    .bind(n)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// `n` held tickets of ticket type `id` were paid.
pub async fn sell_held(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ticket_types SET held = held - $1, sold = sold + $1 WHERE id = $2")
        .bind(n)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sells `n` of ticket type `id` outright if that many are left (a payment that arrived after
/// its hold lapsed).
pub async fn sell(conn: &mut sqlx::AnyConnection, id: i64, n: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ticket_types SET sold = sold + $1 WHERE id = $2 AND sold + held + leased + reserved + $1 <= capacity",
    )
    .bind(n)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back `n` held tickets of ticket type `id` (a hold lapsed or was cancelled).
pub async fn release_held(tx: &mut Tenant, id: i64, n: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ticket_types SET held = held - $1 WHERE id = $2")
        .bind(n)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
