//! A small demo event — the "Voelgoed Demo Festival" — shared by the CLI demo, doc examples,
//! tests and benchmarks, so they all speak about the same gates and ticket types.
//!
//! Three ticket types cover the three entry policies, three gates cover the gate rules:
//!
//! | type | policy | gates |
//! |---|---|---|
//! | 1 Day ticket | single entry | any |
//! | 2 Weekend pass | exit and re-entry | any |
//! | 3 VIP | multi-entry | VIP entrance only |
//!
//! Gates: 1 Main entrance (both directions), 2 VIP entrance (both), 3 South exit (exit only).

use crate::ids::{DeviceId, EventId, GateId, KeyId, TicketTypeId, Timestamp};
use crate::keys::{EventKey, PublicEventKey};
use crate::manifest::{
    DEFAULT_CLOCK_SKEW_TOLERANCE_SECS, DeviceName, Direction, EntryPolicy, EventManifest, GateDirections,
    GateSpec, TicketTypeSpec,
};
use crate::validate::ScanContext;

/// The demo event's id.
pub const EVENT: EventId = EventId(2026);
/// Day ticket: single entry.
pub const DAY: TicketTypeId = TicketTypeId(1);
/// Weekend pass: exit and re-entry.
pub const WEEKEND: TicketTypeId = TicketTypeId(2);
/// VIP: multi-entry, VIP entrance only.
pub const VIP: TicketTypeId = TicketTypeId(3);
/// Main entrance.
pub const MAIN_GATE: GateId = GateId(1);
/// VIP entrance.
pub const VIP_GATE: GateId = GateId(2);
/// South exit (exit only).
pub const SOUTH_EXIT: GateId = GateId(3);
/// The demo scanner at the main entrance.
pub const MAIN_SCANNER: DeviceId = DeviceId(1);
/// 2026-06-06 12:00 UTC, a Saturday: the demo's "now".
pub const NOON: Timestamp = Timestamp::from_unix_seconds(1_780_747_200);

/// The demo event's manifest, trusting `keys`.
pub fn manifest(keys: Vec<PublicEventKey>) -> EventManifest {
    let gate = |id, name: &str, serves| GateSpec { id, name: name.into(), serves };
    let ticket_type = |id, name: &str, entry_policy, allowed_gates| TicketTypeSpec {
        id,
        name: name.into(),
        entry_policy,
        allowed_gates,
        price: None,
    };
    EventManifest {
        event: EVENT,
        name: "Voelgoed Demo Festival".into(),
        keys,
        ticket_types: vec![
            ticket_type(DAY, "Day ticket", EntryPolicy::SingleEntry, None),
            ticket_type(WEEKEND, "Weekend pass", EntryPolicy::ExitReentry, None),
            ticket_type(VIP, "VIP", EntryPolicy::MultiEntry, Some(vec![VIP_GATE])),
        ],
        gates: vec![
            gate(MAIN_GATE, "Main entrance", GateDirections::Both),
            gate(VIP_GATE, "VIP entrance", GateDirections::Both),
            gate(SOUTH_EXIT, "South exit", GateDirections::ExitOnly),
        ],
        devices: vec![
            DeviceName { id: MAIN_SCANNER, name: "Main 1".into(), public_key: None },
            DeviceName { id: DeviceId(2), name: "Main 2".into(), public_key: None },
        ],
        clock_skew_tolerance_secs: DEFAULT_CLOCK_SKEW_TOLERANCE_SECS,
    }
}

/// The demo manifest with a fixed, publicly known key (for tests and examples only: anyone
/// can sign with it), and an entry scan context at the main entrance at [`NOON`].
pub fn festival() -> (EventManifest, EventKey, ScanContext) {
    let key = EventKey::from_seed(EVENT, KeyId(1), [0x42; 32]);
    let ctx = ScanContext { device: MAIN_SCANNER, gate: MAIN_GATE, direction: Direction::Entry, now: NOON };
    (manifest(vec![key.public()]), key, ctx)
}
