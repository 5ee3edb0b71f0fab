//! Journals: per-origin append-only logs of facts, and the state derived from them.
//!
//! Scans, door sales, voids, revocations, lease grants and returns are facts, each written by
//! exactly one origin (a device or the hub). Each origin appends to its own log — `(origin,
//! seq)` names an entry, a hybrid logical clock orders entries across origins — so two replicas
//! never write the same entry and merging is a union: a grow-only set with in-order delivery per
//! origin. Replicas exchange [`VersionVector`]s and ship only the entries the other lacks.
//!
//! Derived state ([`EventState`]: admissions, who is inside, double admissions, revocations,
//! sold counts per lease) is a deterministic function of the merged entries.
//!
//! - `entry`: the entry and its payloads;
//! - `version_vector`: what a replica holds;
//! - `event_state`: the derived state;
//! - `shift`: cashier shifts and their closing report, computed from the journal.

mod entry;
mod event_state;
pub mod shift;
mod version_vector;

pub use entry::{
    DoorPrice, DoorSale, DoorSeats, Entry, HUB, LeaseGrant, LeaseId, LeaseReturn, LeaseSeats, Payload,
    PaymentMethod, RevocationEntry, ScanEntry, ScannedTicket, Void, VoucherGrant, VoucherReturn,
};
pub use event_state::{EventState, LeaseState, Shifts, VoucherLeaseState};
pub use version_vector::{Fit, VersionVector};
