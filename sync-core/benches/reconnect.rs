//! Reconnect after an offline stretch. A device has synced the hub's 100,000 entries, goes
//! offline and records 5,000 scans, while the hub receives 5,000 scans from other gates. Then
//! one exchange both ways: time, and bytes on the wire against the same 10,000 entries as one
//! compact binary list (postcard).
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench reconnect`. Targets (issue 3): ≤ 300 ms and
//! ≤ 1.5× the compact bytes. Both replicas are SQLite files on the real disk, synchronous=FULL;
//! the transport is in-process but every message goes through its byte encoding.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::DeviceId;
use sync_core::journal::{Entry, HUB};
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::{
    Framed, SyncRequest, SyncResponse, SyncStore, Transport, TransportError, respond, sync_with,
};

struct Counting<'a> {
    hub: &'a Replica,
    client: DeviceId,
    sent: AtomicUsize,
    received: AtomicUsize,
}

impl Transport for Counting<'_> {
    fn peer(&self) -> DeviceId {
        HUB
    }

    async fn exchange(&self, request: SyncRequest) -> Result<SyncResponse, TransportError> {
        let bytes = request.encode();
        self.sent.fetch_add(bytes.len(), Ordering::Relaxed);
        let request = SyncRequest::decode(&bytes).unwrap();
        let response = respond(self.hub, self.client, request).await.unwrap().encode();
        self.received.fetch_add(response.len(), Ordering::Relaxed);
        Ok(SyncResponse::decode(&response).unwrap())
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let mut times = Vec::new();
        let mut ratios = Vec::new();
        for run in 0..5 {
            let dir = support::DiskDir::new(&format!("reconnect-{run}"));
            let hub = Replica::open(dir.0.join("hub.db"), ReplicaConfig::new(HUB)).unwrap();
            let device = Replica::open(dir.0.join("gate.db"), ReplicaConfig::new(DeviceId(1))).unwrap();
            let t0 = demo::NOON;
            // The hub's history: 100,000 scans from 50 other gates.
            for o in 0..50u32 {
                hub.append(support::scans(DeviceId(100 + o), 1, 2_000, t0, |i| {
                    o * 2_000 + u32::try_from(i).unwrap()
                }))
                .await
                .unwrap();
            }
            let link =
                |d: &Replica| Counting { hub: &hub, client: d.device(), sent: 0.into(), received: 0.into() };
            sync_with(&device, &link(&device)).await.unwrap();
            assert_eq!(device.have().total(), 100_000);

            // Apart: the device records 5,000; the hub receives 5,000 from five other gates.
            let t1 = t0.plus_seconds(3_600);
            let own = device
                .record_all(
                    demo::EVENT,
                    support::scan_payloads(5_000, t1, |i| 200_000 + u32::try_from(i).unwrap()),
                )
                .unwrap();
            let mut others: Vec<Entry> = Vec::new();
            for o in 0..5u32 {
                let batch = support::scans(DeviceId(200 + o), 1, 1_000, t1, |i| {
                    300_000 + o * 1_000 + u32::try_from(i).unwrap()
                });
                hub.append(batch.clone()).await.unwrap();
                others.extend(batch);
            }

            let transport = link(&device);
            let start = Instant::now();
            let report = sync_with(&device, &transport).await.unwrap();
            let elapsed = start.elapsed();
            assert_eq!(device.have(), hub.have());
            assert_eq!((report.sent, report.received), (5_000, 5_000));
            let wire = transport.sent.load(Ordering::Relaxed) + transport.received.load(Ordering::Relaxed);
            let compact = postcard::to_stdvec(&[own, others].concat()).unwrap().len();
            println!(
                "run {run}: {elapsed:.0?}, {} rounds, {wire} bytes on the wire vs {compact} compact = {:.3}×",
                report.rounds,
                wire as f64 / compact as f64
            );
            times.push(elapsed);
            ratios.push(wire as f64 / compact as f64);
        }
        times.sort_unstable();
        let median: Duration = times[2];
        println!(
            "reconnect (5,000 each way over 100,000 held): median {median:.0?}, bytes ratio {:.3}×",
            ratios[2]
        );
    });
}
