//! Online sales: checkout with holds, payment, tickets, expiry, refunds.
//!
//! ```text
//!  POST …/events/{id}/orders ──▶ checkout: validate ──▶ batch (per event) ──▶ pending + hold
//!  POST …/orders/{code}/{secret}/payments ──▶ provider checkout page ──▶ webhook ──▶ paid
//!                                                               └─▶ serials, signed tickets
//!  hold lapses unpaid ──▶ expired (capacity back)    refund ──▶ revoked tickets ──▶ devices
//! ```
//!
//! **Zero oversell.** Capacity is taken only by a conditional
//! `UPDATE ticket_types SET held = held + n WHERE sold + held + leased + n <= capacity` inside
//! the transaction that creates the order (brief §7), and the table's CHECK constraint says the
//! same again. `held` counts unexpired holds, `leased` the rights given to box offices, so
//! online sales and door sales draw on one pool.
//!
//! **Throughput.** That row is the hot spot: every checkout for a ticket type updates it, and
//! each holds its lock until commit. So orders are not placed one transaction each: a worker
//! per event takes whatever checkouts have queued while the previous transaction committed
//! and places them all in one (group commit). Under load, one commit and one capacity UPDATE
//! serve dozens of orders; idle, a checkout waits for nobody. Each order in a batch is still
//! all-or-nothing, and gets exactly the answer it would have got alone in arrival order.
//! Settling payments is batched the same way, per organization ([`settlers`]): the provider's
//! webhooks queue, a few workers each settle what has queued in one transaction, locking the
//! event's shared rows only for the last statements of it ([`issue`]).

pub mod buyer_mail;
pub mod checkout;
mod delivery;
pub mod disputes;
pub mod fulfil;
pub mod issue;
mod provider_webhook;
pub mod reconcile;
pub mod redeem;
pub mod refunds;
pub mod reseat;
pub mod resend;
pub mod routes;
pub mod settlers;
pub mod store;
pub mod tiers;
pub mod views;

pub use buyer_mail::Reason as MailReason;
pub use provider_webhook::PATH as WEBHOOK_PATH;
pub use routes::{
    ORDER_READERS, ORDER_WRITERS, by_code_and_secret, order_view, shop_event, shop_org, staff_order_by_code,
};
pub use views::{
    Channel, CheckinView, LineView, OrderStatus, OrderSummary, OrderView, PaymentView, RefundView, ShopEvent,
    ShopPart, ShopTicketType, StaffOrderView, TicketView,
};

/// Every sales route: the shop, checkout, orders, refunds, ticket delivery, the payment
/// provider's webhook.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    routes::routes()
        .merge(delivery::routes())
        .merge(provider_webhook::routes())
        .merge(resend::routes())
        .merge(reseat::routes())
        .merge(reconcile::routes())
}

use crate::payments::PaymentProvider;
use crate::state::PublicUrl;
use std::sync::Arc;
use std::time::Duration;

/// How sales behave.
#[derive(Clone, Debug)]
pub struct SalesOptions {
    /// How long a checkout holds its tickets unpaid.
    pub hold: Duration,
    /// Checkouts allowed per client address per minute (burst of the same size).
    pub checkouts_per_minute: u32,
    /// Most orders placed in one transaction, and most payments settled in one (1 = no
    /// batching; the benchmark compares).
    pub max_batch: usize,
    /// Settling transactions in flight per organization ([`settlers`]).
    pub settle_workers: usize,
    /// How long a payment stays pending before the periodic work asks the provider about it.
    pub missed_payment_after: Duration,
}

impl Default for SalesOptions {
    fn default() -> Self {
        Self {
            hold: Duration::from_secs(15 * 60),
            checkouts_per_minute: 120,
            max_batch: 128,
            settle_workers: 4,
            missed_payment_after: Duration::from_secs(60),
        }
    }
}

/// Sales state shared by the handlers of one hub instance.
#[derive(Clone)]
pub struct Sales {
    /// The options.
    pub options: SalesOptions,
    /// The payment provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// Per-event order batchers.
    pub batchers: checkout::Batchers,
    /// Per-organization payment settlers.
    pub settlers: settlers::Settlers,
    /// Events on sale, briefly cached.
    pub events: checkout::EventCache,
    /// Vouchers, briefly cached.
    pub vouchers: checkout::VoucherCache,
    /// Checkout attempts per client address.
    pub limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Where buyers reach the hub: the links in their e-mails.
    pub public_url: PublicUrl,
    /// Unknown voucher codes per client address (the brake on guessing codes).
    pub attempts: Arc<crate::vouchers::attempts::Attempts>,
}

impl Sales {
    /// Sales with `options`, paying through `provider`, reached at `public_url`. (The buyer's
    /// e-mails leave through the instance's mail worker, rung by the commits that queue them.)
    pub fn new(options: SalesOptions, provider: Arc<dyn PaymentProvider>, public_url: PublicUrl) -> Self {
        let per_minute =
            std::num::NonZeroU32::new(options.checkouts_per_minute).unwrap_or(std::num::NonZeroU32::MIN);
        let limiter = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute)));
        Self {
            batchers: checkout::Batchers::new(options.max_batch),
            settlers: settlers::Settlers::new(options.max_batch, options.settle_workers),
            options,
            provider,
            events: checkout::EventCache::default(),
            vouchers: checkout::VoucherCache::default(),
            limiter,
            public_url,
            attempts: Arc::default(),
        }
    }
}
