//! A voucher's uses through an order's life, each step in the transaction that changes the
//! order (see [`crate::vouchers`] for the invariants):
//!
//! | step | voucher | its ticket type, if the voucher reserves |
//! |---|---|---|
//! | placed ([`take`]) | `held += n` if `redeemed + held + leased + n <= max_uses` | `reserved → held` |
//! | paid ([`redeemed`]) | `held → redeemed` | (`held → sold` with the order's other tickets) |
//! | lapsed, cancelled ([`release`]) | `held -= n` | `held → reserved` (unless blocked) |
//! | paid after lapsing ([`revive`]) | `redeemed += n` if there are uses left | `reserved → sold` |
//! | refunded, if the organizer says ([`give_back`]) | `redeemed -= n` | set aside again |

use super::checkout::Order;
use crate::capacity::{self, Counter};
use crate::db::Tenant;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// A voucher an order uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoucherUse {
    /// The voucher.
    pub id: i64,
    /// Its uses in the order (the tickets it covers).
    pub uses: i64,
    /// The ticket type id it sets tickets aside of, if it does.
    pub reserve_type: Option<i64>,
}

/// Why an order did not get its voucher's uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoUse {
    /// Fewer uses left than the order needs.
    UsedUp,
    /// The organizer blocked it.
    Blocked,
}

/// Takes the uses of each order's voucher, in arrival order per voucher. One result per
/// order (`Ok` for orders without a voucher). Two statements for the whole batch, however
/// many vouchers it uses (a mailing's single-use codes: a different one in every order): one
/// locks and reads them all, one takes what was granted (measured: docs/benchmarks.md).
pub async fn take(tx: &mut Tenant, orders: &[&Order]) -> Result<Vec<Result<(), NoUse>>, sqlx::Error> {
    let mut results = vec![Ok(()); orders.len()];
    let mut by_voucher: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, o) in orders.iter().enumerate() {
        if let Some(v) = o.voucher {
            by_voucher.entry(v.id).or_default().push(i);
        }
    }
    if by_voucher.is_empty() {
        return Ok(results);
    }
    // Ids are numbers from the database, not input: safe to inline. The no-op update locks the
    // rows for the rest of the transaction (PostgreSQL takes them in the index's id order).
    let ids = by_voucher.keys().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE vouchers SET held = held WHERE id IN ({ids}) \
         RETURNING id, max_uses - redeemed - held - leased, CASE WHEN blocked_at IS NULL THEN 0 ELSE 1 END"
    )))
    .fetch_all(&mut **tx)
    .await?;
    let mut granted: Vec<(i64, i64, Option<i64>)> = Vec::new();
    for (voucher, mut left, blocked) in rows {
        let mut total = 0;
        let mut reserve_type = None;
        for &i in by_voucher.get(&voucher).into_iter().flatten() {
            let Some(v) = orders[i].voucher else { continue };
            reserve_type = v.reserve_type;
            results[i] = if blocked == 1 {
                Err(NoUse::Blocked)
            } else if v.uses <= left {
                left -= v.uses;
                total += v.uses;
                Ok(())
            } else {
                Err(NoUse::UsedUp)
            };
        }
        if total > 0 {
            granted.push((voucher, total, reserve_type));
        }
    }
    hold_many(tx, &granted).await?;
    Ok(results)
}

/// Moves `(voucher, uses, type it sets aside)` uses to held (negative: back), in one
/// statement (plus one per voucher that sets tickets aside).
async fn hold_many(tx: &mut Tenant, granted: &[(i64, i64, Option<i64>)]) -> Result<(), sqlx::Error> {
    if granted.is_empty() {
        return Ok(());
    }
    // Numbers computed here from the database's: safe to inline.
    let cases = granted.iter().map(|(id, n, _)| format!("WHEN {id} THEN {n}")).collect::<Vec<_>>().join(" ");
    let ids = granted.iter().map(|(id, _, _)| id.to_string()).collect::<Vec<_>>().join(",");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE vouchers SET held = held + CASE id {cases} END, \
         reserved = reserved - CASE WHEN reserves = 1 THEN CASE id {cases} END ELSE 0 END WHERE id IN ({ids})"
    )))
    .execute(&mut **tx)
    .await?;
    for (_, n, reserve_type) in granted {
        if let Some(ticket_type) = reserve_type {
            capacity::move_reserved(tx, *ticket_type, *n, Counter::Held).await?;
        }
    }
    Ok(())
}

/// Undoes [`take`] for an order that then did not get its tickets.
pub async fn untake(tx: &mut Tenant, v: VoucherUse) -> Result<(), sqlx::Error> {
    hold_many(tx, &[(v.id, -v.uses, v.reserve_type)]).await
}

/// A line of a stored order with the voucher uses it took.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct HeldLine {
    /// The ticket type's id.
    pub ticket_type_id: i64,
    /// Tickets held.
    pub quantity: i64,
    /// Its voucher.
    pub voucher_id: Option<i64>,
    /// Uses of it.
    pub voucher_uses: i64,
}

/// The lines of `order` with their voucher uses.
pub async fn lines(tx: &mut Tenant, order: i64) -> Result<Vec<HeldLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT ticket_type_id, quantity, voucher_id, voucher_uses FROM order_lines \
         WHERE order_id = $1 AND org_id = $2 ORDER BY ticket_type_id",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Gives back what a lapsed or cancelled order held: its tickets to sale, its voucher's uses
