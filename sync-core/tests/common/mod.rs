//! Fixtures shared by the integration tests: the demo festival, a device with a delegation,
//! and helpers to scan.
#![allow(dead_code, unreachable_pub)]

use sync_core::admission::{AdmissionState, Stamp};
use sync_core::demo;
use sync_core::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock};
use sync_core::ids::{EventId, KeyId, Serial, TicketTypeId, Timestamp};
use sync_core::keys::{DeviceKey, EventKey, SignedDelegation};
use sync_core::manifest::EventManifest;
use sync_core::revocation::RevocationSet;
use sync_core::ticket::{DelegationGrant, ValidityWindow};
use sync_core::validate::{ScanContext, validate};
use sync_core::verdict::Verdict;

/// The demo festival: manifest, its (public, test-only) key and a main-entrance context.
pub struct Gate {
    pub manifest: EventManifest,
    pub key: EventKey,
    pub ctx: ScanContext,
    pub revocations: RevocationSet,
    pub state: AdmissionState,
    /// One clock for the whole test gate: it has seen every scan it recorded.
    pub clock: HlcClock,
}

impl Gate {
    pub fn new() -> Self {
        let (manifest, key, ctx) = demo::festival();
        Self {
            manifest,
            key,
            ctx,
            revocations: RevocationSet::new(),
            state: AdmissionState::new(),
            clock: HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS),
        }
    }

    /// Validates without recording.
    pub fn check(&self, text: &str) -> Verdict {
        validate(&self.manifest, &self.revocations, &self.state, &self.ctx, text)
    }

    /// Validates and, if the verdict passes, records the scan (what the gate pipeline does).
    pub fn scan(&mut self, text: &str) -> Verdict {
        let verdict = self.check(text);
        let stamp = Stamp { hlc: self.clock.tick(self.ctx.now), origin: self.ctx.device };
        if let Some(scan) = verdict.scan(&self.ctx, stamp) {
            self.state.record(&scan);
        }
        verdict
    }

    pub fn ticket(&self, serial: u32, ticket_type: TicketTypeId) -> String {
        self.key.issue(Serial(serial), ticket_type, None).to_text()
    }
}

/// A box-office device holding a delegation for serials 10_000..=10_099 of the day ticket and
/// weekend pass, expiring a day after the demo's noon.
pub fn box_office(key: &EventKey) -> (DeviceKey, SignedDelegation) {
    let device = DeviceKey::from_seed([0x07; 32]);
    let grant = DelegationGrant {
        device_key: device.public_key(),
        first_serial: Serial(10_000),
        last_serial: Serial(10_099),
        expires: unix(demo::NOON) + 86_400,
        ticket_types: vec![demo::DAY, demo::WEEKEND],
    };
    (device, key.delegate(grant).unwrap())
}

pub fn unix(t: Timestamp) -> u32 {
    u32::try_from(t.unix_seconds()).unwrap()
}

/// A validity window of one day around the demo's noon.
pub fn day_window() -> ValidityWindow {
    ValidityWindow::new(unix(demo::NOON) - 43_200, unix(demo::NOON) + 43_199).unwrap()
}

/// A key of another event that happens to use the same key id.
pub fn other_event_key() -> EventKey {
    EventKey::from_seed(EventId(9999), KeyId(1), [0x13; 32])
}

/// A fresh directory for test files, removed when dropped. On tmpfs when there is one:
/// SQLite's fsyncs are free there, so tests of logic run fast (the crash test and the
/// benchmarks use the real disk).
pub struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch_dir(name: &str) -> Scratch {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base =
        if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    let dir =
        base.join(format!("voelgoed-{name}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}
