//! Property tests of the ticket format and the validator.
//!
//! - encode → decode gives back the same ticket, and decoding is canonical;
//! - arbitrary input never panics, and over-long input is refused before decoding (the
//!   stable-toolchain companion of the cargo-fuzz target in `fuzz/`);
//! - keys of other events and delegations outside their range never admit;
//! - a random scan sequence over all three entry policies gives the verdicts a simple model
//!   predicts.

mod common;

use common::{Gate, unix};
use proptest::prelude::*;
use std::collections::HashMap;
use sync_core::demo;
use sync_core::ids::{EventId, GateId, KeyId, SeatNumber, Serial, TicketTypeId};
use sync_core::keys::{DeviceKey, EventKey};
use sync_core::manifest::Direction;
use sync_core::ticket::{
    DecodeError, DelegationGrant, MAX_DELEGATION_TYPES, MAX_INPUT_LEN, SignedTicket, Ticket, ValidityWindow,
    encode_text,
};
use sync_core::verdict::Verdict;

fn arb_window() -> impl Strategy<Value = Option<ValidityWindow>> {
    proptest::option::of(
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| ValidityWindow::new(a.min(b), a.max(b)).unwrap()),
    )
}

fn arb_grant(device: [u8; 32]) -> impl Strategy<Value = DelegationGrant> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(any::<u16>(), 1..=MAX_DELEGATION_TYPES),
    )
        .prop_map(move |(a, b, expires, types)| DelegationGrant {
            device_key: device,
            first_serial: Serial(a.min(b)),
            last_serial: Serial(a.max(b)),
            expires,
            ticket_types: types.into_iter().map(TicketTypeId).collect(),
        })
}

