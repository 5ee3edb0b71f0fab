//! A rolling upgrade without downtime: hub instances of the previous release run over one
//! PostgreSQL database behind a load balancer ([`crate::balancer`]) while gates scan and sync
//! live and customers buy online; the instances are replaced one at a time by this release
//! (the first new one migrates the schema under the old ones still serving), as an
//! orchestrator rolls a deployment: start the new instance, put it into rotation, drain the
//! old one, SIGTERM it (SIGKILL after the grace period). Then one new instance is restarted
//! the same way, to time this release's own shutdown.
//!
//! What must hold: no request through the balancer failed and no customer had to retry but
//! for a payment held by a stopped instance's simulated provider (nothing refused that should
//! pass), the schema is this release's at the end, every scan was admitted once and reached the hub and
//! every device, every double admission was found (nothing lost), and the sale's database
//! checks ([`super::check_sale`]: nothing sold twice, every paid ticket issued).

use crate::api::{Organizer, event_spec};
use crate::balancer::Balancer;
use crate::hub::{Database, OWNER_EMAIL, OWNER_PASSWORD, OwnHub, Stopped};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::Target;
use crate::scenarios::flash_sale::{FlashSaleArgs, Shop, online_sales};
use crate::scenarios::rush::{self, RushArgs};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The upgrade's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct UpgradeArgs {
    /// The previous release's simulator binary: its `hub` command is that release's hub
    /// (scripts/chaos builds it from the newest release tag before HEAD).
    #[arg(long)]
    pub from: PathBuf,
    /// Hub instances, each replaced in turn.
    #[arg(long, default_value_t = 2)]
    pub instances: usize,
    /// Gate devices scanning and syncing live through the roll.
    #[arg(long, default_value_t = 10)]
    pub gates: usize,
    /// People per second at each gate.
    #[arg(long, default_value_t = 4.0)]
    pub rate: f64,
    /// How long the gates scan, s (the roll must end before they do).
    #[arg(long, default_value_t = 90.0)]
    pub scan_secs: f64,
    /// Customers buying online at once, until the gates are done.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds of scanning and selling before the roll begins.
    #[arg(long, default_value_t = 5.0)]
    pub settle_secs: f64,
    /// Seconds each new instance serves beside the remaining old ones before the next is
    /// replaced (the mixed-release stretch: the previous release on the new schema).
    #[arg(long, default_value_t = 10.0)]
    pub step_secs: f64,
    /// How long a stopping instance may take to finish its requests before it is SIGKILLed.
    #[arg(long, default_value_t = 30.0)]
    pub grace_secs: f64,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned", "sold online"];

/// Tickets on sale online: more than the customers can buy in a run (the sale closes when
/// the gates are done, not when it sells out).
const CAPACITY: usize = 1_000_000;

/// One step of the roll.
#[derive(Debug, Serialize)]
struct Step {
    /// What was replaced by what.
    what: String,
    /// The instance stopped.
    old: String,
    /// The instance started.
    new: String,
    /// Seconds since the run began, when the step began.
    at_s: f64,
    /// The new instance's start, until it answered `/health` (migrating first, if it was the
    /// first of its release), ms.
    new_ready_ms: f64,
    /// Requests still in flight at the old instance after the balancer's 1 s drain
    /// (long-polls and streams it must end itself).
    in_flight_after_drain: usize,
    /// How the old instance stopped.
    stopped: Stopped,
}

