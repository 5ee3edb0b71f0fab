//! The gate pipeline: scanned text → verdict, with the scan durable before the verdict shows.

use super::{Replica, ReplicaError};
use crate::admission::DoubleAdmission;
use crate::ids::{EventId, Timestamp};
use crate::journal::{Payload, ScanEntry, ScannedTicket};
use crate::manifest::Direction;
use crate::validate::{ScanContext, validate};
use crate::verdict::Verdict;
use std::sync::Arc;

/// A code seen again within this many milliseconds of its last sighting, at the same gate and
/// direction, is the same scan: a camera sees one QR code in many consecutive frames, and a
/// hardware scanner's trigger can bounce. The earlier verdict is returned and nothing new is
/// journaled.
pub const DEBOUNCE_MS: i64 = 2_000;

pub(crate) struct LastScan {
    text: String,
    event: EventId,
    gate: crate::ids::GateId,
    direction: Direction,
    seen: Timestamp,
    verdict: Verdict,
}

/// One event's gate on this device.
#[derive(Clone)]
pub struct Gate {
    replica: Arc<Replica>,
    event: EventId,
}

impl Gate {
    pub(crate) fn new(replica: Arc<Replica>, event: EventId) -> Self {
        Self { replica, event }
    }

    /// Decodes and validates `text`, commits the scan to the journal (`synchronous=FULL`) and
    /// only then returns the verdict. The context's device is this replica's. On `Err` nothing
    /// was recorded and no verdict may be shown.
    pub fn scan(&self, text: &str, ctx: &ScanContext) -> Result<Verdict, ReplicaError> {
        let ctx = ScanContext { device: self.replica.device(), ..*ctx };
        let mut inner = self.replica.lock();
        if let Some(last) = &mut inner.last_scan
            && last.text == text
            && last.event == self.event
            && last.gate == ctx.gate
            && last.direction == ctx.direction
            && (0..=DEBOUNCE_MS).contains(&(ctx.now.0 - last.seen.0))
        {
            last.seen = ctx.now;
            return Ok(last.verdict.clone());
        }
        let super::Inner { manifests, events, .. } = &mut *inner;
        let state = events.entry(self.event).or_default();
        // A manifest the hub published through the journal wins over one set locally.
        let manifest = state
            .manifest
            .as_ref()
            .map(|(_, m)| m)
            .or_else(|| manifests.get(&self.event))
            .ok_or(ReplicaError::NoManifest(self.event))?;
        let verdict = validate(manifest, &state.revocations, &state.admission, &ctx, text);
        let payload = Payload::Scan(ScanEntry {
            gate: ctx.gate,
            direction: ctx.direction,
            at: ctx.now,
            verdict: verdict.kind(),
            ticket: verdict.ticket().map(|t| ScannedTicket {
                serial: t.serial,
                ticket_type: t.ticket_type,
                policy: t.policy,
            }),
        });
        inner.append_local(ctx.device, self.event, payload, ctx.now)?;
        inner.last_scan = Some(LastScan {
            text: text.to_owned(),
            event: self.event,
            gate: ctx.gate,
            direction: ctx.direction,
            seen: ctx.now,
            verdict: verdict.clone(),
        });
        drop(inner);
        self.replica.notify();
        Ok(verdict)
    }

    /// Every double admission the merged journal shows for this event.
    pub fn double_admissions(&self) -> Vec<DoubleAdmission> {
        self.replica.with_event_state(self.event, |s| s.admission.double_admissions().copied().collect())
    }

    /// (admitted, inside now) for this event.
    pub fn counts(&self) -> (usize, usize) {
        self.replica
            .with_event_state(self.event, |s| (s.admission.admitted_count(), s.admission.inside_count()))
    }
}
