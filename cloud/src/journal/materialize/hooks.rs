//! What journal entries tell webhook partners, written with the entry (materialization runs
//! exactly once per entry, in the transaction that stores it — so each event is queued once):
//!
//! - a scan admitted or re-entering → `ticket.checked_in`; an exit → `ticket.checked_out`;
//!   a single-entry ticket admitted a second time or more → `admission.double`;
//! - a door sale → `door_sale.recorded`;
//! - a void, or the hub's revocation → `ticket.revoked` (a run of serials each);
//! - the hub's lease grant → `lease.granted`.
//!
//! An organization whose endpoints want none of these pays one read of its endpoints per
//! transaction (a sync push of thousands of entries included).

use super::store;
use crate::db::Tenant;
use crate::webhooks::events::{
    DoorSaleEvent, DoubleAdmissionEvent, LeaseEvent, RevokedEvent, ScanEvent, TicketRef,
};
use crate::webhooks::{self, EventType};
use sync_core::journal::{Entry, Payload, PaymentMethod};
use sync_core::revocation::RevocationReason;
use sync_core::verdict::VerdictKind;

/// Queues the webhook events entry `e` causes.
pub(super) async fn entry(tx: &mut Tenant, e: &Entry) -> anyhow::Result<()> {
    let event = i64::from(e.event.0);
    let device = i64::from(e.origin.0);
    match &e.payload {
        Payload::Scan(scan) => {
            let Some(ticket) = scan.ticket else { return Ok(()) };
            let kind = match scan.verdict {
                VerdictKind::Admitted | VerdictKind::ReEntry => EventType::TicketCheckedIn,
                VerdictKind::ExitRecorded => EventType::TicketCheckedOut,
                _ => return Ok(()),
            };
            let ticket = TicketRef { serial: ticket.serial.0, ticket_type: ticket.ticket_type.0 };
            let gate = scan.gate.0;
            if webhooks::wants(tx, kind).await? {
                let data = ScanEvent {
                    event,
                    ticket: ticket.clone(),
                    gate,
                    device,
                    verdict: scan.verdict.code().to_owned(),
                    scanned_at: scan.at.0,
                };
                webhooks::emit(tx, kind, &data).await?;
            }
            if scan.verdict == VerdictKind::Admitted
                && webhooks::wants(tx, EventType::AdmissionDouble).await?
            {
                let admissions = store::single_entry_admissions(tx, event, i64::from(ticket.serial)).await?;
                if admissions > 1 {
                    let data = DoubleAdmissionEvent {
                        event,
                        ticket,
                        admissions,
                        gate,
                        device,
                        scanned_at: scan.at.0,
                    };
                    webhooks::emit(tx, EventType::AdmissionDouble, &data).await?;
                }
            }
        }
        Payload::DoorSale(sale) if webhooks::wants(tx, EventType::DoorSaleRecorded).await? => {
            let data = DoorSaleEvent {
                event,
                device,
                receipt: sale.receipt,
                tickets: sale
                    .serials
                    .iter()
                    .map(|s| TicketRef { serial: s.0, ticket_type: sale.ticket_type.0 })
                    .collect(),
                total_minor: sale.total_minor,
                currency: sale.currency.clone(),
                payment: match sale.payment {
                    PaymentMethod::Cash => "cash",
                    PaymentMethod::Card { .. } => "card",
                    PaymentMethod::Comp { .. } => "comp",
                }
                .to_owned(),
            };
            webhooks::emit(tx, EventType::DoorSaleRecorded, &data).await?;
        }
        Payload::Void(void) if webhooks::wants(tx, EventType::TicketRevoked).await? => {
            let serials: Vec<u32> = void.serials.iter().map(|s| s.0).collect();
            let events: Vec<RevokedEvent> = crate::journal::runs(&serials)
                .into_iter()
                .map(|(first, last)| RevokedEvent {
                    event,
                    first_serial: first,
                    last_serial: last,
                    reason: "voided".into(),
                })
                .collect();
            webhooks::emit_all(tx, EventType::TicketRevoked, &events).await?;
        }
        Payload::Revocation(r) if webhooks::wants(tx, EventType::TicketRevoked).await? => {
            let data = RevokedEvent {
                event,
                first_serial: r.first.0,
                last_serial: r.last.0,
                reason: reason(r.reason).into(),
            };
            webhooks::emit(tx, EventType::TicketRevoked, &data).await?;
        }
        Payload::LeaseGrant(g) if webhooks::wants(tx, EventType::LeaseGranted).await? => {
            let data = LeaseEvent {
                event,
                lease: i64::try_from(g.lease.0)?,
                device: i64::from(g.device.0),
                ticket_type: g.ticket_type.0,
                first_serial: g.first_serial.0,
                last_serial: g.last_serial.0,
                expires_at: g.expires.0,
            };
            webhooks::emit(tx, EventType::LeaseGranted, &data).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A revocation's reason, as webhooks name it.
fn reason(r: RevocationReason) -> &'static str {
    match r {
        RevocationReason::Refunded => "refunded",
        RevocationReason::Cancelled => "cancelled",
        RevocationReason::Reissued => "reissued",
        RevocationReason::Voided => "voided",
        RevocationReason::Blocked => "blocked",
        RevocationReason::DeviceLost => "device_lost",
    }
}
