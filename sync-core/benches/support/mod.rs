//! Shared by the bench binaries: journal entries made in bulk, percentiles, scratch dirs on
//! the real disk (benchmarks measure durability, so no tmpfs here).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::Duration;
use sync_core::demo;
use sync_core::hlc::Hlc;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::journal::{Entry, Payload, ScanEntry, ScannedTicket};
use sync_core::manifest::{Direction, EntryPolicy};
use sync_core::verdict::VerdictKind;

/// The demo gate with a valid ticket's text and an admission state in which that ticket was
/// already admitted: the setup of the verdict benchmarks.
pub fn admitted_once() -> (
    sync_core::manifest::EventManifest,
    sync_core::keys::EventKey,
    sync_core::validate::ScanContext,
    String,
    sync_core::admission::AdmissionState,
) {
    use sync_core::admission::{AdmissionState, Stamp};
    let (manifest, key, ctx) = demo::festival();
    let valid = key.issue(Serial(7), demo::DAY, None).to_text();
    let mut used = AdmissionState::new();
    let first = sync_core::validate::validate(
        &manifest,
        &sync_core::revocation::RevocationSet::new(),
        &used,
        &ctx,
        &valid,
    );
    used.record(&first.scan(&ctx, Stamp { hlc: Hlc(1), origin: ctx.device }).unwrap());
    (manifest, key, ctx, valid, used)
}

/// The payloads of `count` admitted scans, serials from `serial_of(i)`, 50 ms apart from `t0`
/// (for a replica to record as its own).
pub fn scan_payloads(count: u64, t0: Timestamp, serial_of: impl Fn(u64) -> u32) -> Vec<Payload> {
    scans(DeviceId(1), 1, count, t0, serial_of).into_iter().map(|e| e.payload).collect()
}

/// `count` admitted-scan entries of `origin`, sequence numbers from `first_seq`, serials from
/// `serial_of(i)`, 50 ms apart from `t0`.
pub fn scans(
    origin: DeviceId,
    first_seq: u64,
    count: u64,
    t0: Timestamp,
    serial_of: impl Fn(u64) -> u32,
) -> Vec<Entry> {
    (0..count)
        .map(|i| {
            let at = Timestamp(t0.0 + i64::try_from(i).unwrap() * 50);
            Entry {
                origin,
                seq: first_seq + i,
                hlc: Hlc(Hlc::from_time(at).0 + u64::from(origin.0 % 1000)),
                event: demo::EVENT,
                payload: Payload::Scan(ScanEntry {
                    gate: demo::MAIN_GATE,
                    direction: Direction::Entry,
                    at,
                    verdict: VerdictKind::Admitted,
                    ticket: Some(ScannedTicket {
                        serial: Serial(serial_of(i)),
                        ticket_type: demo::DAY,
                        policy: Some(EntryPolicy::SingleEntry),
                    }),
                }),
            }
        })
        .collect()
}

/// A fresh directory on the real disk, removed on drop.
pub struct DiskDir(pub PathBuf);

impl DiskDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("voelgoed-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for DiskDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `per_mille`-th per-mille of sorted durations.
pub fn pct(sorted: &[Duration], per_mille: usize) -> Duration {
    sorted[(sorted.len() * per_mille / 1000).min(sorted.len() - 1)]
}

/// "p50 … p99 … max …".
pub fn summary(mut d: Vec<Duration>) -> String {
    d.sort_unstable();
    format!(
        "p50 {:.2?}  p99 {:.2?}  max {:.2?}  (n = {})",
        pct(&d, 500),
        pct(&d, 990),
        d[d.len() - 1],
        d.len()
    )
}
