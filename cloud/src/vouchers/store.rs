//! The queries of vouchers: creating, finding, listing, blocking, and their redemptions. (The
//! counters an order moves are the sales module's, in `sales/redeem.rs`.)

use super::{Terms, VoucherView};
use crate::db::{Tenant, values};
use serde::Serialize;
use utoipa::ToSchema;

const COLUMNS: &str = "id, code, mode, value, scope AS ticket_types, max_uses, max_per_order, redeemed, held, \
     leased, reserves, reserved, unlocks_hidden, valid_from, valid_until, tag, note, blocked_at, created_by, created_at";

/// Inserts vouchers with `codes` and the terms `v` (scope as stored), each with its tickets
/// set aside if it reserves; returns the codes that were new (a code taken already is skipped).
pub async fn insert(
    tx: &mut Tenant,
    event: i64,
    codes: &[String],
    v: &Terms,
    scope: &str,
    actor: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let reserved = if v.reserves { v.max_uses } else { 0 };
    let (mode, value) = v.price.stored();
    let mut inserted = Vec::with_capacity(codes.len());
    // 17 parameters a row: 500 rows stay under PostgreSQL's 65,535 bind parameters.
    for chunk in codes.chunks(500) {
        let sql = format!(
            "INSERT INTO vouchers (org_id, event_id, code, mode, value, scope, max_uses, max_per_order, reserves, \
             reserved, unlocks_hidden, valid_from, valid_until, tag, note, created_by, created_at) VALUES {} \
             ON CONFLICT (event_id, code) DO NOTHING RETURNING code",
            values(chunk.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        );
        let mut insert = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for code in chunk {
            insert = insert
                .bind(tx.org())
                .bind(event)
                .bind(code)
                .bind(mode.as_str())
                .bind(value)
                .bind(scope)
                .bind(v.max_uses)
                .bind(v.max_per_order)
                .bind(i64::from(v.reserves))
                .bind(reserved)
                .bind(i64::from(v.unlocks_hidden))
                .bind(v.valid_from)
                .bind(v.valid_until)
                .bind(v.tag.trim())
                .bind(v.note.trim())
                .bind(actor)
                .bind(tx.now());
        }
        inserted.extend(insert.fetch_all(&mut **tx).await?);
    }
    Ok(inserted)
}

/// Voucher `code` of `event` (in capitals).
pub async fn by_code(tx: &mut Tenant, event: i64, code: &str) -> Result<Option<VoucherView>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM vouchers WHERE event_id = $1 AND code = $2 AND org_id = $3"
    )))
    .bind(event)
    .bind(code)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// The vouchers of `event` (with `tag`, if given), by code, at most `limit` after `after`.
pub async fn list(
    tx: &mut Tenant,
    event: i64,
    tag: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<VoucherView>, sqlx::Error> {
    // Two statements rather than `($n IS NULL OR tag = $n)`: PostgreSQL cannot type a
    // parameter compared with NULL alone.
    let (filter, tag) = match tag {
        Some(tag) => ("AND tag = $5", tag),
        None => ("AND $5 = ''", ""),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM vouchers WHERE event_id = $1 AND org_id = $2 AND code > $3 {filter} \
         ORDER BY code LIMIT $4"
    )))
    .bind(event)
    .bind(tx.org())
    .bind(after)
    .bind(limit)
    .bind(tag)
    .fetch_all(&mut **tx)
    .await
}

/// An order that used a voucher.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Redemption {
    /// The order's code.
    pub order: String,
    /// Its status (`pending`, `paid`, `expired`, `cancelled`).
    pub status: String,
    /// The buyer.
    pub name: String,
    /// Their e-mail.
    pub email: String,
    /// Tickets the voucher covered.
    pub uses: i64,
    /// Taken off by the voucher, in minor units.
    pub discount_minor: i64,
    /// The order's currency.
    pub currency: String,
    /// When the order was placed.
    pub created_at: i64,
}

