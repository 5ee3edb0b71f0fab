//! The ticket must make a small QR code: a small code scans faster and from further away, and
//! fits a phone screen at a size cheap cameras read. Sizes are asserted with the `qrcode`
//! crate (which picks the smallest version for ECC level M, alphanumeric mode).

mod common;

use common::{Gate, box_office, day_window};
use qrcode::{EcLevel, QrCode, Version};
use sync_core::ids::{EventId, KeyId};
use sync_core::ids::{SeatNumber, Serial, TicketTypeId};
use sync_core::keys::EventKey;
use sync_core::ticket::{DelegationGrant, MAX_DELEGATION_TYPES, ValidityWindow};

fn version(text: &str) -> i16 {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap().version() {
        Version::Normal(v) => v,
        Version::Micro(_) => unreachable!("qrcode never picks micro QR here"),
    }
}

/// The largest values in every field: sizes do not depend on values, but this makes sure.
fn biggest_key() -> EventKey {
    EventKey::from_seed(EventId(u32::MAX), KeyId(u8::MAX), [0xEE; 32])
}

#[test]
fn a_hub_ticket_fits_version_5_at_ecc_m() {
    let text = biggest_key().issue(Serial(u32::MAX), TicketTypeId(u16::MAX), None).to_text();
    assert_eq!(text.len(), 120);
    assert!(version(&text) <= 5, "version {}", version(&text));
    assert!(version(&Gate::new().ticket(1, TicketTypeId(1))) <= 5);
}

#[test]
fn a_ticket_with_a_validity_window_fits_version_6() {
    let window = ValidityWindow::new(u32::MAX - 1, u32::MAX).unwrap();
    let text = biggest_key().issue(Serial(u32::MAX), TicketTypeId(u16::MAX), Some(window)).to_text();
    assert_eq!(text.len(), 132);
    assert!(version(&text) <= 6, "version {}", version(&text));
}

#[test]
fn a_seated_ticket_fits_version_6_with_or_without_a_window() {
    let key = biggest_key();
    let seat = Some(SeatNumber(u16::MAX));
    let text = key.issue_seat(Serial(u32::MAX), TicketTypeId(u16::MAX), None, seat).to_text();
    assert_eq!(text.len(), 123);
    assert_eq!(version(&text), 6);
    let window = ValidityWindow::new(u32::MAX - 1, u32::MAX);
    let text = key.issue_seat(Serial(u32::MAX), TicketTypeId(u16::MAX), window, seat).to_text();
    assert_eq!(text.len(), 135);
    assert_eq!(version(&text), 6);
}

#[test]
fn a_delegated_ticket_fits_version_10_even_at_its_largest() {
    let key = biggest_key();
    let (device, _) = box_office(&key);
    let grant = DelegationGrant {
        device_key: device.public_key(),
        first_serial: Serial(0),
        last_serial: Serial(u32::MAX),
        expires: u32::MAX,
        ticket_types: (1..=u16::try_from(MAX_DELEGATION_TYPES).unwrap()).map(TicketTypeId).collect(),
    };
    let delegation = key.delegate(grant).unwrap();
    let largest = device
        .issue(&delegation, Serial(u32::MAX), TicketTypeId(1), Some(day_window()), sync_core::demo::NOON)
        .unwrap();
    let text = largest.to_text();
    assert_eq!(text.len(), 307, "the largest without a seat");
    assert!(version(&text) <= 10, "version {}", version(&text));
    let seated = device
        .issue_seat(
            &delegation,
            Serial(u32::MAX),
            TicketTypeId(1),
            Some(day_window()),
            Some(SeatNumber(u16::MAX)),
            sync_core::demo::NOON,
        )
        .unwrap();
    let text = seated.to_text();
    assert_eq!(text.len(), 310, "the documented maximum length");
    assert_eq!(version(&text), 10);

    let (device, delegation) = box_office(&Gate::new().key);
    let typical =
        device.issue(&delegation, Serial(10_000), TicketTypeId(1), None, sync_core::demo::NOON).unwrap();
    println!("typical delegated ticket: version {}", version(&typical.to_text()));
    assert!(version(&typical.to_text()) <= 10);
}
