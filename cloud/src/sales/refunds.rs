//! Refunds: money back, tickets revoked — and the revocation on its way to every device.
//!
//! A refund is recorded in one transaction with everything it implies: the tickets revoked,
//! their capacity back on sale, the ledger reversal, and a revocation entry in the hub's journal
//! (which connected devices are pushed at once, the others get on their next sync). The
//! provider is asked for the money only after that commit, so a provider that is down delays
//! the money, never the revocation; refunds it has not confirmed are retried.

use super::Sales;
use super::store::{self, RefundRow};
use crate::capacity;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::journal::append_hub_entry;
use crate::payments::ledger::{self, Refs};
use crate::state::PublicUrl;
use crate::webhooks::{EventType, events::RefundEvent};
use std::collections::BTreeMap;
use sync_core::ids::Serial;
use sync_core::journal::{Payload, RevocationEntry};
use sync_core::revocation::RevocationReason;

/// A refund to record.
#[derive(Debug, Clone, Copy)]
pub struct NewRefund<'a> {
    /// The order.
    pub order: i64,
    /// The payment the money goes back through (none for free orders).
    pub payment: Option<i64>,
    /// How much.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// Tickets of the order to revoke (valid until now).
    pub serials: &'a [u32],
    /// Why, for the record.
    pub reason: &'a str,
    /// Who (`user:<id>`, `system`).
    pub actor: &'a str,
    /// The client's idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// The payment provider's name (its ledger account).
    pub provider: &'a str,
    /// The provider paid it back already (a refund made in its dashboard): recorded as done,
    /// never sent.
    pub done_at_provider: bool,
    /// The revoked tickets give their voucher's uses back (the organizer says so; otherwise a
    /// used code stays used).
    pub give_back_voucher: bool,
}

/// Records `r` inside `tx`, and queues the buyer's notice of money paid back (links to
/// `public_url`). Returns the refund's id. The caller commits, then calls
/// [`send_to_provider`] and [`crate::mail::kick`].
pub async fn record_refund(
    tx: &mut Tenant,
    public_url: &PublicUrl,
    r: NewRefund<'_>,
) -> Result<i64, ApiError> {
    let NewRefund {
        order,
        payment,
        amount_minor,
        currency,
        serials,
        reason,
        actor,
        idempotency_key,
        provider,
        done_at_provider,
        give_back_voucher,
    } = r;
    let event = store::event_of_order(tx, order, false).await?;
    let method = match payment {
        Some(p) => store::payment_method(tx, p).await?,
        None => None,
    };
    // Money through the provider waits for it; cash is handed back at the desk, now.
    let status = if method.as_deref() == Some("online") && amount_minor > 0 && !done_at_provider {
        "pending"
    } else {
        "succeeded"
    };
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let row = RefundRow {
        order,
        payment,
        amount_minor,
        currency,
        serials: &list,
        reason,
        status,
        idempotency_key,
        created_by: actor,
    };
    let refund = store::insert_refund(tx, &row).await?;
    if !serials.is_empty() {
        revoke(tx, event, order, serials, give_back_voucher).await?;
    }
    if crate::webhooks::wants(tx, EventType::OrderRefunded).await? {
        let code = store::order_events(tx, &[order], false).await?.pop().map(|o| o.order).unwrap_or_default();
        let data = RefundEvent {
            order: code,
            event,
            refund,
            amount_minor,
            currency: currency.to_owned(),
            serials: serials.to_vec(),
            reason: reason.to_owned(),
        };
        crate::webhooks::emit(tx, EventType::OrderRefunded, &data).await?;
    }
    store::add_refunded(tx, order, amount_minor).await?;
    if amount_minor > 0 {
        let account = match method.as_deref() {
            Some("online") => format!("psp:{provider}"),
            _ => format!("cash:order:{order}"),
        };
        let refs = Refs { order: Some(order), payment, refund: Some(refund) };
        ledger::post(
            tx,
            "refund",
            refs,
            currency,
            &[(ledger::revenue(event), amount_minor), (account, -amount_minor)],
        )
        .await?;
        // Money the provider has still to pay back is announced when it confirms (try_send).
        if status == "succeeded" {
            super::buyer_mail::refund_notice(tx, public_url, order, refund, amount_minor, serials.len())
                .await?;
        }
    }
    Ok(refund)
}

/// Revokes `serials` of `order` (valid until now), puts them back on sale (with their voucher's
/// uses, if asked) and tells the devices through the hub journal.
async fn revoke(
    tx: &mut Tenant,
    event: i64,
    order: i64,
    serials: &[u32],
    give_back_voucher: bool,
) -> Result<(), ApiError> {
    let revoked = store::revoke_tickets(tx, event, order, serials).await?;
    if usize::try_from(revoked).ok() != Some(serials.len()) {
        return Err(ApiError::Conflict {
            code: "ticket_not_refundable",
            message: "a ticket of this refund was refunded or revoked meanwhile; reload and try again".into(),
        });
    }
    // Refunded tickets go back on sale, a bundle's with all it took (in ticket type id order,
    // as checkout locks them).
    let parts = store::order_parts(tx, order).await?;
    let refunded = store::types_of_serials(tx, event, serials).await?;
    let mut unsold: BTreeMap<i64, i64> = BTreeMap::new();
    for (ticket_type, count) in &refunded {
        *unsold.entry(*ticket_type).or_default() += count;
        for part in parts.iter().filter(|p| p.bundle_type_id == *ticket_type) {
            *unsold.entry(part.part_type_id).or_default() += part.quantity * count;
        }
    }
    for (ticket_type, count) in unsold {
        capacity::unsell(tx, ticket_type, count).await?;
    }
    crate::seating::holds::give_back(tx, event, order, serials).await?;
    if give_back_voucher {
        for (ticket_type, count) in refunded {
            super::redeem::give_back(tx, order, ticket_type, count).await?;
        }
    }
    for (first, last) in crate::journal::runs(serials) {
        let entry =
            RevocationEntry { first: Serial(first), last: Serial(last), reason: RevocationReason::Refunded };
        append_hub_entry(tx, event, Payload::Revocation(entry)).await?;
    }
    Ok(())
}

