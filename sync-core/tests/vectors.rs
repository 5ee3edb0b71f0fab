//! The committed test vectors (`tests/vectors/tickets-v1.json`, described in
//! docs/ticket-format.md §7) are exactly what this implementation produces, and every vector
//! gets the verdict the file states.
//!
//! Regenerate after an intended format change: `VOELGOED_BLESS=1 cargo test -p
//! voelgoed-sync-core --test vectors`.

mod common;

use common::unix;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sync_core::admission::AdmissionState;
use sync_core::demo;
use sync_core::ids::{EventId, KeyId, SeatNumber, Serial, TicketTypeId};
use sync_core::keys::{DeviceKey, EventKey, PublicEventKey, SignedDelegation};
use sync_core::revocation::{RevocationReason, RevocationSet};
use sync_core::ticket::{Delegation, DelegationGrant, SignedTicket, Ticket, ValidityWindow, encode_text};
use sync_core::validate::validate;
use sync_core::verdict::Verdict;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/tickets-v1.json");

const SEED_KEY_1: [u8; 32] = [0x42; 32];
const SEED_KEY_2: [u8; 32] = [0x43; 32];
const SEED_OTHER_EVENT: [u8; 32] = [0x13; 32];
const SEED_IMPOSTOR: [u8; 32] = [0x66; 32];
const SEED_DEVICE: [u8; 32] = [0x07; 32];
const REVOKED_SERIAL: u32 = 13;

struct Keys {
    key1: EventKey,
    key2: EventKey,
    other_event: EventKey,
    impostor: EventKey,
    device: DeviceKey,
    delegation: SignedDelegation,
}

impl Keys {
    fn new() -> Self {
        let key1 = EventKey::from_seed(demo::EVENT, KeyId(1), SEED_KEY_1);
        let device = DeviceKey::from_seed(SEED_DEVICE);
        let delegation = key1.delegate(grant(device.public_key(), unix(demo::NOON) + 86_400)).unwrap();
        Self {
            key2: EventKey::from_seed(demo::EVENT, KeyId(2), SEED_KEY_2),
            other_event: EventKey::from_seed(EventId(9999), KeyId(1), SEED_OTHER_EVENT),
            impostor: EventKey::from_seed(demo::EVENT, KeyId(1), SEED_IMPOSTOR),
            key1,
            device,
            delegation,
        }
    }
}

fn grant(device_key: [u8; 32], expires: u32) -> DelegationGrant {
    DelegationGrant {
        device_key,
        first_serial: Serial(10_000),
        last_serial: Serial(10_099),
        expires,
        ticket_types: vec![demo::DAY, demo::WEEKEND],
    }
}

fn sign_raw(seed: [u8; 32]) -> impl FnOnce(&[u8]) -> [u8; 64] {
    move |msg| SigningKey::from_bytes(&seed).sign(msg).to_bytes()
}

fn window(from: i64, to: i64) -> ValidityWindow {
    let noon = i64::from(unix(demo::NOON));
    let s = |d: i64| u32::try_from(noon + d).unwrap();
    ValidityWindow::new(s(from), s(to)).unwrap()
}

fn key_json(name: &str, seed: [u8; 32], event_key: Option<&EventKey>) -> Value {
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let mut v = json!({
        "name": name,
        "kind": if event_key.is_some() { "event" } else { "device" },
        "secret_key": hex::encode(seed),
        "public_key": hex::encode(public),
    });
    if let Some(k) = event_key {
        v["event"] = json!(k.event().0);
        v["key_id"] = json!(k.id().0);
    }
    v
}

fn fields_json(t: &Ticket) -> Value {
    json!({
        "event": t.event.0,
        "key_id": t.key_id.0,
        "serial": t.serial.0,
        "ticket_type": t.ticket_type.0,
        "validity": t.validity.map(|w| json!({"not_before": w.not_before(), "not_after": w.not_after()})),
        "seat": t.seat.map(|s| s.0),
        "delegation": t.delegation.as_ref().map(|d| json!({
            "device_key": hex::encode(d.grant.device_key),
            "first_serial": d.grant.first_serial.0,
            "last_serial": d.grant.last_serial.0,
            "expires": d.grant.expires,
            "ticket_types": d.grant.ticket_types.iter().map(|t| t.0).collect::<Vec<_>>(),
            "signature": hex::encode(d.signature),
        })),
    })
}

