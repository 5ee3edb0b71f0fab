//! # Voelgoed cloud — the hub
//!
//! Where organizers run their events and every device converges: organizations and roles,
//! events and ticket types, online sales and payments, event keys, device enrollment,
//! box-office leases, the sync endpoint, reports, the REST API and the console.
//!
//! Each feature keeps its queries in one typed store (`store.rs`) and its answers in views the
//! REST API and the console share (`views.rs`); handlers extract, check the role, call and
//! answer. The modules stand in layers and call only down (`tests/layers.rs` checks it), lowest
//! first:
//!
//! | module | what it holds |
//! |---|---|
//! | [`clock`] | the hub's one source of time (wall, or settable in tests) |
//! | [`config`] | defaults → TOML file → `VOELGOED_*` environment; secrets from files, redacted |
//! | [`crypto`] | the master key: event and hub keys sealed at rest |
//! | [`codes`] | random tokens and codes, constant-time comparison |
//! | [`db`] | SQLite or PostgreSQL behind one storage layer; the `Tenant` and `System` transactions; the notifier |
//! | [`error`] | one error type, rendered as RFC 9457 problem details |
//! | [`checks`], [`json`], [`path`], [`query`] | field checks and extractors whose every refusal is a clear 4xx |
//! | [`pricing`] | what a buyer pays: vouchers' and automatic discounts' prices, a pure function |
//! | [`capacity`] | the sold / held / leased / reserved counters and serials checkout, leases and door sales share |
//! | [`identity`], [`limits`], [`mail`] | the hub's key; rate limits shared by instances; the outbox |
//! | [`tenancy`] | organizations, users (argon2id), roles, the audit log |
//! | [`payments`] | the provider trait, the simulated provider, webhook signatures, the ledger |
//! | [`webhooks`] | outgoing webhooks (Standard Webhooks): the outbox written in each change's transaction, the delivery worker, signatures, where they may go |
//! | [`journal`] | each organization's journal as the sync engine's store; documents; materialization |
//! | [`auth`], [`health`] | sessions, API tokens and device-signed requests; the health check |
//! | [`events`], [`members`], [`reports`], [`settings`], [`webhook_api`] | events and manifests; members and the audit log; reports and live figures; the organization; webhook endpoints, their log and replay |
//! | [`vouchers`] | vouchers (discount codes) and automatic discounts of an event |
//! | [`seating`] | seat plans, an event sold by seat, its seats and who holds them, the shop's seat map |
//! | [`devices`], [`guests`], [`sales`] | enrollment, the fleet, `/v1/sync`; guest lists; the shop, checkout, payment, refunds |
//! | [`leases`] | box-office leases |
//! | [`openapi`], [`console`], [`demo`], [`maintenance`] | the document; the console and shop; `serve --demo`; periodic work |
//! | [`server`], [`cli`] | the router and serving; `cloud serve`, `migrate`, `openapi`, `create-org` |
//! | [`state`] | what handlers share, built from the configuration in one place |

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
pub mod health;
pub mod identity;
pub mod journal;
pub mod json;
pub mod lang;
pub mod leases;
pub mod limits;
pub mod mail;
pub mod maintenance;
pub mod members;
pub mod message_api;
pub mod messages;
pub mod openapi;
pub mod path;
pub mod payments;
pub mod pricing;
pub mod printing;
pub mod query;
pub mod reports;
pub mod sales;
pub mod schedules;
pub mod seating;
pub mod server;
pub mod settings;
pub mod shared_reads;
pub mod state;
pub mod tenancy;
pub mod texts;
pub mod vouchers;
pub mod webhook_api;
pub mod webhooks;
