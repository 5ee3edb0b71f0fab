//! An evening's check-ins from many gates, reaching the hub through its sync endpoint.
//!
//! Each gate records its share of the scans in its own replica as journal entries
//! (`Replica::record_all`, 1,000 per transaction) instead of deciding each code: the entries
//! are what a gate writes once it has decided, and deciding a million codes one at a time, each
//! committed on its own, would take this machine far longer than what the run measures. Every
//! ticket is admitted once; some passes go out and come back in.
//!
//! Then each gate pushes its entries through the signed sync endpoint, 2,000 per request, as a
//! gate coming back from a day offline does; the hub stores and materializes them as it does
//! any gate's. Unlike a real gate these do not take the other gates' entries in return (a
//! million entries to each of 200 gates is not what is measured): each request says it holds
//! what the hub acknowledged last.

use crate::fleet::Device;
use anyhow::{Context, ensure};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::sync::Arc;
use sync_core::Timestamp;
use sync_core::ids::{EventId, Serial, TicketTypeId};
use sync_core::journal::{Entry, Payload, ScanEntry, ScannedTicket};
use sync_core::manifest::{Direction, EntryPolicy};
use sync_core::sync::engine::BATCH;
use sync_core::sync::message::Parent;
use sync_core::sync::{SyncRequest, SyncStore, Transport};
use sync_core::verdict::VerdictKind;

/// Entries a gate commits in one transaction while recording.
const RECORD_CHUNK: usize = 1_000;

/// A sold ticket, as a gate reads it.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    /// Its serial.
    pub serial: u32,
    /// Its ticket type's number.
    pub ticket_type: u16,
    /// How it may pass.
    pub policy: EntryPolicy,
}

/// The evening: every ticket admitted, then `exits` passes (of those that may leave and come
/// back) leaving, then `reentries` of them coming back, between `doors` and `now`.
#[derive(Clone, Copy, Debug)]
pub struct Evening {
    /// Passes that go out.
    pub exits: usize,
    /// Of those, how many come back in.
    pub reentries: usize,
    /// When the doors opened.
    pub doors: Timestamp,
    /// Now: the last scan.
    pub now: Timestamp,
}

/// The scans of the evening, dealt to `gates` gates (ticket `i` to gate `i % gates`, so each
/// ticket's movements are in one gate's log, in order): per gate, its entries, then its exits,
/// then its re-entries, each phase spread evenly over its part of the evening. The gate of a
/// scan is filled in by [`record`].
pub fn scans(tickets: &[Ticket], gates: usize, evening: Evening) -> anyhow::Result<Vec<Vec<ScanEntry>>> {
    let leaving: Vec<&Ticket> =
        tickets.iter().filter(|t| t.policy == EntryPolicy::ExitReentry).take(evening.exits).collect();
    ensure!(leaving.len() == evening.exits, "only {} tickets may go out and back in", leaving.len());
    ensure!(evening.reentries <= evening.exits, "more re-entries than exits");
    let span = evening.now.0 - evening.doors.0;
    // Entries over the first half of the evening, exits over the next 30 %, re-entries the
    // rest (from and to in thousandths of the evening).
    let phases: [(&[&Ticket], Direction, VerdictKind, i64, i64); 3] = [
        (&tickets.iter().collect::<Vec<_>>(), Direction::Entry, VerdictKind::Admitted, 0, 500),
        (&leaving, Direction::Exit, VerdictKind::ExitRecorded, 500, 800),
        (&leaving[..evening.reentries], Direction::Entry, VerdictKind::ReEntry, 800, 1000),
    ];
    let mut out = vec![Vec::new(); gates.max(1)];
    for (phase, direction, verdict, from, to) in phases {
        let len = i64::try_from(phase.len().max(1))?;
        for (i, t) in phase.iter().enumerate() {
            let thousandths = from * len + (to - from) * i64::try_from(i)?; // × len
            let at = Timestamp(evening.doors.0 + span / 1000 * thousandths / len);
            out[t.serial as usize % gates.max(1)].push(ScanEntry {
                gate: sync_core::ids::GateId(0),
                direction,
                at,
                verdict,
                ticket: Some(ScannedTicket {
                    serial: Serial(t.serial),
                    ticket_type: TicketTypeId(t.ticket_type),
                    policy: Some(t.policy),
                }),
            });
        }
    }
    Ok(out)
}

