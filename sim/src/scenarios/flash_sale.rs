//! Flash sale with door sales: the shop opens and many customers buy at once, while box
//! offices at the venue sell at the door, offline, from the rights the hub leased to them —
//! all against one capacity. Nothing may be oversold, and every ticket sold must be on the hub.

use super::{Target, progress};
use crate::api::{Attempt, Customer, event_spec};
use crate::fleet::{DeviceSpec, Fleet};
use crate::metrics::{Latencies, Timeline};
use crate::report::Summary;
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use sync_core::ids::TicketTypeId;
use sync_core::journal::PaymentMethod;
use sync_core::replica::{SaleRequest, SellError};

/// The flash sale's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct FlashSaleArgs {
    /// Tickets for sale, online and at the door together.
    #[arg(long, default_value_t = 5_000)]
    pub capacity: usize,
    /// Customers buying at the same time, each as fast as the hub answers.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Most tickets per order (each order asks for 1 to this many).
    #[arg(long, default_value_t = 4)]
    pub max_quantity: u32,
    /// Box offices selling at the door, offline.
    #[arg(long, default_value_t = 2)]
    pub box_offices: usize,
    /// Rights leased to each box office before the sale.
    #[arg(long, default_value_t = 200)]
    pub lease: u32,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["sold online", "sold at the door"];

/// What the online customers achieved.
#[derive(Default)]
pub struct Shop {
    /// Tickets in paid orders.
    pub sold: AtomicU64,
    /// Orders paid.
    pub orders: AtomicU64,
    /// "Sold out" answers.
    pub sold_out: AtomicU64,
    /// Answers worth retrying (503, dropped connections), each retried with the same key.
    pub retried: AtomicU64,
    /// Why they were retried (the first 10,000).
    pub retry_reasons: std::sync::Mutex<Vec<String>>,
    /// Time to place an order (201), retries included.
    pub checkout: Latencies,
    /// From placing to the order paid with its tickets issued (the provider's "paid" answered
    /// after the hub settled), retries included: what the buyer waits for in all.
    pub purchase: Latencies,
    /// The sale closes: customers finish the order they are placing and place no other (a
    /// run that must end on its own clock, not when the capacity is sold).
    pub closed: std::sync::atomic::AtomicBool,
}

impl Shop {
    /// Counts a retried answer and keeps why.
    fn retried_because(&self, why: String) {
        self.retried.fetch_add(1, Ordering::Relaxed);
        let mut reasons = self.retry_reasons.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if reasons.len() < 10_000 {
            reasons.push(why);
        }
    }
}

