//! Nothing but the exact bytes the issuer signed gets in: every single-bit flip of a ticket's
//! bytes and every single-character change of its text is refused, for every kind of ticket.
//! These are exhaustive loops, not samples.

mod common;

use common::{Gate, box_office, day_window};
use sync_core::demo;
use sync_core::ids::Serial;
use sync_core::ticket::{SignedTicket, encode_text};

/// One ticket of every shape: hub-issued, with a window, delegated, delegated with a window.
fn tickets(gate: &Gate) -> Vec<SignedTicket> {
    let (device, delegation) = box_office(&gate.key);
    vec![
        gate.key.issue(Serial(1), demo::DAY, None),
        gate.key.issue(Serial(2), demo::WEEKEND, Some(day_window())),
        device.issue(&delegation, Serial(10_000), demo::DAY, None, demo::NOON).unwrap(),
        device.issue(&delegation, Serial(10_001), demo::WEEKEND, Some(day_window()), demo::NOON).unwrap(),
    ]
}

#[test]
fn every_single_bit_flip_is_refused() {
    let gate = Gate::new();
    for ticket in tickets(&gate) {
        assert!(gate.check(&ticket.to_text()).passes(), "the untouched ticket must pass");
        let bytes = ticket.bytes();
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let verdict = gate.check(&encode_text(&flipped));
            assert!(!verdict.passes(), "bit {bit} of {} bytes flipped, still {verdict:?}", bytes.len());
        }
    }
}

#[test]
fn every_single_character_change_is_refused() {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let gate = Gate::new();
    // Every base45 character, plus characters a misconfigured wedge scanner might type.
    let replacements: Vec<char> = ALPHABET.chars().chain("az_#é\t".chars()).collect();
    let mut tried = 0;
    for ticket in tickets(&gate) {
        let text = ticket.to_text();
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len() {
            for &c in replacements.iter().filter(|&&c| c != chars[i]) {
                let mut changed = chars.clone();
                changed[i] = c;
                let changed: String = changed.into_iter().collect();
                let verdict = gate.check(&changed);
                assert!(!verdict.passes(), "char {i} → {c:?} still {verdict:?}");
                tried += 1;
            }
            let mut deleted = chars.clone();
            deleted.remove(i);
            assert!(!gate.check(&deleted.into_iter().collect::<String>()).passes(), "deleting char {i}");
        }
    }
    assert!(tried > 40_000, "only {tried} changes tried");
}
