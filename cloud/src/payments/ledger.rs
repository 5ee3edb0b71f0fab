//! The double-entry ledger. Each transaction is a set of entries on named accounts that sum to
//! zero per currency (debits positive, credits negative); [`post`] refuses anything else, so
//! "the ledger balances" holds by construction and the reports can check it.
//!
//! Accounts: `psp:<provider>`, `cash:device:<id>`, `card:device:<id>` (money held),
//! `revenue:event:<id>` (ticket sales), `comp:event:<id>` (face value given away).
//!
//! (Sums are cast to BIGINT: PostgreSQL widens `SUM(bigint)` to numeric.)

use crate::db::Tenant;
use crate::error::ApiError;

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
    tx: &mut Tenant,
    kind: &str,
    refs: Refs,
    currency: &str,
    entries: &[(String, i64)],
) -> Result<i64, ApiError> {
    if entries.iter().map(|(_, amount)| amount).sum::<i64>() != 0 {
        return Err(anyhow::anyhow!("unbalanced ledger transaction {kind}: {entries:?}").into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ledger_transactions (org_id, kind, order_id, payment_id, refund_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(tx.org())
    .bind(kind)
    .bind(refs.order)
    .bind(refs.payment)
    .bind(refs.refund)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await?;
    for (account, amount) in entries {
        sqlx::query(
            "INSERT INTO ledger_entries (org_id, transaction_id, account, amount_minor, currency) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tx.org())
        .bind(id)
        .bind(account)
        .bind(amount)
        .bind(currency)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// An account's balance in one currency.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Balance {
    /// The account (`psp:simulated`, `cash:device:3`, `revenue:event:12`, …).
    pub account: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Debits minus credits, in minor units.
    pub balance_minor: i64,
}

/// Balances of every account of the organization, per currency, sorted.
pub async fn balances(tx: &mut Tenant) -> Result<Vec<Balance>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT account, currency, CAST(SUM(amount_minor) AS BIGINT) AS balance_minor FROM ledger_entries WHERE org_id = $1 \
         GROUP BY account, currency ORDER BY account, currency",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?)
}
