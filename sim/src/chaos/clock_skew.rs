//! Device clocks that are wrong: one gate 10 minutes ahead, one 10 minutes behind, one right.
//! Their scans, hybrid logical clocks and signed requests all carry their wrong time. Checked:
//! validity windows (a valid ticket is admitted, a future or past one is not, on both wrong
//! clocks); ordering (an entry at the fast gate and a later exit at the slow one — stamped 20
//! minutes *earlier* by wall clock — still leaves the ticket outside, everywhere); and double
//! admissions (one ticket admitted at both while they are apart is found by all and the hub).

use super::count;
use crate::api::event_spec;
use crate::fleet::{DeviceSpec, Fleet};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::{Target, double_admissions_on_hub, progress};
use anyhow::Context;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::ids::{Serial, TicketTypeId};
use sync_core::manifest::Direction;
use sync_core::ticket::ValidityWindow;
use sync_core::verdict::VerdictKind;

/// The skew's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct ClockSkewArgs {
    /// How far the fast clock is ahead and the slow one behind, in seconds.
    #[arg(long, default_value_t = 600)]
    pub skew_secs: i64,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned"];

/// Runs the checks.
pub async fn run(target: &Target, args: &ClockSkewArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    let own =
        target.own.as_ref().context("clock-skew mints tickets with the hub's event key: leave out --hub")?;
    let started = Instant::now();
    let organizer = &target.organizer;
    let event = organizer.create_event_on_sale(&event_spec("Wrong clocks", 3, 100)).await?;
    let skew = args.skew_secs * 1000;
    let specs = [("Fast clock", skew, 1), ("Slow clock", -skew, 2), ("Right clock", 0, 3)]
        .iter()
        .map(|(name, skew_ms, gate)| DeviceSpec {
            skew_ms: *skew_ms,
            ..DeviceSpec::gate((*name).into(), &target.urls[0], *gate)
        })
        .collect();
    let bar = progress(3, "enrolling devices");
    let fleet = Fleet::enroll(organizer, event, specs, &bar).await?;
    bar.finish_and_clear();
    let (fast, slow) = (&fleet.devices[0], &fleet.devices[1]);

    // Tickets with windows, signed with the event's own key (read from the hub's database).
    let db = own.database().await?;
    let key = {
        let mut tx = db.tenant(organizer.org_id).await?;
        cloud::events::signing_key(&mut tx, &own.master_key()?, event)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let now = u32::try_from(sync_core::Timestamp::now().0 / 1000)?;
    let window = |from: i64, to: i64| {
        ValidityWindow::new(
            now.saturating_add_signed(i32::try_from(from).unwrap_or(0)),
            now.saturating_add_signed(i32::try_from(to).unwrap_or(0)),
        )
    };
    let mint = |serial: u32, window: Option<ValidityWindow>| {
        key.issue(Serial(serial), TicketTypeId(1), window).to_text()
    };
    let scanned = timeline.counter("scanned");
    let scan = |device: &crate::fleet::Device, text: &str, direction: Direction| {
        scanned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::block_in_place(|| device.gate().scan(text, &device.context(direction))).map(|v| v.kind())
    };
    let mut summary = Summary::new("chaos clock-skew", args, target.label.clone(), 3);

    // Validity windows: an hour around now; starting in 30 minutes; ended 30 minutes ago.
    let mut verdicts = Vec::new();
    for (n, device) in [fast, slow].into_iter().enumerate() {
        let base = 1000 + 10 * u32::try_from(n)?;
        verdicts.push((
            device.name.clone(),
            scan(device, &mint(base, window(-3600, 3600)), Direction::Entry)?,
            scan(device, &mint(base + 1, window(1800, 7200)), Direction::Entry)?,
            scan(device, &mint(base + 2, window(-7200, -1800)), Direction::Entry)?,
        ));
    }
    summary.figure("validity_verdicts", format!("{verdicts:?}"));
    summary.check(
        "validity windows hold on both wrong clocks",
        verdicts.iter().all(|(_, now, future, past)| {
            *now == VerdictKind::Admitted
                && *future == VerdictKind::NotYetValid
                && *past == VerdictKind::Expired
        }),
        format!("(device, valid now, valid in 30 min, ended 30 min ago): {verdicts:?}"),
    );

    // Ordering: in at the fast gate, then out at the slow one after both synced.
    let visitor = mint(2000, None);
    let entered = scan(fast, &visitor, Direction::Entry)?;
    fast.sync().await?;
    slow.sync().await?;
    let left = scan(slow, &visitor, Direction::Exit)?;

    // Double admission: one ticket at both wrong clocks while neither has synced.
    let copied = mint(3000, None);
    let first = scan(fast, &copied, Direction::Entry)?;
    let second = scan(slow, &copied, Direction::Entry)?;
    let convergence = fleet.await_convergence(Duration::from_secs(60)).await?;

    let inside: Vec<usize> = fleet.devices.iter().map(|d| d.gate().counts().1).collect();
    let hub_inside = organizer.report(event, "inside").await?;
    let hub_inside =
        hub_inside["rows"].as_array().and_then(|r| r.last()).and_then(|r| r[2].as_i64()).unwrap_or(-1);
    // Inside: the two tickets valid now, and the copied one (once); not the visitor who left.
    summary.check(
        "an exit at the slow clock after an entry at the fast one leaves the ticket outside, everywhere",
        entered == VerdictKind::Admitted && left == VerdictKind::ExitRecorded && inside.iter().all(|&n| n == 3) && hub_inside == 3,
        format!("entry {entered:?}, exit {left:?}; inside per device {inside:?}, on the hub {hub_inside} (expected 3)"),
    );
    let (found_min, found_max) = fleet.double_admissions_found();
    let on_hub = double_admissions_on_hub(organizer, event).await?;
    summary.check(
        "a ticket admitted at both wrong clocks is found as one double admission, by every device and the hub",
        first == VerdictKind::Admitted && second == VerdictKind::Admitted && (found_min, found_max, on_hub) == (1, 1, 1),
        format!("verdicts {first:?}/{second:?}; found on devices {found_min}–{found_max}, on the hub {on_hub}"),
    );
    let on_hub_rows = count(&db, "SELECT COUNT(*) FROM checkins WHERE event_id = $1", event).await?;
    summary.check(
        "the hub accepted every signed request of the wrong clocks and holds every scan",
        u64::try_from(on_hub_rows) == Ok(fleet.recorded()),
        format!("{on_hub_rows} check-ins on the hub, {} recorded", fleet.recorded()),
    );
    summary.figure("convergence_ms", convergence.as_secs_f64() * 1000.0);
    summary.figure("sync", fleet.stats.summary());
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}
