//! Box-office leases on both backends: a device sells offline under its lease, the hub books
//! what it syncs, gates admit its tickets — and online sales and lease grants share one
//! capacity without overselling.

mod common;

use common::{
    BACKENDS, Organizer, TestHub, checkout, enroll, enroll_keeping_key, enrollment_code, event_on_sale,
    order, press_pay, start_payment,
};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{DoorSale, HUB, LeaseId, LeaseReturn, Payload, PaymentMethod, Void};
use sync_core::keys::SignedDelegation;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

async fn type_counts(owner: &Organizer, event: i64) -> (i64, i64, i64) {
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    let t = &detail["ticket_types"][0];
    (t["sold"].as_i64().unwrap(), t["held"].as_i64().unwrap(), t["leased"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_office_sells_offline_under_its_lease_and_the_hub_books_it() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 100, 4500).await;
        let (desk, desk_key) =
            enroll_keeping_key(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await)
                .await;
        let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Gate", "gate", event).await).await;
        let leases = format!("/api/v1/events/{event}/leases");

        let (status, problem) = owner
            .post(&leases, &json!({"device_id": gate.device().0, "ticket_type": 1, "quantity": 5}))
            .await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (422, Some("device_id")),
            "a gate does not sell: {problem}"
        );
        let (status, granted) = owner
            .post(&leases, &json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 10}))
            .await;
        assert_eq!(status, 201, "{backend:?}: {granted}");
        assert_eq!((granted["first_serial"].as_i64(), granted["last_serial"].as_i64()), (Some(1), Some(10)));
        let (status, problem) = owner
            .post(&leases, &json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 91}))
            .await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("sold_out")), "only 90 are left");
        assert_eq!(type_counts(&owner, event).await, (0, 0, 10));

        // The desk gets its lease through sync, with a delegation the event key signed.
        let to_hub = HttpTransport::new(&hub.url, Arc::clone(&desk), HUB).unwrap();
        sync_with(&*desk, &to_hub).await.unwrap();
        let event_id = EventId(u32::try_from(event).unwrap());
        let lease_id = LeaseId(granted["id"].as_u64().unwrap());
        let grant = desk.event_state(event_id).leases[&lease_id].grant.clone().unwrap().1;
        let delegation = SignedDelegation::from_bytes(&grant.delegation).unwrap();
        let manifest = desk.manifest(event_id).unwrap();
        assert!(manifest.keys.iter().any(|k| k.id == delegation.key_id && delegation.is_signed_by(&k.key)));

        // Offline: three sold for cash, the third voided, the rest returned.
        let now = Timestamp::now();
        let texts: Vec<String> = (1..=3)
            .map(|s| desk_key.issue(&delegation, Serial(s), TicketTypeId(1), None, now).unwrap().to_text())
            .collect();
        let sale = DoorSale {
            receipt: 1,
            lease: lease_id,
            ticket_type: TicketTypeId(1),
            serials: vec![Serial(1), Serial(2), Serial(3)],
            total_minor: 13_500,
            currency: "EUR".into(),
            payment: PaymentMethod::Cash,
        };
        desk.record(event_id, Payload::DoorSale(sale)).unwrap();
        desk.record(event_id, Payload::Void(Void { lease: lease_id, serials: vec![Serial(3)] })).unwrap();
        desk.record(event_id, Payload::LeaseReturn(LeaseReturn { lease: lease_id, first_unsold: Serial(4) }))
            .unwrap();
        for _ in 0..2 {
            sync_with(&*desk, &to_hub).await.unwrap(); // the second changes nothing
        }

        assert_eq!(type_counts(&owner, event).await, (2, 0, 0), "{backend:?}: 3 sold − 1 voided; 7 returned");
        let orders = owner.get(&format!("/api/v1/events/{event}/orders")).await;
        let door: Vec<&Value> =
            orders["orders"].as_array().unwrap().iter().filter(|o| o["channel"] == "box_office").collect();
        assert_eq!(door.len(), 1, "{orders}");
        assert_eq!(
            (door[0]["total_minor"].as_i64(), door[0]["refunded_minor"].as_i64()),
            (Some(13_500), Some(4_500))
        );
        let ledger_sum =
            hub.number("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries").await;
        assert_eq!(ledger_sum, 0, "{backend:?}: balanced");
        let listed = owner.get(&leases).await;
        assert_eq!(listed["leases"][0]["status"], "returned");
        assert_eq!(
            (listed["leases"][0]["sold"].as_i64(), listed["leases"][0]["returned_from"].as_i64()),
            (Some(3), Some(4))
        );

        // A gate that syncs admits the desk's ticket and refuses the voided one.
        let gate_to_hub = HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap();
        sync_with(&*gate, &gate_to_hub).await.unwrap();
        let ctx = ScanContext { device: gate.device(), gate: GateId(1), direction: Direction::Entry, now };
        let at_gate = gate.gate(event_id);
        assert_eq!(at_gate.scan(&texts[0], &ctx).unwrap().kind(), VerdictKind::Admitted, "{backend:?}");
        assert_eq!(at_gate.scan(&texts[2], &ctx).unwrap().kind(), VerdictKind::Revoked);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_box_office_can_be_cut_off_and_its_unsold_serials_refused() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 50, 1000).await;
    let (desk, desk_key) =
        enroll_keeping_key(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await)
            .await;
    let hour = 3_600_000;
    let body = json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 20, "expires_at": Timestamp::now().0 + hour});
    let (_, granted) = owner.post(&format!("/api/v1/events/{event}/leases"), &body).await;
    let lease = granted["id"].as_i64().unwrap();
    let extended = Timestamp::now().0 + 5 * hour;
    let (status, _) =
        owner.post(&format!("/api/v1/leases/{lease}/extend"), &json!({"expires_at": extended})).await;
    assert_eq!(status, 200);
    let (status, _) =
        owner.post(&format!("/api/v1/leases/{lease}/extend"), &json!({"expires_at": extended - hour})).await;
    assert_eq!(status, 422, "extending means later");
    let to_hub = HttpTransport::new(&hub.url, Arc::clone(&desk), HUB).unwrap();
    sync_with(&*desk, &to_hub).await.unwrap();
    let event_id = EventId(u32::try_from(event).unwrap());
    let state = desk.event_state(event_id);
    let lease_state = &state.leases[&LeaseId(u64::try_from(lease).unwrap())];
    assert_eq!(lease_state.expires, Some(Timestamp(extended)), "the desk sees the later expiry");
    let delegation = SignedDelegation::from_bytes(&lease_state.grant.as_ref().unwrap().1.delegation).unwrap();
    let unsold =
        desk_key.issue(&delegation, Serial(15), TicketTypeId(1), None, Timestamp::now()).unwrap().to_text();

    // The desk is lost before selling anything: its whole range is revoked.
    let (status, revoked) = owner.post(&format!("/api/v1/leases/{lease}/revoke"), &Value::Null).await;
    assert_eq!((status, revoked["unsold"].as_i64()), (200, Some(20)), "{revoked}");
    assert_eq!(type_counts(&owner, event).await, (0, 0, 0), "the rights are back on sale");
    let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Gate", "gate", event).await).await;
    sync_with(&*gate, &HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap()).await.unwrap();
    let ctx = ScanContext {
        device: gate.device(),
        gate: GateId(1),
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    assert_eq!(gate.gate(event_id).scan(&unsold, &ctx).unwrap().kind(), VerdictKind::Revoked);
    let (status, _) = owner.post(&format!("/api/v1/leases/{lease}/revoke"), &Value::Null).await;
    assert_eq!(status, 409, "once");
}

