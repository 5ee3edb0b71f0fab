//! Price tiers, exactly: an order is priced when it is checked with an estimate of how many
//! tickets were sold before it (read up to 2 s earlier); in its transaction, under the ticket
//! type's row lock, checkout learns each ticket's exact place in the sale, and an order of an
//! event with a tier ("the first 500 at 20.00") is priced again with it. Only orders of events
//! with a tier pay for this: one statement per changed line and one for the total.

use super::checkout::Order;
use crate::db::Tenant;
use crate::pricing::{self, Item};
use std::collections::BTreeMap;

/// Prices `order` (placed as `id`) again with `before` (ticket type id → tickets sold or held
/// before it) if its event has a tier; stores what changed. Whether anything did.
pub async fn reprice(
    tx: &mut Tenant,
    id: i64,
    order: &Order,
    before: &BTreeMap<i64, i64>,
) -> Result<bool, sqlx::Error> {
    let Some(rules) = &order.tiers else { return Ok(false) };
    // Lines the voucher covers keep its price: automatic discounts never apply to them.
    let free: Vec<_> = order.lines.iter().filter(|l| l.voucher_uses == 0).collect();
    let items: Vec<Item> = free
        .iter()
        .map(|l| Item {
            number: l.number,
            quantity: l.quantity,
            list_price: l.unit_price_minor,
            hidden: false,
            taken_before: before.get(&l.ticket_type).copied().unwrap_or(l.taken_before),
        })
        .collect();
    let Ok(priced) = pricing::price(&items, None, rules, order.priced_at) else { return Ok(false) };
    let mut changed = false;
    for (line, p) in free.iter().zip(priced) {
        if p.discount_minor != line.discount_minor || p.reason != line.discount_reason {
            sqlx::query(
                "UPDATE order_lines SET discount_minor = $1, discount_reason = $2 WHERE order_id = $3 AND ticket_type_id = $4",
            )
            .bind(p.discount_minor)
            .bind(&p.reason)
            .bind(id)
            .bind(line.ticket_type)
            .execute(&mut **tx)
            .await?;
            changed = true;
        }
    }
    if changed {
        sqlx::query(
            "UPDATE orders SET total_minor = (SELECT CAST(SUM(quantity * unit_price_minor - discount_minor) AS BIGINT) \
             FROM order_lines WHERE order_id = $1) WHERE id = $1",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(changed)
}
