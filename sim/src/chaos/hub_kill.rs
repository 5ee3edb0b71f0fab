//! The hub is killed with SIGKILL while the fleet syncs — every gate live, pushing each scan —
//! and started again on the same data. Gates keep scanning through the outage. Afterwards
//! every entry any device recorded must be on the hub (its check-in rows, counted in its
//! database) and on every device; in particular nothing the hub had acknowledged is lost.

use super::count;
use crate::fleet::Fleet;
use crate::gates::{self, Plan};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::{Target, deal, gate_event, progress, scanner_names};
use anyhow::Context;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::journal::HUB;

/// The hub-kill parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct HubKillArgs {
    /// Gate devices, all live.
    #[arg(long, default_value_t = 20)]
    pub devices: usize,
    /// Seconds of scanning.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Scans per second at each device.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// SIGKILLs, spread over the scanning.
    #[arg(long, default_value_t = 2)]
    pub kills: usize,
    /// How long the hub stays down each time, ms.
    #[arg(long, default_value_t = 1_000)]
    pub down_ms: u64,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned", "acknowledged by the hub"];

/// Runs the kills.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // small positive products
pub async fn run(
    target: &mut Target,
    args: &HubKillArgs,
    timeline: &Arc<Timeline>,
) -> anyhow::Result<Summary> {
    anyhow::ensure!(target.own.is_some(), "hub-kill starts (and kills) its own hub: leave out --hub");
    let started = Instant::now();
    let per_device = (args.seconds * args.rate).ceil() as usize;
    let total = per_device * args.devices;
    let (event, tickets, fleet) = gate_event(target, "Hub kill", total, scanner_names(args.devices)).await?;
    let fleet = Arc::new(fleet);
    for device in &fleet.devices {
        device.go_live();
    }

    let sampler = timeline.run();
    let acknowledged = timeline.counter("acknowledged by the hub");
    let watcher = {
        let fleet = Arc::clone(&fleet);
        tokio::spawn(async move {
            loop {
                acknowledged.store(acked(&fleet), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let bar = progress(total, "scanning");
    let scanning = gates::run(
        &fleet,
        Plan { queues: deal(&tickets, args.devices), rate_per_device: args.rate },
        timeline,
        &bar,
    );
    let own = target.own.as_mut().context("own hub")?;
    let kills = async {
        let mut before_kills = Vec::new();
        let gap = Duration::from_secs_f64(args.seconds / f64::from(u32::try_from(args.kills + 1)?));
        for _ in 0..args.kills {
            tokio::time::sleep(gap).await;
            before_kills.push(acked(&fleet));
            own.instances[0].kill().await?;
            tokio::time::sleep(Duration::from_millis(args.down_ms)).await;
            own.instances[0].restart().await?;
        }
        anyhow::Ok(before_kills)
    };
    let (outcome, before_kills) = tokio::join!(scanning, kills);
    let (outcome, before_kills) = (outcome?, before_kills?);
    bar.finish_and_clear();
    let convergence = fleet.await_convergence(Duration::from_secs(300)).await?;
    watcher.abort();
    sampler.abort();
    fleet.all_offline().await;

    let db = target.own.as_ref().context("own hub")?.database().await?;
    let on_hub = count(&db, "SELECT COUNT(*) FROM checkins WHERE event_id = $1", event).await?;
    let recorded = fleet.recorded();
    let mut summary = Summary::new("chaos hub-kill", args, target.label.clone(), args.devices);
    summary.figure("scans", &outcome);
    summary.figure("sync", fleet.stats.summary());
    summary.figure("acknowledged_before_each_kill", &before_kills);
    summary.figure("convergence_ms_after_scanning", convergence.as_secs_f64() * 1000.0);
    summary.check(
        "every scan any device recorded is on the hub",
        u64::try_from(on_hub) == Ok(recorded),
        format!("{on_hub} check-ins on the hub, {recorded} scans recorded"),
    );
    summary.check(
        "nothing the hub acknowledged before a kill was lost",
        before_kills.iter().all(|&a| u64::try_from(on_hub).is_ok_and(|h| h >= a)),
        format!("acknowledged before the kills: {before_kills:?}; on the hub after: {on_hub}"),
    );
    summary.check("every device holds every entry", fleet.converged(), format!("{recorded} entries"));
    summary.check(
        "the kills hit syncs in flight (some exchanges failed)",
        fleet.stats.summary().failures > 0 || args.kills == 0,
        format!("{} failed exchanges", fleet.stats.summary().failures),
    );
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Entries the hub has acknowledged, over the fleet (each device's own count minus pending).
fn acked(fleet: &Fleet) -> u64 {
    fleet.devices.iter().map(|d| d.recorded().saturating_sub(d.replica.pending_for(HUB).unwrap_or(0))).sum()
}
