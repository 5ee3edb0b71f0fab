//! The validator at a gate: every verdict, as staff see it (code, colour, wording).

mod common;

use common::{Gate, box_office, other_event_key, unix};
use sync_core::display::{Colour, DisplayClock, describe};
use sync_core::ids::{DeviceId, GateId, KeyId, SeatNumber, Serial, TicketTypeId};
use sync_core::keys::EventKey;
use sync_core::manifest::Direction;
use sync_core::revocation::RevocationReason;
use sync_core::seating::{MapRow, MapSeat, SeatMap};
use sync_core::ticket::ValidityWindow;
use sync_core::verdict::Verdict;
use sync_core::{Timestamp, demo};
use time::UtcOffset;

fn shown(gate: &Gate, verdict: &Verdict) -> (Colour, String, String) {
    // The venue is at UTC+2 (the demo's noon UTC is 14:00 local).
    let clock = DisplayClock { now: gate.ctx.now, offset: UtcOffset::from_hms(2, 0, 0).unwrap() };
    let d = describe(verdict, &gate.manifest, None, clock);
    assert_eq!(d.code, verdict.code());
    (d.colour, d.title, d.reason)
}

#[test]
fn a_day_ticket_gets_in_once() {
    let mut gate = Gate::new();
    let text = gate.ticket(7, demo::DAY);
    let first = gate.scan(&text);
    assert_eq!(first.code(), "admitted");
    assert_eq!(shown(&gate, &first), (Colour::Green, "Admitted".into(), "Day ticket no. 7".into()));

    gate.ctx.now = gate.ctx.now.plus_seconds(12 * 60);
    gate.ctx.device = DeviceId(2);
    let second = gate.scan(&text);
    assert_eq!(second.code(), "already_inside");
    let (colour, title, reason) = shown(&gate, &second);
    assert_eq!((colour, title.as_str()), (Colour::Amber, "Already used"));
    assert_eq!(reason, "Entered 14:00 at Main entrance (Main 1), 12 min ago");
    assert_eq!(gate.state.admitted_count(), 1);
}

#[test]
fn a_seated_ticket_names_its_seat_on_every_verdict_so_staff_can_direct_people() {
    let mut gate = Gate::new();
    let map = SeatMap {
        sections: vec!["Stalls".into()],
        rows: vec![MapRow { section: 0, label: "F".into() }],
        seats: ["11", "12"]
            .into_iter()
            .map(|label| MapSeat {
                row: 0,
                label: label.into(),
                x: 0,
                y: 0,
                ticket_type: demo::DAY,
                flags: 0,
            })
            .collect(),
        shapes: Vec::new(),
    };
    let clock = DisplayClock { now: gate.ctx.now, offset: UtcOffset::UTC };
    let text = gate.key.issue_seat(Serial(8), demo::DAY, None, Some(SeatNumber(1))).to_text();
    let first = gate.scan(&text);
    let d = describe(&first, &gate.manifest, Some(&map), clock);
    assert_eq!((d.code, d.seat.as_deref()), ("admitted", Some("Stalls · Row F · Seat 12")));
    let again = gate.scan(&text);
    let d = describe(&again, &gate.manifest, Some(&map), clock);
    assert_eq!((d.code, d.seat.as_deref()), ("already_inside", Some("Stalls · Row F · Seat 12")));
    // A device that has not got the map yet still says which seat, by number.
    let d = describe(&again, &gate.manifest, None, clock);
    assert_eq!(d.seat.as_deref(), Some("Seat no. 1 (sync this device for the seat's name)"));
    // A ticket without a seat shows none.
    let d = describe(&gate.check(&gate.ticket(9, demo::DAY)), &gate.manifest, Some(&map), clock);
    assert_eq!(d.seat, None);
}

#[test]
fn a_wedge_scanner_line_ending_is_harmless() {
    let gate = Gate::new();
    let text = format!("{}\r\n", gate.ticket(7, demo::DAY));
    assert_eq!(gate.check(&text).code(), "admitted");
}

