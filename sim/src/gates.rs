//! The gate engine the scanning scenarios share: each device works through its own queue of
//! people (ticket texts), at a pace or flat out, and every verdict is timed from the text to
//! the durable verdict, exactly as `Gate::scan` gives it to the screen.

use crate::fleet::Fleet;
use crate::metrics::{Latencies, LatencySummary, Timeline};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sync_core::manifest::Direction;

/// Who shows up where: per device (in fleet order), the tickets presented there, in order.
pub struct Plan {
    /// Per device, the texts presented to it.
    pub queues: Vec<Vec<String>>,
    /// People per second at each gate device; 0 = as fast as the gate decides.
    pub rate_per_device: f64,
}

/// What the gates did.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Verdicts given.
    pub scans: usize,
    /// Text → durable verdict.
    pub verdict_latency: LatencySummary,
    /// How many of each verdict (by stable code).
    pub verdicts: BTreeMap<&'static str, u64>,
    /// From the first scan to the last, s.
    pub seconds: f64,
    /// Verdicts per second over all gates.
    pub per_second: f64,
}

/// Runs `plan` on `fleet`'s devices; counts each verdict into the timeline's `scanned`.
pub async fn run(
    fleet: &Fleet,
    plan: Plan,
    timeline: &Timeline,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Outcome> {
    let latencies = Arc::new(Latencies::default());
    let verdicts = Arc::new(Mutex::new(BTreeMap::new()));
    let scanned = timeline.counter("scanned");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (device, queue) in fleet.devices.iter().zip(plan.queues) {
        let (device, latencies, verdicts, scanned) =
            (Arc::clone(device), Arc::clone(&latencies), Arc::clone(&verdicts), Arc::clone(&scanned));
        let progress = progress.clone();
        let interval =
            (plan.rate_per_device > 0.0).then(|| Duration::from_secs_f64(1.0 / plan.rate_per_device));
        tasks.push(tokio::spawn(async move {
            let gate = device.gate();
            for (i, text) in queue.iter().enumerate() {
                if let Some(interval) = interval {
                    let due = started + interval * u32::try_from(i).unwrap_or(u32::MAX);
                    tokio::time::sleep_until(due.into()).await;
                }
                let context = device.context(Direction::Entry);
                let timed = Instant::now();
                // SQLite commits block: keep the runtime's other tasks (the live links) going.
                let verdict = tokio::task::block_in_place(|| gate.scan(text, &context))?;
                latencies.record(timed.elapsed());
                *verdicts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(verdict.code())
                    .or_insert(0) += 1;
                scanned.fetch_add(1, Ordering::Relaxed);
                progress.inc(1);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let summary = latencies.summary();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let per_second = summary.count as f64 / seconds.max(1e-9);
    let verdicts = verdicts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Ok(Outcome { scans: summary.count, verdict_latency: summary, verdicts, seconds, per_second })
}
