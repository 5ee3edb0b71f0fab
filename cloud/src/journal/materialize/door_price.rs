//! Door prices and voucher returns from box-office journals (issue 21, at the door).
//!
//! A `DoorPrice` prices the door sale written just before it: its order line gets the list
//! price, the discount and why, and the voucher uses it took move from the voucher's `leased`
//! to `redeemed` (and count as `used` on the voucher lease). A `VoucherReturn` gives the
//! lease's unused uses back to the voucher. Each entry is materialized once, when stored.
//! What does not add up (a lease the device does not hold, more uses than leased) is logged and
//! capped, never refused: the sale happened, and a refusal would stop the device's sync.

use crate::db::Tenant;
use sync_core::journal::{DoorPrice, Entry, VoucherReturn};

/// A door sale's price: its line's list price and discount, its voucher's uses redeemed.
pub(super) async fn price(tx: &mut Tenant, e: &Entry, price: &DoorPrice) -> Result<(), anyhow::Error> {
    let key = format!("door:{}:{}", e.origin.0, price.sale);
    let order: Option<i64> =
        sqlx::query_scalar("SELECT id FROM orders WHERE idempotency_key = $1 AND org_id = $2")
            .bind(&key)
            .bind(tx.org())
            .fetch_optional(&mut **tx)
            .await?;
    let Some(order) = order else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "a door price for no door sale the hub holds; skipped"
        );
        return Ok(());
    };
    let mut voucher = None;
    if let Some((lease, uses)) = price.voucher {
        voucher = redeem(tx, e, i64::try_from(lease.0)?, i64::from(uses)).await?;
    }
    sqlx::query(
        "UPDATE order_lines SET unit_price_minor = $1, discount_minor = $2, discount_reason = $3, \
         voucher_id = $4, voucher_uses = $5 WHERE order_id = $6 AND org_id = $7",
    )
    .bind(price.list_minor)
    .bind(price.discount_minor)
    .bind(&price.reason)
    .bind(voucher.map(|(id, _)| id))
    .bind(voucher.map_or(0, |(_, n)| n))
    .bind(order)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    if let Some((id, _)) = voucher {
        sqlx::query("UPDATE orders SET voucher_id = $1 WHERE id = $2 AND org_id = $3")
            .bind(id)
            .bind(order)
            .bind(tx.org())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Redeems `uses` of voucher lease `lease` held by the entry's device: `(voucher, uses
/// redeemed)`, at most what the lease has left.
async fn redeem(
    tx: &mut Tenant,
    e: &Entry,
    lease: i64,
    uses: i64,
) -> Result<Option<(i64, i64)>, anyhow::Error> {
    let held: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT voucher_id, uses, used FROM voucher_leases WHERE id = $1 AND device_id = $2 AND org_id = $3",
    )
    .bind(lease)
    .bind(i64::from(e.origin.0))
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((voucher, leased, used)) = held else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "door redemption under a voucher lease the device does not hold"
        );
        return Ok(None);
    };
    let n = uses.min(leased - used).max(0);
    if n < uses {
        tracing::warn!(origin = e.origin.0, seq = e.seq, "door redemption beyond the voucher lease; capped");
    }
    sqlx::query("UPDATE voucher_leases SET used = used + $1 WHERE id = $2")
        .bind(n)
        .bind(lease)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE vouchers SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END, redeemed = redeemed + $1 \
         WHERE id = $2",
    )
    .bind(n)
    .bind(voucher)
    .execute(&mut **tx)
    .await?;
    Ok(Some((voucher, n)))
}

/// A voucher lease returned: its unused uses are the voucher's again (once).
pub(super) async fn voucher_return(
    tx: &mut Tenant,
    e: &Entry,
    ret: &VoucherReturn,
) -> Result<(), anyhow::Error> {
    let lease = i64::try_from(ret.lease.0)?;
    let returned: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE voucher_leases SET returned_at = $1 WHERE id = $2 AND device_id = $3 AND org_id = $4 \
         AND returned_at IS NULL RETURNING voucher_id, uses - used",
    )
    .bind(e.hlc.time().0)
    .bind(lease)
    .bind(i64::from(e.origin.0))
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((voucher, unused)) = returned else {
        tracing::warn!(
            origin = e.origin.0,
            seq = e.seq,
            "return of a voucher lease not held or returned before"
        );
        return Ok(());
    };
    sqlx::query(
        "UPDATE vouchers SET leased = CASE WHEN leased >= $1 THEN leased - $1 ELSE 0 END WHERE id = $2",
    )
    .bind(unused)
    .bind(voucher)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
