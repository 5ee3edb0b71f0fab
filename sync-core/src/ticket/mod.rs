//! The signed ticket, format v1 (specified byte by byte in docs/ticket-format.md).
//!
//! A ticket is a few claims — event, serial, ticket type, optional validity window, optional
//! delegation — followed by one Ed25519 signature over everything before it (header included),
//! behind a domain-separation prefix. It travels as `VG1:` + base45, which a QR code stores in
//! alphanumeric mode and a keyboard-wedge scanner types as printable characters.
//!
//! Decoding ([`SignedTicket::from_text`]) only checks shape; it never trusts a field. Trust comes
//! from [`SignedTicket::verify`], which the validator calls with the event's keys before it
//! reads anything else.
//!
//! - `base45`: the text alphabet (strict, canonical).
//! - `codec`: bytes ⇄ [`Ticket`].
//! - `text`: prefix, input cap and whitespace handling.
//! - `error`: [`DecodeError`].
//! - `verify`: signature checks ([`VerifyError`]).

mod base45;
mod codec;
mod error;
mod text;
mod verify;

pub use base45::Base45Error;
pub use error::DecodeError;
pub use text::{MAX_INPUT_LEN, PREFIX};
pub use verify::{DelegationProblem, Issuer, VerifyError};

use crate::ids::{EventId, KeyId, Serial, TicketTypeId, Timestamp};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Ed25519 signature length.
pub const SIGNATURE_LEN: usize = 64;
/// The most ticket types one delegation may name (keeps a delegated ticket within QR version 10).
pub const MAX_DELEGATION_TYPES: usize = 4;
/// Prefix of the message a ticket signature covers.
pub const TICKET_DOMAIN: &[u8] = b"voelgoed/ticket/v1\0";
/// Prefix of the message a delegation signature covers.
pub const DELEGATION_DOMAIN: &[u8] = b"voelgoed/delegation/v1\0";

/// What a ticket claims. Built by an issuer, signed into a [`SignedTicket`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The event the ticket is for.
    pub event: EventId,
    /// The event key that signed the ticket, or — for a delegated ticket — the delegation.
    pub key_id: KeyId,
    /// Serial number, unique within the event.
    pub serial: Serial,
    /// Ticket type (decides entry policy and allowed gates).
    pub ticket_type: TicketTypeId,
    /// When the ticket may be used; `None` means whenever the event admits.
    pub validity: Option<ValidityWindow>,
    /// Present when a box-office device, not the hub, signed the ticket.
    pub delegation: Option<Delegation>,
}

/// A validity window in whole Unix seconds, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidityWindow {
    /// First second the ticket is valid.
    pub not_before: u32,
    /// Last second the ticket is valid.
    pub not_after: u32,
}

impl ValidityWindow {
    /// Start of the window as a [`Timestamp`].
    pub fn start(self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.not_before))
    }
    /// End of the window (the last valid second, inclusive) as a [`Timestamp`].
    pub fn end(self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.not_after))
    }
}

/// The right of one device to sign tickets for an event, granted by an event key: tickets in
/// `first_serial..=last_serial` of `ticket_types`, until `expires`. It rides inside every ticket
/// the device issues, so a gate that never heard of the device can still check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    /// The device's Ed25519 public key (raw bytes; checked when verifying, not when decoding).
    pub device_key: [u8; 32],
    /// First serial the device may issue.
    pub first_serial: Serial,
    /// Last serial the device may issue (inclusive).
    pub last_serial: Serial,
    /// Unix seconds after which tickets under this delegation are no longer admitted.
    pub expires: u32,
    /// Ticket types the device may issue (1 to [`MAX_DELEGATION_TYPES`]).
    pub ticket_types: Vec<TicketTypeId>,
    /// The event key's signature over the delegation (see [`DELEGATION_DOMAIN`]).
    pub signature: [u8; SIGNATURE_LEN],
}

impl Delegation {
    /// Whether `serial` lies in the delegated range.
    pub fn covers_serial(&self, serial: Serial) -> bool {
        (self.first_serial..=self.last_serial).contains(&serial)
    }
    /// Expiry as a [`Timestamp`].
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.expires))
    }
}

/// A ticket with its signature, as decoded from or encoded to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTicket {
    ticket: Ticket,
    /// The full binary form: claims followed by the signature.
    bytes: Vec<u8>,
}

