//! # Voelgoed cloud — the hub
//!
//! Where organizers run their events and every device converges: organizations and roles,
//! events and ticket types, online sales and payments, event keys, device enrollment,
//! box-office leases, the sync endpoint, reports, the REST API and the console.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | defaults → TOML file → `VOELGOED_*` environment; secrets from files, redacted |
//! | [`crypto`] | the master key: event and hub keys sealed at rest |
//! | [`db`] | SQLite (embedded default) or PostgreSQL, one storage layer, migrations per backend |
//! | [`tenancy`] | organizations, users (argon2id), roles, the audit log |
//! | [`auth`] | sessions (cookie + CSRF), API tokens, login rate limiting, the caller's role |
//! | [`events`] | events, gates, ticket types, signing keys, manifests |
//! | [`sales`] | checkout with holds (batched, zero oversell), tickets, expiry, refunds |
//! | [`reports`] | sales, revenue, check-ins, inside count, double admissions, devices; JSON or CSV |
//! | [`payments`] | the provider trait, the simulated provider, webhook signatures, the ledger |
//! | [`leases`] | box-office leases (delegated serial ranges); door sales, voids, returns materialized |
//! | [`guests`] | guest lists: the organizer's edits to the door's automerge document |
//! | [`devices`] | enrollment, the fleet, the hub's sync endpoint |
//! | [`journal`] | each organization's journal as the sync engine's store; materialization |
//! | [`identity`] | the hub's own key |
//! | [`error`] | one error type, rendered as RFC 9457 problem details |
//! | [`json`] | JSON bodies whose every failure is a clear 4xx |
//! | [`path`] | path parameters whose failure to parse is a problem-details 404 |
//! | [`openapi`] | the OpenAPI document, from the routes themselves |
//! | [`console`] | the organizer console (server-rendered pages; forms go through the API) and the public shop |
//! | [`server`] | the router, graceful shutdown |
//! | [`maintenance`] | the periodic work of every instance: lapsed holds, refunds, sessions |
//! | [`cli`] | `cloud serve`, `cloud migrate`, `cloud create-org` |
//! | [`demo`] | `serve --demo` |

pub mod auth;
pub mod capacity;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod devices;
pub mod error;
pub mod events;
pub mod guests;
pub mod identity;
pub mod journal;
pub mod json;
pub mod leases;
pub mod limits;
pub mod mail;
pub mod maintenance;
pub mod members;
pub mod openapi;
pub mod path;
pub mod payments;
pub mod query;
pub mod reports;
pub mod sales;
pub mod server;
pub mod state;
pub mod tenancy;
