//! The outcome of one scan, with everything the screen and the journal need.

use crate::admission::{Scan, ScanRecord, Stamp};
use crate::ids::{EventId, GateId, KeyId, SeatNumber, Serial, TicketTypeId, Timestamp};
use crate::manifest::{Direction, EntryPolicy};
use crate::revocation::RevocationReason;
use crate::ticket::{DecodeError, DelegationProblem, Issuer};
use crate::validate::ScanContext;
use serde::{Deserialize, Serialize};

/// The verified facts of a ticket that a verdict refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketRef {
    /// The serial.
    pub serial: Serial,
    /// The ticket type.
    pub ticket_type: TicketTypeId,
    /// The type's entry policy, when the device's manifest knows the type.
    pub policy: Option<EntryPolicy>,
    /// Who signed it (the hub, or a box-office device).
    pub issuer: Issuer,
    /// Its reserved seat, if it has one.
    pub seat: Option<SeatNumber>,
}

/// What a gate decided about one scan. The three "pass" verdicts ([`Verdict::Admitted`],
/// [`Verdict::ReEntry`], [`Verdict::ExitRecorded`]) move someone and are journaled; every other
/// verdict refuses and moves nobody.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// First entry.
    Admitted {
        /// The ticket.
        ticket: TicketRef,
    },
    /// Entry of a ticket that has been in before (multi-entry, or back after an exit).
    ReEntry {
        /// The ticket.
        ticket: TicketRef,
        /// The exit it is coming back from, if one was scanned.
        last_exit: Option<ScanRecord>,
    },
    /// Exit scanned.
    ExitRecorded {
        /// The ticket.
        ticket: TicketRef,
    },
    /// Entry refused: the ticket is already inside (single entry: it was used).
    AlreadyInside {
        /// The ticket.
        ticket: TicketRef,
        /// Its first admission.
        first_entry: ScanRecord,
        /// The entry it is inside since: the first admission for a single-entry ticket, the
        /// latest entry for an exit-and-re-entry ticket.
        since: ScanRecord,
    },
    /// The serial was revoked.
    Revoked {
        /// The ticket.
        ticket: TicketRef,
        /// Why.
        reason: RevocationReason,
    },
    /// A ticket of another event (unverified claim: this device holds no keys of that event).
    WrongEvent {
        /// The event the ticket names.
        event: EventId,
    },
    /// This device's gate is not part of the event or does not serve this direction: a setup
    /// problem of the device, not of the ticket.
    WrongGate {
        /// The device's gate.
        gate: GateId,
        /// The direction scanned.
        direction: Direction,
    },
    /// The ticket type may not use this gate.
    TypeNotAllowedAtGate {
        /// The ticket.
        ticket: TicketRef,
        /// The gate scanned at.
        gate: GateId,
    },
    /// Too early: the validity window has not begun (beyond the tolerance).
    NotYetValid {
        /// The ticket.
        ticket: TicketRef,
        /// When it becomes valid.
        valid_from: Timestamp,
    },
    /// Too late: the validity window has ended (beyond the tolerance).
    Expired {
        /// The ticket.
        ticket: TicketRef,
        /// When it stopped being valid.
        valid_until: Timestamp,
    },
    /// Signed with a key this device does not know (possibly newer than its last sync).
    UnknownKey {
        /// The key id named.
        key_id: KeyId,
    },
    /// A genuine ticket of a type this device's manifest does not list (stale manifest).
    UnknownTicketType {
        /// The ticket.
        ticket: TicketRef,
    },
    /// The signature does not verify: forged, altered or signed for another event.
    BadSignature,
    /// Not a well-formed ticket.
    Malformed(DecodeError),
    /// A box-office ticket whose delegation does not allow it.
    DelegationInvalid(DelegationProblem),
}