impl SignedTicket {
    /// The claims. Untrusted until [`SignedTicket::verify`] succeeded.
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// The binary form (docs/ticket-format.md §Layout).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text a QR code or wedge scanner carries: `VG1:` + base45 of [`Self::bytes`].
    pub fn to_text(&self) -> String {
        text::encode(&self.bytes)
    }

    /// Decodes a scanned text; see [`DecodeError`] for what is refused. Tolerates surrounding
    /// whitespace (the CR/LF a wedge scanner sends). Does not verify the signature.
    pub fn from_text(input: &str) -> Result<Self, DecodeError> {
        Self::from_text_bytes(input.as_bytes())
    }

    /// [`Self::from_text`] for raw bytes (a QR code in byte mode, a fuzzer).
    pub fn from_text_bytes(input: &[u8]) -> Result<Self, DecodeError> {
        let bytes = text::decode(input)?;
        Self::from_bytes(bytes)
    }

    /// Decodes the binary form.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        let ticket = codec::decode(&bytes)?;
        Ok(Self { ticket, bytes })
    }

    /// The signature (the last 64 bytes).
    pub fn signature(&self) -> [u8; SIGNATURE_LEN] {
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(&self.bytes[self.bytes.len() - SIGNATURE_LEN..]);
        sig
    }

    /// The exact message the signature covers: [`TICKET_DOMAIN`] followed by every byte before
    /// the signature.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(&self.bytes[..self.bytes.len() - SIGNATURE_LEN])
    }

    /// Encodes `ticket` and signs it with `sign`, which receives the exact message to sign
    /// (see [`Self::signed_message`]). The key types use this; it is public for tools and
    /// tests that must build tickets the key types would refuse to make (test vectors of
    /// invalid tickets). It cannot make a ticket that verifies without the right key.
    pub fn sign_with(ticket: Ticket, sign: impl FnOnce(&[u8]) -> [u8; SIGNATURE_LEN]) -> Self {
        let mut bytes = codec::encode_claims(&ticket);
        let signature = sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature);
        Self { ticket, bytes }
    }
}

/// The text form (`VG1:` + base45) of arbitrary bytes — for tools and tests that need the text
/// of bytes that are not a valid ticket. [`SignedTicket::to_text`] is the normal way.
pub fn encode_text(bytes: &[u8]) -> String {
    text::encode(bytes)
}

fn signed_message(claims: &[u8]) -> Vec<u8> {
    [TICKET_DOMAIN, claims].concat()
}

/// The fields of a delegation that its signature covers, before the signature is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationGrant {
    /// The device's public key.
    pub device_key: [u8; 32],
    /// First serial the device may issue.
    pub first_serial: Serial,
    /// Last serial the device may issue (inclusive).
    pub last_serial: Serial,
    /// Unix seconds after which the tickets are no longer admitted.
    pub expires: u32,
    /// Ticket types the device may issue.
    pub ticket_types: Vec<TicketTypeId>,
}

impl DelegationGrant {
    /// The delegation made of this grant and the event key's signature over
    /// [`Self::signed_message`].
    pub fn with_signature(self, signature: [u8; SIGNATURE_LEN]) -> Delegation {
        let Self { device_key, first_serial, last_serial, expires, ticket_types } = self;
        Delegation { device_key, first_serial, last_serial, expires, ticket_types, signature }
    }

    /// The exact message an event key signs to grant this delegation: [`DELEGATION_DOMAIN`],
    /// event id (u32 BE), key id (u8), then the delegation body exactly as it appears in the
    /// ticket (docs/ticket-format.md §3.2).
    pub fn signed_message(&self, event: EventId, key_id: KeyId) -> Vec<u8> {
        let mut msg = DELEGATION_DOMAIN.to_vec();
        msg.extend_from_slice(&event.0.to_be_bytes());
        msg.push(key_id.0);
        codec::encode_delegation_body(self, &mut msg);
        msg
    }
}

impl From<&Delegation> for DelegationGrant {
    fn from(d: &Delegation) -> Self {
        Self {
            device_key: d.device_key,
            first_serial: d.first_serial,
            last_serial: d.last_serial,
            expires: d.expires,
            ticket_types: d.ticket_types.clone(),
        }
    }
}
