//! A long offline period: one device (a gate at the far car park) loses its link for hours and
//! keeps scanning, while the other gates scan online; some tickets are shown on both sides.
//! Then it comes back: how long its catch-up takes, what it moves, and whether the fleet and
//! the hub find every double admission.

use super::{Target, deal, double_admissions_on_hub, gate_event, progress, scanner_names};
use crate::gates::{self, Plan};
use crate::metrics::Timeline;
use crate::report::Summary;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The long offline period's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct OfflineArgs {
    /// Gate devices that stay online.
    #[arg(long, default_value_t = 8)]
    pub gates: usize,
    /// Scans of the device that is offline, while it is.
    #[arg(long, default_value_t = 5_000)]
    pub offline_scans: usize,
    /// Scans of the online gates meanwhile, in all.
    #[arg(long, default_value_t = 5_000)]
    pub online_scans: usize,
    /// Tickets shown at an online gate and at the offline one: double admissions to find.
    #[arg(long, default_value_t = 25)]
    pub duplicates: usize,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned"];

/// Runs the long offline period and the reconnect.
pub async fn run(target: &Target, args: &OfflineArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.gates > 0, "--gates must be at least 1");
    anyhow::ensure!(args.duplicates <= args.online_scans, "--duplicates cannot exceed --online-scans");
    let started = Instant::now();
    let organizer = &target.organizer;
    let total = args.offline_scans + args.online_scans;
    let mut names = scanner_names(args.gates);
    names.push("Car park gate (offline)".into());
    let (event, tickets, fleet) = gate_event(target, "Long offline", total, names).await?;
    let returning = Arc::clone(&fleet.devices[args.gates]);

    let (online, offline) = tickets.split_at(args.online_scans);
    let mut queues = deal(online, args.gates);
    let mut far = offline.to_vec();
    far.extend_from_slice(&online[..args.duplicates]);
    queues.push(far);
    for device in &fleet.devices[..args.gates] {
        device.go_live();
    }
    let sampler = timeline.run();
    let bar = progress(total + args.duplicates, "scanning");
    let outcome = gates::run(&fleet, Plan { queues, rate_per_device: 0.0 }, timeline, &bar).await?;
    bar.finish_and_clear();

    // It comes back (the online gates have long pushed everything): one exchange sends its
    // backlog and brings it everyone else's.
    fleet.await_pushed(crate::fleet::Device::is_live, Duration::from_secs(60)).await?;
    let backlog = returning.recorded();
    let bytes_before = fleet.stats.summary();
    let reconnect = Instant::now();
    let report = returning.sync().await?;
    let catch_up = reconnect.elapsed();
    let bytes_after = fleet.stats.summary();
    returning.go_live();
    let convergence = fleet.await_convergence(Duration::from_secs(300)).await?;
    sampler.abort();
    let (found_min, found_max) = fleet.double_admissions_found();
    let on_hub = double_admissions_on_hub(organizer, event).await?;
    fleet.all_offline().await;

    let mut summary = Summary::new("offline", args, target.label.clone(), fleet.devices.len());
    summary.figure("scans", &outcome);
    summary.figure("sync", fleet.stats.summary());
    summary.figure(
        "catch_up",
        serde_json::json!({
            "ms": catch_up.as_secs_f64() * 1000.0, "backlog_entries": backlog,
            "entries_sent": report.sent, "entries_received": report.received, "rounds": report.rounds,
            "bytes_up": bytes_after.bytes_up - bytes_before.bytes_up,
            "bytes_down": bytes_after.bytes_down - bytes_before.bytes_down,
        }),
    );
    summary.figure("convergence_ms", (catch_up + convergence).as_secs_f64() * 1000.0);
    summary.figure(
        "double_admissions",
        serde_json::json!({"injected": args.duplicates, "found_on_hub": on_hub, "found_on_devices": [found_min, found_max]}),
    );
    summary.check(
        "the returning device's whole backlog reached the hub in its first exchange",
        report.sent as u64 == backlog,
        format!("{} sent of {backlog}", report.sent),
    );
    summary.check("the fleet converged", fleet.converged(), format!("in {convergence:?} after the catch-up"));
    summary.check(
        "every double admission injected is found, on the hub and on every device",
        on_hub == args.duplicates && found_min == args.duplicates && found_max == args.duplicates,
        format!("injected {}, hub {on_hub}, devices {found_min}–{found_max}", args.duplicates),
    );
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}
