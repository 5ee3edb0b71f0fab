//! The box-office delegation: an event key's grant that lets one device sign tickets.

use super::{DELEGATION_DOMAIN, SIGNATURE_LEN, codec};
use crate::ids::{EventId, KeyId, Serial, TicketTypeId, Timestamp};

/// What an event key grants a device: tickets in `first_serial..=last_serial` of
/// `ticket_types`, admitted until `expires`. These are exactly the fields the delegation's
/// signature covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationGrant {
    /// The device's Ed25519 public key (raw bytes; checked strictly when verifying).
    pub device_key: [u8; 32],
    /// First serial the device may issue.
    pub first_serial: Serial,
    /// Last serial the device may issue (inclusive).
    pub last_serial: Serial,
    /// Unix seconds after which tickets under this delegation are no longer admitted.
    pub expires: u32,
    /// Ticket types the device may issue (1 to [`super::MAX_DELEGATION_TYPES`]).
    pub ticket_types: Vec<TicketTypeId>,
}

impl DelegationGrant {
    /// Whether `serial` lies in the delegated range.
    pub fn covers_serial(&self, serial: Serial) -> bool {
        (self.first_serial..=self.last_serial).contains(&serial)
    }

    /// Expiry as a [`Timestamp`].
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_unix_seconds(i64::from(self.expires))
    }

    /// The delegation made of this grant and the event key's signature over
    /// [`Self::signed_message`].
    pub fn with_signature(self, signature: [u8; SIGNATURE_LEN]) -> Delegation {
        Delegation { grant: self, signature }
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

/// A signed grant, as it rides inside every ticket the device issues — so a gate that never
/// heard of the device can still check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    /// What is granted.
    pub grant: DelegationGrant,
    /// The event key's signature over [`DelegationGrant::signed_message`].
    pub signature: [u8; SIGNATURE_LEN],
}