/// Starts the previous release's instances, runs the workload, rolls, checks.
pub async fn run(
    exe: &Path,
    postgres: &str,
    args: &UpgradeArgs,
    timeline: &Arc<Timeline>,
) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.instances >= 1, "--instances must be at least 1");
    anyhow::ensure!(args.gates >= 2, "--gates must be at least 2 (the push probe needs two)");
    anyhow::ensure!(
        args.from.is_file(),
        "--from {}: no such binary (scripts/chaos upgrade builds it)",
        args.from.display()
    );
    let started = Instant::now();
    let mut own = OwnHub::start(&args.from, &Database::Postgres(postgres.to_owned()), args.instances).await?;
    let balancer = Balancer::start(&own.urls()).await?;
    let organizer = Organizer::login(&balancer.url, OWNER_EMAIL, OWNER_PASSWORD).await?;
    let target = Target {
        urls: vec![balancer.url.clone()],
        organizer,
        own: None,
        label: format!(
            "{} hub processes over one PostgreSQL database, behind a load balancer",
            args.instances
        ),
    };
    let sale_event =
        target.organizer.create_event_on_sale(&event_spec("Sale through an upgrade", 1, CAPACITY)).await?;
    let sale = FlashSaleArgs {
        capacity: CAPACITY,
        clients: args.clients,
        max_quantity: 4,
        box_offices: 0,
        lease: 0,
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a few thousand
    let tickets = (f64::from(u32::try_from(args.gates)?) * args.rate * args.scan_secs).round() as usize;
    let gates =
        RushArgs { gates: args.gates, tickets, rate: args.rate, offline_gates: 1, copies: 20.min(tickets) };

    let shop = Arc::new(Shop::default());
    let bar = indicatif::ProgressBar::hidden();
    let selling = online_sales(&target, sale_event, &sale, timeline, &shop, &bar);
    let scanning = async {
        let summary = rush::run(&target, &gates, timeline).await;
        // The gates are done (converged, probed): the sale closes too.
        shop.closed.store(true, Ordering::Relaxed);
        summary
    };
    let scanned = timeline.counter("scanned");
    let roll = roll(&mut own, &balancer, exe, args, started, &scanned, &shop);
    let (sold, gates_summary, rolled) = tokio::join!(selling, scanning, roll);
    shop.closed.store(true, Ordering::Relaxed);

    let mut summary = gates_summary?;
    summary.scenario = "chaos upgrade";
    summary.parameters = serde_json::to_value(args)?;
    summary.hub.clone_from(&target.label);
    let Rolled { steps, before, after } = rolled?;
    let traffic = balancer.traffic();
    summary.figure("roll", &steps);
    summary.figure("balancer", traffic);
    summary
        .figure("during_roll", json!({"scanned": [before.0, after.0], "sold_online": [before.1, after.1]}));
    summary.check(
        "the roll ran while the gates scanned and the shop sold",
        after.0 < tickets as u64 && after.1 > before.1 && after.0 > before.0,
        format!("scans {} → {} of {tickets}, tickets sold {} → {}", before.0, after.0, before.1, after.1),
    );
    summary.check(
        "no request through the load balancer failed (nothing refused that should pass)",
        traffic.failed == 0,
        format!("{traffic:?}"),
    );
    check_customers(&mut summary, &shop, &steps, sold.as_ref().err());
    let failures = summary.figures["sync"]["failures"].as_u64();
    summary.check("no device's sync exchange failed", failures == Some(0), format!("{failures:?} failed"));
    let old_stops_killed = steps.iter().filter(|s| s.stopped.killed).count();
    summary.figure("old_instances_killed_after_grace", old_stops_killed);
    let this_release = steps.last().map(|s| s.stopped);
    summary.check(
        "this release stops within 5 s of SIGTERM (long-polls answered, streams ended)",
        this_release.is_some_and(|s| !s.killed && s.took_ms < 5_000.0),
        format!("{this_release:?}"),
    );

    // Afterwards, as this release (whose instances now run): the sale's invariants, and the
    // schema is this release's.
    // Read before anything here opens the database the hub's way (which would migrate it).
    let owner = cloud::db::Db::connect(&own.database_url).await?;
    let migrated: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(owner.pool())
        .await?;
    let known = cloud::db::schema::newest_known(owner.backend());
    summary.check(
        "the new instances migrated the schema to this release's",
        migrated == Some(known),
        format!("the database's newest migration {migrated:?}, this release's {known}"),
    );
    let db = own.database().await?;
    super::check_sale(&db, sale_event, CAPACITY, &shop, &mut summary).await?;
    drop(own);
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The customers' side: none refused; none retried but for a payment held by the simulated
/// provider of an instance that was stopped.
fn check_customers(summary: &mut Summary, shop: &Shop, steps: &[Step], failed: Option<&anyhow::Error>) {
    // The simulated payment provider runs inside each hub instance and keeps its payments in
    // that process's memory; its pages (and the order page it sends the buyer back to) are at
    // that instance's own address, not the balancer's. A payment begun at an instance that
    // then stops is gone with it, and its customer starts another. A real provider is outside
    // the roll. Any other retry is the roll's doing.
    let reasons = shop.retry_reasons.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let stopped: Vec<&str> = steps.iter().map(|s| s.old.as_str()).collect();
    let (providers, unexplained): (Vec<&String>, Vec<&String>) =
        reasons.iter().partition(|r| stopped.iter().any(|u| r.contains(&format!("{u}/"))));
    summary.figure(
        "customer_retries",
        json!({"payments_lost_with_their_instance": providers.len(), "other": unexplained}),
    );
    summary.check(
        "no customer was refused or had to retry, but for payments held by a stopped instance's simulated provider",
        failed.is_none() && unexplained.is_empty() && reasons.len() as u64 == shop.retried.load(Ordering::Relaxed),
        format!(
            "{} retried at a stopped instance's provider, others: {unexplained:?}; {:?}",
            providers.len(),
            failed.map(ToString::to_string)
        ),
    );
}

/// The roll: its steps, and (scans, tickets sold) when it began and ended.
struct Rolled {
    steps: Vec<Step>,
    before: (u64, u64),
    after: (u64, u64),
}

/// Once the gates scan and the sale sells (and `--settle-secs` longer), replaces every
/// instance of the previous release, then one of this release.
async fn roll(
    own: &mut OwnHub,
    balancer: &Balancer,
    exe: &Path,
    args: &UpgradeArgs,
    started: Instant,
    scanned: &AtomicU64,
    shop: &Shop,
) -> anyhow::Result<Rolled> {
    while scanned.load(Ordering::Relaxed) == 0 || shop.sold.load(Ordering::Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle_secs)).await;
    let before = (scanned.load(Ordering::Relaxed), shop.sold.load(Ordering::Relaxed));
    let mut steps = Vec::new();
    for old in 0..args.instances {
        let what = "previous release → this release";
        steps.push(replace(own, balancer, old, exe, what, started, args).await?);
        tokio::time::sleep(Duration::from_secs_f64(args.step_secs)).await;
    }
    // This release stopping, timed the same way (a restart for a configuration change).
    let newest = own.instances.len() - args.instances;
    steps.push(replace(own, balancer, newest, exe, "this release → this release", started, args).await?);
    let after = (scanned.load(Ordering::Relaxed), shop.sold.load(Ordering::Relaxed));
    Ok(Rolled { steps, before, after })
}

/// Replaces instance `old` by a new one of `exe`: start it, put it into rotation, drain the
/// old one (1 s for its short requests), SIGTERM it, and forget it.
async fn replace(
    own: &mut OwnHub,
    balancer: &Balancer,
    old: usize,
    exe: &Path,
    what: &str,
    started: Instant,
    args: &UpgradeArgs,
) -> anyhow::Result<Step> {
    let at_s = started.elapsed().as_secs_f64();
    let starting = Instant::now();
    let new = own.start_instance(exe).await?;
    let new_ready_ms = starting.elapsed().as_secs_f64() * 1000.0;
    balancer.add(&own.instances[new].url);
    let old_url = own.instances[old].url.clone();
    let in_flight_after_drain = balancer.drain(&old_url, Duration::from_secs(1)).await;
    let stopped = own.instances[old].stop(Duration::from_secs_f64(args.grace_secs)).await?;
    balancer.remove(&old_url);
    let new = own.instances[new].url.clone();
    Ok(Step { what: what.to_owned(), old: old_url, new, at_s, new_ready_ms, in_flight_after_drain, stopped })
}
