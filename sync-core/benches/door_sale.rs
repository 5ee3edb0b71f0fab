//! Time from the cashier's "sell" to tickets on screen through `BoxOffice::sell` (rights from
//! the journal, serial allocation, Ed25519 signing of every ticket under the delegation, one
//! commit with synchronous=FULL), on the real disk; and a shift report over the whole journal.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench door_sale`. Target (issue 6): a pair of
//! tickets in p50 ≤ 10 ms, p99 ≤ 25 ms — well inside a cashier's pause.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::{DeviceId, SeatNumber, Serial, Timestamp};
use sync_core::journal::{HUB, LeaseGrant, LeaseId, LeaseSeats, Payload, PaymentMethod, VoucherGrant};
use sync_core::keys::EventKey;
use sync_core::manifest::Price;
use sync_core::pricing::{Effect, PriceMode, Rule, Scope, VoucherTerms};
use sync_core::replica::{Replica, ReplicaConfig, SaleRequest};
use sync_core::sync::memory::MemoryTransport;
use sync_core::ticket::DelegationGrant;

const SALES: u32 = 2_000;

/// Lease `id` of day tickets `first..=last` to `desk` until `expires`, with its delegation.
fn lease(
    key: &EventKey,
    desk: &Replica,
    id: u64,
    (first, last): (u32, u32),
    expires: Timestamp,
) -> LeaseGrant {
    let delegation = key
        .delegate(DelegationGrant {
            device_key: desk.public_key(),
            first_serial: Serial(first),
            last_serial: Serial(last),
            expires: u32::try_from(expires.unix_seconds()).unwrap() + 86_400,
            ticket_types: vec![demo::DAY],
        })
        .unwrap();
    LeaseGrant {
        lease: LeaseId(id),
        device: desk.device(),
        ticket_type: demo::DAY,
        first_serial: Serial(first),
        last_serial: Serial(last),
        expires,
        delegation: delegation.to_bytes(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = support::DiskDir::new("door-sale");
    let (mut manifest, key, _) = demo::festival();
    for t in &mut manifest.ticket_types {
        t.price = Some(Price { minor: 4_500, currency: "EUR".into() });
    }
    let hub = Replica::open_in_memory(ReplicaConfig::new(HUB)).unwrap();
    let desk = Arc::new(Replica::open(dir.0.join("desk.db"), ReplicaConfig::new(DeviceId(5))).unwrap());
    assert_eq!(desk.durability(), 2, "synchronous=FULL");
    hub.record(demo::EVENT, Payload::Manifest(std::sync::Arc::new(manifest))).unwrap();
    let now = Timestamp::now();
    let last = 2 * SALES + 100;
    hub.record(demo::EVENT, Payload::LeaseGrant(lease(&key, &desk, 1, (1, last), now.plus_seconds(3_600))))
        .unwrap();
    sync_core::sync::sync_with(&*desk, &MemoryTransport::new(&hub, desk.device())).await.unwrap();

    let office = desk.box_office(demo::EVENT);
    office.open_shift_with("Bench", 0).unwrap();
    let pair = SaleRequest {
        ticket_type: demo::DAY,
        quantity: 2,
        payment: PaymentMethod::Cash,
        voucher: None,
        seats: Vec::new(),
    };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..SALES {
        let start = Instant::now();
        let sale = office.sell(&pair, Timestamp::now()).unwrap();
        times.push(start.elapsed());
        assert_eq!(sale.tickets.len(), 2);
    }
    println!("sell a pair → durable, signed tickets ({SALES} sales): {}", support::summary(times));
    let start = Instant::now();
    let report = office.shift_report(0, Timestamp::now()).unwrap();
    println!(
        "shift report over {} receipts: {:.1} ms",
        report.receipts,
        start.elapsed().as_secs_f64() * 1_000.0
    );
    let start = Instant::now();
    let status = office.leases(Timestamp::now());
    println!("lease view: {:.2} ms ({} left)", start.elapsed().as_secs_f64() * 1_000.0, status[0].left);

    // With a code (issue 21): a second lease of serials, the code's uses leased to the desk,
    // and an automatic discount to weigh against it; each sale also writes its DoorPrice entry.
    let range = (last + 1, last + 2 * SALES + 100);
    hub.record(demo::EVENT, Payload::LeaseGrant(lease(&key, &desk, 2, range, now.plus_seconds(7_200))))
        .unwrap();
    let terms = VoucherTerms {
        code: "BENCH".into(),
        mode: PriceMode::Percent(20),
        scope: Scope::All,
        max_per_order: None,
        unlocks_hidden: false,
    };
    let uses = 2 * SALES;
    let voucher = VoucherGrant {
        lease: LeaseId(1),
        device: desk.device(),
        terms,
        uses,
        expires: now.plus_seconds(7_200),
    };
    hub.record(demo::EVENT, Payload::VoucherGrant(Box::new(voucher))).unwrap();
    let rule = Rule {
        name: "Four or more".into(),
        effect: Effect::Price(PriceMode::Percent(10)),
        scope: Scope::All,
        min_quantity: 4,
        valid_from: None,
        valid_until: None,
        first: None,
    };
    hub.record(demo::EVENT, Payload::Discounts(vec![rule])).unwrap();
    sync_core::sync::sync_with(&*desk, &MemoryTransport::new(&hub, desk.device())).await.unwrap();
    let with_code = SaleRequest { voucher: Some("bench".into()), ..pair.clone() };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..SALES {
        let start = Instant::now();
        let sale = office.sell(&with_code, Timestamp::now()).unwrap();
        times.push(start.elapsed());
        assert_eq!(sale.total_minor, 2 * 3_600);
    }
    println!("sell a pair with a voucher code ({SALES} sales): {}", support::summary(times));

    seated(&hub, &desk, &key, &office, &pair, (range.1 + 1, now)).await;
}

/// Seated (issue 22): a seat lease of 1,000 seats of a 4,000-seat map, from serial `first`;
/// each sale names two seats, each checked free in the lease, signed into its ticket, and
/// writes its `DoorSeats` with the sale.
async fn seated(
    hub: &Replica,
    desk: &Arc<Replica>,
    key: &EventKey,
    office: &sync_core::replica::BoxOffice,
    pair: &SaleRequest,
    (first, now): (u32, Timestamp),
) {
    let plan = sync_core::seating::Plan::from_json(&serde_json::to_vec(&arena(40, 100)).unwrap()).unwrap();
    let map = sync_core::seating::SeatMap::from_plan(&plan, |_| Some(demo::DAY));
    hub.record(demo::EVENT, Payload::Seats(Box::new(map))).unwrap();
    let seats: Vec<SeatNumber> = (0..1_000).map(SeatNumber).collect();
    hub.record(demo::EVENT, Payload::LeaseSeats(LeaseSeats { lease: LeaseId(3), seats })).unwrap();
    hub.record(
        demo::EVENT,
        Payload::LeaseGrant(lease(key, desk, 3, (first, first + 999), now.plus_seconds(7_200))),
    )
    .unwrap();
    sync_core::sync::sync_with(&**desk, &MemoryTransport::new(hub, desk.device())).await.unwrap();
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..SEATED_SALES {
        let seats = vec![SeatNumber(2 * i), SeatNumber(2 * i + 1)];
        let start = Instant::now();
        let sale = office.sell(&SaleRequest { seats, ..pair.clone() }, Timestamp::now()).unwrap();
        times.push(start.elapsed());
        assert_eq!(sale.seats, [2 * i, 2 * i + 1]);
    }
    println!("sell a pair of chosen seats ({SEATED_SALES} sales): {}", support::summary(times));
}

/// Pairs sold by seat: a seat lease holds at most 1,000 seats.
const SEATED_SALES: u16 = 500;

/// A hall of `rows` rows of `per_row` seats in one category, in sync-core's plan format.
fn arena(rows: u32, per_row: u32) -> serde_json::Value {
    let row = |r: u32| {
        let seats: Vec<serde_json::Value> = (0..per_row)
            .map(|i| {
                serde_json::json!({"id": format!("{r}-{i}"), "label": (i + 1).to_string(),
                                        "x": 20 + 30 * i, "y": 20 + 30 * r, "category": "all"})
            })
            .collect();
        serde_json::json!({"label": (r + 1).to_string(), "seats": seats})
    };
    serde_json::json!({
        "name": "Bench hall", "size": {"width": 40 + 30 * per_row, "height": 40 + 30 * rows},
        "categories": [{"name": "all", "color": "#c33"}],
        "sections": [{"name": "Hall", "rows": (0..rows).map(row).collect::<Vec<_>>()}]
    })
}
