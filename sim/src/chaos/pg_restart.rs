//! PostgreSQL restarts (immediate mode: every connection cut, recovery from the WAL) in the
//! middle of a flash sale. Customers retry what the hub calls retryable with the same
//! idempotency key. Afterwards, in the database: no order without its lines, no paid order
//! without its tickets, no idempotency key with two orders, nothing oversold — and every
//! customer got an answer in the end.

use super::count;
use super::postgres::Cluster;
use crate::api::event_spec;
use crate::hub::{Database, OWNER_EMAIL, OWNER_PASSWORD, OwnHub};
use crate::metrics::Timeline;
use crate::report::Summary;
use crate::scenarios::Target;
use crate::scenarios::flash_sale::{FlashSaleArgs, Shop, online_sales};
use serde::Serialize;
use serde_json::json;
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
    let orders = count(db, "SELECT COUNT(*) FROM orders WHERE event_id = $1", event).await?;
    let half_made = count(
        db,
        "SELECT COUNT(*) FROM orders o WHERE o.event_id = $1 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
        event,
    )
    .await?;
    let paid_without_tickets = count(
        db,
        "SELECT COUNT(*) FROM orders o WHERE o.event_id = $1 AND o.status = 'paid' AND \
         (SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id) <> \
         (SELECT COUNT(*) FROM tickets k WHERE k.order_id = o.id)",
        event,
    )
    .await?;
    let tickets = count(db, "SELECT COUNT(*) FROM tickets WHERE event_id = $1", event).await?;
    let duplicate_keys = count(
        db,
        "SELECT COUNT(*) FROM (SELECT idempotency_key FROM orders WHERE event_id = $1 AND idempotency_key IS NOT NULL \
         GROUP BY idempotency_key HAVING COUNT(*) > 1) d",
        event,
    )
    .await?;
    let sold_online = shop.sold.load(Ordering::Relaxed);
    let retried = shop.retried.load(Ordering::Relaxed);
    summary.figure(
        "sales",
        json!({"capacity": args.capacity, "sold_online": sold_online, "orders_paid": shop.orders.load(Ordering::Relaxed),
               "orders_in_database": orders, "tickets_in_database": tickets, "retried": retried}),
    );
    summary.figure("checkout_latency", shop.checkout.summary());
    summary.check(
        "an outage longer than the hub's 10 s connection wait reached customers as retryable errors",
        retried > 0 || args.down_secs <= 10.0 || args.restarts == 0,
        format!("{retried} retried answers, {} s down", args.down_secs),
    );
    summary.check(
        "no order is half-made",
        half_made == 0 && paid_without_tickets == 0,
        format!("{half_made} orders without lines, {paid_without_tickets} paid orders missing tickets"),
    );
    summary.check(
        "no idempotency key made two orders",
        duplicate_keys == 0,
        format!("{duplicate_keys} keys"),
    );
    summary.check(
        "nothing oversold, and every ticket a customer paid for exists",
        u64::try_from(tickets) == Ok(sold_online) && sold_online <= args.capacity as u64,
        format!("{tickets} tickets in the database, {sold_online} paid for, capacity {}", args.capacity),
    );
    let paid =
        count(db, "SELECT COUNT(*) FROM orders WHERE event_id = $1 AND status = 'paid'", event).await?;
    let pending =
        count(db, "SELECT COUNT(*) FROM orders WHERE event_id = $1 AND status = 'pending'", event).await?;
    summary.check(
        "every order a customer placed is paid, none left pending (the rest: refused as sold out)",
        u64::try_from(paid) == Ok(shop.orders.load(Ordering::Relaxed)) && pending == 0,
        format!(
            "{orders} orders in the database: {paid} paid, {pending} pending; customers paid {}",
            shop.orders.load(Ordering::Relaxed)
        ),
    );
    Ok(())
}
