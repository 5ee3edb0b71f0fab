//! Signature checks: the only way a decoded ticket becomes trusted.
//!
//! A hub-issued ticket is signed by an event key. A delegated ticket is signed by a device key,
//! and carries the delegation, signed by an event key, that lets that device sign this serial
//! and type. Both use `verify_strict`, which also refuses non-canonical signatures and
//! small-order (weak) public keys.

use super::SignedTicket;
use crate::ids::{Serial, TicketTypeId, Timestamp};
use crate::keys::strict_public_key;
use ed25519_dalek::{Signature, VerifyingKey};
use thiserror::Error;

/// Why a well-formed ticket is not trusted.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The ticket's signature does not verify: forged, altered or for another event.
    #[error("the signature does not match the ticket")]
    BadSignature,
    /// The delegation inside a device-issued ticket does not allow this ticket.
    #[error("box-office delegation invalid: {0}")]
    Delegation(DelegationProblem),
}

/// What is wrong with a delegation.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DelegationProblem {
    /// The delegation was not signed by this event's key.
    #[error("not signed by a valid key of this event")]
    BadSignature,
    /// The delegated device key is not a usable Ed25519 public key (not a canonically encoded
    /// curve point, or a weak small-order one).
    #[error("the device key is not a valid public key")]
    InvalidDeviceKey,
    /// The delegation ran out before the scan.
    #[error("expired at {expires}")]
    Expired {
        /// When it expired.
        expires: Timestamp,
    },
    /// The serial lies outside the range the device was given.
    #[error("serial {serial} is outside the delegated range {first}–{last}")]
    SerialOutOfRange {
        /// The ticket's serial.
        serial: Serial,
        /// First delegated serial.
        first: Serial,
        /// Last delegated serial.
        last: Serial,
    },
    /// The device may not issue this ticket type.
    #[error("ticket type {0} is not delegated to the device")]
    TypeNotAllowed(TicketTypeId),
}

impl DelegationProblem {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature => "delegation_bad_signature",
            Self::InvalidDeviceKey => "delegation_invalid_device_key",
            Self::Expired { .. } => "delegation_expired",
            Self::SerialOutOfRange { .. } => "delegation_serial_out_of_range",
            Self::TypeNotAllowed(_) => "delegation_type_not_allowed",
        }
    }
}

/// Who signed a verified ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issuer {
    /// The hub, with an event key.
    Hub,
    /// A box-office device under a delegation; its public key.
    Device([u8; 32]),
}

impl SignedTicket {
    /// Checks the signatures with `event_key` (the event key named by the ticket's key id) and,
    /// for a delegated ticket, that the delegation covers its serial and type. Expiry needs the
    /// clock and is checked by the validator.
    pub fn verify(&self, event_key: &VerifyingKey) -> Result<Issuer, VerifyError> {
        let signature = Signature::from_bytes(&self.signature());
        let t = self.ticket();
        let Some(d) = &t.delegation else {
            event_key
                .verify_strict(&self.signed_message(), &signature)
                .map_err(|_| VerifyError::BadSignature)?;
            return Ok(Issuer::Hub);
        };
        let problem = VerifyError::Delegation;
        let g = &d.grant;
        let grant_msg = g.signed_message(t.event, t.key_id);
        event_key
            .verify_strict(&grant_msg, &Signature::from_bytes(&d.signature))
            .map_err(|_| problem(DelegationProblem::BadSignature))?;
        let device_key =
            strict_public_key(&g.device_key).ok_or(problem(DelegationProblem::InvalidDeviceKey))?;
        device_key
            .verify_strict(&self.signed_message(), &signature)
            .map_err(|_| VerifyError::BadSignature)?;
        if !g.covers_serial(t.serial) {
            return Err(problem(DelegationProblem::SerialOutOfRange {
                serial: t.serial,
                first: g.first_serial,
                last: g.last_serial,
            }));
        }
        if !g.ticket_types.contains(&t.ticket_type) {
            return Err(problem(DelegationProblem::TypeNotAllowed(t.ticket_type)));
        }
        Ok(Issuer::Device(g.device_key))
    }
}
