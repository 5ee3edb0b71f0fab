//! The box office on its own replica: selling under a lease (offline, durable, never beyond the
//! lease), tickets any gate admits, voids, returns, and shift reports that reconcile with the
//! journal.

mod common;

use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use sync_core::demo;
use sync_core::ids::{DeviceId, SeatNumber, Serial, TicketTypeId, Timestamp};
use sync_core::journal::shift::Method;
use sync_core::journal::{HUB, LeaseGrant, LeaseId, LeaseSeats, Payload, PaymentMethod, VoucherGrant};
use sync_core::keys::EventKey;
use sync_core::manifest::{Direction, Price};
use sync_core::pricing::{PriceMode, Scope, VoucherTerms};
use sync_core::replica::{LeaseStatus, Replica, ReplicaConfig, SaleRequest, SellError};
use sync_core::sync::memory::MemoryTransport;
use sync_core::sync::{SyncStore, sync_with};
use sync_core::ticket::DelegationGrant;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

const DESK: DeviceId = DeviceId(5);
const DAY_PRICE: i64 = 4_500;

/// A hub replica (origin 0) that publishes the demo manifest with door prices, and a clock
/// every replica shares.
struct Setup {
    _dir: common::Scratch,
    dir_path: std::path::PathBuf,
    now: Arc<AtomicI64>,
    key: EventKey,
    hub: Arc<Replica>,
}

impl Setup {
    fn new() -> Self {
        let dir = common::scratch_dir("box-office");
        let dir_path = dir.to_path_buf();
        let now = Arc::new(AtomicI64::new(demo::NOON.0));
        let (mut manifest, key, _) = demo::festival();
        for t in &mut manifest.ticket_types {
            t.price = Some(Price { minor: DAY_PRICE * i64::from(t.id.0), currency: "EUR".into() });
        }
        let config = clock_config(&now, HUB);
        let setup =
            Self { _dir: dir, dir_path, now, key, hub: Arc::new(Replica::open_in_memory(config).unwrap()) };
        setup.hub.record(demo::EVENT, Payload::Manifest(std::sync::Arc::new(manifest))).unwrap();
        setup
    }

    fn open(&self, device: DeviceId, name: &str) -> Arc<Replica> {
        let config = clock_config(&self.now, device);
        Arc::new(if name == ":memory:" {
            Replica::open_in_memory(config).unwrap()
        } else {
            Replica::open(self.dir_path.join(name), config).unwrap()
        })
    }

    fn now(&self) -> Timestamp {
        Timestamp(self.now.load(Ordering::SeqCst))
    }

    /// The hub grants `device` serials `first..=last` of `ticket_type` until `expires`.
    fn grant(
        &self,
        lease: u64,
        device: &Replica,
        ticket_type: TicketTypeId,
        (first, last): (u32, u32),
        expires: Timestamp,
    ) {
        let delegation = self
            .key
            .delegate(DelegationGrant {
                device_key: device.public_key(),
                first_serial: Serial(first),
                last_serial: Serial(last),
                expires: u32::try_from(expires.unix_seconds()).unwrap() + 86_400,
                ticket_types: vec![ticket_type],
            })
            .unwrap()
            .to_bytes();
        let grant = LeaseGrant {
            lease: LeaseId(lease),
            device: device.device(),
            ticket_type,
            first_serial: Serial(first),
            last_serial: Serial(last),
            expires,
            delegation,
        };
        self.hub.record(demo::EVENT, Payload::LeaseGrant(grant)).unwrap();
    }

    async fn sync(&self, device: &Replica) {
        sync_with(device, &MemoryTransport::new(&*self.hub, device.device())).await.unwrap();
    }
}

/// A replica configuration on the shared test clock.
fn clock_config(now: &Arc<AtomicI64>, device: DeviceId) -> ReplicaConfig {
    let now = Arc::clone(now);
    ReplicaConfig {
        clock: Arc::new(move || Timestamp(now.load(Ordering::SeqCst))),
        ..ReplicaConfig::new(device)
    }
}

fn cash(ticket_type: TicketTypeId, quantity: u32) -> SaleRequest {
    SaleRequest { ticket_type, quantity, payment: PaymentMethod::Cash, voucher: None, seats: Vec::new() }
}