fn valid(name: &str, signed: &SignedTicket, text: Option<String>) -> Value {
    json!({
        "name": name,
        "fields": fields_json(signed.ticket()),
        "hex": hex::encode(signed.bytes()),
        "text": text.unwrap_or_else(|| signed.to_text()),
        "expect": "valid",
    })
}

fn invalid(
    name: &str,
    why: &str,
    bytes: Option<&[u8]>,
    text: &str,
    expect: &str,
    detail: Option<&str>,
) -> Value {
    json!({
        "name": name,
        "why": why,
        "hex": bytes.map(hex::encode),
        "text": text,
        "expect": expect,
        "detail": detail,
    })
}

/// Bytes → text for vectors whose bytes are themselves invalid.
fn bad(name: &str, why: &str, bytes: &[u8], expect: &str, detail: Option<&str>) -> Value {
    invalid(name, why, Some(bytes), &encode_text(bytes), expect, detail)
}

fn bad_signed(name: &str, why: &str, signed: &SignedTicket, expect: &str, detail: Option<&str>) -> Value {
    bad(name, why, signed.bytes(), expect, detail)
}

fn plain(k: &EventKey, serial: u32) -> Ticket {
    Ticket {
        event: k.event(),
        key_id: k.id(),
        serial: Serial(serial),
        ticket_type: demo::DAY,
        validity: None,
        seat: None,
        delegation: None,
    }
}

