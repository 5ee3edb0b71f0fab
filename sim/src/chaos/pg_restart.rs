//! PostgreSQL restarts (immediate mode: every connection cut, recovery from the WAL) in the
//! middle of a flash sale. Customers retry what the hub calls retryable with the same
//! idempotency key. Afterwards, in the database: no order without its lines, no paid order
//! without its tickets, no idempotency key with two orders, nothing oversold — and every
//! customer got an answer in the end.

use super::postgres::Cluster;
use crate::api::event_spec;
use crate::hub::{Database, OWNER_EMAIL, OWNER_PASSWORD, OwnHub};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::Target;
use crate::scenarios::flash_sale::{FlashSaleArgs, Shop, online_sales};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The restart's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct PgRestartArgs {
    /// Tickets for sale.
    #[arg(long, default_value_t = 5_000)]
    pub capacity: usize,
    /// Customers buying at once.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Restarts, each when another share of the capacity is sold.
    #[arg(long, default_value_t = 2)]
    pub restarts: usize,
    /// How long PostgreSQL stays down each time, s. The hub waits up to 10 s for a
    /// connection before answering 503; a longer outage makes customers retry.
    #[arg(long, default_value_t = 12.0)]
    pub down_secs: f64,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["sold online", "sold at the door"];

/// Creates the cluster, starts the hub on it, sells, restarts, checks.
pub async fn run(exe: &Path, args: &PgRestartArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let cluster = Cluster::create(&format!("voelgoed_sim_{}", std::process::id()))?;
    let own = OwnHub::start(exe, &Database::Postgres(cluster.admin_url()), 1).await?;
    let organizer = crate::api::Organizer::login(&own.urls()[0], OWNER_EMAIL, OWNER_PASSWORD).await?;
    let target = Target {
        urls: own.urls(),
        organizer,
        own: None,
        label: "1 hub process on a private PostgreSQL cluster".into(),
    };
    let event = target
        .organizer
        .create_event_on_sale(&event_spec("Flash sale under restarts", 1, args.capacity))
        .await?;
    let sale = FlashSaleArgs {
        capacity: args.capacity,
        clients: args.clients,
        max_quantity: 4,
        box_offices: 0,
        lease: 0,
    };

    let sampler = timeline.run();
    let shop = Arc::new(Shop::default());
    let bar = crate::scenarios::progress(args.capacity, "selling");
    let selling = online_sales(&target, event, &sale, timeline, &shop, &bar);
    let restarts = async {
        let mut at = Vec::new();
        for n in 1..=args.restarts {
            let due = (args.capacity * n / (args.restarts + 1)) as u64;
            while shop.sold.load(Ordering::Relaxed) < due {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            at.push(shop.sold.load(Ordering::Relaxed));
            // Blocks one runtime worker for the stop; the customers go on on the other.
            tokio::task::block_in_place(|| cluster.crash())?;
            tokio::time::sleep(Duration::from_secs_f64(args.down_secs)).await;
            tokio::task::block_in_place(|| cluster.start())?;
        }
        anyhow::Ok(at)
    };
    let (sold, restarted_at) = tokio::join!(selling, restarts);
    bar.finish_and_clear();
    sampler.abort();

    let mut summary = Summary::new("chaos pg-restart", args, target.label.clone(), 0);
    summary.check(
        "every customer got a final answer (retryable errors succeeded on retry, no 500)",
        sold.is_ok() && restarted_at.is_ok(),
        format!(
            "{:?} {:?}",
            sold.as_ref().err().map(ToString::to_string),
            restarted_at.as_ref().err().map(ToString::to_string)
        ),
    );
    check_database(&own.database().await?, event, args, &shop, &mut summary).await?;
    summary.figure("restarted_when_sold", restarted_at.ok());
    drop(own);
    drop(cluster);
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What the database must show after the restarts.
async fn check_database(
    db: &cloud::db::Db,
    event: i64,
    args: &PgRestartArgs,
    shop: &Shop,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let retried = shop.retried.load(Ordering::Relaxed);
    summary.check(
        "an outage longer than the hub's 10 s connection wait reached customers as retryable errors",
        retried > 0 || args.down_secs <= 10.0 || args.restarts == 0,
        format!("{retried} retried answers, {} s down", args.down_secs),
    );
    super::check_sale(db, event, args.capacity, shop, summary).await
}