#[tokio::test]
async fn a_desk_sells_offline_within_its_lease_and_any_gate_admits_the_tickets() {
    let setup = Setup::new();
    let desk = setup.open(DESK, "desk.db");
    let gate = setup.open(DeviceId(1), "gate.db");
    setup.grant(1, &desk, demo::DAY, (500, 502), Timestamp(demo::NOON.0 + 3_600_000));
    setup.sync(&desk).await;
    setup.sync(&gate).await; // the gate's last contact with anyone: before any sale
    let office = desk.box_office(demo::EVENT);
    let leases = office.leases(setup.now());
    assert_eq!(leases.len(), 1);
    assert_eq!((leases[0].left, leases[0].status), (3, LeaseStatus::Active));

    // No shift, no sale: the drawer must be counted in first.
    assert!(matches!(office.sell(&cash(demo::DAY, 2), setup.now()), Err(SellError::NoShift)));
    office.open_shift_with("Anna", 10_000).unwrap();
    let sale = office.sell(&cash(demo::DAY, 2), setup.now()).unwrap();
    assert_eq!(
        (sale.serials.clone(), sale.total_minor, sale.currency.as_str()),
        (vec![500, 501], 9_000, "EUR")
    );

    // Beyond the lease: refused whole, in words, and nothing recorded.
    let have = desk.have();
    let refused = office.sell(&cash(demo::DAY, 2), setup.now()).unwrap_err();
    assert_eq!(refused.to_string(), "Only 1 “Day ticket” left on this device's lease.");
    assert_eq!(desk.have(), have, "a refused sale writes nothing");
    assert!(matches!(
        office.sell(&cash(demo::WEEKEND, 1), setup.now()),
        Err(SellError::NotEnoughRights { left: 0, .. })
    ));

    // The gate never heard of the sale or the desk's key, and admits both tickets offline.
    let ctx = ScanContext {
        device: gate.device(),
        gate: demo::MAIN_GATE,
        direction: Direction::Entry,
        now: setup.now(),
    };
    for text in &sale.tickets {
        assert_eq!(gate.gate(demo::EVENT).scan(text, &ctx).unwrap().kind(), VerdictKind::Admitted);
    }

    // The sale was durable before the tickets were handed out: it survives a restart, and the
    // reprinted tickets are the very same bytes.
    drop(office);
    drop(desk);
    let desk = setup.open(DESK, "desk.db");
    let office = desk.box_office(demo::EVENT);
    assert_eq!(office.leases(setup.now())[0].left, 1);
    assert_eq!(office.sale(sale.receipt, setup.now()).unwrap().tickets, sale.tickets);
}

#[tokio::test]
async fn leases_lapse_return_and_span_and_voids_revoke_at_the_gate() {
    let setup = Setup::new();
    let desk = setup.open(DESK, "desk.db");
    let soon = Timestamp(demo::NOON.0 + 60_000);
    let later = Timestamp(demo::NOON.0 + 7_200_000);
    setup.grant(1, &desk, demo::DAY, (100, 101), soon);
    setup.grant(2, &desk, demo::DAY, (200, 209), later);
    setup.sync(&desk).await;
    let office = desk.box_office(demo::EVENT);
    office.open_shift_with("Ben", 0).unwrap();

    // Three tickets: the two of the lease that lapses first, then one of the other.
    let sale = office.sell(&cash(demo::DAY, 3), setup.now()).unwrap();
    assert_eq!(sale.serials, vec![100, 101, 200]);
    assert_eq!(office.sales().unwrap().len(), 1, "one sale, one receipt, though two leases");

    // Lapsed: lease 1 is sold out anyway; lease 2 lapses after its expiry.
    setup.now.store(later.0 + 1, Ordering::SeqCst);
    assert!(matches!(
        office.sell(&cash(demo::DAY, 1), setup.now()),
        Err(SellError::NotEnoughRights { left: 0, .. })
    ));
    setup.now.store(demo::NOON.0 + 120_000, Ordering::SeqCst);

    // Return the unsold rest of lease 2: 201..=209.
    assert_eq!(office.return_unsold(LeaseId(2)).unwrap(), 9);
    assert!(office.return_unsold(LeaseId(2)).is_err(), "returned once");
    assert!(office.return_unsold(LeaseId(1)).is_err(), "sold out: nothing to return");
    assert!(office.return_unsold(LeaseId(7)).is_err(), "not this device's");
    let statuses: Vec<LeaseStatus> = office.leases(setup.now()).iter().map(|l| l.status).collect();
    assert_eq!(statuses, vec![LeaseStatus::SoldOut, LeaseStatus::Returned]);

    // Void the sale: its tickets are refused at a gate that syncs afterwards.
    office.void(sale.receipt).unwrap();
    assert!(matches!(office.void(sale.receipt), Err(SellError::AlreadyVoided(_))));
    assert!(matches!(office.void(999), Err(SellError::NotThisShift(999))));
    setup.sync(&desk).await;
    let gate = setup.open(DeviceId(1), "gate.db");
    setup.sync(&gate).await;
    let ctx = ScanContext {
        device: gate.device(),
        gate: demo::MAIN_GATE,
        direction: Direction::Entry,
        now: setup.now(),
    };
    assert_eq!(gate.gate(demo::EVENT).scan(&sale.tickets[0], &ctx).unwrap().kind(), VerdictKind::Revoked);

    // A sale of a closed shift can no longer be voided here.
    office.close_shift(0, setup.now()).unwrap();
    office.open_shift_with("Ben", 0).unwrap();
    assert!(matches!(office.void(sale.receipt), Err(SellError::NotThisShift(_))));
}

