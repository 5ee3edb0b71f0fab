//! A 50,000-person event reconnecting: 100 gate devices, each holding 500 scans made offline,
//! reconnect at once to one hub over HTTP on loopback (signed requests, the real peer server).
//!
//! Reports (issue 3 targets in brackets):
//! - how long until the hub holds all 50,000 entries [≤ 3 s];
//! - the total wall time until every device holds all 50,000;
//! - each device's catch-up from holding only its own 500 to holding all 50,000, measured one
//!   device at a time against the full hub [p99 ≤ 0.5 s];
//! - the hub's peak memory (VmHWM) [< 1 GiB].
//!
//! Until `cloud/` exists, the hub is a sync-core replica served by the peer server, in its own
//! process (so its memory is its own). Everything shares one 2-core machine: the devices' work
//! is serialised with the hub's.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench fleet`.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::DeviceName;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::http::{self, HttpTransport};
use sync_core::sync::{SyncStore, sync_with};

const DEVICES: u32 = 100;
const SCANS: u64 = 500;
const TOTAL: u64 = DEVICES as u64 * SCANS;
const HUB_ENV: &str = "VOELGOED_FLEET_HUB_DB";

fn main() {
    if let Ok(db) = std::env::var(HUB_ENV) {
        return hub_process(&db);
    }
    let dir = support::DiskDir::new("fleet");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Set up: the hub's and every device's replica, a manifest trusting all their keys, and 500
    // offline scans per device. Not measured.
    let hub_db = dir.0.join("hub.db");
    let hub_key = Replica::open(&hub_db, ReplicaConfig::new(HUB)).unwrap().public_key();
    let devices: Vec<Arc<Replica>> = (1..=DEVICES)
        .map(|d| {
            Arc::new(Replica::open(dir.0.join(format!("d{d}.db")), ReplicaConfig::new(DeviceId(d))).unwrap())
        })
        .collect();
    let mut manifest = demo::festival().0;
    let key = |bytes: [u8; 32]| Some(ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap());
    manifest.devices = std::iter::once(DeviceName { id: HUB, name: "hub".into(), public_key: key(hub_key) })
        .chain(devices.iter().map(|d| DeviceName {
            id: d.device(),
            name: format!("gate {}", d.device()),
            public_key: key(d.public_key()),
        }))
        .collect();
    Replica::open(&hub_db, ReplicaConfig::new(HUB)).unwrap().set_manifest(&manifest).unwrap();
    for (i, d) in devices.iter().enumerate() {
        d.set_manifest(&manifest).unwrap();
        let first_serial = u32::try_from(i).unwrap() * 500;
        let payloads =
            support::scan_payloads(SCANS, demo::NOON, |s| first_serial + u32::try_from(s).unwrap());
        d.record_all(demo::EVENT, payloads).unwrap();
    }
    // Snapshot the devices before they sync, for the catch-up measurement. Closing a replica
    // checkpoints its WAL into the main file, so the file alone is the whole replica.
    drop(devices);
    let snapshot = dir.0.join("snapshot");
    std::fs::create_dir_all(&snapshot).unwrap();
    for d in 1..=DEVICES {
        std::fs::copy(dir.0.join(format!("d{d}.db")), snapshot.join(format!("d{d}.db"))).unwrap();
    }
    let devices: Vec<Arc<Replica>> = (1..=DEVICES)
        .map(|d| {
            Arc::new(Replica::open(dir.0.join(format!("d{d}.db")), ReplicaConfig::new(DeviceId(d))).unwrap())
        })
        .collect();

    // The hub, in its own process.
    let mut hub = Command::new(std::env::current_exe().unwrap())
        .env(HUB_ENV, &hub_db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut hub_out = BufReader::new(hub.stdout.take().unwrap()).lines();
    let port = hub_out.next().unwrap().unwrap().strip_prefix("PORT ").unwrap().to_owned();
    let url = format!("http://127.0.0.1:{port}");

    // Everyone reconnects at once; each keeps syncing until it holds everything.
    let start_ms = Timestamp::now().0;
    let start = Instant::now();
    let all_converged = runtime.block_on(async {
        let tasks: Vec<_> = devices
            .iter()
            .map(|d| {
                let d = Arc::clone(d);
                let url = url.clone();
                tokio::spawn(async move {
                    let transport = HttpTransport::new(&url, Arc::clone(&d), HUB).unwrap();
                    while d.have().total() < TOTAL {
                        sync_with(&*d, &transport).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    });
    let full_ms: i64 = hub_out.next().unwrap().unwrap().strip_prefix("FULL ").unwrap().parse().unwrap();
    let hub_full = Duration::from_millis(u64::try_from(full_ms - start_ms).unwrap_or(0));
    drop(devices);

    let catch_up = measure_catch_up(&runtime, &dir.0, &snapshot, &url);

    writeln!(hub.stdin.as_mut().unwrap(), "REPORT").unwrap();
    let hwm_kib: u64 = hub_out.next().unwrap().unwrap().strip_prefix("HWM ").unwrap().parse().unwrap();
    hub.wait().unwrap();
    println!("fleet: {DEVICES} devices × {SCANS} offline scans = {TOTAL} entries, HTTP on loopback");
    println!("  hub holds all {TOTAL}: {hub_full:.2?} after the reconnect began");
    println!("  every device holds all {TOTAL}: {all_converged:.2?} (total wall time)");
    println!("  catch-up per device (one at a time, 500 → {TOTAL}): {}", support::summary(catch_up));
    println!("  hub peak memory (VmHWM): {:.0} MiB", hwm_kib as f64 / 1024.0);
}

/// Catch-up, one device at a time, each restored from its snapshot (holding only its own 500)
/// and synced with the full hub.
fn measure_catch_up(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    snapshot: &std::path::Path,
    url: &str,
) -> Vec<Duration> {
    let mut catch_up: Vec<Duration> = Vec::new();
    runtime.block_on(async {
        for d in 1..=DEVICES {
            let path = dir.join(format!("d{d}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            std::fs::copy(snapshot.join(format!("d{d}.db")), &path).unwrap();
            let device = Arc::new(Replica::open(&path, ReplicaConfig::new(DeviceId(d))).unwrap());
            let transport = HttpTransport::new(url, Arc::clone(&device), HUB).unwrap();
            let begin = Instant::now();
            sync_with(&*device, &transport).await.unwrap();
            catch_up.push(begin.elapsed());
            assert_eq!(device.have().total(), TOTAL);
        }
    });
    catch_up
}

/// The hub: serves its replica, reports when it holds everything and its peak memory.
fn hub_process(db: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let hub = Arc::new(Replica::open(db, ReplicaConfig::new(HUB)).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        let mut changes = hub.changes();
        let server = tokio::spawn(http::serve(listener, Arc::clone(&hub), std::future::pending()));
        while hub.have().total() < TOTAL {
            changes.changed().await.unwrap();
        }
        println!("FULL {}", Timestamp::now().0);
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
        })
        .await
        .unwrap();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap();
        println!("HWM {}", hwm.trim().trim_end_matches(" kB"));
        server.abort();
    });
}
