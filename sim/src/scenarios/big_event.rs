//! A big event on the hub: 500,000 tickets sold and 1,000,000 check-ins from 200 gates, then
//! what the organizer reads of it timed — the live dashboard, every report as JSON and as CSV,
//! the orders search, an order — and a new gate's first sync of the whole event; with the
//! database's size, table by table, indexes apart.
//!
//! The sale and the scans are made in bulk ([`crate::bulk`]): the sale through the hub's own
//! checkout and settlement code in this process, the scans recorded by each enrolled gate and
//! pushed through the hub's sync endpoint. The reads go over HTTP to the hub process, one at a
//! time, with nothing else running: the time an organizer waits for each.

use super::{Target, progress};
use crate::bulk::checkins::{self, Evening, Ticket};
use crate::bulk::sale::{self, ToSell};
use crate::fleet::{DeviceSpec, Fleet};
use crate::metrics::Latencies;
use crate::report::Summary;
use anyhow::{Context, ensure};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use sync_core::ids::EventId;
use sync_core::manifest::{Direction, EntryPolicy};

/// The run's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct BigEventArgs {
    /// Tickets sold: 80 % festival passes (out and back in allowed), 20 % day tickets.
    #[arg(long, default_value_t = 500_000)]
    pub tickets: usize,
    /// Check-ins: every ticket admitted once, then passes going out and coming back (3 exits
    /// to 2 re-entries) until there are this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub checkins: usize,
    /// Gate devices the check-ins come from.
    #[arg(long, default_value_t = 200)]
    pub devices: usize,
    /// Requests timed per read.
    #[arg(long, default_value_t = 30)]
    pub requests: usize,
}

/// The timeline's counters (none: the run's phases are timed as figures).
pub const COUNTERS: &[&str] = &[];

const DAY_MS: i64 = 24 * 3_600_000;

/// What an organizer waits for at most (the target for every read).
const READ_TARGET: Duration = Duration::from_secs(1);
/// A new gate's first sync of the whole event, at most.
const FIRST_SYNC_TARGET: Duration = Duration::from_secs(10);

/// Runs it.
pub async fn run(target: &Target, args: &BigEventArgs) -> anyhow::Result<Summary> {
    let own =
        target.own.as_ref().context("big-event writes the sale into the hub's database: leave out --hub")?;
    ensure!(args.tickets >= 10, "--tickets must be at least 10");
    ensure!(
        args.checkins >= args.tickets,
        "--checkins must be at least --tickets (each ticket is admitted once)"
    );
    let started = Instant::now();
    let mut summary = Summary::new("big-event", args, target.label.clone(), args.devices + 1);
    let (passes, days) = (args.tickets * 4 / 5, args.tickets - args.tickets * 4 / 5);
    let extra = args.checkins - args.tickets;
    let exits = (extra * 3).div_ceil(5);
    ensure!(
        exits <= passes,
        "--checkins beyond {} needs more passes to go out",
        args.tickets + passes * 5 / 3
    );

    let organizer = &target.organizer;
    let event = organizer.create_event_on_sale(&event_spec(passes, days)).await?;
    let db = own.database().await?;
    let bar = progress(args.tickets, "selling");
    let types = [ToSell { number: 1, tickets: passes }, ToSell { number: 2, tickets: days }];
    let now = sync_core::Timestamp::now().0;
    let master = own.master_key()?;
    let shop = sale::Shop {
        database_url: &own.database_url,
        master: &master,
        hub_url: &target.urls[0],
        org: organizer.org_id,
        event,
        // Over the 60 days before yesterday.
        dated: now - 61 * DAY_MS..now - DAY_MS,
    };
    let sold = sale::sell_out(&shop, &types, &bar).await?;
    bar.finish_and_clear();
    summary
        .figure("sale", json!({"orders": sold.orders, "tickets": sold.tickets, "seconds": secs(sold.took)}));

    let devices = enroll(target, event, args.devices).await?;
    let tickets = sold_tickets(&db, organizer.org_id, event).await?;
    ensure!(tickets.len() == args.tickets, "{} tickets issued of {}", tickets.len(), args.tickets);
    let now = sync_core::Timestamp::now();
    let evening =
        Evening { exits, reentries: extra - exits, doors: sync_core::Timestamp(now.0 - 4 * 3_600_000), now };
    let scans = checkins::scans(&tickets, devices.devices.len(), evening)?;
    let bar = progress(args.checkins, "checking in");
    let pushing = Instant::now();
    let pushed =
        checkins::scan_and_push(&devices.devices, EventId(u32::try_from(event)?), scans, 4, &bar).await?;
    bar.finish_and_clear();
    summary.figure("checkins", json!({"entries": pushed, "seconds": secs(pushing.elapsed())}));
    summary.check(
        "every check-in recorded is on the hub",
        pushed == args.checkins as u64,
        format!("{pushed} of {} pushed and acknowledged", args.checkins),
    );
    check_dashboard(&mut summary, organizer, event, args, evening).await?;
    analyze(&own.database_url).await?;

    let reads = time_reads(target, &db, event, args.requests).await?;
    for (name, latency) in &reads {
        summary.check(
            &format!("{name} answers within 1 s (p99)"),
            latency.p99_ms <= ms(READ_TARGET),
            format!("p50 {:.0} ms, p99 {:.0} ms", latency.p50_ms, latency.p99_ms),
        );
    }
    summary
        .figure("reads", reads.iter().map(|(n, l)| (n.clone(), json!(l))).collect::<serde_json::Map<_, _>>());

    let first_sync = new_gate_first_sync(target, &db, event, &tickets, evening).await?;
    summary.figure("first_sync", json!({"seconds": secs(first_sync.took), "entries": first_sync.entries}));
    summary.check(
        "a new gate's first sync of the event completes within 10 s",
        first_sync.took <= FIRST_SYNC_TARGET && first_sync.complete,
        format!(
            "{:.1} s, {} entries, everything held: {}",
            secs(first_sync.took),
            first_sync.entries,
            first_sync.complete
        ),
    );
    summary.check(
        "the new gate knows who is in: a day ticket is already inside, a pass that went out comes back",
        first_sync.verdicts == ["already_inside", "re_entry"],
        format!("{:?}", first_sync.verdicts),
    );
    summary.figure("database", crate::bulk::size::of(&db).await?);
    summary.duration_s = secs(started.elapsed());
    Ok(summary)
}

