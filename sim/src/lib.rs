//! # Voelgoed fleet simulator
//!
//! Runs a fleet of simulated devices against a real hub and reports what a real event would
//! see. Every simulated device is the real thing minus the screen: its own SQLite replica
//! (durable, `synchronous=FULL`), its own Ed25519 device key, enrolled with a one-time code,
//! syncing over signed HTTP exactly as the apps do. Only people are simulated: who shows which
//! ticket at which gate, and when.
//!
//! | module | what it holds |
//! |---|---|
//! | [`hub`] | the hub under test: one at a URL, or hub processes the simulator starts (and kills) |
//! | [`api`] | the organizer's and the customer's side of the REST API |
//! | [`fleet`] | enrolling devices, syncing them, deciding when a fleet has converged |
//! | [`metrics`] | the metered sync transport, latency percentiles, the run's timeline |
//! | [`gates`] | the gate engine the scanning scenarios share: queues of presentations per device |
//! | [`scenarios`] | gate opening rush, partition storm, long offline, flash sale with door sales |
//! | [`chaos`] | hub SIGKILL, PostgreSQL restart, two hub instances, skewed device clocks, a rolling upgrade |
//! | [`bulk`] | a festival-size sale and its evening's check-ins made in minutes, the database's size |
//! | [`balancer`] | a load balancer in front of hub instances, draining one before it stops |
//! | [`report`] | the JSON summary and the SVG chart of a run |
//!
//! Every scenario ends in a [`report::Summary`]: measured figures plus *checks* (named
//! invariants such as "nothing oversold" or "every recorded scan is on the hub"). The command
//! exits non-zero when a check fails, and the tests in `tests/` run each scenario at a reduced
//! size and assert its checks.

pub mod api;
pub mod balancer;
pub mod bulk;
pub mod chaos;
pub mod fleet;
pub mod gates;
pub mod hub;
pub mod metrics;
pub mod report;
pub mod scenarios;