#[test]
fn a_revoked_ticket_says_why() {
    let mut gate = Gate::new();
    gate.revocations.revoke(Serial(9), RevocationReason::Refunded);
    let verdict = gate.check(&gate.ticket(9, demo::DAY));
    assert_eq!(
        shown(&gate, &verdict),
        (Colour::Red, "Ticket revoked".into(), "Day ticket no. 9 was refunded and is no longer valid".into())
    );
}

#[test]
fn another_events_ticket_is_named_as_such() {
    let gate = Gate::new();
    let other = other_event_key().issue(Serial(1), demo::DAY, None).to_text();
    let verdict = gate.check(&other);
    assert_eq!(verdict, Verdict::WrongEvent { event: other_event_key().event() });
    assert_eq!(shown(&gate, &verdict).0, Colour::Red);
}

#[test]
fn a_device_set_to_the_wrong_gate_is_told_to_fix_its_settings() {
    let mut gate = Gate::new();
    let text = gate.ticket(1, demo::DAY);
    gate.ctx.gate = demo::SOUTH_EXIT;
    let verdict = gate.check(&text);
    assert_eq!(verdict, Verdict::WrongGate { gate: demo::SOUTH_EXIT, direction: Direction::Entry });
    let (colour, _, reason) = shown(&gate, &verdict);
    assert_eq!(colour, Colour::Amber);
    assert!(reason.starts_with("South exit does not take entry scans"), "{reason}");

    gate.ctx.gate = GateId(77);
    assert_eq!(gate.check(&text).code(), "wrong_gate");
    // At the exit-only gate, exits work.
    gate.ctx =
        sync_core::validate::ScanContext { gate: demo::SOUTH_EXIT, direction: Direction::Exit, ..gate.ctx };
    assert_eq!(gate.check(&text).code(), "exit_recorded");
}

#[test]
fn a_vip_at_the_main_gate_is_sent_to_the_vip_entrance() {
    let mut gate = Gate::new();
    let text = gate.ticket(3, demo::VIP);
    let verdict = gate.check(&text);
    assert_eq!(verdict.code(), "type_not_allowed_at_gate");
    assert_eq!(
        shown(&gate, &verdict),
        (
            Colour::Amber,
            "Wrong gate".into(),
            "VIP cannot enter at Main entrance — send them to VIP entrance".into()
        )
    );
    gate.ctx.gate = demo::VIP_GATE;
    assert_eq!(gate.scan(&text).code(), "admitted");
    assert_eq!(gate.scan(&text).code(), "re_entry", "VIP is multi-entry");
}

#[test]
fn validity_windows_allow_the_configured_clock_skew_and_no_more() {
    let mut gate = Gate::new();
    let noon = unix(demo::NOON);
    let tolerance = gate.manifest.clock_skew_tolerance_secs;
    let window = ValidityWindow::new(noon + 3600, noon + 7200).unwrap();
    let text = gate.key.issue(Serial(5), demo::DAY, Some(window)).to_text();

    let at = |secs: u32| Timestamp::from_unix_seconds(i64::from(secs));
    gate.ctx.now = at(window.not_before() - tolerance - 1);
    let early = gate.check(&text);
    assert_eq!(early.code(), "not_yet_valid");
    assert_eq!(
        shown(&gate, &early),
        (Colour::Amber, "Not valid yet".into(), "Day ticket no. 5 is valid from 15:00".into())
    );
    gate.ctx.now = at(window.not_before() - tolerance);
    assert_eq!(gate.check(&text).code(), "admitted", "a clock 5 min slow still admits");
    gate.ctx.now = at(window.not_after() + tolerance);
    assert_eq!(gate.check(&text).code(), "admitted", "a clock 5 min fast still admits");
    gate.ctx.now = at(window.not_after() + tolerance + 1);
    let late = gate.check(&text);
    assert_eq!(
        shown(&gate, &late),
        (Colour::Red, "Ticket expired".into(), "Day ticket no. 5 was valid until 16:00".into())
    );

    gate.manifest.clock_skew_tolerance_secs = 0;
    gate.ctx.now = at(window.not_after() + 1);
    assert_eq!(gate.check(&text).code(), "expired", "the tolerance is configurable");
}

