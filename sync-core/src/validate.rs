//! The validator: one pure function from (event knowledge, scan) to a verdict.
//!
//! No IO, no clock: everything arrives as an argument, so the same inputs always give the same
//! verdict and every case is a plain unit test. The caller (the gate pipeline) journals the
//! scan of a passing verdict durably and then records it in the admission state.
//!
//! Order of checks — the first failing check decides, and nothing read from the ticket is used
//! before its signature is verified except the event id and key id needed to pick the key:
//! 1. the text decodes (`Malformed`);
//! 2. this device's gate exists and serves this direction (`WrongGate`, a setup problem);
//! 3. the ticket names this event (`WrongEvent`) and a key the device knows (`UnknownKey`);
//! 4. signatures and delegation scope (`BadSignature`, `DelegationInvalid`);
//! 5. an exit of a genuine ticket is recorded here (`ExitRecorded`): nobody is held in;
//! 6. revocation, delegation expiry, validity window (with the clock-skew tolerance);
//! 7. the ticket type is known and may use this gate;
//! 8. the entry policy against the admission state.

use crate::admission::AdmissionState;
use crate::ids::{DeviceId, GateId, Timestamp};
use crate::manifest::{Direction, EntryPolicy, EventManifest};
use crate::revocation::RevocationSet;
use crate::ticket::{DelegationProblem, SignedTicket, VerifyError};
use crate::verdict::{TicketRef, Verdict};

/// Where, when and by whom a scan is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanContext {
    /// The scanning device.
    pub device: DeviceId,
    /// The gate the device is set to.
    pub gate: GateId,
    /// Entry or exit.
    pub direction: Direction,
    /// The device's clock at the scan.
    pub now: Timestamp,
}

/// Decides what a scanned text means at this gate, now.
pub fn validate(
    manifest: &EventManifest,
    revocations: &RevocationSet,
    state: &AdmissionState,
    ctx: &ScanContext,
    text: &str,
) -> Verdict {
    match SignedTicket::from_text(text) {
        Ok(ticket) => validate_ticket(manifest, revocations, state, ctx, &ticket),
        Err(e) => Verdict::Malformed(e),
    }
}

/// [`validate`] for a ticket already decoded.
pub fn validate_ticket(
    manifest: &EventManifest,
    revocations: &RevocationSet,
    state: &AdmissionState,
    ctx: &ScanContext,
    signed: &SignedTicket,
) -> Verdict {
    if !manifest.gate(ctx.gate).is_some_and(|g| g.serves.allows(ctx.direction)) {
        return Verdict::WrongGate { gate: ctx.gate, direction: ctx.direction };
    }
    let t = signed.ticket();
    if t.event != manifest.event {
        return Verdict::WrongEvent { event: t.event };
    }
    let Some(key) = manifest.key(t.key_id) else {
        return Verdict::UnknownKey { key_id: t.key_id };
    };
    let issuer = match signed.verify(key) {
        Ok(issuer) => issuer,
        Err(VerifyError::BadSignature) => return Verdict::BadSignature,
        Err(VerifyError::Delegation(problem)) => return Verdict::DelegationInvalid(problem),
    };
    let spec = manifest.ticket_type(t.ticket_type);
    let policy = spec.map(|s| s.entry_policy);
    let ticket = TicketRef { serial: t.serial, ticket_type: t.ticket_type, policy, issuer, seat: t.seat };
    // Nobody is held in: a genuine ticket of this event always leaves, whatever its window,
    // revocation or gate rules say, and the exit is recorded so the inside count stays true.
    if ctx.direction == Direction::Exit {
        return Verdict::ExitRecorded { ticket };
    }

    if let Some(reason) = revocations.lookup(t.serial) {
        return Verdict::Revoked { ticket, reason };
    }
    let tolerance = i64::from(manifest.clock_skew_tolerance_secs);
    let now = ctx.now.unix_seconds();
    if let Some(d) = &t.delegation
        && now > i64::from(d.grant.expires) + tolerance
    {
        return Verdict::DelegationInvalid(DelegationProblem::Expired { expires: d.grant.expires_at() });
    }
    if let Some(w) = t.validity {
        if now < i64::from(w.not_before()) - tolerance {
            return Verdict::NotYetValid { ticket, valid_from: w.start() };
        }
        if now > i64::from(w.not_after()) + tolerance {
            return Verdict::Expired { ticket, valid_until: w.end() };
        }
    }

    let Some(spec) = spec else {
        return Verdict::UnknownTicketType { ticket };
    };
    if !spec.allows_gate(ctx.gate) {
        return Verdict::TypeNotAllowedAtGate { ticket, gate: ctx.gate };
    }
    admit(spec.entry_policy, state, ticket)
}

/// An entry against the entry policy and the admission state.
fn admit(policy: EntryPolicy, state: &AdmissionState, ticket: TicketRef) -> Verdict {
    // Fast path: one bit says the serial was never admitted, the common case at a gate.
    if !state.was_admitted(ticket.serial) {
        return Verdict::Admitted { ticket };
    }
    // `record` sets the bit only together with the first entry, so both are present here.
    let Some((history, first_entry)) = state.serial(ticket.serial).and_then(|h| Some((h, h.first_entry?)))
    else {
        return Verdict::Admitted { ticket };
    };
    match (policy, history.latest) {
        (EntryPolicy::SingleEntry, _) => Verdict::AlreadyInside { ticket, first_entry, since: first_entry },
        (EntryPolicy::ExitReentry, Some((since, Direction::Entry))) => {
            Verdict::AlreadyInside { ticket, first_entry, since }
        }
        (_, latest) => Verdict::ReEntry {
            ticket,
            last_exit: latest.and_then(|(r, d)| (d == Direction::Exit).then_some(r)),
        },
    }
}
