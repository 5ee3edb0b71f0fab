//! Opening a replica of a 500,000-ticket event holding 200,000 recorded scans: migrations,
//! reading every journal entry and rebuilding admissions, revocations and leases.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench replica_open`. Target (issue 3): ≤ 1 s.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::DeviceId;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::SyncStore;

const ORIGINS: u32 = 40;
const PER_ORIGIN: u64 = 5_000;

fn main() {
    let dir = support::DiskDir::new("open");
    let path = dir.0.join("gate.db");
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    {
        let replica = Replica::open(&path, ReplicaConfig::new(DeviceId(1))).unwrap();
        replica.set_manifest(&demo::festival().0).unwrap();
        let t0 = demo::NOON;
        for o in 0..ORIGINS {
            let origin = DeviceId(100 + o);
            // 200,000 distinct serials spread over a 500,000-ticket event.
            let entries = support::scans(origin, 1, PER_ORIGIN, t0, |i| {
                u32::try_from((u64::from(o) * PER_ORIGIN + i) * 5 / 2 % 500_000).unwrap()
            });
            runtime.block_on(replica.append(entries)).unwrap();
        }
        assert_eq!(replica.have().total(), u64::from(ORIGINS) * PER_ORIGIN);
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let replica = Replica::open(&path, ReplicaConfig::new(DeviceId(1))).unwrap();
        times.push(start.elapsed());
        let state = replica.event_state(demo::EVENT);
        assert_eq!(state.admission.admitted_count(), 200_000);
    }
    times.sort_unstable();
    println!(
        "open + rebuild, 200,000 scans over 500,000 serials: median {:.0?} (min {:.0?}, max {:.0?}, 7 runs); database {:.1} MiB",
        times[3],
        times[0],
        times[6],
        size as f64 / 1_048_576.0
    );
}