#[test]
fn rotated_keys_verify_side_by_side_and_unknown_keys_ask_for_a_sync() {
    let mut gate = Gate::new();
    let new_key = EventKey::generate(demo::EVENT, KeyId(2)).unwrap();
    let new_ticket = new_key.issue(Serial(20), demo::DAY, None).to_text();
    let old_ticket = gate.ticket(21, demo::DAY);

    let stale = gate.check(&new_ticket);
    assert_eq!(stale, Verdict::UnknownKey { key_id: KeyId(2) });
    assert_eq!(shown(&gate, &stale).0, Colour::Red, "the key id is an unverified claim");

    gate.manifest.keys.push(new_key.public());
    assert_eq!(gate.check(&new_ticket).code(), "admitted");
    assert_eq!(gate.check(&old_ticket).code(), "admitted", "old tickets still verify");

    gate.manifest.keys.retain(|k| k.id == KeyId(2));
    assert_eq!(gate.check(&old_ticket).code(), "unknown_key", "a retired key no longer verifies");
}

#[test]
fn a_ticket_type_missing_from_a_stale_manifest_asks_for_a_sync() {
    let gate = Gate::new();
    let verdict = gate.check(&gate.ticket(1, TicketTypeId(42)));
    assert_eq!(verdict.code(), "unknown_ticket_type");
    assert_eq!(shown(&gate, &verdict).0, Colour::Amber);
}

#[test]
fn box_office_tickets_get_in_and_their_limits_hold() {
    let mut gate = Gate::new();
    let (device, delegation) = box_office(&gate.key);
    let sold =
        device.issue(&delegation, Serial(10_050), demo::WEEKEND, None, gate.ctx.now).unwrap().to_text();
    let admitted = gate.scan(&sold);
    assert_eq!(admitted.code(), "admitted");
    assert_eq!(shown(&gate, &admitted).2, "Weekend pass no. 10050 (box office)");

    // After the delegation expires (plus tolerance), its tickets stop working.
    let tolerance = i64::from(gate.manifest.clock_skew_tolerance_secs);
    gate.ctx.now = delegation.delegation.grant.expires_at().plus_seconds(tolerance);
    assert_eq!(gate.check(&sold).code(), "already_inside", "still valid at expiry + tolerance");
    gate.ctx.now = gate.ctx.now.plus_seconds(1);
    let expired = gate.check(&sold);
    assert_eq!(expired.code(), "delegation_invalid");
    assert_eq!(shown(&gate, &expired).1, "Invalid box-office ticket");
}

#[test]
fn weekend_passes_go_out_and_back_in_but_not_in_twice() {
    let mut gate = Gate::new();
    let text = gate.ticket(11, demo::WEEKEND);
    let step = |gate: &mut Gate, direction| {
        gate.ctx.direction = direction;
        gate.ctx.now = gate.ctx.now.plus_seconds(600);
        gate.scan(&text)
    };
    assert_eq!(step(&mut gate, Direction::Entry).code(), "admitted");
    assert_eq!(step(&mut gate, Direction::Entry).code(), "already_inside");
    let exit = step(&mut gate, Direction::Exit);
    assert_eq!(
        shown(&gate, &exit),
        (Colour::Green, "Exit recorded".into(), "Weekend pass no. 11 — may come back in".into())
    );
    let back = step(&mut gate, Direction::Entry);
    assert_eq!(back.code(), "re_entry");
    assert_eq!(
        shown(&gate, &back).2,
        "Weekend pass no. 11, re-entry — went out 14:30 at Main entrance (Main 1), 10 min ago"
    );
    assert_eq!((gate.state.admitted_count(), gate.state.inside_count()), (1, 1));
}

#[test]
fn what_is_not_a_ticket_is_named_plainly() {
    let gate = Gate::new();
    let cases = [
        ("https://example.com/ticket", "This code is not a Voelgoed ticket"),
        ("   ", "Nothing was read: scan again"),
        ("VG1:10", "The code is damaged or was read only in part: scan again, or type in the code"),
        ("VG1:ABc", "The code is damaged or was read only in part: scan again, or type in the code"),
        ("VG1:A00", "This ticket is from a newer version of Voelgoed: update this app, then scan again"),
    ];
    for (text, reason) in cases {
        let verdict = gate.check(text);
        assert_eq!(shown(&gate, &verdict), (Colour::Red, "Not a ticket".into(), reason.into()), "{text:?}");
    }
    assert_eq!(shown(&gate, &gate.check(&"9".repeat(10_000))).2, "This code is far too long to be a ticket");
}

