//! Outgoing webhooks, as the Standard Webhooks specification has them (issue 23).
//!
//! ```text
//!  a change (checkout, payment, scan, lease, …) ──▶ emit: message + deliveries, same transaction
//!                                                      │ commit rings the webhook bell
//!  Deliverer (every instance) ◀─────────────────────────┘ (and polls every second)
//!    claim (conditional UPDATE) ──▶ Sender::attempt: signed POST ──▶ partner
//!    record: delivered │ due again after the backoff │ failed → endpoint disabled, owners told
//!  organizer ──▶ /api/v1/webhooks (webhook_api): endpoints, secret rotation, log, replay, test
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`events`] | the event types and each one's `data` (the partner's contract) |
//! | [`emit`] | writing events to the outbox in the change's own transaction |
//! | [`deliver`] | the worker: claims due deliveries, attempts them, records, retries, disables |
//! | [`send`] | one signed attempt (2xx in 15 s, no redirects, public addresses only, checked at connect) and the retry schedule (exponential with jitter, about a day) |
//! | [`signature`] | `whsec_` secrets and the `webhook-signature` header (`v1,` HMAC-SHA256 over id, timestamp and body; both secrets while one rotates), checked against the specification's reference library |
//! | [`target`] | where a webhook may go: public `https` addresses in production, refusing loopback, private, link-local and other special ranges (server-side request forgery); anything `http` when development allows it |
//! | [`store`] | the queries |
//!
//! **Invariants.**
//! 1. A message exists exactly when the change that caused it committed (same transaction).
//! 2. Each delivery is attempted by one instance at a time (the claim), until a partner
//!    answers 2xx or [`send::MAX_ATTEMPTS`] failed: at least once, never lost.
//! 3. An endpoint that asked for order gets its messages one at a time, oldest first: a later
//!    one is not attempted while an earlier one is pending.
//! 4. A message's body and `webhook-id` never change: a retry or replay is the same message
//!    (signed afresh with the time of the attempt), so a partner deduplicates by its id.

pub mod deliver;
pub mod emit;
pub mod events;
pub mod send;
pub mod signature;
pub mod store;
pub mod target;

pub use emit::{emit, emit_all, emit_to, wants};
pub use events::EventType;
