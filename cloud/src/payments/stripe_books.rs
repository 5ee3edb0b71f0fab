//! Stripe's side of reconciliation: its balance transactions (charges and refunds, with the
//! PaymentIntent each belongs to and Stripe's fee) and its payouts, since a time. Lists are
//! read newest first, a hundred at a time, until they pass that time.

use super::ProviderError;
use super::reconcile::{Books, Movement, MovementKind, Payout};
use super::stripe::Stripe;
use serde::Deserialize;

/// At most this many pages of each list (100 each): a reconciliation of more than 100,000
/// movements is for Stripe's own reports.
const MAX_PAGES: usize = 1000;

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct BalanceTransaction {
    id: String,
    amount: i64,
    #[serde(default)]
    fee: i64,
    currency: String,
    /// Unix seconds.
    created: i64,
    /// Unix seconds.
    #[serde(default)]
    available_on: Option<i64>,
    #[serde(rename = "type")]
    kind: String,
    /// The charge or refund, expanded (`expand[]=data.source`); a bare id if not.
    #[serde(default)]
    source: serde_json::Value,
}

#[derive(Deserialize)]
struct StripePayout {
    id: String,
    amount: i64,
    currency: String,
    created: i64,
    /// `paid`, `pending`, `in_transit`, `canceled`, `failed`.
    #[serde(default)]
    status: String,
}

impl Stripe {
    /// Balance transactions and payouts created since `since_ms`.
    pub(super) async fn books_since(&self, since_ms: i64) -> Result<Books, ProviderError> {
        let since = since_ms.div_euclid(1000);
        // The documented path, and the one it was called before (which emulators serve).
        let transactions: Vec<BalanceTransaction> =
            match self.list("/v1/balance_transactions?limit=100&expand[]=data.source", since).await {
                Ok(Some(found)) => found,
                Ok(None) => self
                    .list("/v1/balance/history?limit=100&expand[]=data.source", since)
                    .await?
                    .unwrap_or_default(),
                Err(e) => return Err(e),
            };
        let movements = transactions.into_iter().filter_map(movement).collect();
        let payouts: Vec<StripePayout> = self.list("/v1/payouts?limit=100", since).await?.unwrap_or_default();
        // A payout that failed or was cancelled paid nothing out: it ends no period.
        let payouts = payouts
            .into_iter()
            .filter(|p| p.status != "failed" && p.status != "canceled")
            .map(|p| Payout {
                id: p.id,
                amount_minor: p.amount,
                currency: p.currency.to_ascii_uppercase(),
                created_ms: p.created * 1000,
            })
            .collect();
        Ok(Books { movements, payouts })
    }

    /// Every item of the list at `path` created at or after `since` (Unix seconds), following
    /// `starting_after`; `None` if Stripe does not know the path (404).
    async fn list<T>(&self, path: &str, since: i64) -> Result<Option<Vec<T>>, ProviderError>
    where
        T: serde::de::DeserializeOwned + Listed,
    {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let url = match &after {
                Some(id) => format!("{path}&starting_after={id}"),
                None => path.to_owned(),
            };
            let Some(page): Option<Page<T>> = self.get_if_found(&url).await? else { return Ok(None) };
            let more = page.has_more;
            let mut passed = page.data.is_empty();
            for item in page.data {
                if item.created() < since {
                    passed = true;
                    continue;
                }
                after = Some(item.id().to_owned());
                out.push(item);
            }
            if passed || !more {
                break;
            }
        }
        Ok(Some(out))
    }
}

/// What a list's items have: an id to page on, and when they were made.
trait Listed {
    fn id(&self) -> &str;
    fn created(&self) -> i64;
}

impl Listed for BalanceTransaction {
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
}

impl Listed for StripePayout {
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
}

/// A charge or refund with the PaymentIntent it belongs to; other types (payouts, fees,
/// transfers) are not payments of the hub's.
fn movement(t: BalanceTransaction) -> Option<Movement> {
    let kind = match t.kind.as_str() {
        "charge" | "payment" => MovementKind::Charge,
        "refund" | "payment_refund" => MovementKind::Refund,
        _ => return None,
    };
    let payment = t.source.get("payment_intent").and_then(|p| p.as_str()).map(str::to_owned);
    // The charge's or refund's own amount and currency — what the buyer paid, and what the hub
    // recorded — rather than the balance transaction's, which are in the account's settlement
    // currency (converted, for a charge in another currency).
    let (amount, currency) = match (
        t.source.get("amount").and_then(serde_json::Value::as_i64),
        t.source.get("currency").and_then(|c| c.as_str()),
    ) {
        (Some(amount), Some(currency)) => {
            (if kind == MovementKind::Refund { -amount } else { amount }, currency.to_owned())
        }
        _ => (t.amount, t.currency.clone()),
    };
    Some(Movement {
        id: t.id,
        kind,
        payment,
        amount_minor: amount,
        fee_minor: t.fee,
        currency: currency.to_ascii_uppercase(),
        created_ms: t.created * 1000,
        available_ms: t.available_on.unwrap_or(t.created) * 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_and_refunds_name_their_payment_intent_and_other_types_are_left_out() {
        let page: Page<BalanceTransaction> = serde_json::from_str(
            r#"{"object":"list","has_more":false,"data":[
              {"id":"txn_1","object":"balance_transaction","amount":9000,"fee":291,"net":8709,"currency":"eur",
               "created":1767225600,"available_on":1767398400,"type":"charge","reporting_category":"charge",
               "source":{"id":"ch_1","object":"charge","payment_intent":"pi_1","amount":9000}},
              {"id":"txn_2","object":"balance_transaction","amount":-4500,"fee":0,"currency":"eur",
               "created":1767312000,"available_on":1767312000,"type":"refund",
               "source":{"id":"re_1","object":"refund","payment_intent":"pi_1","charge":"ch_1"}},
              {"id":"txn_3","object":"balance_transaction","amount":-8709,"fee":0,"currency":"eur",
               "created":1767398400,"type":"payout","source":"po_1"}
            ]}"#,
        )
        .unwrap();
        let movements: Vec<Movement> = page.data.into_iter().filter_map(movement).collect();
        assert_eq!(movements.len(), 2);
        assert_eq!(
            (
                movements[0].kind,
                movements[0].payment.as_deref(),
                movements[0].fee_minor,
                movements[0].currency.as_str()
            ),
            (MovementKind::Charge, Some("pi_1"), 291, "EUR")
        );
        assert_eq!(movements[0].available_ms, 1_767_398_400_000);
        assert_eq!((movements[1].kind, movements[1].amount_minor), (MovementKind::Refund, -4500));
    }
}