/// Records `scans` in `device`'s journal for `event`, at its gate.
pub async fn record(device: &Arc<Device>, event: EventId, scans: Vec<ScanEntry>) -> anyhow::Result<()> {
    let device = Arc::clone(device);
    tokio::task::spawn_blocking(move || {
        let gate = device.gate;
        let mut scans = scans.into_iter().map(|s| Payload::Scan(ScanEntry { gate, ..s })).peekable();
        while scans.peek().is_some() {
            let chunk: Vec<Payload> = scans.by_ref().take(RECORD_CHUNK).collect();
            device.replica.record_all(event, chunk).with_context(|| format!("{}: recording", device.name))?;
        }
        anyhow::Ok(())
    })
    .await?
}

/// Pushes every entry `device` recorded itself to the hub (see the module's overview).
/// Returns how many.
pub async fn push_own(device: &Device) -> anyhow::Result<u64> {
    let me = device.id();
    let total = device.recorded();
    let mut claimed = device.replica.have();
    let mut previous: Option<Entry> = None;
    let mut sent = 0;
    let tip = match total {
        0 => None,
        n => SyncStore::entries_after(&*device.replica, me, n - 1, 1).await?.pop().map(|e| Parent {
            origin: me,
            seq: e.seq,
            digest: e.digest(),
        }),
    };
    while sent < total {
        let entries = SyncStore::entries_after(&*device.replica, me, sent, BATCH).await?;
        ensure!(!entries.is_empty(), "{}: entries after {sent} missing", device.name);
        let parents: Vec<Parent> =
            previous.iter().map(|p| Parent { origin: me, seq: p.seq, digest: p.digest() }).collect();
        let count = entries.len() as u64;
        previous = entries.last().cloned();
        let request = SyncRequest {
            restart: sent == 0,
            have: claimed.clone(),
            entries,
            parents,
            tip,
            docs: Vec::new(),
            wait_ms: 0,
        };
        let response =
            device.transport.exchange(request).await.with_context(|| format!("{}: pushing", device.name))?;
        sent += count;
        ensure!(
            response.have.get(me) == sent,
            "{}: the hub acknowledged {} of {sent} entries",
            device.name,
            response.have.get(me)
        );
        claimed = response.have;
        claimed.advance(me, total);
    }
    Ok(sent)
}

/// Records and pushes the evening on `devices`, `parallel` gates at a time. Returns the
/// entries pushed.
pub async fn scan_and_push(
    devices: &[Arc<Device>],
    event: EventId,
    scans: Vec<Vec<ScanEntry>>,
    parallel: usize,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<u64> {
    let pushed: Vec<u64> = stream::iter(devices.iter().zip(scans))
        .map(|(device, scans)| async move {
            record(device, event, scans).await?;
            let n = push_own(device).await?;
            progress.inc(n);
            anyhow::Ok(n)
        })
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await?;
    Ok(pushed.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ticket_is_admitted_once_and_the_passes_go_out_and_back_in_order() {
        let tickets: Vec<Ticket> = (0..100)
            .map(|serial| Ticket {
                serial,
                ticket_type: if serial < 80 { 1 } else { 2 },
                policy: if serial < 80 { EntryPolicy::ExitReentry } else { EntryPolicy::SingleEntry },
            })
            .collect();
        let evening = Evening { exits: 60, reentries: 40, doors: Timestamp(0), now: Timestamp(1_000_000) };
        let gates = scans(&tickets, 7, evening).unwrap();
        let all: Vec<&ScanEntry> = gates.iter().flatten().collect();
        assert_eq!(all.len(), 100 + 60 + 40);
        let count = |v| all.iter().filter(|s| s.verdict == v).count();
        assert_eq!(
            (count(VerdictKind::Admitted), count(VerdictKind::ExitRecorded), count(VerdictKind::ReEntry)),
            (100, 60, 40)
        );
        for gate in &gates {
            // One gate's log is in time order, and each ticket's movements are in that one log.
            assert!(gate.windows(2).all(|w| w[0].at <= w[1].at));
        }
        assert!(
            all.iter()
                .all(|s| s.ticket.is_some_and(|t| t.serial.0 < 80) || s.verdict == VerdictKind::Admitted)
        );
        let too_many = Evening { exits: 81, ..evening };
        assert!(scans(&tickets, 7, too_many).is_err(), "only 80 tickets may leave");
    }
}
