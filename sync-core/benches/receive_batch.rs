//! One device receiving 10,000 entries in one exchange: what every gate does after a reconnect
//! storm (100 gates × 100 scans each while partitioned). The entries arrive in answers of up to
//! [`BATCH`] and each answer is stored in one transaction (one fsync per answer, not per entry).
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench receive_batch`. Target (issue 24): ≤ 150 ms.
//! Both replicas are SQLite files on the real disk, synchronous=FULL; the transport is
//! in-process but every message goes through its byte encoding.
#![allow(missing_docs)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::DeviceId;
use sync_core::journal::HUB;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::engine::BATCH;
use sync_core::sync::memory::MemoryTransport;
use sync_core::sync::{SyncStore, sync_with};

/// Origins and entries per origin on the hub: the storm's shape.
const SHAPES: [(u32, u64); 2] = [(100, 100), (1, 10_000)];

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        for (origins, each) in SHAPES {
            let mut times = Vec::new();
            let mut rounds = 0;
            for run in 0..7 {
                let dir = support::DiskDir::new(&format!("receive-batch-{origins}-{run}"));
                let hub = Replica::open(dir.0.join("hub.db"), ReplicaConfig::new(HUB)).unwrap();
                let device = Replica::open(dir.0.join("gate.db"), ReplicaConfig::new(DeviceId(1))).unwrap();
                for o in 0..origins {
                    let first = o * u32::try_from(each).unwrap();
                    hub.append(support::scans(DeviceId(100 + o), 1, each, demo::NOON, |i| {
                        first + u32::try_from(i).unwrap()
                    }))
                    .await
                    .unwrap();
                }
                let transport = MemoryTransport::new(&hub, device.device());
                let start = Instant::now();
                let report = sync_with(&device, &transport).await.unwrap();
                times.push(start.elapsed());
                rounds = report.rounds;
                assert_eq!(report.received, 10_000);
                assert_eq!(device.have(), hub.have());
            }
            times.sort_unstable();
            let median: Duration = times[times.len() / 2];
            println!(
                "receive 10,000 entries ({origins} origins × {each}) in one exchange: median {median:.1?} \
                 (min {:.1?}, max {:.1?}), {rounds} rounds = {rounds} commits of ≤ {BATCH}",
                times[0],
                times[times.len() - 1]
            );
        }
    });
}
