//! Refunds: money back, tickets revoked — and the revocation on its way to every device.
//!
//! A refund is recorded in one transaction with everything it implies: the tickets revoked,
//! their capacity back on sale, the ledger reversal, and a revocation entry in the hub's journal
//! (which connected devices are pushed at once, the others get on their next sync). The
//! provider is asked for the money only after that commit, so a provider that is down delays
//! the money, never the revocation; refunds it has not confirmed are retried.

use crate::error::ApiError;
use crate::journal::append_hub_entry;
use crate::payments::ledger::{self, Refs};
use crate::server::AppState;
use crate::tenancy::now_ms;
use sqlx::{Any, Row, Transaction};
use sync_core::ids::Serial;
use sync_core::journal::{Payload, RevocationEntry};
use sync_core::revocation::RevocationReason;

/// Contiguous runs of sorted `serials`: `[1,2,3,7]` → `[(1,3),(7,7)]`.
pub fn runs(serials: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted = serials.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for s in sorted {
        match out.last_mut() {
            Some((_, last)) if s == *last + 1 => *last = s,
            _ => out.push((s, s)),
        }
    }
    out
}

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
}

/// Records `r` inside `tx`. Returns the refund's id. The caller commits, then calls
/// [`send_to_provider`].
pub async fn record_refund(
    tx: &mut Transaction<'static, Any>,
    org: i64,
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
    } = r;
    let (event, method): (i64, Option<String>) = {
        let row = sqlx::query(
            "SELECT o.event_id, p.method FROM orders o LEFT JOIN payments p ON p.id = $2 WHERE o.id = $1 AND o.org_id = $3",
        )
        .bind(order)
        .bind(payment)
        .bind(org)
        .fetch_one(&mut **tx)
        .await?;
        (row.get(0), row.get(1))
    };
    // Money through the provider waits for it; cash is handed back at the desk, now.
    let status =
        if method.as_deref() == Some("online") && amount_minor > 0 { "pending" } else { "succeeded" };
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let refund: i64 = sqlx::query(
        "INSERT INTO refunds (org_id, order_id, payment_id, amount_minor, currency, serials, reason, status, idempotency_key, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(org)
    .bind(order)
    .bind(payment)
    .bind(amount_minor)
    .bind(currency)
    .bind(&list)
    .bind(reason)
    .bind(status)
    .bind(idempotency_key)
    .bind(actor)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if !serials.is_empty() {
        revoke(tx, org, event, order, serials).await?;
    }
    sqlx::query("UPDATE orders SET refunded_minor = refunded_minor + $1 WHERE id = $2")
        .bind(amount_minor)
        .bind(order)
        .execute(&mut **tx)
        .await?;
    if amount_minor > 0 {
        let account = match method.as_deref() {
            Some("online") => format!("psp:{provider}"),
            _ => format!("cash:order:{order}"),
        };
        let refs = Refs { order: Some(order), payment, refund: Some(refund) };
        ledger::post(
            tx,
            org,
            "refund",
            refs,
            currency,
            &[(ledger::revenue(event), amount_minor), (account, -amount_minor)],
        )
        .await?;
    }
    Ok(refund)
}

/// Revokes `serials` of `order` (valid until now), puts them back on sale and tells the
/// devices through the hub journal.
async fn revoke(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event: i64,
    order: i64,
    serials: &[u32],
) -> Result<(), ApiError> {
    let list = serials.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    // Serials are numbers, not input text: safe to inline.
    let revoked = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE tickets SET status = 'revoked', revoked_at = $1 WHERE event_id = $2 AND order_id = $3 \
         AND status = 'valid' AND serial IN ({list})"
    )))
    .bind(now_ms())
    .bind(event)
    .bind(order)
    .execute(&mut **tx)
    .await?;
    if usize::try_from(revoked.rows_affected()).ok() != Some(serials.len()) {
        return Err(ApiError::Conflict {
            code: "ticket_not_refundable",
            message: "a ticket of this refund was refunded or revoked meanwhile; reload and try again".into(),
        });
    }
    // Refunded tickets go back on sale.
    let per_type = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT ticket_type_id, COUNT(*) FROM tickets WHERE event_id = $1 AND serial IN ({list}) GROUP BY ticket_type_id"
    )))
    .bind(event)
    .fetch_all(&mut **tx)
    .await?;
    for row in per_type {
        sqlx::query("UPDATE ticket_types SET sold = sold - $1 WHERE id = $2")
            .bind(row.get::<i64, _>(1))
            .bind(row.get::<i64, _>(0))
            .execute(&mut **tx)
            .await?;
    }
    for (first, last) in runs(serials) {
        let entry =
            RevocationEntry { first: Serial(first), last: Serial(last), reason: RevocationReason::Refunded };
        append_hub_entry(tx, org, event, Payload::Revocation(entry)).await?;
    }
    Ok(())
}

/// Asks the provider to pay refund `refund` back (if it is an online one still pending), and
/// records the answer. Failures are logged and retried by [`retry_pending`].
pub async fn send_to_provider(state: &AppState, org: i64, refund: i64) {
    if let Err(e) = try_send(state, org, refund).await {
        tracing::warn!(refund, error = %e, "refund not confirmed by the payment provider yet; will retry");
    }
}

async fn try_send(state: &AppState, org: i64, refund: i64) -> Result<(), ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let row = sqlx::query(
        "SELECT p.provider_ref, r.amount_minor FROM refunds r JOIN payments p ON p.id = r.payment_id \
         WHERE r.id = $1 AND r.org_id = $2 AND r.status = 'pending'",
    )
    .bind(refund)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = row else { return Ok(()) };
    let (payment, amount): (Option<String>, i64) = (row.get(0), row.get(1));
    let payment =
        payment.ok_or_else(|| anyhow::anyhow!("refund {refund}: the payment has no provider reference"))?;
    let provider_ref = state
        .sales
        .provider
        .refund(&payment, amount, &format!("refund_{refund}"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = state.db.tenant(org).await?;
    sqlx::query("UPDATE refunds SET status = 'succeeded', provider_ref = $1 WHERE id = $2 AND org_id = $3")
        .bind(provider_ref)
        .bind(refund)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends every refund still pending older than `older_than_ms` to the provider again.
pub async fn retry_pending(state: &AppState, older_than_ms: i64) -> Result<(), ApiError> {
    let due = state
        .db
        .due(
            "SELECT id, org_id FROM refunds WHERE status = 'pending' AND created_at <= $1 ORDER BY id LIMIT 100",
            now_ms() - older_than_ms,
        )
        .await?;
    for (refund, org) in due {
        send_to_provider(state, org, refund).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn serials_collapse_into_runs() {
        assert_eq!(super::runs(&[7, 1, 3, 2, 2]), [(1, 3), (7, 7)]);
        assert_eq!(super::runs(&[]), []);
    }
}
