//! A sold-out sale of hundreds of thousands of tickets, made in minutes through the hub's own
//! sale code (in this process, on the hub's database) instead of its HTTP API.
//!
//! Each order of 1–4 tickets is checked and priced by `checkout::check`, placed by the hub's
//! checkout batcher (capacity taken by the same conditional UPDATE as every online order),
//! paid with a payment recorded as the simulated provider's, and settled by
//! `fulfil::settle_all` (ledger, order paid, tickets signed and issued, the buyer's
//! confirmation queued), 60 payments per transaction as the hub's settlers do. So the rows are
//! the rows a real sale leaves. Skipped: the HTTP round trips (buying 500,000 tickets over HTTP
//! at ~280 paid orders/s would take ~12 minutes per backend), the provider's own record of
//! each payment, and the e-mails — the confirmations are marked sent, since the sale is long
//! over when the gates open, and rendering 200,000 PDFs would share the CPU with what the run
//! measures.

use anyhow::{Context, bail};
use cloud::db::Db;
use cloud::payments::PaymentProvider;
use cloud::payments::simulated::{Credentials, MOUNT, SimulatedClient};
use cloud::sales::checkout::{self, NewLine, NewOrder, Placed};
use cloud::sales::fulfil::{Settled, Succeeded, settle_all};
use cloud::sales::{Sales, SalesOptions, store};
use cloud::state::PublicUrl;
use futures_util::stream::{self, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Orders placed (and then paid) together: enough to keep the checkout batcher's
/// transactions full, few enough to keep memory flat.
const CHUNK: usize = 2_000;
/// Payments per settling transaction (the hub's settlers cap theirs at 60: PostgreSQL keeps
/// 64 subtransactions per session in shared memory, and each payment settles in a savepoint).
const SETTLE_BATCH: usize = 60;
/// Settling transactions in flight (the hub runs 4 settlers per organization).
const SETTLERS: usize = 4;

/// One ticket type to sell out: its number in the event and how many.
#[derive(Clone, Copy, Debug)]
pub struct ToSell {
    /// The ticket type's number (1, 2, …).
    pub number: u16,
    /// Tickets of it to sell.
    pub tickets: usize,
}

/// What the sale made.
#[derive(Clone, Debug)]
pub struct Sold {
    /// Paid orders.
    pub orders: usize,
    /// Tickets issued.
    pub tickets: usize,
    /// How long it took.
    pub took: Duration,
}

/// Where and when to sell.
pub struct Shop<'a> {
    /// The hub's database URL.
    pub database_url: &'a str,
    /// The hub's master key (the event's signing key is sealed with it).
    pub master: &'a cloud::crypto::MasterKey,
    /// Where buyers reach the hub (the links in their confirmations).
    pub hub_url: &'a str,
    /// The organization.
    pub org: i64,
    /// Its event.
    pub event: i64,
    /// When the sale ran (Unix ms, from and to): the orders are dated evenly over it, so the
    /// sales report has its days and "sold today" is what the day sold, as at a real event.
    pub dated: std::ops::Range<i64>,
}