#[allow(clippy::too_many_lines)]
fn build() -> Value {
    let k = Keys::new();
    let tol: i64 = 300;
    let tol_u32 = u32::try_from(tol).unwrap();
    let hub_plain = k.key1.issue(Serial(1), demo::DAY, None);
    let plain_text = hub_plain.to_text();
    let four_types = DelegationGrant {
        ticket_types: vec![demo::DAY, demo::WEEKEND, demo::VIP, TicketTypeId(4)],
        ..grant(k.device.public_key(), unix(demo::NOON) + 86_400)
    };
    let four_types = k.key1.delegate(four_types).unwrap();
    let edge_delegation = k.key1.delegate(grant(k.device.public_key(), unix(demo::NOON) - tol_u32)).unwrap();
    let padding = " ".repeat((512 - plain_text.len() - 3) / 2);
    let padded = format!("{padding}\t{plain_text}\r\n{padding}");
    let padded = format!("{padded}{}", " ".repeat(512 - padded.len()));

    let valid_vectors = vec![
        valid("hub-issued day ticket", &hub_plain, None),
        valid("with the CR LF a wedge scanner sends", &hub_plain, Some(format!("{plain_text}\r\n"))),
        valid("surrounded by whitespace to exactly 512 bytes", &hub_plain, Some(padded.clone())),
        valid(
            "hub-issued weekend pass with a validity window",
            &k.key1.issue(Serial(2), demo::WEEKEND, Some(window(-3600, 3600))),
            None,
        ),
        valid(
            "window ended exactly the tolerance before now",
            &k.key1.issue(Serial(20), demo::DAY, Some(window(-7200, -tol))),
            None,
        ),
        valid(
            "window starts exactly the tolerance after now",
            &k.key1.issue(Serial(21), demo::DAY, Some(window(tol, 7200))),
            None,
        ),
        valid("signed with key 2 during a key rotation", &k.key2.issue(Serial(3), demo::DAY, None), None),
        valid(
            "sold by a box-office device under a delegation",
            &k.device.issue(&k.delegation, Serial(10_000), demo::DAY, None, demo::NOON).unwrap(),
            None,
        ),
        valid(
            "delegated, with a validity window",
            &k.device
                .issue(&k.delegation, Serial(10_001), demo::WEEKEND, Some(window(-60, 86_400)), demo::NOON)
                .unwrap(),
            None,
        ),
        valid(
            "the largest ticket: delegated, four types, with a window",
            &k.device
                .issue(&four_types, Serial(10_098), demo::DAY, Some(window(-60, 86_400)), demo::NOON)
                .unwrap(),
            None,
        ),
        valid(
            "hub-issued, for a reserved seat",
            &k.key1.issue_seat(Serial(30), demo::DAY, None, Some(SeatNumber(1234))),
            None,
        ),
        valid(
            "sold at the door for a reserved seat, with a window",
            &k.device
                .issue_seat(
                    &k.delegation,
                    Serial(10_002),
                    demo::DAY,
                    Some(window(-60, 86_400)),
                    Some(SeatNumber(7)),
                    demo::NOON,
                )
                .unwrap(),
            None,
        ),
        valid(
            "the largest ticket: delegated, four types, with a window and a seat",
            &k.device
                .issue_seat(
                    &four_types,
                    Serial(10_097),
                    demo::DAY,
                    Some(window(-60, 86_400)),
                    Some(SeatNumber(u16::MAX)),
                    demo::NOON,
                )
                .unwrap(),
            None,
        ),
        valid(
            "delegation expired exactly the tolerance before now",
            &k.device
                .issue(&edge_delegation, Serial(10_099), demo::DAY, None, demo::NOON.plus_seconds(-7200))
                .unwrap(),
            None,
        ),
    ];

    let b = hub_plain.bytes();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = b.to_vec();
        f(&mut v);
        v
    };
    let flipped_sig = with(&|v| v[76] ^= 0x01);
    let version_2 = with(&|v| v[0] = 2);
    let unknown_flag = with(&|v| v[1] = 0x08);
    let seated = k.key1.issue_seat(Serial(31), demo::DAY, None, Some(SeatNumber(12))).bytes().to_vec();
    let mut other_seat = seated.clone();
    other_seat[14] ^= 0x01;
    let truncated = with(&|v| v.truncate(75));
    let trailing = with(&|v| v.push(0));
    let tampered_serial = with(&|v| v[10] ^= 0x01);
    // S + L: the same signature with a non-canonical scalar; lax verifiers accept it.
    let non_canonical_s = with(&|v| add_group_order(&mut v[45..77]));

    let mut lower = plain_text.clone();
    let pos = lower[4..].find(|c: char| c.is_ascii_uppercase()).unwrap() + 4;
    lower.replace_range(pos..=pos, &lower[pos..=pos].to_ascii_lowercase());
    let body = &plain_text[4..];
    let out_of_range = format!("VG1:GGW{}", &body[3..]);
    let out_of_range_then_bad_char = format!("VG1:GGWabc{}", &body[6..]);
    let two_non_ascii = format!("VG1:ÉÉ{}", &body[2..]);
    let cut_text = plain_text[..plain_text.len() - 1].to_string();

    // A window that ends before it starts cannot be constructed; swap the two fields of a
    // valid one in the bytes and sign those.
    let window_ticket = k.key1.issue(Serial(4), demo::DAY, Some(ValidityWindow::new(100, 200).unwrap()));
    let mut claims = window_ticket.bytes()[..window_ticket.bytes().len() - 64].to_vec();
    claims[13..21].rotate_left(4);
    let mut backwards_window = claims.clone();
    backwards_window.extend(sign_raw(SEED_KEY_1)(&[sync_core::ticket::TICKET_DOMAIN, &claims].concat()));
    let delegated_ticket = |serial: u32, ticket_type: TicketTypeId, d: &Delegation| Ticket {
        serial: Serial(serial),
        ticket_type,
        delegation: Some(d.clone()),
        ..plain(&k.key1, 0)
    };
    let d = &k.delegation.delegation;
    let sign_device = |t: Ticket| SignedTicket::sign_with(t, sign_raw(SEED_DEVICE));
    let altered = |grant: DelegationGrant| Delegation { grant, signature: d.signature };
    let backwards_range = altered(DelegationGrant {
        first_serial: d.grant.last_serial,
        last_serial: d.grant.first_serial,
        ..d.grant.clone()
    });
    let no_types = altered(DelegationGrant { ticket_types: vec![], ..d.grant.clone() });
    // A delegation for a device key the hub should never have accepted, signed anyway.
    let raw_delegation = |device_key: [u8; 32]| {
        let g = grant(device_key, unix(demo::NOON) + 86_400);
        let signature = sign_raw(SEED_KEY_1)(&g.signed_message(demo::EVENT, KeyId(1)));
        g.with_signature(signature)
    };
    let impostor = k.impostor.delegate(grant(k.device.public_key(), unix(demo::NOON) + 86_400)).unwrap();
    let stale = k.key1.delegate(grant(k.device.public_key(), unix(demo::NOON) - tol_u32 - 1)).unwrap();
    // The identity point as device key with the signature (R = identity, S = 0): it satisfies
    // the Ed25519 equation for every message, so only a verifier that refuses small-order keys
    // rejects it.
    let weak_ticket = SignedTicket::sign_with(
        delegated_ticket(10_007, demo::DAY, &raw_delegation(identity_point())),
        |_| {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&identity_point());
            sig
        },
    );

    let context_keys: Vec<Value> = [k.key1.public(), k.key2.public()]
        .iter()
        .map(|p: &PublicEventKey| json!({"key_id": p.id.0, "public_key": hex::encode(p.key.to_bytes())}))
        .collect();
    let m = "malformed";
    let di = "delegation_invalid";
    let bs = "bad_signature";
    json!({
        "format": "voelgoed-ticket-v1",
        "description": "Test vectors for the Voelgoed ticket format v1; see docs/ticket-format.md §7.",
        "context": {
            "event": demo::EVENT.0,
            "keys": context_keys,
            "now": unix(demo::NOON),
            "tolerance_secs": tol,
            "revoked": [REVOKED_SERIAL],
        },
        "keys": [
            key_json("event 2026, key 1", SEED_KEY_1, Some(&k.key1)),
            key_json("event 2026, key 2 (rotation: valid beside key 1)", SEED_KEY_2, Some(&k.key2)),
            key_json("event 9999, key 1 (another event)", SEED_OTHER_EVENT, Some(&k.other_event)),
            key_json("impostor claiming event 2026, key 1 (not in the context)", SEED_IMPOSTOR, Some(&k.impostor)),
            key_json("box-office device", SEED_DEVICE, None),
        ],
        "valid": valid_vectors,
        "invalid": [
            invalid("too long", "513 characters: refused before decoding", None, &"A".repeat(513), m, Some("too_long")),
            invalid("a valid ticket in 513 bytes of whitespace", "the cap applies to the raw input, before trimming", None, &format!("{padded} "), m, Some("too_long")),
            invalid("empty", "only the CR/LF a scanner sends", None, "\r\n", m, Some("empty")),
            invalid("prefix only", "nothing after the prefix: the version byte is missing", None, "VG1:", m, Some("truncated")),
            invalid("other prefix", "a version-2 prefix this reader does not know", None, &plain_text.replacen("VG1:", "VG2:", 1), m, Some("missing_prefix")),
            invalid("no-break space before the ticket", "only ASCII space, TAB, CR, LF and FF are trimmed", None, &format!("\u{a0}{plain_text}"), m, Some("missing_prefix")),
            invalid("vertical tab before the ticket", "VT (0x0B) is not trimmed", None, &format!("\u{b}{plain_text}"), m, Some("missing_prefix")),
            invalid("lower case", "one character folded to lower case", None, &lower, m, Some("base45_invalid_char")),
            invalid("base45 value out of range", "the first triple encodes 65536", None, &out_of_range, m, Some("base45_value_out_of_range")),
            invalid("bad value before bad characters", "groups are checked in order: the first triple's value fails before the second's characters", None, &out_of_range_then_bad_char, m, Some("base45_value_out_of_range")),
            invalid("text cut short", "the last character missing: length ≡ 1 mod 3", None, &cut_text, m, Some("base45_invalid_length")),
            invalid("two non-ASCII characters", "length is counted in bytes (UTF-8) and checked first: 118 bytes ≡ 1 mod 3", None, &two_non_ascii, m, Some("base45_invalid_length")),
            bad("bytes cut short", "the last two signature bytes missing", &truncated, m, Some("truncated")),
            bad("trailing byte", "a zero byte after the signature", &trailing, m, Some("trailing_bytes")),
            bad("unsupported version", "version byte 2", &version_2, m, Some("unsupported_version")),
            bad("unknown flag", "flag bit 3 set", &unknown_flag, m, Some("unknown_flags")),
            bad("cut off inside the seat", "the seat flag set and the bytes end after one byte of the seat", &seated[..14], m, Some("truncated")),
            bad("seat changed", "seat 12 changed to seat 13 after signing", &other_seat, bs, None),
            bad("window ends before it starts", "not_after < not_before, correctly signed", &backwards_window, m, Some("invalid_validity_window")),
            bad("window ends before it starts, then cut off", "each check runs as its field is read: the window fails before the missing signature", &backwards_window[..21], m, Some("invalid_validity_window")),
            bad_signed("delegation range backwards", "last_serial < first_serial", &sign_device(delegated_ticket(10_000, demo::DAY, &backwards_range)), m, Some("invalid_delegation_range")),
            bad_signed("delegation with no types", "type_count 0", &sign_device(delegated_ticket(10_005, demo::DAY, &no_types)), m, Some("invalid_delegation_type_count")),
            bad("cut off inside the delegation", "ends after the device key", &k.device.issue(&k.delegation, Serial(10_000), demo::DAY, None, demo::NOON).unwrap().bytes()[..45], m, Some("truncated")),
            bad("flipped signature bit", "one bit of the signature flipped", &flipped_sig, bs, None),
            bad("tampered serial", "serial changed after signing", &tampered_serial, bs, None),
            bad("non-canonical signature", "S replaced by S + L (group order): lax verifiers accept it", &non_canonical_s, bs, None),
            bad_signed("small-order R", "R is the identity point and S = k·a, which satisfies [S]B = R + [k]A: lax verifiers accept it", &small_order_r(plain(&k.key1, 22)), bs, None),
            bad_signed("signed by another event's key", "claims event 2026 key 1, signed with event 9999's key", &SignedTicket::sign_with(plain(&k.key1, 5), sign_raw(SEED_OTHER_EVENT)), bs, None),
            bad_signed("another event", "a genuine ticket of event 9999", &k.other_event.issue(Serial(6), demo::DAY, None), "wrong_event", None),
            bad_signed("unknown key", "key id 7 is not in the context", &SignedTicket::sign_with(Ticket { key_id: KeyId(7), ..plain(&k.key1, 7) }, sign_raw(SEED_KEY_1)), "unknown_key", None),
            bad_signed("revoked", "serial 13 is on the revocation list", &k.key1.issue(Serial(REVOKED_SERIAL), demo::DAY, None), "revoked", None),
            bad_signed("expired", "window ended the tolerance plus one second before now", &k.key1.issue(Serial(8), demo::DAY, Some(window(-7200, -tol - 1))), "expired", None),
            bad_signed("not yet valid", "window starts the tolerance plus one second after now", &k.key1.issue(Serial(9), demo::DAY, Some(window(tol + 1, 7200))), "not_yet_valid", None),
            bad_signed("delegated serial out of range", "serial 10100, delegation covers 10000–10099", &sign_device(delegated_ticket(10_100, demo::DAY, d)), di, Some("delegation_serial_out_of_range")),
            bad_signed("delegated type not allowed", "type 3, delegation allows 1 and 2", &sign_device(delegated_ticket(10_002, demo::VIP, d)), di, Some("delegation_type_not_allowed")),
            bad_signed("delegation expired", "delegation expired the tolerance plus one second before now", &k.device.issue(&stale, Serial(10_003), demo::DAY, None, demo::NOON.plus_seconds(-7200)).unwrap(), di, Some("delegation_expired")),
            bad_signed("delegation by an impostor key", "delegation signed by a key that is not event 2026's key 1", &k.device.issue(&impostor, Serial(10_004), demo::DAY, None, demo::NOON).unwrap(), di, Some("delegation_bad_signature")),
            bad_signed("delegated device key not on the curve", "the device key bytes decode to no point", &sign_device(delegated_ticket(10_006, demo::DAY, &raw_delegation(not_a_curve_point()))), di, Some("delegation_invalid_device_key")),
            bad_signed("non-canonical device key", "the device key's y coordinate is encoded as y + p (≥ p)", &sign_device(delegated_ticket(10_008, demo::DAY, &raw_delegation(non_canonical_point()))), di, Some("delegation_invalid_device_key")),
            bad_signed("small-order device key", "the identity point as device key, with R = identity and S = 0, which satisfies the Ed25519 equation for every message", &weak_ticket, di, Some("delegation_invalid_device_key")),
        ],
    })
}