impl Verdict {
    /// The verdict's kind: what is journaled for every scan.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Self::Admitted { .. } => VerdictKind::Admitted,
            Self::ReEntry { .. } => VerdictKind::ReEntry,
            Self::ExitRecorded { .. } => VerdictKind::ExitRecorded,
            Self::AlreadyInside { .. } => VerdictKind::AlreadyInside,
            Self::Revoked { .. } => VerdictKind::Revoked,
            Self::WrongEvent { .. } => VerdictKind::WrongEvent,
            Self::WrongGate { .. } => VerdictKind::WrongGate,
            Self::TypeNotAllowedAtGate { .. } => VerdictKind::TypeNotAllowedAtGate,
            Self::NotYetValid { .. } => VerdictKind::NotYetValid,
            Self::Expired { .. } => VerdictKind::Expired,
            Self::UnknownKey { .. } => VerdictKind::UnknownKey,
            Self::UnknownTicketType { .. } => VerdictKind::UnknownTicketType,
            Self::BadSignature => VerdictKind::BadSignature,
            Self::Malformed(_) => VerdictKind::Malformed,
            Self::DelegationInvalid(_) => VerdictKind::DelegationInvalid,
        }
    }

    /// A stable code for journals, logs and the API.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Whether the person may pass.
    pub fn passes(&self) -> bool {
        self.movement().is_some()
    }

    /// The direction this verdict moves the ticket, if it passes.
    pub fn movement(&self) -> Option<Direction> {
        self.kind().movement()
    }

    /// The verified ticket the verdict is about, if it got that far.
    pub fn ticket(&self) -> Option<&TicketRef> {
        match self {
            Self::Admitted { ticket }
            | Self::ReEntry { ticket, .. }
            | Self::ExitRecorded { ticket }
            | Self::AlreadyInside { ticket, .. }
            | Self::Revoked { ticket, .. }
            | Self::TypeNotAllowedAtGate { ticket, .. }
            | Self::NotYetValid { ticket, .. }
            | Self::Expired { ticket, .. }
            | Self::UnknownTicketType { ticket } => Some(ticket),
            _ => None,
        }
    }

    /// The scan to journal and then record in the admission state, for a passing verdict:
    /// made in `ctx`, placed in the journal at `stamp`.
    pub fn scan(&self, ctx: &ScanContext, stamp: Stamp) -> Option<Scan> {
        let direction = self.movement()?;
        let ticket = self.ticket()?;
        Some(Scan {
            serial: ticket.serial,
            ticket_type: ticket.ticket_type,
            policy: ticket.policy,
            direction,
            record: ScanRecord { at: ctx.now, device: ctx.device, gate: ctx.gate },
            stamp,
        })
    }
}

/// The kind of a [`Verdict`], without its details: compact enough to journal with every scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is the verdict of the same name
pub enum VerdictKind {
    Admitted,
    ReEntry,
    ExitRecorded,
    AlreadyInside,
    Revoked,
    WrongEvent,
    WrongGate,
    TypeNotAllowedAtGate,
    NotYetValid,
    Expired,
    UnknownKey,
    UnknownTicketType,
    BadSignature,
    Malformed,
    DelegationInvalid,
}

impl VerdictKind {
    /// The stable code ("admitted", "already_inside", …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Admitted => "admitted",
            Self::ReEntry => "re_entry",
            Self::ExitRecorded => "exit_recorded",
            Self::AlreadyInside => "already_inside",
            Self::Revoked => "revoked",
            Self::WrongEvent => "wrong_event",
            Self::WrongGate => "wrong_gate",
            Self::TypeNotAllowedAtGate => "type_not_allowed_at_gate",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::UnknownKey => "unknown_key",
            Self::UnknownTicketType => "unknown_ticket_type",
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
            Self::DelegationInvalid => "delegation_invalid",
        }
    }

    /// The direction a verdict of this kind moves a ticket, if it passes.
    pub fn movement(self) -> Option<Direction> {
        match self {
            Self::Admitted | Self::ReEntry => Some(Direction::Entry),
            Self::ExitRecorded => Some(Direction::Exit),
            _ => None,
        }
    }
}
