//! After checkout: settling payments, issuing tickets, letting unpaid holds lapse.

use super::Sales;
use super::buyer_mail::Reason as MailReason;
use super::checkout::release_hold;
use super::issue::Goods;
use super::store;
use crate::crypto::MasterKey;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::payments::ledger::{self, Refs};

/// What settling a payment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The order is paid and its tickets issued.
    Paid,
    /// Settled before (a retried webhook, a replay): nothing changed.
    Already,
    /// The hold had lapsed and the tickets were sold meanwhile: the payment is being refunded.
    Refunding {
        /// The refund.
        refund: i64,
    },
}

/// A payment the provider says succeeded.
#[derive(Debug, Clone)]
pub struct Succeeded {
    /// The hub's payment.
    pub payment: i64,
    /// What the provider collected.
    pub amount_minor: i64,
    /// In what.
    pub currency: String,
    /// The provider's event id, remembered in the same transaction so a replayed webhook
    /// changes nothing.
    pub webhook_event: Option<String>,
}

/// Settles a payment of `org` as succeeded: ledger, order paid, tickets issued — one
/// transaction, idempotent.
pub async fn settle(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    org: i64,
    paid: Succeeded,
) -> Result<Settled, ApiError> {
    let mut outcomes = settle_all(db, master, sales, org, std::slice::from_ref(&paid)).await?;
    outcomes.pop().ok_or_else(|| anyhow::anyhow!("settling one payment gave no outcome"))?
}

/// Settles payments of `org` as succeeded, all in one transaction (see [`super::issue`] for
/// why): one outcome per payment, each what it would have been alone — a payment that cannot
/// be settled (the provider reports another amount) is rolled back to its savepoint and gets
/// its error, the others go on. `Err` if the transaction itself failed: nothing was settled.
pub async fn settle_all(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    org: i64,
    payments: &[Succeeded],
) -> Result<Vec<Result<Settled, ApiError>>, ApiError> {
    let mut tx = db.tenant(org).await?;
    let mut outcomes: Vec<Result<Settled, ApiError>> = Vec::with_capacity(payments.len());
    let mut goods = Vec::new();
    let mut paying = Vec::new(); // per goods: the payment's index
    for (i, paid) in payments.iter().enumerate() {
        savepoint(&mut tx, "SAVEPOINT settling").await?;
        match open(&mut tx, sales, paid).await {
            Ok(opened) => {
                savepoint(&mut tx, "RELEASE SAVEPOINT settling").await?;
                if let Some(g) = opened {
                    goods.push(g);
                    paying.push(i);
                }
                outcomes.push(Ok(Settled::Already));
            }
            Err(e) => {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT settling").await?;
                savepoint(&mut tx, "RELEASE SAVEPOINT settling").await?;
                outcomes.push(Err(e));
            }
        }
    }
    for g in goods.iter().filter(|g| g.marked) {
        super::buyer_mail::tickets(&mut tx, &sales.public_url, g.order, MailReason::Paid).await?;
    }
    let paid = super::issue::pay(&mut tx, master, &goods).await?;
    let mut refunds = Vec::new();
    for ((g, i), paid) in goods.iter().zip(paying).zip(paid) {
        outcomes[i] = Ok(if paid {
            if !g.marked {
                super::buyer_mail::tickets(&mut tx, &sales.public_url, g.order, MailReason::Paid).await?;
            }
            Settled::Paid
        } else {
            let refund = refund_lapsed(&mut tx, sales, g.order, &payments[i]).await?;
            refunds.push(refund);
            Settled::Refunding { refund }
        });
    }
    tx.commit().await?;
    for refund in refunds {
        super::refunds::send_to_provider(db, sales, org, refund).await;
    }
    Ok(outcomes)
}

async fn savepoint(tx: &mut Tenant, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(&mut **tx).await.map(drop)
}

/// Phase 1 of settling `paid` (see [`super::issue`]): the provider's event remembered, the
/// payment marked succeeded and posted to the ledger, its order gathered (and marked paid if
/// it was pending). `None` if it was settled before.
async fn open(tx: &mut Tenant, sales: &Sales, paid: &Succeeded) -> Result<Option<Goods>, ApiError> {
    if let Some(event) = &paid.webhook_event
        && !store::remember_provider_event(tx, event).await?
    {
        return Ok(None);
    }
    let Some(payment) = store::payment_succeeded(tx, paid.payment).await? else {
        return Ok(None);
    };
    let (amount, currency) = (paid.amount_minor, &paid.currency);
    if payment.amount_minor != amount || &payment.currency != currency {
        return Err(anyhow::anyhow!(
            "payment {}: provider reports {amount} {currency}, expected {} {}",
            paid.payment,
            payment.amount_minor,
            payment.currency
        )
        .into());
    }
    let order = payment.order_id;
    let event = store::event_of_order(tx, order, false).await?;
    let provider = format!("psp:{}", sales.provider.name());
    let refs = Refs { order: Some(order), payment: Some(paid.payment), refund: None };
    ledger::post(tx, "payment", refs, currency, &[(provider, amount), (ledger::revenue(event), -amount)])
        .await?;
    Ok(Some(super::issue::gather(tx, event, order).await?))
}

