//! Reconciliation: does the hub's ledger hold what the payment provider moved? A pure
//! function of the two sides — what the provider reports (its balance transactions and
//! payouts, [`Books`]) and what the hub recorded (its online payments with their refunds,
//! [`HubPayment`]) — so every rule is tested without a provider or a database.
//!
//! The checks, in this order (each payment is judged by the first that applies):
//!
//! 1. a charge at the provider for a payment the hub has not settled (pending, failed — its
//!    webhook lost and not yet recovered) is **charged, not seen** by the hub;
//! 2. a charge for another amount or currency than the hub's payment is an **amount** difference;
//! 3. a payment the hub holds as paid that the provider never charged (within the window the
//!    provider was asked about) is **paid without charge**;
//! 4. what the provider refunded of a payment and what the hub refunded of it (confirmed by the
//!    provider) differing is a **refund** difference.
//!
//! Periods are the provider's payouts: a period ends with a payout and holds the movements that
//! became available before it (Stripe's automatic payouts sweep the available balance; the
//! exact set is also listed per payout by Stripe's `?payout=` filter, which emulators lack).

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// What a balance transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Money in: a payment collected.
    Charge,
    /// Money out: a refund.
    Refund,
}

/// One of the provider's balance transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// The provider's id (`txn_…`).
    pub id: String,
    /// Charge or refund.
    pub kind: MovementKind,
    /// The provider's payment it belongs to (a PaymentIntent), if it names one.
    pub payment: Option<String>,
    /// Signed, as the provider books it: a charge positive, a refund negative.
    pub amount_minor: i64,
    /// The provider's fee on it.
    pub fee_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// When it was made (Unix ms).
    pub created_ms: i64,
    /// When its money became available for a payout (Unix ms).
    pub available_ms: i64,
}

/// A payout to the organizer's bank account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Payout {
    /// The provider's id (`po_…`).
    pub id: String,
    /// How much.
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// When it was made (Unix ms).
    pub created_ms: i64,
}

/// The provider's side, since some time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Books {
    /// Charges and refunds.
    pub movements: Vec<Movement>,
    /// Payouts.
    pub payouts: Vec<Payout>,
}

/// An online payment as the hub recorded it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HubPayment {
    /// The hub's payment id.
    pub id: i64,
    /// Its order's code.
    pub order_code: String,
    /// The provider's payment id.
    pub provider_ref: String,
    /// `succeeded`, `pending`, `failed` …
    pub status: String,
    /// What it is for.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// What the hub refunded of it, confirmed by the provider.
    pub refunded_minor: i64,
    /// When it was created (Unix ms).
    pub created_at: i64,
}

/// What kind of difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The provider charged; the hub has not settled the payment.
    ChargedNotSeen,
    /// The provider charged another amount or currency.
    Amount,
    /// The hub holds the payment as paid; the provider has no charge for it.
    PaidWithoutCharge,
    /// The provider and the hub refunded different amounts.
    Refund,
}

/// One difference, for a person to look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// The order's code ("" if the hub has no payment for it).
    pub order: String,
    /// The provider's payment id.
    pub provider_payment: String,
    /// What the provider has (charged, or refunded), in minor units.
    pub provider_minor: i64,
    /// What the hub has, in minor units.
    pub hub_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// In words.
    pub explanation: String,
}

/// One payout period, in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Period {
    /// The payout that ends it; none for the period still open.
    pub payout: Option<Payout>,
    /// ISO 4217 code.
    pub currency: String,
    /// Charges at the provider.
    pub charged_minor: i64,
    /// Refunds at the provider (positive).
    pub refunded_minor: i64,
    /// The provider's fees.
    pub fees_minor: i64,
    /// What it pays out for them: charged − refunded − fees.
    pub net_minor: i64,
    /// Of the charges, what the hub's ledger holds as paid.
    pub ledger_paid_minor: i64,
    /// Of the refunds, what the hub's ledger holds as refunded through the provider.
    pub ledger_refunded_minor: i64,
}

/// The reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Report {
    /// Payout periods, oldest first; the open one last.
    pub periods: Vec<Period>,
    /// Every difference found.
    pub differences: Vec<Difference>,
    /// Balance transactions of payments that are not this organization's (another one's, on
    /// a shared account): counted, never shown.
    pub others: usize,
}