/// Signs `ticket` with key 1 so that R is the identity point: S = k·a, where a is the key's
/// secret scalar and k = SHA-512(R ‖ A ‖ M). Then [S]B = [k]A = R + [k]A holds, so the
/// cofactorless equation accepts it; strict verification refuses R for its small order.
fn small_order_r(ticket: Ticket) -> SignedTicket {
    use curve25519_dalek::Scalar;
    use sha2::{Digest, Sha512};
    let expanded: [u8; 64] = Sha512::digest(SEED_KEY_1).into();
    let mut a = [0u8; 32];
    a.copy_from_slice(&expanded[..32]);
    a[0] &= 0b1111_1000;
    a[31] &= 0x7f;
    a[31] |= 0x40;
    let a = Scalar::from_bytes_mod_order(a);
    let public = SigningKey::from_bytes(&SEED_KEY_1).verifying_key().to_bytes();
    SignedTicket::sign_with(ticket, |msg| {
        let r = identity_point();
        let k: [u8; 64] =
            Sha512::new().chain_update(r).chain_update(public).chain_update(msg).finalize().into();
        let s = Scalar::from_bytes_mod_order_wide(&k) * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(&s.to_bytes());
        sig
    })
}

/// An encoding y + p of a valid, not small-order point y (curve25519-dalek accepts it).
fn non_canonical_point() -> [u8; 32] {
    // p = 2^255 − 19; y + p fits in 255 bits for y < 19.
    (2u8..19)
        .map(|y| {
            let mut bytes = [0xff; 32];
            bytes[0] = 0xed + y; // low byte of p is 0xed; no carry for y < 19
            bytes[31] = 0x7f;
            bytes
        })
        .find(|bytes| ed25519_dalek::VerifyingKey::from_bytes(bytes).is_ok_and(|k| !k.is_weak()))
        .expect("some y < 19 is a point of large order")
}