/// Records the refund of a payment that came after its order's hold lapsed and its tickets
/// were sold meanwhile.
async fn refund_lapsed(
    tx: &mut Tenant,
    sales: &Sales,
    order: i64,
    paid: &Succeeded,
) -> Result<i64, ApiError> {
    let refund = super::refunds::NewRefund {
        order,
        payment: Some(paid.payment),
        amount_minor: paid.amount_minor,
        currency: &paid.currency,
        serials: &[],
        reason: "the reservation lapsed before payment and the tickets were sold meanwhile",
        actor: "system",
        idempotency_key: None,
        provider: sales.provider.name(),
        done_at_provider: false,
        give_back_voucher: false,
    };
    super::refunds::record_refund(tx, &sales.public_url, refund).await
}

/// Completes an order that costs nothing: paid at once, tickets issued, the buyer's
/// confirmation on its way.
pub async fn complete_free(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    org: i64,
    order: i64,
) -> Result<(), ApiError> {
    let mut tx = db.tenant(org).await?;
    let event = store::event_of_order(&mut tx, order, true).await?;
    let goods = super::issue::gather(&mut tx, event, order).await?;
    super::issue::pay(&mut tx, master, &[goods]).await?;
    super::buyer_mail::tickets(&mut tx, &sales.public_url, order, MailReason::Paid).await?;
    tx.commit().await?;
    crate::mail::kick(db);
    Ok(())
}

/// Lets holds that lapsed by now go: their orders expire and their tickets are for sale again.
/// Returns how many. Safe to run on every hub instance at once (each order expires in a
/// conditional UPDATE, once).
pub async fn expire_holds(db: &Db) -> Result<usize, ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM orders WHERE status = 'pending' AND hold_expires_at <= $1 \
             ORDER BY hold_expires_at LIMIT 1000",
            db.clock().now_ms(),
        )
        .await?;
    let mut expired = 0;
    for (order, org) in due {
        let mut tx = db.tenant(org).await?;
        if store::expire(&mut tx, order).await? {
            release_hold(&mut tx, order).await?;
            expired += 1;
        }
        tx.commit().await?;
    }
    Ok(expired)
}

/// Payments the provider collected whose webhook never reached the hub (it was down when the
/// provider sent it, or the provider gave up), found by asking the provider about every
/// payment still pending after `older_than_ms` — for three hours (the longest hold is two),
/// after which a payment nobody completed is left alone, so abandoned checkouts cost the
/// provider's rate limit little — and settled as the webhook would have: tickets, or the
/// refund of a payment too late for them. Returns how many were settled. Idempotent with the
/// webhook: whichever comes second finds the payment settled.
pub async fn recover_missed_payments(
    db: &Db,
    master: &MasterKey,
    sales: &Sales,
    older_than_ms: i64,
) -> Result<usize, ApiError> {
    let due = db
        .due(
            "SELECT id, org_id FROM payments WHERE status = 'pending' AND provider_ref IS NOT NULL \
             AND created_at <= $1 AND created_at > $1 - 10800000 ORDER BY id LIMIT 100",
            db.clock().now_ms() - older_than_ms,
        )
        .await?;
    let mut settled = 0;
    for (payment, org) in due {
        let mut tx = db.tenant(org).await?;
        let provider_ref = store::provider_ref(&mut tx, payment).await?;
        tx.commit().await?;
        let Some(provider_ref) = provider_ref else { continue };
        let collected = match sales.provider.collected(&provider_ref).await {
            Ok(Some(collected)) => collected,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(payment, error = %e, "could not ask the provider about a pending payment");
                continue;
            }
        };
        let paid = Succeeded {
            payment,
            amount_minor: collected.amount_minor,
            currency: collected.currency,
            webhook_event: None,
        };
        if settle(db, master, sales, org, paid).await? != Settled::Already {
            tracing::info!(payment, "settled a payment whose webhook never came");
            settled += 1;
        }
    }
    Ok(settled)
}
