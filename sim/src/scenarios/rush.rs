//! Gate opening rush: the doors open and thousands of people pass many gates at once. The
//! online gates run the apps' live link (push each scan, long-poll the others'); a few gates
//! are offline throughout (a dead access point) and are shown copies of tickets already used
//! elsewhere — each copy a double admission nobody could prevent, which the fleet and the hub
//! must find once those gates reconnect.

use super::{Target, deal, double_admissions_on_hub, gate_event, progress};
use crate::fleet::Fleet;
use crate::gates::{self, Plan};
use crate::metrics::{Latencies, Timeline};
use crate::report::Summary;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The rush's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct RushArgs {
    /// Gate devices online during the rush.
    #[arg(long, default_value_t = 20)]
    pub gates: usize,
    /// Tickets sold through the online shop, each shown once at an online gate.
    #[arg(long, default_value_t = 10_000)]
    pub tickets: usize,
    /// People per second at each online gate device; 0 = as fast as the gates decide.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Gate devices offline through the rush, reconnecting at the end.
    #[arg(long, default_value_t = 2)]
    pub offline_gates: usize,
    /// Tickets also shown at an offline gate (copies passed on): double admissions to find.
    #[arg(long, default_value_t = 50)]
    pub copies: usize,
}

/// Scans timed from one device to another once the rush is over (the push figure).
pub const PUSH_PROBES: usize = 20;

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned"];

/// Runs the rush.
pub async fn run(target: &Target, args: &RushArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.gates > 0, "--gates must be at least 1");
    anyhow::ensure!(args.copies <= args.tickets, "--copies cannot exceed --tickets");
    anyhow::ensure!(
        args.offline_gates > 0 || args.copies == 0,
        "copies are shown at offline gates: give --offline-gates"
    );
    let started = Instant::now();
    let organizer = &target.organizer;
    let count = args.gates + args.offline_gates;
    let names = (0..count)
        .map(|n| if n < args.gates { format!("Gate scanner {n}") } else { format!("Offline gate {n}") })
        .collect();
    let (event, mut tickets, fleet) =
        gate_event(target, "Gate opening rush", args.tickets + PUSH_PROBES, names).await?;
    let probes = tickets.split_off(args.tickets);
    let mut summary = Summary::new("rush", args, target.label.clone(), count);

    // The online gates share the crowd; the offline ones see only the copies.
    let mut queues = deal(&tickets, args.gates);
    queues.extend(deal(&tickets[..args.copies], args.offline_gates));
    queues.truncate(count);
    for device in &fleet.devices[..args.gates] {
        device.go_live();
    }
    let sampler = timeline.run();
    let bar = progress(args.tickets + args.copies, "scanning");
    let outcome = gates::run(&fleet, Plan { queues, rate_per_device: args.rate }, timeline, &bar).await?;
    bar.finish_and_clear();

    // The offline gates come back; the fleet converges.
    for device in &fleet.devices {
        device.go_live();
    }
    let convergence = fleet.await_convergence(Duration::from_secs(300)).await?;
    let push = Latencies::default();
    for probe in &probes {
        push.record(push_time(&fleet, probe).await?);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fleet.await_convergence(Duration::from_secs(60)).await?;
    sampler.abort();
    let (found_min, found_max) = fleet.double_admissions_found();
    let on_hub = double_admissions_on_hub(organizer, event).await?;
    fleet.all_offline().await;

    let admitted = outcome.verdicts.get("admitted").copied().unwrap_or(0);
    summary.figure("scans", &outcome);
    summary.figure("sync", fleet.stats.summary());
    summary.figure("convergence_ms", convergence.as_secs_f64() * 1000.0);
    summary.figure("push", push.summary());
    summary.figure(
        "double_admissions",
        serde_json::json!({"injected": args.copies, "found_on_hub": on_hub, "found_on_devices": [found_min, found_max]}),
    );
    summary.check(
        "every ticket and every copy admitted once at the gate it was shown",
        usize::try_from(admitted) == Ok(args.tickets + args.copies),
        format!("{admitted} admitted of {} shown", args.tickets + args.copies),
    );
    summary.check(
        "every double admission injected is found, on the hub and on every device",
        on_hub == args.copies && found_min == args.copies && found_max == args.copies,
        format!("injected {}, hub {on_hub}, devices {found_min}–{found_max}", args.copies),
    );
    summary.check("the fleet converged", fleet.converged(), format!("in {convergence:?}"));
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// How long one scan at the first device takes to reach the second (through the hub; with
/// several instances, from one instance to the next: devices are dealt round robin).
pub async fn push_time(fleet: &Fleet, ticket: &str) -> anyhow::Result<Duration> {
    let (from, to) = (&fleet.devices[0], &fleet.devices[1 % fleet.devices.len()]);
    let before = to.replica.have().get(from.id());
    let started = Instant::now();
    let context = from.context(sync_core::manifest::Direction::Entry);
    tokio::task::block_in_place(|| from.gate().scan(ticket, &context))?;
    while to.replica.have().get(from.id()) <= before {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "a scan at {} never reached {}",
            from.name,
            to.name
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(started.elapsed())
}