/// Sells `types` of the shop's event out in orders of 1–4 tickets.
pub async fn sell_out(
    shop: &Shop<'_>,
    types: &[ToSell],
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Sold> {
    let Shop { master, hub_url, org, event, .. } = *shop;
    let started = Instant::now();
    // The hub's own code, dated by a clock of our own (every timestamp it writes reads it).
    let clock = cloud::clock::Clock::manual(shop.dated.start);
    let db = &Db::open_with_clock(shop.database_url, clock.clone()).await?;
    let credentials = Credentials {
        api_key: hex::encode(master.derive("simulated-psp:api-key")),
        webhook_secret: master.derive("simulated-psp:webhook-secret").to_vec(),
    };
    let provider: Arc<dyn PaymentProvider> =
        Arc::new(SimulatedClient::new(&format!("{hub_url}{MOUNT}"), credentials)?);
    let options = SalesOptions { max_batch: 256, ..SalesOptions::default() };
    let sales = Sales::new(options, provider, PublicUrl(hub_url.into()));
    let sale = sales.events.get(db, event).await.map_err(|e| anyhow::anyhow!("event {event}: {e}"))?;
    let plan = orders(types);
    let chunks = i64::try_from(plan.len().div_ceil(CHUNK))?.max(1);
    let mut sold = Sold { orders: 0, tickets: 0, took: Duration::ZERO };
    for (chunk_no, chunk) in plan.chunks(CHUNK).enumerate() {
        let span = shop.dated.end - shop.dated.start;
        clock.set(shop.dated.start + span * i64::try_from(chunk_no)? / chunks);
        let now = db.clock().now_ms();
        // Held until 15 minutes after the real now: the hub's own clock expires lapsed holds.
        let hold_ms = sync_core::Timestamp::now().0 - now + i64::try_from(sales.options.hold.as_millis())?;
        let mut placing = Vec::with_capacity(chunk.len());
        for (i, line) in chunk.iter().enumerate() {
            let n = chunk_no * CHUNK + i;
            let order = checkout::check(&buyer(n, line.clone()), &sale, event, None, now, hold_ms)
                .map_err(|e| anyhow::anyhow!("order {n}: {e}"))?;
            placing.push(async {
                let total = order.total_minor;
                (place(&sales, db, order).await, total)
            });
        }
        let mut held = Vec::with_capacity(chunk.len());
        for (placed, total) in futures_util::future::join_all(placing).await {
            match placed.map_err(|e| anyhow::anyhow!("placing: {e}"))? {
                Placed::Held { id, .. } => held.push((id, total)),
                other => bail!("an order of the bulk sale was not placed: {other:?}"),
            }
        }
        let payments = pay(db, org, &held).await?;
        settle(db, master, &sales, org, &payments).await?;
        // At once, before the hub's mail worker (a round every 15 s) renders them.
        mark_confirmations_sent(db, org).await?;
        sold.orders += held.len();
        let tickets: usize = chunk.iter().map(|l| l.quantity as usize).sum();
        sold.tickets += tickets;
        progress.inc(tickets as u64);
    }
    sold.took = started.elapsed();
    Ok(sold)
}

/// Attempts at a transaction that failed as a whole (nothing of it committed, so it may be
/// tried again): on SQLite the hub process writes beside this one, and a transaction that read
/// before the other's write committed cannot write (`SQLITE_BUSY_SNAPSHOT`).
const ATTEMPTS: usize = 5;

/// Places `order`, again if its batch's transaction failed.
async fn place(sales: &Sales, db: &Db, order: checkout::Order) -> Result<Placed, cloud::error::ApiError> {
    let mut attempt = 1;
    loop {
        match sales.batchers.place(db, order.clone()).await {
            Err(cloud::error::ApiError::Unavailable) if attempt < ATTEMPTS => attempt += 1,
            other => return other,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The orders: ticket types in turn, each sold out in orders of 2, 1, 4, 2, 3, 1, 4, 3, …
/// tickets (a fixed pattern averaging 2.5), the last order of each type what is left.
fn orders(types: &[ToSell]) -> Vec<NewLine> {
    const SIZES: [u32; 8] = [2, 1, 4, 2, 3, 1, 4, 3];
    let mut out = Vec::new();
    for t in types {
        let mut left = t.tickets;
        let mut k = 0;
        while left > 0 {
            let size = (SIZES[k % SIZES.len()] as usize).min(left);
            out.push(NewLine {
                ticket_type: t.number,
                quantity: u32::try_from(size).unwrap_or(1),
                seats: Vec::new(),
            });
            left -= size;
            k += 1;
        }
    }
    out
}

/// Buyer `n`'s order of `line`: a name from a short list, an address made unique by `n`.
fn buyer(n: usize, line: NewLine) -> NewOrder {
    const FIRST: [&str; 16] = [
        "Anna", "Jonas", "Sophie", "Lukas", "Emma", "Noah", "Mia", "Daan", "Lea", "Sem", "Julia", "Finn",
        "Lotte", "Max", "Sara", "Levi",
    ];
    const LAST: [&str; 13] = [
        "de Vries",
        "Becker",
        "Janssen",
        "Schneider",
        "Bakker",
        "Visser",
        "Hoffmann",
        "Smit",
        "Wagner",
        "Meijer",
        "Mulder",
        "de Boer",
        "Dekker",
    ];
    let (first, last) = (FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
    let mailbox = format!("{first}.{last}.{n}").to_lowercase().replace(' ', "");
    NewOrder {
        lines: vec![line],
        email: format!("{mailbox}@big.voelgoed.invalid"),
        name: format!("{first} {last}"),
        voucher: None,
        phone: None,
        text_via: None,
    }
}

/// A payment per held order, recorded as created at the simulated provider: what paying
/// would have left before the provider's webhook.
async fn pay(db: &Db, org: i64, held: &[(i64, i64)]) -> anyhow::Result<Vec<Succeeded>> {
    let mut tx = db.tenant(org).await?;
    let mut payments = Vec::with_capacity(held.len());
    for &(order, total) in held {
        let id = store::insert_payment(&mut tx, order, total, "EUR", None).await?;
        store::payment_created(&mut tx, id, &format!("simpay_bulk_{id}"), "", None).await?;
        payments.push(Succeeded {
            payment: id,
            amount_minor: total,
            currency: "EUR".to_owned(),
            webhook_event: Some(format!("simevt_bulk_{id}")),
        });
    }
    tx.commit().await?;
    Ok(payments)
}

/// Settles `payments` as the hub's settlers would, checking each came to paid.
async fn settle(
    db: &Db,
    master: &cloud::crypto::MasterKey,
    sales: &Sales,
    org: i64,
    payments: &[Succeeded],
) -> anyhow::Result<()> {
    let outcomes: Vec<_> = stream::iter(payments.chunks(SETTLE_BATCH))
        .map(|batch| async move {
            let mut attempt = 1;
            loop {
                match settle_all(db, master, sales, org, batch).await {
                    Err(_) if attempt < ATTEMPTS => attempt += 1,
                    other => return other,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .buffer_unordered(SETTLERS)
        .collect()
        .await;
    for outcome in outcomes {
        for settled in outcome.map_err(|e| anyhow::anyhow!("settling: {e}"))? {
            match settled.map_err(|e| anyhow::anyhow!("settling a payment: {e}"))? {
                Settled::Paid => {}
                other => bail!("a payment of the bulk sale settled as {other:?}"),
            }
        }
    }
    Ok(())
}

/// Marks the queued confirmations of `org` sent.
async fn mark_confirmations_sent(db: &Db, org: i64) -> anyhow::Result<()> {
    let mut tx = db.tenant(org).await?;
    let now = tx.now();
    sqlx::query("UPDATE outbox SET sent_at = $1 WHERE org_id = $2 AND sent_at IS NULL")
        .bind(now)
        .bind(org)
        .execute(&mut *tx)
        .await
        .context("marking the confirmations sent")?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orders_sell_each_type_out_exactly_in_orders_of_one_to_four() {
        let lines = orders(&[ToSell { number: 1, tickets: 1001 }, ToSell { number: 2, tickets: 7 }]);
        for number in [1, 2] {
            let sold: u32 = lines.iter().filter(|l| l.ticket_type == number).map(|l| l.quantity).sum();
            assert_eq!(sold, if number == 1 { 1001 } else { 7 });
        }
        assert!(lines.iter().all(|l| (1..=4).contains(&l.quantity)));
        // 2 to 3 tickets an order.
        assert!((1008 / 3..=1008 / 2).contains(&lines.len()), "{} orders", lines.len());
    }

    #[test]
    fn every_buyer_has_an_address_of_their_own() {
        let line = NewLine { ticket_type: 1, quantity: 1, seats: Vec::new() };
        let emails: std::collections::HashSet<String> =
            (0..5_000).map(|n| buyer(n, line.clone()).email).collect();
        assert_eq!(emails.len(), 5_000);
        assert_eq!(buyer(17, line).name, "Jonas Becker");
    }
}
