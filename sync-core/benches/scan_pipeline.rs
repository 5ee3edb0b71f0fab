//! Time from scanned text to durable verdict through `Gate::scan` (decode, verify, validate,
//! commit with synchronous=FULL, apply), on the real disk.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench scan_pipeline`. Target (issue 3): p50 ≤ 5 ms,
//! p99 ≤ 10 ms.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::validate::ScanContext;

fn main() {
    let dir = support::DiskDir::new("scan");
    let replica = Arc::new(Replica::open(dir.0.join("gate.db"), ReplicaConfig::new(DeviceId(1))).unwrap());
    assert_eq!(replica.durability(), 2, "synchronous=FULL");
    let (manifest, key, _) = demo::festival();
    replica.set_manifest(&manifest).unwrap();
    let gate = replica.gate(demo::EVENT);
    let tickets: Vec<String> = (0..3_200).map(|s| key.issue(Serial(s), demo::DAY, None).to_text()).collect();
    let mut now = Timestamp::now();
    let mut scan = |text: &str| {
        now = now.plus_seconds(3); // past the debounce window
        let ctx =
            ScanContext { device: DeviceId(1), gate: demo::MAIN_GATE, direction: Direction::Entry, now };
        let start = Instant::now();
        let verdict = gate.scan(text, &ctx).unwrap();
        (start.elapsed(), verdict.code())
    };
    for t in &tickets[..200] {
        scan(t);
    }
    let mut first: Vec<Duration> = Vec::new();
    for t in &tickets[200..] {
        let (d, code) = scan(t);
        assert_eq!(code, "admitted");
        first.push(d);
    }
    let mut repeat: Vec<Duration> = Vec::new();
    for t in &tickets[200..1_200] {
        let (d, code) = scan(t);
        assert_eq!(code, "already_inside");
        repeat.push(d);
    }
    let total: Duration = first.iter().sum();
    println!("scan → durable verdict, first entry: {}", support::summary(first.clone()));
    println!("scan → durable verdict, duplicate:   {}", support::summary(repeat));
    println!("throughput: {:.0} scans/s on one gate", first.len() as f64 / total.as_secs_f64());
}
