//! Bytes ⇄ [`Ticket`]: the v1 layout (docs/ticket-format.md §Layout). All integers big-endian.
//!
//! ```text
//! version u8 | flags u8 | key_id u8 | event u32 | serial u32 | type u16
//! [flags & 1] not_before u32 | not_after u32
//! [flags & 4] seat u16
//! [flags & 2] device_key [32] | first_serial u32 | last_serial u32 | expires u32
//!             | type_count u8 | types u16 × type_count | delegation_signature [64]
//! signature [64]
//! ```
//!
//! The decoder reads through a cursor that can only hand out bytes it has, so no input can make
//! it index out of bounds or allocate more than the input; indexing and unwrapping are denied
//! here by lint to keep it that way.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use super::{
    DecodeError, Delegation, DelegationGrant, FORMAT_VERSION, MAX_DELEGATION_TYPES, SIGNATURE_LEN, Ticket,
    ValidityWindow,
};
use crate::ids::{EventId, KeyId, SeatNumber, Serial, TicketTypeId};

/// Flag bit: a validity window follows the fixed header.
pub(crate) const FLAG_VALIDITY: u8 = 0b01;
/// Flag bit: a delegation follows (after the validity window and seat, if any).
pub(crate) const FLAG_DELEGATION: u8 = 0b10;
/// Flag bit: a seat number follows (after the validity window, if any).
pub(crate) const FLAG_SEAT: u8 = 0b100;

/// Encodes everything a ticket signature covers (all but the signature itself).
pub(crate) fn encode_claims(t: &Ticket) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut flags = 0;
    if t.validity.is_some() {
        flags |= FLAG_VALIDITY;
    }
    if t.delegation.is_some() {
        flags |= FLAG_DELEGATION;
    }
    if t.seat.is_some() {
        flags |= FLAG_SEAT;
    }
    out.extend_from_slice(&[FORMAT_VERSION, flags, t.key_id.0]);
    out.extend_from_slice(&t.event.0.to_be_bytes());
    out.extend_from_slice(&t.serial.0.to_be_bytes());
    out.extend_from_slice(&t.ticket_type.0.to_be_bytes());
    if let Some(w) = t.validity {
        out.extend_from_slice(&w.not_before().to_be_bytes());
        out.extend_from_slice(&w.not_after().to_be_bytes());
    }
    if let Some(seat) = t.seat {
        out.extend_from_slice(&seat.0.to_be_bytes());
    }
    if let Some(d) = &t.delegation {
        encode_delegation_body(&d.grant, &mut out);
        out.extend_from_slice(&d.signature);
    }
    out
}

/// Encodes the signed body of a delegation (everything but its signature).
pub(crate) fn encode_delegation_body(g: &DelegationGrant, out: &mut Vec<u8>) {
    out.extend_from_slice(&g.device_key);
    out.extend_from_slice(&g.first_serial.0.to_be_bytes());
    out.extend_from_slice(&g.last_serial.0.to_be_bytes());
    out.extend_from_slice(&g.expires.to_be_bytes());
    // Callers keep the count within MAX_DELEGATION_TYPES (checked when a grant is signed), so
    // the narrowing cannot truncate.
    out.push(u8::try_from(g.ticket_types.len()).unwrap_or(u8::MAX));
    for t in &g.ticket_types {
        out.extend_from_slice(&t.0.to_be_bytes());
    }
}

/// A signed delegation on its own (how a lease carries it to the box office):
/// `key_id u8 | event u32 | delegation body | delegation_signature [64]`.
pub(crate) fn encode_signed_delegation(key_id: KeyId, event: EventId, d: &Delegation) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(key_id.0);
    out.extend_from_slice(&event.0.to_be_bytes());
    encode_delegation_body(&d.grant, &mut out);
    out.extend_from_slice(&d.signature);
    out
}

/// Decodes [`encode_signed_delegation`]'s form, checking shape only.
pub(crate) fn decode_signed_delegation(bytes: &[u8]) -> Result<(KeyId, EventId, Delegation), DecodeError> {
    let mut r = Reader(bytes);
    let key_id = KeyId(r.u8("key id")?);
    let event = EventId(r.u32("event id")?);
    let delegation = decode_delegation(&mut r)?;
    if !r.0.is_empty() {
        return Err(DecodeError::TrailingBytes { count: r.0.len() });
    }
    Ok((key_id, event, delegation))
}

/// Decodes the binary form, checking shape only (no signature, no field trusted).
pub(crate) fn decode(bytes: &[u8]) -> Result<Ticket, DecodeError> {
    let mut r = Reader(bytes);
    let version = r.u8("version")?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let flags = r.u8("flags")?;
    if flags & !(FLAG_VALIDITY | FLAG_DELEGATION | FLAG_SEAT) != 0 {
        return Err(DecodeError::UnknownFlags(flags));
    }
    let key_id = KeyId(r.u8("key id")?);
    let event = EventId(r.u32("event id")?);
    let serial = Serial(r.u32("serial")?);
    let ticket_type = TicketTypeId(r.u16("ticket type")?);
    let validity = if flags & FLAG_VALIDITY == 0 {
        None
    } else {
        let not_before = r.u32("validity window")?;
        let not_after = r.u32("validity window")?;
        Some(ValidityWindow::new(not_before, not_after).ok_or(DecodeError::InvalidValidityWindow)?)
    };
    let seat = if flags & FLAG_SEAT == 0 { None } else { Some(SeatNumber(r.u16("seat")?)) };
    let delegation = if flags & FLAG_DELEGATION == 0 { None } else { Some(decode_delegation(&mut r)?) };
    r.array::<SIGNATURE_LEN>("signature")?;
    if !r.0.is_empty() {
        return Err(DecodeError::TrailingBytes { count: r.0.len() });
    }
    Ok(Ticket { event, key_id, serial, ticket_type, validity, seat, delegation })
}

fn decode_delegation(r: &mut Reader<'_>) -> Result<Delegation, DecodeError> {
    let device_key = r.array::<32>("delegation device key")?;
    let first_serial = Serial(r.u32("delegation serial range")?);
    let last_serial = Serial(r.u32("delegation serial range")?);
    if last_serial < first_serial {
        return Err(DecodeError::InvalidDelegationRange);
    }
    let expires = r.u32("delegation expiry")?;
    let count = r.u8("delegation type count")?;
    if count == 0 || usize::from(count) > MAX_DELEGATION_TYPES {
        return Err(DecodeError::InvalidDelegationTypeCount { count });
    }
    let mut ticket_types = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        ticket_types.push(TicketTypeId(r.u16("delegation ticket types")?));
    }
    let grant = DelegationGrant { device_key, first_serial, last_serial, expires, ticket_types };
    Ok(grant.with_signature(r.array::<SIGNATURE_LEN>("delegation signature")?))
}

/// A cursor over the input that fails, naming the field, instead of reading past the end.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(DecodeError::Truncated { field })?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array(field)?))
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }
}