/// The orders that used voucher `id`, newest first.
pub async fn redemptions(tx: &mut Tenant, id: i64) -> Result<Vec<Redemption>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.code AS \"order\", o.status, o.name, o.email, CAST(SUM(l.voucher_uses) AS BIGINT) AS uses, \
         CAST(SUM(l.discount_minor) AS BIGINT) AS discount_minor, o.currency, o.created_at \
         FROM orders o JOIN order_lines l ON l.order_id = o.id AND l.voucher_id = $1 \
         WHERE o.voucher_id = $1 AND o.org_id = $2 AND o.status <> 'rejected' \
         GROUP BY o.id, o.code, o.status, o.name, o.email, o.currency, o.created_at ORDER BY o.created_at DESC, o.id DESC",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Uses of a voucher leased to a box office.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct VoucherLeaseRow {
    /// The voucher lease.
    pub id: i64,
    /// The box office.
    pub device_id: i64,
    /// Its name.
    pub device_name: String,
    /// Uses leased.
    pub uses: i64,
    /// Redeemed there (as far as it has synced).
    pub used: i64,
    /// When they lapse on the device.
    pub expires_at: i64,
    /// When the device gave the unused ones back (absent: it has not).
    pub returned_at: Option<i64>,
}

/// The leases of voucher `id`, oldest first.
pub async fn leases(tx: &mut Tenant, id: i64) -> Result<Vec<VoucherLeaseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.device_id, d.name AS device_name, l.uses, l.used, l.expires_at, l.returned_at \
         FROM voucher_leases l JOIN devices d ON d.id = l.device_id WHERE l.voucher_id = $1 AND l.org_id = $2 ORDER BY l.id",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Blocks voucher `id` at `now` if it is not blocked; returns the tickets it had set aside
/// (given back to general sale by the caller). `None` if it was blocked already.
pub async fn block(tx: &mut Tenant, id: i64, now: i64) -> Result<Option<i64>, sqlx::Error> {
    let reserved: Option<i64> = sqlx::query_scalar(
        "SELECT reserved FROM vouchers WHERE id = $1 AND org_id = $2 AND blocked_at IS NULL",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    if reserved.is_some() {
        sqlx::query("UPDATE vouchers SET blocked_at = $1, reserved = 0 WHERE id = $2 AND org_id = $3")
            .bind(now)
            .bind(id)
            .bind(tx.org())
            .execute(&mut **tx)
            .await?;
    }
    Ok(reserved)
}

/// Unblocks voucher `id`, setting `reserve` tickets aside again.
pub async fn unblock(tx: &mut Tenant, id: i64, reserve: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE vouchers SET blocked_at = NULL, reserved = $1 WHERE id = $2 AND org_id = $3")
        .bind(reserve)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets voucher `id`'s tag and note.
pub async fn label(tx: &mut Tenant, id: i64, tag: &str, note: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE vouchers SET tag = $1, note = $2 WHERE id = $3 AND org_id = $4")
        .bind(tag)
        .bind(note)
        .bind(id)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Voucher `id`, its row locked until the transaction ends (PostgreSQL: the row; SQLite
/// writes one transaction at a time).
pub async fn lock(tx: &mut Tenant, id: i64) -> Result<VoucherView, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE vouchers SET max_uses = max_uses WHERE id = $1 AND org_id = $2 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await
}

/// Sets voucher `id`'s uses, uses per order and validity `(from, until)`; `more` tickets set
/// aside for it (negative: fewer).
pub async fn set_limits(
    tx: &mut Tenant,
    id: i64,
    max_uses: i64,
    per_order: Option<i64>,
    (from, until): (Option<i64>, Option<i64>),
    more: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE vouchers SET max_uses = $1, max_per_order = $2, valid_from = $3, valid_until = $4, \
         reserved = reserved + $5 WHERE id = $6 AND org_id = $7",
    )
    .bind(max_uses)
    .bind(per_order)
    .bind(from)
    .bind(until)
    .bind(more)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The ticket type id of `event`'s type `number`.
pub async fn type_id(tx: &mut Tenant, event: i64, number: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM ticket_types WHERE event_id = $1 AND number = $2 AND org_id = $3")
        .bind(event)
        .bind(number)
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}