#[test]
fn times_on_another_day_name_the_day() {
    let mut gate = Gate::new();
    let text = gate.ticket(12, demo::DAY);
    gate.scan(&text);
    gate.ctx.now = gate.ctx.now.plus_seconds(26 * 3600);
    let (_, _, reason) = shown(&gate, &gate.check(&text));
    assert_eq!(reason, "Entered Sat 6 Jun 14:00 at Main entrance (Main 1), 26 h 0 min ago");
}

#[test]
fn nobody_is_held_in_a_genuine_ticket_always_leaves() {
    let mut gate = Gate::new();
    gate.revocations.revoke(Serial(31), RevocationReason::Refunded);
    let noon = unix(demo::NOON);
    let over = ValidityWindow::new(noon - 7200, noon - 3600).unwrap();
    let expired = gate.key.issue(Serial(30), demo::DAY, Some(over)).to_text();
    let refunded = gate.ticket(31, demo::DAY);
    let vip = gate.ticket(32, demo::VIP);
    gate.ctx =
        sync_core::validate::ScanContext { gate: demo::SOUTH_EXIT, direction: Direction::Exit, ..gate.ctx };
    for text in [&expired, &refunded, &vip] {
        assert_eq!(gate.scan(text).code(), "exit_recorded");
    }
    // A forgery is still refused on the way out.
    let mut forged = vip.clone();
    forged.replace_range(10..11, if &vip[10..11] == "A" { "B" } else { "A" });
    assert!(!gate.check(&forged).passes());
}

#[test]
fn a_slow_clock_after_a_fast_one_still_orders_the_movements() {
    // The exit scanner runs 10 minutes fast; the entry scanner, which has synced that exit,
    // runs on time. The re-entry must count as the latest movement: the holder is inside.
    let mut gate = Gate::new();
    let text = gate.ticket(40, demo::WEEKEND);
    assert_eq!(gate.scan(&text).code(), "admitted");
    let entry_clock = gate.ctx.now;
    gate.ctx = sync_core::validate::ScanContext {
        direction: Direction::Exit,
        device: DeviceId(2),
        now: entry_clock.plus_seconds(60 + 600),
        ..gate.ctx
    };
    assert_eq!(gate.scan(&text).code(), "exit_recorded");
    gate.ctx = sync_core::validate::ScanContext {
        direction: Direction::Entry,
        device: demo::MAIN_SCANNER,
        now: entry_clock.plus_seconds(120),
        ..gate.ctx
    };
    assert_eq!(gate.scan(&text).code(), "re_entry");
    assert_eq!(gate.state.inside_count(), 1);
    gate.ctx.now = entry_clock.plus_seconds(180);
    assert_eq!(gate.scan(&text).code(), "already_inside", "a copy of the ticket is refused");
}

#[test]
fn a_double_admission_reads_as_one_sentence_naming_both_gates() {
    use sync_core::admission::{DoubleAdmission, ScanRecord};
    use sync_core::display::describe_double;
    let (manifest, _, ctx) = demo::festival();
    let clock = DisplayClock { now: ctx.now, offset: UtcOffset::UTC };
    let gates: Vec<_> = manifest.gates.iter().take(2).collect();
    let double = DoubleAdmission {
        serial: Serial(42),
        first: ScanRecord { at: ctx.now.plus_seconds(-180), device: DeviceId(1), gate: gates[0].id },
        second: ScanRecord { at: ctx.now.plus_seconds(-120), device: DeviceId(2), gate: gates[1].id },
    };
    let sentence = describe_double(&double, &manifest, clock);
    assert!(sentence.starts_with("No. 42 admitted twice: "), "{sentence}");
    assert!(sentence.contains(&gates[0].name) && sentence.contains(&gates[1].name), "{sentence}");
    assert!(sentence.contains("3 min ago") && sentence.contains("2 min ago"), "{sentence}");
}