/// to the voucher, and tickets the voucher had set aside back aside (unless it was blocked
/// meanwhile: then to general sale).
pub async fn release(tx: &mut Tenant, order: i64) -> Result<(), sqlx::Error> {
    // Released in ticket type id order, as checkout holds them (no deadlock).
    let mut to_sale: BTreeMap<i64, i64> = super::store::parts_taken(tx, order).await?.into_iter().collect();
    for line in lines(tx, order).await? {
        let mut line_to_sale = line.quantity;
        if let Some(voucher) = line.voucher_id
            && line.voucher_uses > 0
        {
            let aside: i64 = sqlx::query_scalar(
                "UPDATE vouchers SET held = held - $1, \
                 reserved = reserved + CASE WHEN reserves = 1 AND blocked_at IS NULL THEN $1 ELSE 0 END \
                 WHERE id = $2 RETURNING CASE WHEN reserves = 1 AND blocked_at IS NULL THEN 1 ELSE 0 END",
            )
            .bind(line.voucher_uses)
            .bind(voucher)
            .fetch_one(&mut **tx)
            .await?;
            if aside == 1 {
                capacity::move_reserved(tx, line.ticket_type_id, -line.voucher_uses, Counter::Held).await?;
                line_to_sale -= line.voucher_uses;
            }
        }
        *to_sale.entry(line.ticket_type_id).or_default() += line_to_sale;
    }
    for (ticket_type, n) in to_sale {
        capacity::release_held(tx, ticket_type, n).await?;
    }
    // Its seats last, as checkout takes them.
    crate::seating::holds::release(tx, order).await
}

/// The uses a paid order held are redeemed.
pub async fn redeemed(tx: &mut Tenant, lines: &[HeldLine]) -> Result<(), sqlx::Error> {
    for line in lines {
        if let Some(voucher) = line.voucher_id
            && line.voucher_uses > 0
        {
            sqlx::query("UPDATE vouchers SET held = held - $1, redeemed = redeemed + $1 WHERE id = $2")
                .bind(line.voucher_uses)
                .bind(voucher)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Sells the tickets of an order paid after its hold lapsed, if they and its voucher's uses
/// are still there — each conditionally; `false` if one is not (the caller rolls back).
/// Vouchers first, then ticket types in id order, as checkout locks them. `parts`: what its
/// bundles take (type id, count).
pub async fn revive(
    conn: &mut AnyConnection,
    lines: &[HeldLine],
    parts: &[(i64, i64)],
) -> Result<bool, sqlx::Error> {
    // Ticket type id → (from general sale, from set aside).
    let mut sales: BTreeMap<i64, (i64, i64)> = parts.iter().map(|(t, n)| (*t, (*n, 0))).collect();
    for line in lines {
        let mut sale = (line.quantity, 0);
        if let Some(voucher) = line.voucher_id
            && line.voucher_uses > 0
        {
            let n = line.voucher_uses;
            // Still set aside for it: they come from there.
            let aside = sqlx::query(
                "UPDATE vouchers SET reserved = reserved - $1, redeemed = redeemed + $1 \
                 WHERE id = $2 AND reserves = 1 AND blocked_at IS NULL AND reserved >= $1",
            )
            .bind(n)
            .bind(voucher)
            .execute(&mut *conn)
            .await?
            .rows_affected()
                == 1;
            if aside {
                sale = (line.quantity - n, n);
            } else {
                let used = sqlx::query(
                    "UPDATE vouchers SET redeemed = redeemed + $1 WHERE id = $2 AND blocked_at IS NULL \
                     AND redeemed + held + reserved + leased + $1 <= max_uses",
                )
                .bind(n)
                .bind(voucher)
                .execute(&mut *conn)
                .await?;
                if used.rows_affected() != 1 {
                    return Ok(false);
                }
            }
        }
        let total = sales.entry(line.ticket_type_id).or_default();
        total.0 += sale.0;
        total.1 += sale.1;
    }
    for (ticket_type, (from_sale, aside)) in sales {
        if aside > 0 && !capacity::move_reserved(&mut *conn, ticket_type, aside, Counter::Sold).await? {
            return Ok(false);
        }
        if from_sale > 0 && !capacity::sell(&mut *conn, ticket_type, from_sale).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A refund of `count` tickets of type `ticket_type` of `order` gives their voucher uses back
/// (the organizer asked): at most the uses the line still has, set aside again if the voucher
/// reserves and is not blocked (their tickets were just unsold, so they fit). Returns how many.
pub async fn give_back(
    tx: &mut Tenant,
    order: i64,
    ticket_type: i64,
    count: i64,
) -> Result<i64, sqlx::Error> {
    let line: Option<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT voucher_id, voucher_uses FROM order_lines WHERE order_id = $1 AND ticket_type_id = $2 AND org_id = $3",
    )
    .bind(order)
    .bind(ticket_type)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((Some(voucher), uses)) = line else { return Ok(0) };
    let n = uses.min(count);
    if n <= 0 {
        return Ok(0);
    }
    sqlx::query(
        "UPDATE order_lines SET voucher_uses = voucher_uses - $1 WHERE order_id = $2 AND ticket_type_id = $3",
    )
    .bind(n)
    .bind(order)
    .bind(ticket_type)
    .execute(&mut **tx)
    .await?;
    let reserves: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN reserves = 1 AND blocked_at IS NULL THEN 1 ELSE 0 END FROM vouchers WHERE id = $1",
    )
    .bind(voucher)
    .fetch_one(&mut **tx)
    .await?;
    let aside = reserves == 1 && capacity::reserve(tx, ticket_type, n).await?;
    sqlx::query("UPDATE vouchers SET redeemed = redeemed - $1, reserved = reserved + $2 WHERE id = $3")
        .bind(n)
        .bind(if aside { n } else { 0 })
        .bind(voucher)
        .execute(&mut **tx)
        .await?;
    Ok(n)
}