/// Reconciles `books` (the provider's, since `window_start_ms`) with the hub's `payments`:
/// this organization's online payments made since then, and any older one the books name.
/// A movement of a payment not among them (another organization's on a shared account, or
/// one the hub has no record of) is counted in `others`, never shown.
pub fn reconcile(books: &Books, payments: &[HubPayment], window_start_ms: i64) -> Report {
    let by_ref: HashMap<&str, &HubPayment> = payments.iter().map(|p| (p.provider_ref.as_str(), p)).collect();
    // The provider's charges and refunds per payment.
    let mut charged: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
    let mut refunded: BTreeMap<&str, i64> = BTreeMap::new();
    let mut others = 0;
    for m in &books.movements {
        let Some(payment) = m.payment.as_deref() else {
            others += 1;
            continue;
        };
        if !by_ref.contains_key(payment) {
            others += 1;
            continue;
        }
        match m.kind {
            MovementKind::Charge => {
                let entry = charged.entry(payment).or_insert((0, m.currency.as_str()));
                entry.0 += m.amount_minor;
            }
            MovementKind::Refund => *refunded.entry(payment).or_default() -= m.amount_minor,
        }
    }
    let mut differences = Vec::new();
    for (payment, (amount, currency)) in &charged {
        let hub = by_ref[payment];
        if hub.status != "succeeded" {
            differences.push(Difference {
                kind: DifferenceKind::ChargedNotSeen,
                order: hub.order_code.clone(),
                provider_payment: (*payment).to_owned(),
                provider_minor: *amount,
                hub_minor: 0,
                currency: (*currency).to_owned(),
                explanation: format!(
                    "The provider charged for order {}, which the hub still has as {}: the periodic check settles it, or look at the order.",
                    hub.order_code, hub.status
                ),
            });
        } else if *amount != hub.amount_minor || !currency.eq_ignore_ascii_case(&hub.currency) {
            differences.push(Difference {
                kind: DifferenceKind::Amount,
                order: hub.order_code.clone(),
                provider_payment: (*payment).to_owned(),
                provider_minor: *amount,
                hub_minor: hub.amount_minor,
                currency: (*currency).to_owned(),
                explanation: format!(
                    "The provider charged another amount than order {} cost.",
                    hub.order_code
                ),
            });
        }
    }
    for hub in payments {
        let inside = hub.created_at >= window_start_ms;
        if hub.status == "succeeded" && inside && !charged.contains_key(hub.provider_ref.as_str()) {
            differences.push(Difference {
                kind: DifferenceKind::PaidWithoutCharge,
                order: hub.order_code.clone(),
                provider_payment: hub.provider_ref.clone(),
                provider_minor: 0,
                hub_minor: hub.amount_minor,
                currency: hub.currency.clone(),
                explanation: format!(
                    "Order {} is paid in the hub, but the provider has no charge for it.",
                    hub.order_code
                ),
            });
        }
        let at_provider = refunded.get(hub.provider_ref.as_str()).copied().unwrap_or(0);
        let charged_here = charged.contains_key(hub.provider_ref.as_str());
        if charged_here && at_provider != hub.refunded_minor {
            differences.push(Difference {
                kind: DifferenceKind::Refund,
                order: hub.order_code.clone(),
                provider_payment: hub.provider_ref.clone(),
                provider_minor: at_provider,
                hub_minor: hub.refunded_minor,
                currency: hub.currency.clone(),
                explanation: format!(
                    "The provider refunded another amount of order {} than the hub did.",
                    hub.order_code
                ),
            });
        }
    }
    Report { periods: periods(books, &by_ref), differences, others }
}

/// The payout periods: each payout ends one (per currency); a movement falls in the first
/// payout after its money became available, or in the open period.
fn periods(books: &Books, by_ref: &HashMap<&str, &HubPayment>) -> Vec<Period> {
    let mut payouts: Vec<&Payout> = books.payouts.iter().collect();
    payouts.sort_by_key(|p| (p.created_ms, p.id.clone()));
    let mut out: Vec<Period> =
        payouts.iter().map(|p| Period { payout: Some((*p).clone()), ..empty(&p.currency) }).collect();
    let mut open: BTreeMap<String, Period> = BTreeMap::new();
    for m in &books.movements {
        let Some(hub) = m.payment.as_deref().and_then(|p| by_ref.get(p)) else { continue };
        let slot = payouts
            .iter()
            .position(|p| p.currency.eq_ignore_ascii_case(&m.currency) && m.available_ms <= p.created_ms);
        let period = match slot {
            Some(i) => &mut out[i],
            None => open.entry(m.currency.clone()).or_insert_with(|| empty(&m.currency)),
        };
        match m.kind {
            MovementKind::Charge => {
                period.charged_minor += m.amount_minor;
                if hub.status == "succeeded" {
                    period.ledger_paid_minor += hub.amount_minor.min(m.amount_minor);
                }
            }
            MovementKind::Refund => {
                period.refunded_minor -= m.amount_minor;
                period.ledger_refunded_minor += hub.refunded_minor.min(-m.amount_minor);
            }
        }
        period.fees_minor += m.fee_minor;
        period.net_minor = period.charged_minor - period.refunded_minor - period.fees_minor;
    }
    out.extend(open.into_values());
    out
}