/// Runs the flash sale.
pub async fn run(target: &Target, args: &FlashSaleArgs, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.max_quantity >= 1, "--max-quantity must be at least 1");
    let started = Instant::now();
    let organizer = &target.organizer;
    let event = organizer.create_event_on_sale(&event_spec("Flash sale", 2, args.capacity)).await?;
    let specs = (0..args.box_offices)
        .map(|n| DeviceSpec {
            role: "box_office",
            ..DeviceSpec::gate(format!("Box office {n}"), target.url_for(n), 1)
        })
        .collect();
    let bar = progress(args.box_offices, "enrolling devices");
    let fleet = Fleet::enroll(organizer, event, specs, &bar).await?;
    bar.finish_and_clear();
    for device in &fleet.devices {
        organizer.grant_lease(event, device.id().0, args.lease).await?;
        device.sync().await?;
        device.replica.box_office(fleet.event).open_shift_with("Simulated cashier", 20_000)?;
    }

    let sampler = timeline.run();
    let shop = Arc::new(Shop::default());
    let selling = Instant::now();
    let bar = progress(args.capacity, "selling");
    let door = door_sales(&fleet, timeline, &bar);
    let online = online_sales(target, event, args, timeline, &shop, &bar);
    let (door_sold, online) = tokio::join!(door, online);
    let door_sold = door_sold?;
    online?;
    let sale_seconds = selling.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // The box offices come back online: their sales reach the hub.
    let convergence = fleet.await_convergence(Duration::from_secs(120)).await?;
    sampler.abort();

    let hub_view = organizer.event(event).await?;
    let kind = &hub_view["ticket_types"][0];
    let number = |name: &str| kind[name].as_u64().unwrap_or(0);
    let (hub_sold, held, leased) = (number("sold"), number("held"), number("leased"));
    let online_sold = shop.sold.load(Ordering::Relaxed);
    let capacity = args.capacity as u64;

    let mut summary = Summary::new("flash-sale", args, target.label.clone(), args.box_offices);
    let checkout = shop.checkout.summary();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let orders_per_second = shop.orders.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    // Over the sale alone (the shop open until sold out), without the setup and the door's
    // convergence around it.
    #[allow(clippy::cast_precision_loss)]
    let paid_per_sale_second = shop.orders.load(Ordering::Relaxed) as f64 / sale_seconds;
    summary.figure(
        "sales",
        json!({
            "capacity": capacity, "sold_online": online_sold, "sold_at_door": door_sold,
            "orders_paid": shop.orders.load(Ordering::Relaxed), "sold_out_answers": shop.sold_out.load(Ordering::Relaxed),
            "retried": shop.retried.load(Ordering::Relaxed), "orders_per_second": orders_per_second,
            "paid_orders_per_sale_second": paid_per_sale_second, "sale_seconds": sale_seconds,
            "hub": {"sold": hub_sold, "held": held, "leased": leased},
        }),
    );
    summary.figure("checkout_latency", checkout);
    summary.figure("place_to_tickets_latency", shop.purchase.summary());
    summary.figure("sync", fleet.stats.summary());
    summary.figure("convergence_ms", convergence.as_secs_f64() * 1000.0);
    summary.check(
        "nothing oversold",
        online_sold + door_sold <= capacity && hub_sold + held + leased <= capacity,
        format!("online {online_sold} + door {door_sold} of {capacity}; hub: sold {hub_sold}, held {held}, leased {leased}"),
    );
    summary.check(
        "every ticket sold online or at the door is sold on the hub",
        hub_sold == online_sold + door_sold && held == 0,
        format!("hub sold {hub_sold}, held {held}; sold online {online_sold} + door {door_sold}"),
    );
    summary.check(
        "the sale sold out: capacity minus unsold door rights went",
        hub_sold + leased == capacity,
        format!("sold {hub_sold} + leased but unsold {leased} of {capacity}"),
    );
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Each box office sells 1–2 tickets per sale, cash, until its leased rights are gone.
async fn door_sales(fleet: &Fleet, timeline: &Timeline, bar: &indicatif::ProgressBar) -> anyhow::Result<u64> {
    let counter = timeline.counter("sold at the door");
    let tasks = fleet.devices.iter().map(|device| {
        let (counter, bar) = (Arc::clone(&counter), bar.clone());
        async move {
            let office = device.replica.box_office(fleet.event);
            let mut sold = 0;
            loop {
                let quantity = if sold % 3 == 0 { 2 } else { 1 };
                let request = SaleRequest {
                    ticket_type: TicketTypeId(1),
                    quantity,
                    payment: PaymentMethod::Cash,
                    voucher: None,
                    seats: Vec::new(),
                };
                match tokio::task::block_in_place(|| office.sell(&request, device.now())) {
                    Ok(sale) => {
                        let n = sale.tickets.len() as u64;
                        sold += n;
                        counter.fetch_add(n, Ordering::Relaxed);
                        bar.inc(n);
                    }
                    Err(SellError::NotEnoughRights { left: 0, .. }) => break,
                    Err(SellError::NotEnoughRights { .. }) => {
                        let request = SaleRequest { quantity: 1, ..request };
                        let sale = tokio::task::block_in_place(|| office.sell(&request, device.now()))?;
                        sold += sale.tickets.len() as u64;
                        counter.fetch_add(1, Ordering::Relaxed);
                        bar.inc(1);
                    }
                    Err(e) => return Err(anyhow::Error::new(e)),
                }
                // A cashier takes a moment per sale.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            anyhow::Ok(sold)
        }
    });
    let sold = futures_util::future::try_join_all(tasks).await?;
    Ok(sold.iter().sum())
}

/// `clients` customers buy until the shop answers "sold out" even for one ticket.
pub async fn online_sales(
    target: &Target,
    event: i64,
    args: &FlashSaleArgs,
    timeline: &Timeline,
    shop: &Arc<Shop>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let counter = timeline.counter("sold online");
    let tasks = (0..args.clients).map(|client| {
        let (shop, counter, bar) = (Arc::clone(shop), Arc::clone(&counter), bar.clone());
        let customer = Customer::new(target.url_for(client));
        let max = args.max_quantity;
        async move {
            let customer = customer?;
            let mut quantity = rand::rng().random_range(1..=max);
            for n in 0.. {
                if shop.closed.load(Ordering::Relaxed) {
                    break;
                }
                let key = format!("sim-flash-{event}-{client}-{n}");
                let placed = Instant::now();
                let order = loop {
                    match customer.place(event, quantity, &key).await {
                        Attempt::Done(order) => break Some(order),
                        Attempt::Retry(why) => {
                            shop.retried_because(why);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Attempt::Refused(409, _) => break None,
                        Attempt::Refused(status, text) => {
                            anyhow::bail!("checkout refused ({status}): {text}")
                        }
                    }
                };
                let Some(order) = order else {
                    shop.sold_out.fetch_add(1, Ordering::Relaxed);
                    if quantity == 1 {
                        return anyhow::Ok(());
                    }
                    quantity = 1;
                    continue;
                };
                shop.checkout.record(placed.elapsed());
                let failed = customer.pay_retrying(&order).await?;
                shop.purchase.record(placed.elapsed());
                for why in failed {
                    shop.retried_because(why);
                }
                shop.orders.fetch_add(1, Ordering::Relaxed);
                shop.sold.fetch_add(u64::from(quantity), Ordering::Relaxed);
                counter.fetch_add(u64::from(quantity), Ordering::Relaxed);
                bar.inc(u64::from(quantity));
                quantity = rand::rng().random_range(1..=max);
            }
            anyhow::Ok(())
        }
    });
    futures_util::future::try_join_all(tasks).await?;
    Ok(())
}