/// Signs arbitrary claims, hub-issued or delegated.
fn arb_signed() -> impl Strategy<Value = SignedTicket> {
    let device = DeviceKey::from_seed([5; 32]);
    let public = device.public_key();
    (
        any::<u32>(),
        any::<u8>(),
        any::<[u8; 32]>(),
        arb_window(),
        proptest::option::of(arb_grant(public)),
        any::<u32>(),
        any::<u16>(),
        proptest::option::of(any::<u16>().prop_map(SeatNumber)),
    )
        .prop_map(move |(event, key_id, seed, validity, grant, serial, ticket_type, seat)| {
            let key = EventKey::from_seed(EventId(event), KeyId(key_id), seed);
            match grant {
                None => key.issue_seat(Serial(serial), TicketTypeId(ticket_type), validity, seat),
                Some(grant) => {
                    // Pick a serial and type the delegation covers, so the device agrees to sign.
                    let span = u64::from(grant.last_serial.0 - grant.first_serial.0) + 1;
                    let serial =
                        Serial(grant.first_serial.0 + u32::try_from(u64::from(serial) % span).unwrap());
                    let ticket_type = grant.ticket_types[usize::from(ticket_type) % grant.ticket_types.len()];
                    let delegation = key.delegate(grant).unwrap();
                    DeviceKey::from_seed([5; 32])
                        .issue_seat(&delegation, serial, ticket_type, validity, seat, sync_core::Timestamp(0))
                        .unwrap()
                }
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_round_trips(signed in arb_signed()) {
        let text = signed.to_text();
        prop_assert!(text.len() <= 310);
        let decoded = SignedTicket::from_text(&text).unwrap();
        prop_assert_eq!(&decoded, &signed);
        prop_assert_eq!(decoded.to_text(), text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let result = SignedTicket::from_text_bytes(&bytes);
        if bytes.len() > MAX_INPUT_LEN {
            prop_assert_eq!(result, Err(DecodeError::TooLong { len: bytes.len() }));
        } else if let Ok(t) = result {
            // Whatever decodes re-encodes to the same bytes: there is one encoding per ticket.
            prop_assert_eq!(SignedTicket::from_bytes(t.bytes().to_vec()).unwrap(), t);
        }
        // The binary decoder on its own, past the text layer.
        if let Ok(t) = SignedTicket::from_bytes(bytes.clone()) {
            prop_assert_eq!(t.bytes(), &bytes[..]);
        }
    }

    #[test]
    fn ticket_shaped_bytes_never_panic(
        flags in 0u8..8,
        body in proptest::collection::vec(any::<u8>(), 0..260),
    ) {
        // A valid version byte and flags, then anything: reaches every field of the decoder.
        let mut bytes = vec![1, flags];
        bytes.extend(body);
        let gate = Gate::new();
        prop_assert!(!gate.check(&encode_text(&bytes)).passes());
    }

    #[test]
    fn arbitrary_text_after_the_prefix_never_panics_nor_passes(body in "[0-9A-Z $%*+./:-]{0,320}") {
        let gate = Gate::new();
        let verdict = gate.check(&format!("VG1:{body}"));
        prop_assert!(!verdict.passes(), "{verdict:?}");
    }

    #[test]
    fn random_corruption_of_a_valid_ticket_never_passes(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let gate = Gate::new();
        let ticket = gate.key.issue(Serial(77), demo::WEEKEND, None);
        let mut bytes = ticket.bytes().to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        prop_assume!(bytes != ticket.bytes());
        prop_assert!(!gate.check(&encode_text(&bytes)).passes());
    }

    #[test]
    fn a_key_of_another_event_never_admits(seed in any::<[u8; 32]>(), serial in any::<u32>(), other in any::<u32>()) {
        let gate = Gate::new();
        prop_assume!(other != demo::EVENT.0 && seed != [0x42; 32]);
        // Signed by a foreign key that claims this event and its key id: the signature fails.
        let forged = EventKey::from_seed(demo::EVENT, KeyId(1), seed).issue(Serial(serial), demo::DAY, None);
        prop_assert_eq!(gate.check(&forged.to_text()), Verdict::BadSignature);
        // A genuine ticket of the other event: named as such.
        let foreign = EventKey::from_seed(EventId(other), KeyId(1), seed).issue(Serial(serial), demo::DAY, None);
        prop_assert_eq!(gate.check(&foreign.to_text()), Verdict::WrongEvent { event: EventId(other) });
    }

    #[test]
    fn delegations_admit_exactly_their_range(first in 0u32..1_000_000, len in 1u32..1000, probe in 0u32..1_002_000) {
        let gate = Gate::new();
        let device = DeviceKey::from_seed([8; 32]);
        let last = first + len - 1;
        let grant = DelegationGrant {
            device_key: device.public_key(),
            first_serial: Serial(first),
            last_serial: Serial(last),
            expires: unix(demo::NOON) + 3600,
            ticket_types: vec![demo::DAY],
        };
        let delegation = gate.key.delegate(grant).unwrap();
        // Sign with the device's raw key so the device-side range check cannot interfere.
        let ticket = Ticket {
            event: demo::EVENT,
            key_id: KeyId(1),
            serial: Serial(probe),
            ticket_type: demo::DAY,
            validity: None,
            seat: None,
            delegation: Some(delegation.delegation.clone()),
        };
        let signed = SignedTicket::sign_with(ticket, |m| {
            use ed25519_dalek::Signer;
            ed25519_dalek::SigningKey::from_bytes(&[8; 32]).sign(m).to_bytes()
        });
        let verdict = gate.check(&signed.to_text());
        if (first..=last).contains(&probe) {
            prop_assert_eq!(verdict.code(), "admitted");
        } else {
            prop_assert_eq!(verdict.code(), "delegation_invalid");
        }
    }

    #[test]
    fn scan_sequences_follow_the_entry_policies(
        steps in proptest::collection::vec((0u32..4, 0usize..3, any::<bool>(), 0usize..3), 1..80),
    ) {
        let mut gate = Gate::new();
        let types = [demo::DAY, demo::WEEKEND, demo::VIP];
        let gates = [demo::MAIN_GATE, demo::VIP_GATE, demo::SOUTH_EXIT];
        let mut model = Model::default();
        for (serial, type_index, entry, gate_index) in steps {
            let ticket_type = types[type_index];
            // Serial numbers are per type here, so one serial keeps one type.
            let serial = serial + 100 * u32::from(ticket_type.0);
            gate.ctx.gate = gates[gate_index];
            gate.ctx.direction = if entry { Direction::Entry } else { Direction::Exit };
            gate.ctx.now = gate.ctx.now.plus_seconds(30);
            let expected = model.step(serial, ticket_type, gate.ctx.gate, gate.ctx.direction);
            let verdict = gate.scan(&gate.ticket(serial, ticket_type));
            prop_assert_eq!(verdict.code(), expected);
        }
        prop_assert_eq!(gate.state.inside_count(), model.inside.values().filter(|&&inside| inside).count());
    }
}

/// What the entry policies promise, written as plainly as possible.
#[derive(Default)]
struct Model {
    entered: HashMap<u32, bool>,
    inside: HashMap<u32, bool>,
}

impl Model {
    fn step(
        &mut self,
        serial: u32,
        ticket_type: TicketTypeId,
        gate: GateId,
        direction: Direction,
    ) -> &'static str {
        if gate == demo::SOUTH_EXIT && direction == Direction::Entry {
            return "wrong_gate";
        }
        // Exits are never refused; VIP tickets enter only at the VIP entrance.
        if ticket_type == demo::VIP && gate != demo::VIP_GATE && direction == Direction::Entry {
            return "type_not_allowed_at_gate";
        }
        let entered = self.entered.get(&serial).copied().unwrap_or(false);
        let inside = self.inside.get(&serial).copied().unwrap_or(false);
        let verdict = match (direction, ticket_type) {
            (Direction::Exit, _) => "exit_recorded",
            (Direction::Entry, t) if t == demo::DAY && entered => "already_inside",
            (Direction::Entry, t) if t == demo::WEEKEND && inside => "already_inside",
            (Direction::Entry, _) if entered => "re_entry",
            (Direction::Entry, _) => "admitted",
        };
        match verdict {
            "exit_recorded" => {
                self.inside.insert(serial, false);
            }
            "admitted" | "re_entry" => {
                self.entered.insert(serial, true);
                self.inside.insert(serial, true);
            }
            _ => {}
        }
        verdict
    }
}
