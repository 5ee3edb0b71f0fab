//! The signed ticket, format v1 (specified byte by byte in docs/ticket-format.md).
//!
//! A ticket is a few claims — event, serial, ticket type, optional validity window, optional
//! seat, optional delegation — followed by one Ed25519 signature over everything before it (header included),
//! behind a domain-separation prefix. It travels as `VG1:` + base45, which a QR code stores in
//! alphanumeric mode and a keyboard-wedge scanner types as printable characters.
//!
//! Decoding ([`SignedTicket::from_text`]) only checks shape; it never trusts a field. Trust comes
//! from [`SignedTicket::verify`], which the validator calls with the event's keys before it
//! reads anything else.
//!
//! - `base45`: the text alphabet (strict, canonical).
//! - `codec`: bytes ⇄ [`Ticket`].
//! - `delegation`: the box-office delegation and the message its signature covers.
//! - `text`: prefix, input cap and whitespace handling.
//! - `error`: [`DecodeError`].
//! - `verify`: signature checks ([`VerifyError`]).

mod base45;
pub(crate) mod codec;
mod delegation;
mod error;
mod text;
mod verify;

pub use base45::Base45Error;
pub use delegation::{Delegation, DelegationGrant};
pub use error::DecodeError;
pub use text::{MAX_INPUT_LEN, PREFIX};
pub use verify::{DelegationProblem, Issuer, VerifyError};

use crate::ids::{EventId, KeyId, SeatNumber, Serial, TicketTypeId, Timestamp};

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
    /// The seat it sells, for a reserved seat: its number in the event's seat map, which
    /// names it ([`crate::seating::SeatMap`]).
    pub seat: Option<SeatNumber>,
    /// Present when a box-office device, not the hub, signed the ticket.
    pub delegation: Option<Delegation>,
}

/// A validity window in whole Unix seconds, both ends inclusive. It never ends before it
/// starts: the constructor refuses that, so no issuer can sign a window every gate rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidityWindow {
    not_before: u32,
    not_after: u32,
}

impl ValidityWindow {
    /// The window from `not_before` to `not_after` (Unix seconds, inclusive); `None` if it
    /// would end before it starts.
    pub fn new(not_before: u32, not_after: u32) -> Option<Self> {
        (not_before <= not_after).then_some(Self { not_before, not_after })
    }
    /// First valid second (Unix seconds).
    pub fn not_before(self) -> u32 {
        self.not_before
    }
    /// Last valid second (Unix seconds, inclusive).
    pub fn not_after(self) -> u32 {
        self.not_after
    }
    /// Start of the window as a [`Timestamp`].
    pub fn start(self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.not_before))
    }
    /// End of the window (the last valid second, inclusive) as a [`Timestamp`].
    pub fn end(self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.not_after))
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
    /// (see [`Self::signed_message`]). Low level and unchecked: issuers use
    /// [`crate::keys::EventKey::issue`] and [`crate::keys::DeviceKey::issue`], which refuse
    /// tickets gates would reject. It is public for tools and tests that must build such
    /// tickets (the invalid test vectors); it cannot make a ticket that verifies without the
    /// right key.
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
