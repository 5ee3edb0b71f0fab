//! # Voelgoed sync-core
//!
//! The engine every Voelgoed device shares — the gate scanner, the box office, and (later) the
//! hub itself. This crate decides at a gate, with no network, whether a ticket gets in.
//!
//! ## Layout
//!
//! Deciding at the gate (pure, no IO):
//!
//! | module | what it holds |
//! |---|---|
//! | [`ids`] | newtype ids (event, serial, ticket type, gate, device, key) and [`Timestamp`] |
//! | [`ticket`] | the signed ticket format v1: binary layout, `VG1:`+base45 text, signature checks |
//! | [`keys`] | event and device keys: generate, sign, delegate, save and load |
//! | [`manifest`] | what a gate knows about an event: keys, ticket types, entry policies, gates, devices |
//! | [`revocation`] | revoked serials (refunds, voids, lost devices) |
//! | [`admission`] | who was admitted, who is inside, double admissions |
//! | [`validate`] | the pure validator: `(manifest, revocations, state, context, text) → Verdict` |
//! | [`verdict`] | the verdict type and its stable codes |
//! | [`display`] | verdict → colour, title and one plain sentence, shared by every app |
//! | [`money`] | amounts in minor units with their ISO 4217 currency: exact parsing, formatting |
//! | [`pricing`] | what a buyer pays: vouchers and automatic discounts, shared by checkout and the box office |
//! | [`seating`] | seat plans (native and pretix's format), their rules, best available seats |
//!
//! Keeping it and converging:
//!
//! | module | what it holds |
//! |---|---|
//! | [`hlc`] | hybrid logical clocks with a drift bound |
//! | [`journal`] | per-origin append-only entries, version vectors, state derived from them |
//! | [`documents`] | automerge documents: guest lists, door-side settings |
//! | [`replica`] | the device's SQLite replica and the durable scan pipeline ([`replica::Gate`]) |
//! | [`remote`] | what the organizer sets on one device (its PIN): signed by the hub, sealed to the device |
//! | [`revoked`] | a revoked device: the hub's signed notice, the sealed export of what never reached the hub |
//! | [`sync`] | the sans-IO sync engine, its messages, signed HTTP transport, peer server, live push |
//! | [`demo`] | the demo festival shared by the CLI, tests and benchmarks |
//!
//! ## The gate in five lines
//!
//! ```
//! use sync_core::{admission::{AdmissionState, Stamp}, hlc::Hlc, validate::validate, revocation::RevocationSet};
//! # let (manifest, key, ctx) = sync_core::demo::festival();
//! let mut state = AdmissionState::new();
//! let stamp = Stamp { hlc: Hlc::from_time(ctx.now), origin: ctx.device }; // from the replica's clock
//! let text = key.issue(sync_core::ids::Serial(7), sync_core::demo::WEEKEND, None).to_text();
//! let verdict = validate(&manifest, &RevocationSet::new(), &state, &ctx, &text);
//! assert_eq!(verdict.code(), "admitted");
//! state.record(&verdict.scan(&ctx, stamp).unwrap()); // the gate journals durably first, then records
//! assert_eq!(validate(&manifest, &RevocationSet::new(), &state, &ctx, &text).code(), "already_inside");
//! ```
//!
//! Design rules: no IO and no clock reads in the logic (time is an argument); nothing decoded is
//! trusted before `verify_strict`; bad input returns a typed error with a plain message and
//! never panics; a verdict is shown only once its scan is durable; what replicas derive depends
//! only on the set of entries they hold, never on the order they arrived in.

pub mod admission;
pub mod demo;
pub mod display;
pub mod documents;
pub mod hlc;
pub mod ids;
pub mod journal;
pub mod keys;
pub mod manifest;
pub mod money;
pub mod pricing;
pub mod remote;
pub mod replica;
pub mod revocation;
pub mod revoked;
pub mod seating;
pub mod sync;
pub mod ticket;
pub mod validate;
pub mod verdict;

pub use ids::Timestamp;