/// The event: two ticket types, four gates, doors five hours ago.
fn event_spec(passes: usize, days: usize) -> Value {
    let now = sync_core::Timestamp::now().0;
    let gates: Vec<Value> = (1..=4).map(|n| json!({"name": format!("Gate {n}")})).collect();
    json!({
        "name": "Big festival",
        "time_zone": "Europe/Amsterdam",
        "starts_at": now - 5 * 3_600_000,
        "ends_at": now + 12 * 3_600_000,
        "gates": gates,
        "ticket_types": [
            {"name": "Festival pass", "price_minor": 12500, "currency": "EUR", "capacity": passes,
             "entry_policy": "exit_reentry"},
            {"name": "Day ticket", "price_minor": 6500, "currency": "EUR", "capacity": days,
             "entry_policy": "single_entry"}
        ]
    })
}

/// `count` gate devices enrolled for `event`, dealt over the four gates.
async fn enroll(target: &Target, event: i64, count: usize) -> anyhow::Result<Fleet> {
    let specs = (0..count)
        .map(|n| {
            DeviceSpec::gate(
                format!("Gate scanner {n}"),
                target.url_for(n),
                u16::try_from(n % 4 + 1).unwrap_or(1),
            )
        })
        .collect();
    let bar = progress(count, "enrolling devices");
    let fleet = Fleet::enroll(&target.organizer, event, specs, &bar).await?;
    bar.finish_and_clear();
    Ok(fleet)
}

/// Every ticket of `event`, as a gate would read it.
async fn sold_tickets(db: &cloud::db::Db, org: i64, event: i64) -> anyhow::Result<Vec<Ticket>> {
    let mut tx = db.tenant(org).await?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT k.serial, t.number FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id \
         WHERE k.event_id = $1 AND k.org_id = $2 AND k.status = 'valid' ORDER BY k.serial",
    )
    .bind(event)
    .bind(org)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|(serial, number)| {
            Ok(Ticket {
                serial: u32::try_from(serial)?,
                ticket_type: u16::try_from(number)?,
                policy: if number == 1 { EntryPolicy::ExitReentry } else { EntryPolicy::SingleEntry },
            })
        })
        .collect()
}

/// The live dashboard counts what the gates recorded.
async fn check_dashboard(
    summary: &mut Summary,
    organizer: &crate::api::Organizer,
    event: i64,
    args: &BigEventArgs,
    evening: Evening,
) -> anyhow::Result<()> {
    let live = organizer
        .expect(reqwest::Method::GET, &format!("/api/v1/events/{event}/live"), &Value::Null, 200)
        .await?;
    let admitted = i64::try_from(args.tickets + evening.reentries)?;
    let inside = i64::try_from(args.tickets - evening.exits + evening.reentries)?;
    summary.check(
        "the live dashboard counts every admission and who is inside",
        live["admitted"].as_i64() == Some(admitted) && live["inside"].as_i64() == Some(inside),
        format!(
            "admitted {} (expected {admitted}), inside {} (expected {inside})",
            live["admitted"], live["inside"]
        ),
    );
    Ok(())
}

/// Gives PostgreSQL's planner statistics of the tables just filled, as its autovacuum does a
/// minute after bulk changes — where autovacuum is off (this machine's test cluster), plans
/// made without them read the ledger for 17 s instead of 0.5 s. (SQLite: the hub refreshes its
/// own every minute, `Db::optimize`.)
async fn analyze(database_url: &str) -> anyhow::Result<()> {
    let owner = cloud::db::Db::connect(database_url).await?;
    if owner.backend() == cloud::db::Backend::Postgres {
        sqlx::query("ANALYZE").execute(owner.pool()).await?;
    }
    Ok(())
}