#[tokio::test]
async fn a_lease_signed_by_a_foreign_key_sells_nothing_and_payments_need_their_details() {
    let setup = Setup::new();
    let desk = setup.open(DESK, "desk.db");
    let foreign = common::other_event_key();
    let delegation = foreign
        .delegate(DelegationGrant {
            device_key: desk.public_key(),
            first_serial: Serial(1),
            last_serial: Serial(9),
            expires: common::unix(demo::NOON) + 86_400,
            ticket_types: vec![demo::DAY],
        })
        .unwrap()
        .to_bytes();
    let grant = LeaseGrant {
        lease: LeaseId(1),
        device: DESK,
        ticket_type: demo::DAY,
        first_serial: Serial(1),
        last_serial: Serial(9),
        expires: Timestamp(demo::NOON.0 + 3_600_000),
        delegation,
    };
    setup.hub.record(demo::EVENT, Payload::LeaseGrant(grant)).unwrap();
    setup.sync(&desk).await;
    let office = desk.box_office(demo::EVENT);
    assert_eq!(office.leases(setup.now())[0].status, LeaseStatus::Invalid);
    office.open_shift_with("Cleo", 0).unwrap();
    assert!(matches!(
        office.sell(&cash(demo::DAY, 1), setup.now()),
        Err(SellError::NotEnoughRights { left: 0, .. })
    ));
    for payment in
        [PaymentMethod::Card { reference: " ".into() }, PaymentMethod::Comp { reason: String::new() }]
    {
        let request =
            SaleRequest { ticket_type: demo::DAY, quantity: 1, payment, voucher: None, seats: Vec::new() };
        assert!(matches!(office.sell(&request, setup.now()), Err(SellError::Invalid(_))));
    }
    assert!(matches!(office.sell(&cash(demo::DAY, 0), setup.now()), Err(SellError::Quantity)));
}

