//! The double-entry ledger. Each transaction is a set of entries on named accounts that sum to
//! zero per currency (debits positive, credits negative); [`post`] refuses anything else, so
//! "the ledger balances" holds by construction and the reports can check it.
//!
//! Accounts: `psp:<provider>`, `cash:device:<id>`, `card:device:<id>` (money held),
//! `revenue:event:<id>` (ticket sales), `comp:event:<id>` (face value given away).
//!
//! (Sums are cast to BIGINT: PostgreSQL widens `SUM(bigint)` to numeric.)

use crate::error::ApiError;
use crate::tenancy::now_ms;
use sqlx::{Any, Row, Transaction};

/// What a ledger transaction belongs to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Refs {
    /// The order.
    pub order: Option<i64>,
    /// The payment.
    pub payment: Option<i64>,
    /// The refund.
    pub refund: Option<i64>,
}

/// Revenue account of an event.
pub fn revenue(event: i64) -> String {
    format!("revenue:event:{event}")
}

/// Posts a balanced transaction of `kind` in `currency` inside `tx`. Returns its id.
pub async fn post(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    kind: &str,
    refs: Refs,
    currency: &str,
    entries: &[(String, i64)],
) -> Result<i64, ApiError> {
    if entries.iter().map(|(_, amount)| amount).sum::<i64>() != 0 {
        return Err(anyhow::anyhow!("unbalanced ledger transaction {kind}: {entries:?}").into());
    }
    let id: i64 = sqlx::query(
        "INSERT INTO ledger_transactions (org_id, kind, order_id, payment_id, refund_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(org)
    .bind(kind)
    .bind(refs.order)
    .bind(refs.payment)
    .bind(refs.refund)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    for (account, amount) in entries {
        sqlx::query(
            "INSERT INTO ledger_entries (org_id, transaction_id, account, amount_minor, currency) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org)
        .bind(id)
        .bind(account)
        .bind(amount)
        .bind(currency)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// Balances of every account of `org`, per currency, sorted.
pub async fn balances(
    tx: &mut Transaction<'static, Any>,
    org: i64,
) -> Result<Vec<(String, String, i64)>, ApiError> {
    let rows = sqlx::query(
        "SELECT account, currency, CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries WHERE org_id = $1 \
         GROUP BY account, currency ORDER BY account, currency",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}