/// What a refund the provider reported came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRefund {
    /// Money the hub had not refunded itself: recorded now (refund id).
    Recorded(i64),
    /// Accounted for already: the hub's own refund, or an older running total.
    Known,
}

/// A refund the provider reports: `refunded_minor` is everything refunded of `payment` so far
/// (Stripe's running total), reported in `tx` (which has remembered the event). What the
/// hub's own refunds of that payment (done or on their way) do not account for was refunded
/// outside the hub — in the provider's dashboard — and is recorded now, as done: the whole
/// payment refunded revokes every ticket still valid, as a refund in the console would (on
/// every gate, back on sale); a part of it revokes nothing, since which tickets is the
/// organizer's call, and says so on the order.
///
/// An older event arriving late carries a smaller running total, which is accounted for.
pub async fn refunded_at_provider(
    mut tx: Tenant,
    sales: &Sales,
    notifier: &crate::db::Notifier,
    payment: i64,
    refunded_minor: i64,
    currency: &str,
) -> Result<ProviderRefund, ApiError> {
    let Some(paid) = store::refundable_payment(&mut tx, payment).await? else {
        tx.commit().await?;
        return Ok(ProviderRefund::Known);
    };
    if paid.currency != currency {
        return Err(anyhow::anyhow!(
            "payment {payment}: the provider refunded in {currency}, the payment was in {}",
            paid.currency
        )
        .into());
    }
    let outside = refunded_minor - paid.refunded_minor;
    if outside <= 0 {
        tx.commit().await?;
        return Ok(ProviderRefund::Known);
    }
    let whole = refunded_minor >= paid.amount_minor;
    let serials: Vec<u32> = if whole {
        let tickets = store::tickets(&mut tx, paid.order_id).await?;
        tickets.iter().filter(|t| t.status == "valid").filter_map(|t| u32::try_from(t.serial).ok()).collect()
    } else {
        Vec::new()
    };
    let reason = if whole {
        "refunded in the payment provider's dashboard: every ticket cancelled"
    } else {
        "refunded in part in the payment provider's dashboard: no ticket cancelled (choose which in the console)"
    };
    let actor = format!("provider:{}", sales.provider.name());
    let new = NewRefund {
        order: paid.order_id,
        payment: Some(payment),
        amount_minor: outside,
        currency,
        serials: &serials,
        reason,
        actor: &actor,
        idempotency_key: None,
        provider: sales.provider.name(),
        done_at_provider: true,
        give_back_voucher: false,
    };
    let refund = record_refund(&mut tx, &sales.public_url, new).await?;
    tx.audit(
        &actor,
        "order.refund_at_provider",
        &format!("refund:{refund}"),
        serde_json::json!({"amount_minor": outside, "serials": serials, "payment": payment}),
    )
    .await?;
    tx.commit_and_notify(notifier).await?;
    Ok(ProviderRefund::Recorded(refund))
}

/// Asks the provider to pay refund `refund` back (if it is an online one still pending), and
/// records the answer. Failures are logged and retried by [`retry_pending`].
pub async fn send_to_provider(db: &Db, sales: &Sales, org: i64, refund: i64) {
    if let Err(e) = try_send(db, sales, org, refund).await {
        tracing::warn!(refund, error = %e, "refund not confirmed by the payment provider yet; will retry");
    }
}

async fn try_send(db: &Db, sales: &Sales, org: i64, refund: i64) -> Result<(), ApiError> {
    let mut tx = db.tenant(org).await?;
    let pending = store::pending_refund(&mut tx, refund).await?;
    tx.commit().await?;
    let Some((payment, amount)) = pending else { return Ok(()) };
    let payment =
        payment.ok_or_else(|| anyhow::anyhow!("refund {refund}: the payment has no provider reference"))?;
    let provider_ref = sales
        .provider
        .refund(&payment, amount, &format!("refund_{refund}"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db.tenant(org).await?;
    store::refund_succeeded(&mut tx, refund, &provider_ref).await?;
    // The buyer hears of it now that the money is on its way (once per refund: its key).
    if let Some((order, amount, serials)) = store::refund_for_notice(&mut tx, refund).await? {
        let cancelled = serials.split(',').filter(|s| !s.is_empty()).count();
        super::buyer_mail::refund_notice(&mut tx, &sales.public_url, order, refund, amount, cancelled)
            .await?;
    }
    tx.commit().await?;
    crate::mail::kick(db);
    Ok(())
}

/// Sends every refund still pending older than `older_than_ms` to the provider again.
pub async fn retry_pending(db: &Db, sales: &Sales, older_than_ms: i64) -> Result<(), ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM refunds WHERE status = 'pending' AND created_at <= $1 ORDER BY id LIMIT 100",
            db.clock().now_ms() - older_than_ms,
        )
        .await?;
    for (refund, org) in due {
        send_to_provider(db, sales, org, refund).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn serials_collapse_into_runs() {
        assert_eq!(crate::journal::runs(&[7, 1, 3, 2, 2]), [(1, 3), (7, 7)]);
        assert_eq!(crate::journal::runs(&[]), []);
    }
}
