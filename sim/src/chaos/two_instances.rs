//! Two hub instances over one PostgreSQL database, the devices split between them (a load
//! balancer's choice): the rush runs across both, all devices converge, and a scan through
//! instance A reaches a device on instance B by push (PostgreSQL LISTEN/NOTIFY between them).

use crate::hub::{Database, OWNER_EMAIL, OWNER_PASSWORD, OwnHub};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::Target;
use crate::scenarios::rush::{self, RushArgs};
use std::path::Path;
use std::sync::Arc;

/// Starts two instances over a fresh database on `postgres` (admin URL) and runs the rush.
pub async fn run(
    exe: &Path,
    postgres: &str,
    args: &RushArgs,
    timeline: &Arc<Timeline>,
) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.gates >= 2, "--gates must be at least 2: one on each instance");
    let own = OwnHub::start(exe, &Database::Postgres(postgres.to_owned()), 2).await?;
    let urls = own.urls();
    let organizer = crate::api::Organizer::login(&urls[0], OWNER_EMAIL, OWNER_PASSWORD).await?;
    let target = Target {
        urls,
        organizer,
        own: Some(own),
        label: "2 hub processes over one PostgreSQL database".into(),
    };
    let mut summary = rush::run(&target, args, timeline).await?;
    summary.scenario = "chaos two-instances";
    // Device 0 talks to the first instance, device 1 to the second (round robin), and the
    // push figure is the time from a scan at device 0 until device 1 holds it.
    let push = &summary.figures["push"];
    let detail = format!("from a scan at A to the entry on the device at B: {push}");
    let every_probe = push["count"].as_u64() == Some(rush::PUSH_PROBES as u64);
    summary.check("scans through instance A reached a device on instance B by push", every_probe, detail);
    Ok(summary)
}
