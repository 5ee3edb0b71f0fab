//! Push: time from a scan on gate A until gate B holds it, both live-connected to a hub over
//! HTTP on loopback (the scan is committed on A, pushed to the hub, committed there, handed
//! to B's open long-poll, committed on B). All three replicas on the real disk.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench push_latency`. Target (issue 3): ≤ 150 ms.
#![allow(missing_docs)]

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::{DeviceName, Direction};
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::http::{self, HttpTransport};
use sync_core::sync::{SyncStore, live};
use sync_core::validate::ScanContext;
use tokio::sync::watch;

fn main() {
    let dir = support::DiskDir::new("push");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let open = |id: u32| {
            Arc::new(
                Replica::open(dir.0.join(format!("r{id}.db")), ReplicaConfig::new(DeviceId(id))).unwrap(),
            )
        };
        let (hub, a, b) = (open(0), open(1), open(2));
        let (mut manifest, key, _) = demo::festival();
        manifest.devices = [&hub, &a, &b]
            .iter()
            .map(|r| DeviceName {
                id: r.device(),
                name: r.device().to_string(),
                public_key: Some(ed25519_dalek::VerifyingKey::from_bytes(&r.public_key()).unwrap()),
            })
            .collect();
        for r in [&hub, &a, &b] {
            r.set_manifest(&manifest).unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(http::serve(listener, Arc::clone(&hub), std::future::pending()));
        let (_stop, stopped) = watch::channel(false);
        for r in [&a, &b] {
            let (r, url, stopped) = (Arc::clone(r), url.clone(), stopped.clone());
            tokio::spawn(async move {
                let transport = HttpTransport::new(&url, Arc::clone(&r), HUB).unwrap();
                live::run(&*r, &transport, stopped, |_| {}).await;
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;

        let gate = a.gate(demo::EVENT);
        let mut latencies = Vec::new();
        for serial in 0..300 {
            let ticket = key.issue(Serial(serial), demo::DAY, None).to_text();
            let mut changes = b.changes();
            let want = b.have().total() + 1;
            let ctx = ScanContext {
                device: DeviceId(1),
                gate: demo::MAIN_GATE,
                direction: Direction::Entry,
                now: Timestamp::now(),
            };
            let start = Instant::now();
            gate.scan(&ticket, &ctx).unwrap();
            while b.have().total() < want {
                changes.changed().await.unwrap();
            }
            latencies.push(start.elapsed());
            // Let both long-polls re-arm, as between real scans (one every second or two).
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!("scan on A → held by B (via the hub, HTTP loopback): {}", support::summary(latencies));
    });
}
