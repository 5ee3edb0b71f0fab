//! Payments: the provider adapter, the simulated provider, webhook signatures and the ledger.
//!
//! Money moves through a [`PaymentProvider`] (online) or is recorded by staff (cash, card
//! terminal, comp). Every movement is posted to the double-entry [`ledger`] in the transaction
//! that changes the order, so the books and the orders never disagree.
//!
//! Two providers: [`stripe`] (real money, configured with the account's keys) and
//! [`simulated`], the embedded default: a payment provider speaking real HTTP with HMAC-signed
//! webhooks, for development, demos and tests. It is labeled as simulated wherever a person can
//! see it, and moves no money.

pub mod ledger;
pub mod reconcile;
pub mod signature;
pub mod simulated;
pub mod stripe;
mod stripe_books;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// How an order (or part of one) was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Through the payment provider.
    Online,
    /// Cash at the box office.
    Cash,
    /// A card terminal at the box office.
    CardPresent,
    /// Free of charge (complimentary).
    Comp,
}

impl Method {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Cash => "cash",
            Self::CardPresent => "card_present",
            Self::Comp => "comp",
        }
    }
}

/// What the hub asks the provider to collect.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The hub's payment id (`pay_<id>`), echoed in webhooks.
    pub reference: String,
    /// Shown to the customer.
    pub description: String,
    /// Where the provider sends events.
    pub webhook_url: String,
    /// Where the customer returns after paying.
    pub return_url: String,
    /// The hub's own payment page for this payment, where a provider whose card form runs in
    /// the hub's page (Stripe Elements) takes the card.
    #[serde(default)]
    pub payment_page_url: String,
}

/// A payment created at the provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderPayment {
    /// The provider's id.
    pub id: String,
    /// Where the customer pays.
    pub checkout_url: String,
    /// What the payment page confirms the payment with, for a provider whose card form runs
    /// in the hub's page (a Stripe PaymentIntent's client secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A payment the provider collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    /// In minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// What the hub's payment page needs to run a provider's card form.
#[derive(Clone, Debug)]
pub struct CardForm {
    /// The publishable key (public by design).
    pub publishable_key: String,
    /// Where the provider's script is loaded from.
    pub script_url: String,
}

/// What a webhook says happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// The customer paid.
    PaymentSucceeded,
    /// The payment failed or was abandoned.
    PaymentFailed,
    /// The provider refunded (some of) a payment — perhaps from its own dashboard:
    /// `amount_minor` is everything refunded of it so far, `payment` the provider's payment.
    Refunded,
    /// The buyer's bank disputed a payment (a chargeback): `amount_minor` is what it holds
    /// back, `reason` the provider's word for why.
    Disputed,
    /// Verified, but nothing the hub acts on (acknowledged, so the provider stops sending it).
    Ignored,
}

/// A verified webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    /// The provider's event id (unique: replays are recognised by it).
    pub id: String,
    /// What happened.
    pub kind: WebhookKind,
    /// The provider's payment id.
    pub payment: String,
    /// The hub's reference given at creation.
    #[schema(pattern = "^pay_[0-9]{1,18}$")]
    pub reference: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// What the provider says of a dispute: its id and its reason (`fraudulent`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeNote>,
}

/// A dispute, as the provider names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisputeNote {
    /// The provider's dispute id.
    #[schema(min_length = 1, max_length = 255)]
    pub id: String,
    /// Its reason, in the provider's words.
    #[schema(max_length = 255)]
    pub reason: String,
}

/// A provider failure, shown to people as "try again".
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Unreachable or answering 5xx.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// Refused the request (4xx).
    #[error("the payment provider refused: {0}")]
    Refused(String),
}

/// A payment service provider, as the hub uses one.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Short name, used in ledger accounts (`psp:<name>`).
    fn name(&self) -> &'static str;
    /// The request header its webhooks are signed in.
    fn signature_header(&self) -> &'static str {
        signature::HEADER
    }
    /// What the provider collected for `payment`, if it succeeded: how the hub learns of a
    /// payment whose webhook it missed (down when it came, or the provider gave up). `None`
    /// when it has not succeeded, or the provider cannot be asked (its webhooks retry).
    async fn collected(&self, _payment: &str) -> Result<Option<Collected>, ProviderError> {
        Ok(None)
    }
    /// For a provider whose card form runs in the hub's own payment page (Stripe Elements):
    /// what the page loads. `None` for a hosted checkout page elsewhere.
    fn card_form(&self) -> Option<CardForm> {
        None
    }
    /// What the provider moved since `since_ms` (charges, refunds, payouts), for
    /// reconciliation. `None` for a provider that moves no money or cannot be asked.
    async fn books(&self, _since_ms: i64) -> Result<Option<reconcile::Books>, ProviderError> {
        Ok(None)
    }
    /// Starts collecting a payment.
    async fn create_payment(&self, request: &PaymentRequest) -> Result<ProviderPayment, ProviderError>;
    /// Refunds `amount_minor` of a payment; `idempotency_key` makes a retry safe. Returns the
    /// provider's refund id.
    async fn refund(
        &self,
        payment: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<String, ProviderError>;
    /// Verifies and parses a webhook (signature, timestamp within tolerance of `now`).
    fn parse_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<WebhookEvent, signature::SignatureError>;
}
