//! Outgoing webhooks, as the Standard Webhooks specification has them (issue 23).
//!
//! Built so far — the parts every delivery will rest on, pure and tested:
//!
//! | module | what it holds |
//! |---|---|
//! | [`signature`] | `whsec_` secrets and the `webhook-signature` header (`v1,` HMAC-SHA256 over id, timestamp and body; both secrets while one rotates), checked against the specification's reference library |
//! | [`send`] | one signed delivery attempt (2xx in 15 s, no redirects, public addresses only, checked at connect) and the retry schedule (exponential with jitter, about a day) |
//! | [`target`] | where a webhook may go: public `https` addresses in production, refusing loopback, private, link-local and other special ranges (server-side request forgery); anything `http` when development allows it |
//!
//! Not yet: the endpoints and their API, the outbox written in each change's transaction, the
//! delivery worker that claims and retries, the console's log (see the issue and the closing
//! notes).

pub mod send;
pub mod signature;
pub mod target;