/// Adds the Ed25519 group order L to a little-endian 32-byte scalar in place.
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L overflowed 256 bits");
}

fn identity_point() -> [u8; 32] {
    let mut p = [0u8; 32];
    p[0] = 1;
    p
}

/// The first of 02 02 …, 03 03 …, … that is not a valid point encoding.
fn not_a_curve_point() -> [u8; 32] {
    (2u8..=255)
        .map(|b| [b; 32])
        .find(|bytes| ed25519_dalek::VerifyingKey::from_bytes(bytes).is_err())
        .unwrap()
}

/// Runs every vector through the real validator.
fn check_verdicts(doc: &Value) {
    let k = Keys::new();
    let manifest = demo::manifest(vec![k.key1.public(), k.key2.public()]);
    let mut revocations = RevocationSet::new();
    revocations.revoke(Serial(REVOKED_SERIAL), RevocationReason::Refunded);
    let (_, _, ctx) = demo::festival();
    let state = AdmissionState::new();
    for v in doc["valid"].as_array().unwrap() {
        let text = v["text"].as_str().unwrap();
        let verdict = validate(&manifest, &revocations, &state, &ctx, text);
        assert_eq!(verdict.code(), "admitted", "{}: {verdict:?}", v["name"]);
        let decoded = SignedTicket::from_text(text).unwrap();
        assert_eq!(fields_json(decoded.ticket()), v["fields"], "{}", v["name"]);
        assert_eq!(hex::encode(decoded.bytes()), v["hex"].as_str().unwrap());
    }
    for v in doc["invalid"].as_array().unwrap() {
        let verdict = validate(&manifest, &revocations, &state, &ctx, v["text"].as_str().unwrap());
        let detail = match &verdict {
            Verdict::Malformed(e) => Some(e.code()),
            Verdict::DelegationInvalid(p) => Some(p.code()),
            _ => None,
        };
        assert_eq!(verdict.code(), v["expect"], "{}: {verdict:?}", v["name"]);
        assert_eq!(detail, v["detail"].as_str(), "{}: {verdict:?}", v["name"]);
    }
}

#[test]
fn committed_vectors_match_the_implementation() {
    let doc = build();
    check_verdicts(&doc);
    assert!(doc["invalid"].as_array().unwrap().len() >= 10);
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("VOELGOED_BLESS").is_some() {
        std::fs::write(PATH, &text).unwrap();
    }
    let committed = std::fs::read_to_string(PATH).expect("vectors file missing: run with VOELGOED_BLESS=1");
    assert!(committed == text, "{PATH} differs from what the implementation produces");
}

#[test]
fn spec_prefix_bytes_are_as_documented() {
    assert_eq!(hex::encode(sync_core::ticket::TICKET_DOMAIN), "766f656c676f65642f7469636b65742f763100");
    assert_eq!(
        hex::encode(sync_core::ticket::DELEGATION_DOMAIN),
        "766f656c676f65642f64656c65676174696f6e2f763100"
    );
}
