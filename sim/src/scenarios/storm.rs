//! Partition and reconnect storm: the venue loses the hub, every gate keeps scanning offline
//! (some tickets are shown at two gates meanwhile), then the link comes back and every device
//! reconnects in the same instant — several times over.

use super::{Target, double_admissions_on_hub, gate_event, progress, scanner_names};
use crate::gates::{self, Plan};
use crate::metrics::Timeline;
use crate::report::Summary;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The storm's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct StormArgs {
    /// Gate devices.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Scans per device during each partition.
    #[arg(long, default_value_t = 100)]
    pub scans: usize,
    /// Partitions, each followed by a reconnect storm.
    #[arg(long, default_value_t = 3)]
    pub cycles: usize,
    /// Tickets per partition also shown at a second gate: double admissions to find.
    #[arg(long, default_value_t = 20)]
    pub duplicates: usize,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned", "converged devices"];

/// Runs the storm.
pub async fn run(target: &Target, args: &StormArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.devices >= 2, "--devices must be at least 2 (duplicates need two gates)");
    anyhow::ensure!(args.duplicates <= args.scans, "--duplicates cannot exceed --scans");
    let started = Instant::now();
    let organizer = &target.organizer;
    let per_cycle = args.devices * args.scans;
    let total = per_cycle * args.cycles;
    let (event, tickets, fleet) =
        gate_event(target, "Reconnect storm", total, scanner_names(args.devices)).await?;

    // The hub's own database says when it holds every entry (a hub the simulator started).
    let hub_db = match &target.own {
        Some(own) => Some(own.database().await?),
        None => None,
    };
    let sampler = timeline.run();
    let converged_counter = timeline.counter("converged devices");
    let mut storms = Vec::new();
    let mut hub_holds_all = Vec::new();
    let mut acknowledged = Vec::new();
    let mut scans = Vec::new();
    for cycle in 0..args.cycles {
        // Partitioned: every device scans its own share; a few tickets also at the next gate.
        let block = &tickets[cycle * per_cycle..(cycle + 1) * per_cycle];
        let mut queues: Vec<Vec<String>> = block.chunks(args.scans).map(<[String]>::to_vec).collect();
        for (n, queue) in queues.clone().iter().enumerate().take(args.duplicates) {
            queues[(n + 1) % args.devices].push(queue[0].clone());
        }
        let bar = progress(per_cycle + args.duplicates.min(args.devices), "scanning offline");
        scans.push(gates::run(&fleet, Plan { queues, rate_per_device: 0.0 }, timeline, &bar).await?);
        bar.finish_and_clear();
        // The storm: every device's live link (push and long-poll, as the apps keep it)
        // comes back in the same instant; each exchanges everything, then long-polls.
        converged_counter.store(0, std::sync::atomic::Ordering::Relaxed);
        let expected = fleet.recorded();
        let reconnected = Instant::now();
        for device in &fleet.devices {
            device.go_live();
        }
        // Watched beside it: when the hub holds every entry (its database), and when every
        // device has its own entries acknowledged. The rest of the storm is each device
        // receiving the others' entries, which on this machine shares the hub's two cores.
        let budget = Duration::from_secs(600);
        let (on_hub, acked, took) = tokio::try_join!(
            hub_holds(hub_db.as_ref(), event, expected, reconnected, budget),
            fleet.await_pushed(|_| true, budget),
            fleet.await_convergence(budget)
        )?;
        converged_counter.store(args.devices as u64, std::sync::atomic::Ordering::Relaxed);
        // The next partition.
        fleet.all_offline().await;
        storms.push(took.as_secs_f64() * 1000.0);
        hub_holds_all.push(on_hub.unwrap_or(acked).as_secs_f64() * 1000.0);
        acknowledged.push(acked.as_secs_f64() * 1000.0);
    }
    sampler.abort();
    let injected = args.duplicates.min(args.devices) * args.cycles;
    let (found_min, found_max) = fleet.double_admissions_found();
    let on_hub = double_admissions_on_hub(organizer, event).await?;

    let mut summary = Summary::new("storm", args, target.label.clone(), args.devices);
    let verdict_latency: Vec<_> = scans.iter().map(|s| s.verdict_latency).collect();
    summary.figure("scans", serde_json::json!({"per_cycle": scans.first().map(|s| s.scans), "verdict_latency_per_cycle": verdict_latency}));
    summary.figure("sync", fleet.stats.summary());
    summary.figure("convergence_ms_per_storm", &storms);
    summary.figure("hub_holds_all_ms_per_storm", &hub_holds_all);
    summary.figure("devices_acknowledged_ms_per_storm", &acknowledged);
    summary.figure("entries_recorded", fleet.recorded());
    summary.figure(
        "double_admissions",
        serde_json::json!({"injected": injected, "found_on_hub": on_hub, "found_on_devices": [found_min, found_max]}),
    );
    summary.check(
        "every device holds every entry after each storm",
        fleet.converged(),
        format!("{} entries", fleet.recorded()),
    );
    summary.check(
        "every double admission injected is found, on the hub and on every device",
        on_hub == injected && found_min == injected && found_max == injected,
        format!("injected {injected}, hub {on_hub}, devices {found_min}–{found_max}"),
    );
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// How long after `since` the hub's database held `expected` check-ins of `event` (every scan
/// entry, materialized in the transaction that stored it); `None` without the hub's database.
/// Polled every 20 ms (an indexed count: well under a millisecond).
async fn hub_holds(
    db: Option<&cloud::db::Db>,
    event: i64,
    expected: u64,
    since: Instant,
    budget: Duration,
) -> anyhow::Result<Option<Duration>> {
    let Some(db) = db else { return Ok(None) };
    loop {
        let held =
            crate::chaos::count(db, "SELECT COUNT(*) FROM checkins WHERE event_id = $1", event).await?;
        if u64::try_from(held).is_ok_and(|h| h >= expected) {
            return Ok(Some(since.elapsed()));
        }
        anyhow::ensure!(
            since.elapsed() < budget,
            "the hub held {held} of {expected} entries after {budget:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
