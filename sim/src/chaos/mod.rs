//! Chaos: the promises under failure, each a subcommand of `voelgoed-sim chaos`.
//!
//! | chaos | what must hold |
//! |---|---|
//! | [`hub_kill`] | the hub is SIGKILLed mid fleet sync and restarted: nothing acknowledged is lost, all converge |
//! | [`pg_restart`] | PostgreSQL restarts mid flash sale: no half-made order, no oversell, retries succeed |
//! | [`two_instances`] | two hub instances over one PostgreSQL: devices split between them converge, push crosses over |
//! | [`clock_skew`] | device clocks 10 minutes off both ways: validity, ordering and double admissions still hold |
//! | [`upgrade`] | instances rolled from the previous release to this one under load: nothing refused, lost or sold twice |

pub mod clock_skew;
pub mod hub_kill;
pub mod pg_restart;
pub mod postgres;
pub mod two_instances;
pub mod upgrade;

/// The chaos subcommands.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum Chaos {
    /// SIGKILL the hub in the middle of a fleet sync, restart it, check nothing was lost.
    HubKill(hub_kill::HubKillArgs),
    /// Restart PostgreSQL in the middle of a flash sale (a private cluster the run creates).
    PgRestart(pg_restart::PgRestartArgs),
    /// Two hub instances over one PostgreSQL, devices split between them.
    TwoInstances(crate::scenarios::rush::RushArgs),
    /// Device clocks ahead and behind by --skew-secs.
    ClockSkew(clock_skew::ClockSkewArgs),
    /// Roll hub instances from the previous release (--from) to this one while gates sync
    /// and a sale runs (PostgreSQL: --postgres, or the local server).
    Upgrade(upgrade::UpgradeArgs),
}

/// Counts rows with `sql` (one `$1` parameter, the event) in the hub's database (a read-only
/// transaction: on SQLite it does not take the hub's write lock).
pub async fn count(db: &cloud::db::Db, sql: &'static str, event: i64) -> anyhow::Result<i64> {
    let mut tx = db.lookup().await?;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(event).fetch_one(&mut *tx).await?;
    Ok(n)
}

/// What the database must show after an online sale under failure: no half-made order, no
/// idempotency key with two orders, nothing oversold, every ticket paid for issued, every
/// order a customer placed paid. Adds the figures `sales` and `checkout_latency`.
pub async fn check_sale(
    db: &cloud::db::Db,
    event: i64,
    capacity: usize,
    shop: &crate::scenarios::flash_sale::Shop,
    summary: &mut crate::report::Summary,
) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
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
    let paid_by_customers = shop.orders.load(Ordering::Relaxed);
    summary.figure(
        "sales",
        serde_json::json!({"capacity": capacity, "sold_online": sold_online, "orders_paid": paid_by_customers,
               "orders_in_database": orders, "tickets_in_database": tickets,
               "retried": shop.retried.load(Ordering::Relaxed)}),
    );
    summary.figure("checkout_latency", shop.checkout.summary());
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
        u64::try_from(tickets) == Ok(sold_online) && sold_online <= capacity as u64,
        format!("{tickets} tickets in the database, {sold_online} paid for, capacity {capacity}"),
    );
    let paid =
        count(db, "SELECT COUNT(*) FROM orders WHERE event_id = $1 AND status = 'paid'", event).await?;
    let pending =
        count(db, "SELECT COUNT(*) FROM orders WHERE event_id = $1 AND status = 'pending'", event).await?;
    summary.check(
        "every order a customer placed is paid, none left pending (the rest: refused as sold out)",
        u64::try_from(paid) == Ok(paid_by_customers) && pending == 0,
        format!("{orders} orders in the database: {paid} paid, {pending} pending; customers paid {paid_by_customers}"),
    );
    Ok(())
}