/// Online buyers and lease grants race for one capacity: everything handed out adds up to
/// exactly the capacity, and no serial is given twice.
async fn online_and_leases(backend: cloud::db::Backend) {
    const CAPACITY: i64 = 300;
    let hub = Arc::new(TestHub::start(backend).await);
    let dir = tempfile::tempdir().unwrap();
    let owner = Arc::new(Organizer::create(&hub, "festival").await);
    let event = event_on_sale(&owner, CAPACITY, 2000).await;
    let mut desks = Vec::new();
    for name in ["Desk A", "Desk B"] {
        desks.push(
            enroll(&hub, dir.path(), &enrollment_code(&owner, name, "box_office", event).await)
                .await
                .device()
                .0,
        );
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(32));
    let mut work = tokio::task::JoinSet::new();
    for i in 0..410 {
        let (hub, owner, limit) = (Arc::clone(&hub), Arc::clone(&owner), Arc::clone(&limit));
        let desk = desks[i % 2];
        work.spawn(async move {
            let _slot = limit.acquire().await.unwrap();
            if i % 41 == 0 {
                let body = json!({"device_id": desk, "ticket_type": 1, "quantity": 20});
                let (status, granted) = owner.post(&format!("/api/v1/events/{event}/leases"), &body).await;
                match status {
                    201 => (
                        0,
                        20,
                        Some((
                            granted["first_serial"].as_i64().unwrap(),
                            granted["last_serial"].as_i64().unwrap(),
                        )),
                        None,
                    ),
                    409 => (0, 0, None, None),
                    other => panic!("lease grant answered {other}: {granted}"),
                }
            } else {
                let (status, placed) = checkout(&hub, event, 1, None).await;
                match status {
                    201 => (1, 0, None, Some(placed)),
                    409 => (0, 0, None, None),
                    other => panic!("checkout answered {other}: {placed}"),
                }
            }
        });
    }
    let (mut held, mut leased, mut ranges, mut orders) = (0, 0, Vec::new(), Vec::new());
    while let Some(r) = work.join_next().await {
        let (h, l, range, placed) = r.unwrap();
        held += h;
        leased += l;
        ranges.extend(range);
        orders.extend(placed);
    }
    assert_eq!(held + leased, CAPACITY, "{backend:?}: every seat handed out once, none twice");
    assert_eq!(type_counts(&owner, event).await, (0, held, leased));
    // Paid, the online orders get serials outside every lease's range.
    for placed in &orders {
        press_pay(&hub, &start_payment(&hub, placed).await).await;
    }
    let mut serials: Vec<i64> = Vec::new();
    for placed in &orders {
        let paid = order(&hub, placed).await;
        serials.extend(paid["tickets"].as_array().unwrap().iter().map(|t| t["serial"].as_i64().unwrap()));
    }
    for (first, last) in &ranges {
        serials.extend(*first..=*last);
    }
    serials.sort_unstable();
    let count = serials.len();
    serials.dedup();
    assert_eq!(serials.len(), count, "{backend:?}: no serial twice");
    assert_eq!(i64::try_from(count).unwrap(), CAPACITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_sales_and_lease_grants_share_one_capacity_on_postgres() {
    online_and_leases(cloud::db::Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_sales_and_lease_grants_share_one_capacity_on_sqlite() {
    online_and_leases(cloud::db::Backend::Sqlite).await;
}