/// One cashier action in the reconciliation property.
#[derive(Clone, Debug)]
enum Action {
    Sell { ticket_type: u16, quantity: u32, method: u8 },
    Void { nth: usize },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (1u16..=2, 1u32..=4, 0u8..3).prop_map(|(ticket_type, quantity, method)| Action::Sell { ticket_type, quantity, method }),
        1 => (0usize..10).prop_map(|nth| Action::Void { nth }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Whatever the cashier does, the closing report's totals are the journal's: every door
    /// sale and void of the shift, summed independently from the entries.
    #[test]
    fn the_shift_report_reconciles_with_the_journal(actions in prop::collection::vec(action(), 1..25), float in 0i64..50_000, counted in 0i64..200_000) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let setup = Setup::new();
            let desk = setup.open(DESK, ":memory:");
            let expires = Timestamp(demo::NOON.0 + 3_600_000);
            setup.grant(1, &desk, demo::DAY, (1_000, 1_060), expires);
            setup.grant(2, &desk, demo::WEEKEND, (2_000, 2_060), expires);
            setup.sync(&desk).await;
            let office = desk.box_office(demo::EVENT);
            // A sale before the shift opened is not this shift's.
            office.open_shift_with("Earlier", 0).unwrap();
            office.sell(&cash(demo::DAY, 1), setup.now()).unwrap();
            office.close_shift(4_500, setup.now()).unwrap();
            let opened = office.open_shift_with("Dana", float).unwrap();
            let mut receipts = Vec::new();
            for a in &actions {
                match a {
                    Action::Sell { ticket_type, quantity, method } => {
                        let payment = match method {
                            0 => PaymentMethod::Cash,
                            1 => PaymentMethod::Card { reference: "T-1".into() },
                            _ => PaymentMethod::Comp { reason: "press".into() },
                        };
                        let request = SaleRequest { ticket_type: TicketTypeId(*ticket_type), quantity: *quantity, payment, voucher: None, seats: Vec::new() };
                        if let Ok(sale) = office.sell(&request, setup.now()) {
                            receipts.push(sale.receipt);
                        }
                    }
                    Action::Void { nth } => {
                        if let Some(r) = receipts.get(*nth) {
                            let _ = office.void(*r);
                        }
                    }
                }
            }
            let report = office.close_shift(counted, setup.now()).unwrap();

            // Independently: walk the journal's entries of this shift, as the store gives them
            // to any peer.
            let (mut sold_minor, mut cash_minor, mut sold_tickets) = (0i64, 0i64, 0u32);
            let mut price_of = std::collections::BTreeMap::new();
            let mut voided_minor = 0i64;
            let entries = SyncStore::entries_after(&*desk, DESK, opened, 10_000).await.unwrap();
            for e in entries {
                match &e.payload {
                    Payload::DoorSale(s) => {
                        sold_minor += s.total_minor;
                        sold_tickets += u32::try_from(s.serials.len()).unwrap();
                        if s.payment == PaymentMethod::Cash { cash_minor += s.total_minor; }
                        let each = s.total_minor / i64::try_from(s.serials.len()).unwrap();
                        for serial in &s.serials { price_of.insert(*serial, (each, s.payment == PaymentMethod::Cash)); }
                    }
                    Payload::Void(v) => {
                        for serial in &v.serials {
                            let (each, is_cash) = price_of[serial];
                            voided_minor += each;
                            if is_cash { cash_minor -= each; }
                        }
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(report.sold_minor(), sold_minor);
            prop_assert_eq!(report.voided_minor(), voided_minor);
            prop_assert_eq!(report.lines.iter().map(|l| l.sold).sum::<u32>(), sold_tickets);
            prop_assert_eq!(report.expected_cash_minor, float + cash_minor);
            prop_assert_eq!(report.difference_minor(), counted - float - cash_minor);
            prop_assert!(report.lines.iter().filter(|l| l.method == Some(Method::Comp)).all(|l| l.sold_minor == 0));
            let csv = report.to_csv(|t| format!("type {t}"));
            let last_line = csv.lines().last().unwrap().to_owned();
            prop_assert_eq!(last_line, format!("cash,,difference,,,,,{},EUR", report.difference_minor()));
            Ok::<(), TestCaseError>(())
        })?;
    }
}

#[tokio::test]
async fn a_revoked_desk_seals_its_unsynced_sales_to_the_hub_then_wipes_its_file() {
    let setup = Setup::new();
    let desk = setup.open(DESK, "revoked.db");
    let hub_key = sync_core::keys::DeviceKey::generate().unwrap();
    desk.trust(HUB, &hub_key.public_key()).unwrap();
    setup.grant(1, &desk, demo::DAY, (700, 709), Timestamp(demo::NOON.0 + 3_600_000));
    setup.sync(&desk).await;
    let office = desk.box_office(demo::EVENT);
    office.open_shift_with("Cashier Quintessa", 10_000).unwrap();
    setup.sync(&desk).await; // the hub has the shift's opening …
    office.sell(&cash(demo::DAY, 2), setup.now()).unwrap(); // … not the sale

    let notice = sync_core::revoked::RevocationNotice { device: DESK, revoked_at: setup.now() };
    let (file, count) = desk.seal_unsynced(notice).unwrap();
    assert_eq!(count, 1, "only what the hub lacks");
    // Only the hub opens it, and only as this device's.
    let other = sync_core::keys::DeviceKey::generate().unwrap();
    let desk_key = sync_core::keys::strict_public_key(&desk.public_key());
    assert!(sync_core::revoked::SealedExport::open(&file, &other, |_| desk_key).is_err());
    assert!(sync_core::revoked::SealedExport::open(&file, &hub_key, |_| None).is_err());
    let export =
        sync_core::revoked::SealedExport::open(&file, &hub_key, |d| desk_key.filter(|_| d == DESK)).unwrap();
    assert!(matches!(&export.entries[0].payload, Payload::DoorSale(s) if s.serials.len() == 2));
    assert!(!file.windows(9).any(|w| w == b"Quintessa"), "sealed, not readable");

    // Wiped: the cashier's name and the key's seed are gone from the file itself.
    let path = setup.dir_path.join("revoked.db");
    let contains = |needle: &[u8]| {
        ["", "-wal"].iter().any(|suffix| {
            let bytes = std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    };
    assert!(contains(b"Quintessa"), "the name is on disk before");
    desk.wipe().unwrap();
    assert!(!contains(b"Quintessa"), "and not after");
    assert_eq!(desk.pending_for(HUB).unwrap(), 0);
    assert!(desk.manifest(demo::EVENT).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A desk holding `uses` uses of a code redeems exactly as many as it sells with it, never
    /// more than `uses`, across ticket leases and whatever quantities the cashier asks for; a
    /// sale the uses left cannot cover is refused whole and writes nothing; every ticket sold
    /// with the code is priced by it, to the minor unit.
    #[test]
    fn a_desk_never_redeems_more_voucher_uses_than_it_was_leased(uses in 1u32..30, sales in prop::collection::vec(1u32..6, 1..20)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let setup = Setup::new();
            let desk = setup.open(DESK, ":memory:");
            let expires = Timestamp(demo::NOON.0 + 3_600_000);
            // Two ticket leases, so a sale may span them.
            setup.grant(1, &desk, demo::DAY, (1_000, 1_040), expires);
            setup.grant(2, &desk, demo::DAY, (2_000, 2_080), expires);
            let terms = VoucherTerms {
                code: "DOOR".into(),
                mode: PriceMode::Subtract(500),
                scope: Scope::All,
                max_per_order: None,
                unlocks_hidden: false,
            };
            let grant = VoucherGrant { lease: LeaseId(7), device: DESK, terms, uses, expires };
            setup.hub.record(demo::EVENT, Payload::VoucherGrant(Box::new(grant))).unwrap();
            setup.sync(&desk).await;
            let office = desk.box_office(demo::EVENT);
            office.open_shift_with("Vera", 0).unwrap();
            let mut redeemed = 0;
            for quantity in sales {
                let request = SaleRequest { voucher: Some("door".into()), ..cash(demo::DAY, quantity) };
                let have = desk.have();
                match office.sell(&request, setup.now()) {
                    Ok(sale) => {
                        redeemed += quantity;
                        assert_eq!(sale.total_minor, i64::from(quantity) * (DAY_PRICE - 500));
                        assert_eq!(sale.reason, "Voucher DOOR");
                    }
                    Err(SellError::Voucher(_)) => {
                        assert!(uses - redeemed < quantity, "refused with enough uses left");
                        assert_eq!(desk.have(), have, "a refused sale writes nothing");
                    }
                    Err(SellError::NotEnoughRights { .. }) => {}
                    Err(other) => panic!("{other}"),
                }
            }
            assert!(redeemed <= uses);
            let view = &office.vouchers(setup.now())[0];
            assert_eq!((view.used, view.left), (redeemed, uses - redeemed));
            // The journal says the same: the door prices' uses add up to what was redeemed.
            let entries = SyncStore::entries_after(&*desk, DESK, 0, 10_000).await.unwrap();
            let in_journal: u32 = entries
                .iter()
                .filter_map(|e| match &e.payload {
                    Payload::DoorPrice(p) => p.voucher.map(|(_, n)| n),
                    _ => None,
                })
                .sum();
            assert_eq!(in_journal, redeemed);
        });
    }
}

/// A hall of one row of six seats ("A-1"…"A-6"), all of `demo::DAY`, published by the hub.
fn publish_row(setup: &Setup) {
    let plan = sync_core::seating::Plan::from_json(
        br##"{"name": "Hall", "size": {"width": 300, "height": 100},
             "categories": [{"name": "stalls", "color": "#c33"}],
             "sections": [{"name": "Stalls", "rows": [{"label": "A", "seats": [
               {"id": "A-1", "label": "1", "x": 20, "y": 50, "category": "stalls"},
               {"id": "A-2", "label": "2", "x": 50, "y": 50, "category": "stalls"},
               {"id": "A-3", "label": "3", "x": 80, "y": 50, "category": "stalls"},
               {"id": "A-4", "label": "4", "x": 110, "y": 50, "category": "stalls"},
               {"id": "A-5", "label": "5", "x": 140, "y": 50, "category": "stalls"},
               {"id": "A-6", "label": "6", "x": 170, "y": 50, "category": "stalls"}]}]}]}"##,
    )
    .unwrap();
    let map = sync_core::seating::SeatMap::from_plan(&plan, |_| Some(demo::DAY));
    setup.hub.record(demo::EVENT, Payload::Seats(Box::new(map))).unwrap();
}

/// The hub leases `seats` to `device` as lease `lease` (serials `first..`): its seats first,
/// then the grant, as the hub writes them.
fn lease_seats(setup: &Setup, lease: u64, device: &Replica, first: u32, seats: &[u16]) {
    let last = first + u32::try_from(seats.len()).unwrap() - 1;
    let seats = seats.iter().copied().map(SeatNumber).collect();
    setup.hub.record(demo::EVENT, Payload::LeaseSeats(LeaseSeats { lease: LeaseId(lease), seats })).unwrap();
    setup.grant(lease, device, demo::DAY, (first, last), Timestamp(demo::NOON.0 + 3_600_000));
}

fn seats(seats: &[u16]) -> SaleRequest {
    let quantity = u32::try_from(seats.len()).unwrap();
    SaleRequest { seats: seats.iter().copied().map(SeatNumber).collect(), ..cash(demo::DAY, quantity) }
}

#[tokio::test]
async fn two_desks_offline_sell_only_the_seats_of_their_own_leases_each_once() {
    let setup = Setup::new();
    publish_row(&setup);
    let (front, side) = (setup.open(DESK, "front.db"), setup.open(DeviceId(6), "side.db"));
    lease_seats(&setup, 1, &front, 100, &[0, 1, 2]);
    lease_seats(&setup, 2, &side, 200, &[3, 4]);
    setup.sync(&front).await;
    setup.sync(&side).await;
    let (a, b) = (front.box_office(demo::EVENT), side.box_office(demo::EVENT));
    a.open_shift_with("Ada", 0).unwrap();
    b.open_shift_with("Bo", 0).unwrap();

    // Offline from each other and the hub: each sells seats of its own lease, with the seat
    // under the ticket's signature.
    let sold = a.sell(&seats(&[2, 0]), setup.now()).unwrap();
    assert_eq!((sold.serials.clone(), sold.seats.clone()), (vec![100, 101], vec![2, 0]));
    let ticket = sync_core::ticket::SignedTicket::from_text(&sold.tickets[0]).unwrap();
    assert_eq!(ticket.ticket().seat, Some(SeatNumber(2)));
    assert_eq!(b.sell(&seats(&[4]), setup.now()).unwrap().seats, vec![4]);

    // Another desk's seat, a seat sold already, a seat of no lease: refused by name, nothing
    // written; a seated type without seats is refused too.
    let have = front.have();
    for (desk, seat, name) in [(&a, 3, "A-4"), (&a, 0, "A-1"), (&b, 5, "A-6")] {
        let refused = desk.sell(&seats(&[seat]), setup.now()).unwrap_err();
        let label = name.replace("A-", "Stalls · Row A · Seat ");
        assert_eq!(
            refused.to_string(),
            format!("{label} is not this desk's to sell: it is sold, or not in its lease.")
        );
    }
    assert!(matches!(a.sell(&cash(demo::DAY, 1), setup.now()), Err(SellError::SeatsRequired(_))));
    assert!(matches!(
        a.sell(&SaleRequest { quantity: 2, ..seats(&[1]) }, setup.now()),
        Err(SellError::Invalid(_))
    ));
    assert_eq!(front.have(), have, "refusals write nothing");

    // A voided seat is not sold again at this desk (the hub frees it for sale online).
    a.void(sold.receipt).unwrap();
    assert!(a.sell(&seats(&[0]), setup.now()).is_err());
    assert_eq!(a.sell(&seats(&[1]), setup.now()).unwrap().serials, vec![102]);

    // Both sync: the hub's journal holds every seat sold at most once, and the reprint of a
    // seated ticket is the same bytes.
    setup.sync(&front).await;
    setup.sync(&side).await;
    let sold_seats: Vec<SeatNumber> = setup.hub.with_event_state(demo::EVENT, |s| {
        s.leases.values().flat_map(|l| l.sold_seats.values().copied()).collect()
    });
    let distinct: std::collections::BTreeSet<_> = sold_seats.iter().collect();
    assert_eq!((sold_seats.len(), distinct.len()), (4, 4), "{sold_seats:?}");
    let again = a.sales().unwrap().into_iter().find(|s| s.receipt == sold.receipt).unwrap();
    assert_eq!(again.seats, vec![2, 0]);
}