/// Each read's latencies.
async fn time_reads(
    target: &Target,
    db: &cloud::db::Db,
    event: i64,
    requests: usize,
) -> anyhow::Result<Vec<(String, crate::metrics::LatencySummary)>> {
    let codes = order_codes(db, target.organizer.org_id, event).await?;
    let mut reads: Vec<(String, Vec<String>)> =
        vec![("dashboard".into(), vec![format!("/api/v1/events/{event}/live")])];
    for report in
        ["sales", "revenue", "checkins", "inside", "double-admissions", "devices", "shifts", "discounts"]
    {
        let path = format!("/api/v1/events/{event}/reports/{report}");
        reads.push((format!("report {report} (JSON)"), vec![path.clone()]));
        reads.push((format!("report {report} (CSV)"), vec![format!("{path}?format=csv")]));
    }
    let search = |q: &str| format!("/events/{event}/orders?q={}", urlencoding(q));
    reads.push(("orders search: a surname".into(), vec![search("Dekker"), search("visser")]));
    reads.push((
        "orders search: an e-mail address".into(),
        codes.iter().map(|(_, email)| search(email)).collect(),
    ));
    reads.push(("orders search: an order code".into(), codes.iter().map(|(code, _)| search(code)).collect()));
    reads.push(("orders search: a ticket serial".into(), vec![search("#12345"), search("#400000")]));
    reads.push((
        "order page (console)".into(),
        codes.iter().map(|(code, _)| format!("/orders/{code}")).collect(),
    ));
    reads.push((
        "order (API)".into(),
        codes.iter().map(|(code, _)| format!("/api/v1/orders/{code}")).collect(),
    ));
    let mut out = Vec::new();
    for (name, paths) in reads {
        let latencies = Latencies::default();
        for i in 0..requests {
            let path = &paths[i % paths.len()];
            let (status, took) = target.organizer.get_timed(path).await?;
            ensure!(status == 200, "GET {path}: {status}");
            latencies.record(took);
        }
        out.push((name, latencies.summary()));
    }
    Ok(out)
}

/// Orders spread over the sale (first, middle, last, …): their codes and buyers' addresses.
async fn order_codes(db: &cloud::db::Db, org: i64, event: i64) -> anyhow::Result<Vec<(String, String)>> {
    let mut tx = db.tenant(org).await?;
    let all: Vec<(String, String)> =
        sqlx::query_as("SELECT code, email FROM orders WHERE event_id = $1 AND org_id = $2 ORDER BY id")
            .bind(event)
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    ensure!(!all.is_empty(), "the event has no orders");
    Ok((0..10).map(|i| all[i * (all.len() - 1) / 9].clone()).collect())
}

/// A search box's text in a query string.
fn urlencoding(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A new gate's first sync.
struct FirstSync {
    took: Duration,
    entries: u64,
    complete: bool,
    /// What the new gate says to a day ticket (admitted earlier) and to a pass that went out.
    verdicts: Vec<&'static str>,
}

/// Enrolls one more gate and times its enrollment and first sync, to the end: it then holds
/// what the hub holds. Then it scans two tickets of the sale.
async fn new_gate_first_sync(
    target: &Target,
    db: &cloud::db::Db,
    event: i64,
    tickets: &[Ticket],
    evening: Evening,
) -> anyhow::Result<FirstSync> {
    let spec = DeviceSpec::gate("New gate".into(), &target.urls[0], 1);
    let started = Instant::now();
    let fleet =
        Fleet::enroll(&target.organizer, event, vec![spec], &indicatif::ProgressBar::hidden()).await?;
    let took = started.elapsed();
    let device = &fleet.devices[0];
    let entries = device.replica.have().total();
    // Held everything: a second exchange brings nothing new.
    let again = device.sync().await?;
    let day = tickets.iter().find(|t| t.policy == EntryPolicy::SingleEntry).context("no day ticket")?;
    let passes: Vec<&Ticket> = tickets.iter().filter(|t| t.policy == EntryPolicy::ExitReentry).collect();
    ensure!(evening.exits > evening.reentries, "every pass that went out came back: none to scan");
    let outside = passes[evening.exits - 1];
    let mut verdicts = Vec::new();
    for ticket in [day, outside] {
        let text = ticket_text(db, target.organizer.org_id, event, ticket.serial).await?;
        let verdict = device.gate().scan(&text, &device.context(Direction::Entry))?;
        verdicts.push(verdict.kind().code());
    }
    Ok(FirstSync { took, entries, complete: again.received == 0, verdicts })
}

/// The text of ticket `serial` of `event`, as its buyer holds it.
async fn ticket_text(db: &cloud::db::Db, org: i64, event: i64, serial: u32) -> anyhow::Result<String> {
    let mut tx = db.tenant(org).await?;
    let text =
        sqlx::query_scalar("SELECT text FROM tickets WHERE event_id = $1 AND serial = $2 AND org_id = $3")
            .bind(event)
            .bind(i64::from(serial))
            .bind(org)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(text)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