fn empty(currency: &str) -> Period {
    Period {
        payout: None,
        currency: currency.to_owned(),
        charged_minor: 0,
        refunded_minor: 0,
        fees_minor: 0,
        net_minor: 0,
        ledger_paid_minor: 0,
        ledger_refunded_minor: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(payment: &str, amount: i64, at: i64) -> Movement {
        Movement {
            id: format!("txn_{payment}_{at}"),
            kind: MovementKind::Charge,
            payment: Some(payment.into()),
            amount_minor: amount,
            fee_minor: 0,
            currency: "EUR".into(),
            created_ms: at,
            available_ms: at,
        }
    }

    fn refund(payment: &str, amount: i64, at: i64) -> Movement {
        Movement { kind: MovementKind::Refund, amount_minor: -amount, ..charge(payment, 0, at) }
    }

    fn paid(id: i64, provider_ref: &str, amount: i64, refunded: i64) -> HubPayment {
        HubPayment {
            id,
            order_code: format!("ORDER{id}"),
            provider_ref: provider_ref.into(),
            status: "succeeded".into(),
            amount_minor: amount,
            currency: "EUR".into(),
            refunded_minor: refunded,
            created_at: 100,
        }
    }

    #[test]
    fn books_that_agree_have_no_differences_and_periods_end_at_payouts() {
        let books = Books {
            movements: vec![
                charge("pi_1", 9000, 100),
                charge("pi_2", 4500, 200),
                refund("pi_1", 4500, 300),
                Movement { fee_minor: 150, ..charge("pi_3", 2000, 500) },
            ],
            payouts: vec![Payout {
                id: "po_1".into(),
                amount_minor: 9000,
                currency: "EUR".into(),
                created_ms: 400,
            }],
        };
        let hub = [paid(1, "pi_1", 9000, 4500), paid(2, "pi_2", 4500, 0), paid(3, "pi_3", 2000, 0)];
        let report = reconcile(&books, &hub, 0);
        assert_eq!(report.differences, []);
        assert_eq!(report.periods.len(), 2);
        let (closed, open) = (&report.periods[0], &report.periods[1]);
        assert_eq!(closed.payout.as_ref().map(|p| p.id.as_str()), Some("po_1"));
        assert_eq!((closed.charged_minor, closed.refunded_minor, closed.net_minor), (13_500, 4500, 9000));
        assert_eq!((closed.ledger_paid_minor, closed.ledger_refunded_minor), (13_500, 4500));
        assert_eq!(
            (open.payout.clone(), open.charged_minor, open.fees_minor, open.net_minor),
            (None, 2000, 150, 1850)
        );
    }

    #[test]
    fn every_kind_of_difference_is_listed_once() {
        let books = Books {
            movements: vec![
                charge("pi_unseen", 4500, 100),
                charge("pi_more", 9900, 100),
                charge("pi_refund", 4500, 100),
                refund("pi_refund", 4500, 200),
                charge("pi_someone_elses", 100, 100),
            ],
            payouts: vec![],
        };
        let mut unseen = paid(1, "pi_unseen", 4500, 0);
        unseen.status = "pending".into();
        let hub = [
            unseen,
            paid(2, "pi_more", 9000, 0),
            paid(3, "pi_refund", 4500, 0),
            paid(4, "pi_never", 4500, 0),
        ];
        let report = reconcile(&books, &hub, 0);
        let kinds: Vec<_> = report.differences.iter().map(|d| (d.kind, d.order.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (DifferenceKind::Amount, "ORDER2"),
                (DifferenceKind::ChargedNotSeen, "ORDER1"),
                (DifferenceKind::Refund, "ORDER3"),
                (DifferenceKind::PaidWithoutCharge, "ORDER4"),
            ]
        );
        assert_eq!(report.others, 1, "another organization's charge is counted, not shown");
    }

    #[test]
    fn a_payment_made_before_the_window_is_not_missing_its_charge() {
        let mut old = paid(1, "pi_old", 4500, 0);
        old.created_at = 10;
        let report = reconcile(&Books::default(), &[old], 50);
        assert_eq!(report.differences, []);
    }
}
