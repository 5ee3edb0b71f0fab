//! Bundles against a real hub: a weekend pass takes a place of each day and is one ticket that
//! both days' gates admit offline; a VIP package issues its parking ticket and drinks vouchers
//! as tickets of their own that the gates admit separately; a sold-out part refuses the bundle;
//! refunds, lapses and later changes of the bundle give back exactly what each order took; 64
//! buyers at once never oversell a day; bad bundles are refused and change nothing.

mod common;

use cloud::clock::Clock;
use common::{BACKENDS, Organizer, TestHub, enroll, enrollment_code, press_pay, put_on_sale, start_payment};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::replica::Replica;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

const SATURDAY: u16 = 1;
const SUNDAY: u16 = 2;
const WEEKEND: u16 = 3;
const PARKING: u16 = 4;
const DRINKS: u16 = 5;
const VIP: u16 = 6;
const CAMPING: u16 = 7;

/// A weekend with a gate per day and a car park: day tickets, a weekend pass made of both days
/// (counted, not issued), parking (an add-on, 2 places), drinks, and a VIP package with one
/// parking ticket and two drinks vouchers of its own; and camping, on its own.
fn weekend(saturday: i64, sunday: i64) -> Value {
    let now = Timestamp::now().0;
    let day = |name: &str, capacity: i64, gate: u16| json!({"name": name, "price_minor": 4000, "currency": "EUR", "capacity": capacity, "entry_policy": "single_entry", "allowed_gates": [gate]});
    json!({
        "name": "River Weekend",
        "time_zone": "Europe/Amsterdam",
        "starts_at": now - 3_600_000,
        "ends_at": now + 36_000_000,
        "gates": [{"name": "Saturday gate"}, {"name": "Sunday gate"}, {"name": "Car park"}],
        "ticket_types": [
            day("Saturday", saturday, 1),
            day("Sunday", sunday, 2),
            {"name": "Weekend pass", "price_minor": 7000, "currency": "EUR", "capacity": 1000, "entry_policy": "multi_entry", "allowed_gates": [1, 2],
             "includes": [{"ticket_type": SATURDAY, "separate_ticket": false}, {"ticket_type": SUNDAY, "separate_ticket": false}]},
            {"name": "Parking", "price_minor": 1000, "currency": "EUR", "capacity": 2, "entry_policy": "single_entry", "allowed_gates": [3], "addon": true},
            {"name": "Drinks", "price_minor": 300, "currency": "EUR", "capacity": 1000, "entry_policy": "single_entry", "allowed_gates": [1, 2]},
            {"name": "VIP package", "price_minor": 20000, "currency": "EUR", "capacity": 50, "entry_policy": "exit_reentry", "allowed_gates": [1, 2],
             "includes": [{"ticket_type": PARKING}, {"ticket_type": DRINKS, "quantity": 2}]},
            {"name": "Camping", "price_minor": 2500, "currency": "EUR", "capacity": 100, "entry_policy": "multi_entry"}
        ]
    })
}

async fn buy(hub: &TestHub, event: i64, ticket_type: u16, quantity: u32) -> (u16, Value) {
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": [{"ticket_type": ticket_type, "quantity": quantity}], "email": "fan@example.org", "name": "Fan"}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn buy_paid(hub: &TestHub, owner: &Organizer, event: i64, ticket_type: u16, quantity: u32) -> Value {
    let (status, order) = buy(hub, event, ticket_type, quantity).await;
    assert_eq!(status, 201, "{order}");
    press_pay(hub, &start_payment(hub, &order).await).await;
    owner.get(&format!("/api/v1/orders/{}", order["code"].as_str().unwrap())).await
}

/// (sold, held) of each ticket type, by number.
async fn counters(owner: &Organizer, event: i64) -> Vec<(i64, i64)> {
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    detail["ticket_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["sold"].as_i64().unwrap(), t["held"].as_i64().unwrap()))
        .collect()
}

async fn available(hub: &TestHub, event: i64, number: u16) -> i64 {
    let shop: Value =
        hub.get(&format!("/api/v1/public/events/{event}")).send().await.unwrap().json().await.unwrap();
    let t = shop["ticket_types"].as_array().unwrap().iter().find(|t| t["number"] == number).unwrap();
    t["available"].as_i64().unwrap()
}

/// A gate device of `event`, synced.
async fn gate(hub: &TestHub, owner: &Organizer, event: i64, dir: &std::path::Path) -> Arc<Replica> {
    let device = enroll(hub, dir, &enrollment_code(owner, "Gate", "gate", event).await).await;
    sync(hub, &device).await;
    device
}

async fn sync(hub: &TestHub, device: &Arc<Replica>) {
    let transport = HttpTransport::new(&hub.url, Arc::clone(device), HUB).unwrap();
    sync_with(&**device, &transport).await.unwrap();
}

fn scan(device: &Arc<Replica>, event: i64, gate: u16, ticket: &Value) -> VerdictKind {
    let ctx = ScanContext {
        device: device.device(),
        gate: GateId(gate),
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    let text = ticket["text"].as_str().unwrap();
    device.gate(EventId(u32::try_from(event).unwrap())).scan(text, &ctx).unwrap().kind()
}

fn refunds(order: &Value) -> String {
    format!("/api/v1/orders/{}/refunds", order["code"].as_str().unwrap())
}

#[tokio::test]
async fn a_weekend_pass_takes_a_place_of_each_day_and_both_days_gates_admit_it() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "river").await;
        let event = put_on_sale(&owner, &weekend(10, 20)).await;
        let shop: Value =
            hub.get(&format!("/api/v1/public/events/{event}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            shop["ticket_types"][2]["includes"],
            json!([{"quantity": 1, "name": "Saturday"}, {"quantity": 1, "name": "Sunday"}])
        );
        assert_eq!(available(&hub, event, WEEKEND).await, 10, "{backend:?}: no more passes than Saturdays");

        let pass = buy_paid(&hub, &owner, event, WEEKEND, 1).await;
        assert_eq!(pass["total_minor"], 7000);
        let tickets = pass["tickets"].as_array().unwrap();
        assert_eq!(tickets.len(), 1, "{backend:?}: one ticket: {pass}");
        assert_eq!(counters(&owner, event).await[..3], [(1, 0), (1, 0), (1, 0)]);

        // One ticket, admitted at both days' gates, offline.
        let device = gate(&hub, &owner, event, dir.path()).await;
        assert_eq!(scan(&device, event, 1, &tickets[0]), VerdictKind::Admitted);
        // (Sunday's admission is a re-entry of a multi-entry ticket: it passes.)
        assert_eq!(scan(&device, event, 2, &tickets[0]), VerdictKind::ReEntry);
        assert_eq!(scan(&device, event, 3, &tickets[0]), VerdictKind::TypeNotAllowedAtGate);

        // Saturday sells out through day tickets: no pass can be sold, and a refused pass holds
        // no Sunday.
        buy_paid(&hub, &owner, event, SATURDAY, 9).await;
        assert_eq!(available(&hub, event, WEEKEND).await, 0);
        let (status, refused) = buy(&hub, event, WEEKEND, 1).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("sold_out")), "{backend:?}: {refused}");
        assert_eq!(counters(&owner, event).await[..3], [(10, 0), (1, 0), (1, 0)]);

        // Refunding the pass gives back a place of each day.
        let (status, refund) = owner.post(&refunds(&pass), &json!({"reason": "ill"})).await;
        assert_eq!((status, refund["amount_minor"].as_i64()), (201, Some(7000)), "{refund}");
        assert_eq!(counters(&owner, event).await[..3], [(9, 0), (0, 0), (0, 0)]);
        assert_eq!(buy(&hub, event, WEEKEND, 1).await.0, 201, "{backend:?}");
    }
}

#[tokio::test]
async fn a_vip_package_issues_its_parking_and_drinks_as_tickets_of_their_own() {
    for backend in BACKENDS {
        let hub = TestHub::start_configured(backend, Clock::manual(Timestamp::now().0), |c| {
            c.checkouts_per_minute = 1_000_000;
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "vip").await;
        let event = put_on_sale(&owner, &weekend(10, 10)).await;
        assert_eq!(available(&hub, event, VIP).await, 2, "{backend:?}: as many as parking places");

        let vip = buy_paid(&hub, &owner, event, VIP, 1).await;
        assert_eq!(vip["total_minor"], 20000);
        let tickets = vip["tickets"].as_array().unwrap();
        let kinds: Vec<(&str, i64, Option<i64>)> = tickets
            .iter()
            .map(|t| {
                (
                    t["ticket_type_name"].as_str().unwrap(),
                    t["price_minor"].as_i64().unwrap(),
                    t["part_of"].as_i64(),
                )
            })
            .collect();
        let bundle = tickets[0]["serial"].as_i64();
        assert_eq!(
            kinds,
            [
                ("VIP package", 20000, None),
                ("Parking", 0, bundle),
                ("Drinks", 0, bundle),
                ("Drinks", 0, bundle)
            ],
            "{backend:?}: {vip}"
        );
        let sold = counters(&owner, event).await;
        assert_eq!((sold[3], sold[4], sold[5]), ((1, 0), (2, 0), (1, 0)));

        // Each is its own admission at the gates, offline.
        let device = gate(&hub, &owner, event, dir.path()).await;
        assert_eq!(scan(&device, event, 1, &tickets[0]), VerdictKind::Admitted);
        assert_eq!(scan(&device, event, 3, &tickets[1]), VerdictKind::Admitted);
        assert_eq!(scan(&device, event, 1, &tickets[2]), VerdictKind::Admitted);
        assert_eq!(scan(&device, event, 1, &tickets[3]), VerdictKind::Admitted);
        assert_eq!(scan(&device, event, 2, &tickets[2]), VerdictKind::AlreadyInside);

        // Parking (2 places) limits the packages: the third is refused whole.
        buy_paid(&hub, &owner, event, VIP, 1).await;
        let (status, refused) = buy(&hub, event, VIP, 1).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("sold_out")), "{refused}");
        let sold = counters(&owner, event).await;
        assert_eq!(
            (sold[3], sold[4], sold[5]),
            ((2, 0), (4, 0), (2, 0)),
            "{backend:?}: the refusal took nothing"
        );

        // A part is refunded with its package, not alone.
        let part = tickets[1]["serial"].as_i64().unwrap();
        let (status, problem) =
            owner.post(&refunds(&vip), &json!({"reason": "no car", "serials": [part]})).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("serials")), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("bundle"), "{problem}");
        let (status, refund) =
            owner.post(&refunds(&vip), &json!({"reason": "ill", "serials": [bundle]})).await;
        assert_eq!((status, refund["amount_minor"].as_i64()), (201, Some(20000)), "{refund}");
        assert_eq!(refund["serials"].as_array().map(Vec::len), Some(4), "{backend:?}: {refund}");
        let sold = counters(&owner, event).await;
        assert_eq!((sold[3], sold[4], sold[5]), ((1, 0), (2, 0), (1, 0)));
        sync(&hub, &device).await;
        let later = |t: &Value| {
            let ctx = ScanContext {
                device: device.device(),
                gate: GateId(3),
                direction: Direction::Entry,
                now: Timestamp(Timestamp::now().0 + 60_000),
            };
            let gate = device.gate(EventId(u32::try_from(event).unwrap()));
            gate.scan(t["text"].as_str().unwrap(), &ctx).unwrap().kind()
        };
        assert_eq!(later(&tickets[1]), VerdictKind::Revoked, "{backend:?}: the parking ticket went with it");

        // An unpaid package holds its parking until the hold lapses.
        let (status, pending) = buy(&hub, event, VIP, 1).await;
        assert_eq!(status, 201, "{pending}");
        let held = counters(&owner, event).await;
        assert_eq!((held[3], held[4], held[5]), ((1, 1), (2, 2), (1, 1)));
        hub.clock.advance(16 * 60_000);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
        let back = counters(&owner, event).await;
        assert_eq!((back[3], back[4], back[5]), ((1, 0), (2, 0), (1, 0)), "{backend:?}");
    }
}

#[tokio::test]
async fn an_order_keeps_what_its_bundle_contained_when_the_bundle_changes() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "change").await;
    let event = put_on_sale(&owner, &weekend(10, 10)).await;
    let (status, pending) = buy(&hub, event, VIP, 1).await;
    assert_eq!(status, 201, "{pending}");
    // The package no longer contains drinks; the order placed before still does.
    let path = format!("/api/v1/events/{event}/ticket-types/{VIP}");
    let (status, body) =
        owner.send(reqwest::Method::PATCH, &path, &json!({"includes": [{"ticket_type": PARKING}]})).await;
    assert_eq!(status, 204, "{body}");
    press_pay(&hub, &start_payment(&hub, &pending).await).await;
    let order = owner.get(&format!("/api/v1/orders/{}", pending["code"].as_str().unwrap())).await;
    assert_eq!(order["tickets"].as_array().map(Vec::len), Some(4), "{order}");
    let (status, _) = owner.post(&refunds(&order), &json!({"reason": "moved"})).await;
    assert_eq!(status, 201);
    let sold = counters(&owner, event).await;
    assert_eq!((sold[3], sold[4], sold[5]), ((0, 0), (0, 0), (0, 0)), "gave back what it took");
    // A new order takes what the package contains now (once checkout's 2-second view of the
    // event has passed, as for a price change).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let vip = buy_paid(&hub, &owner, event, VIP, 1).await;
    assert_eq!(vip["tickets"].as_array().map(Vec::len), Some(2), "{vip}");
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    assert_eq!(
        detail["ticket_types"][5]["includes"],
        json!([{"ticket_type": 4, "quantity": 1, "separate_ticket": true}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_of_passes_and_day_tickets_at_once_never_oversell_a_day() {
    let hub = Arc::new(TestHub::start(cloud::db::Backend::Postgres).await);
    let owner = Organizer::create(&hub, "rush").await;
    let event = put_on_sale(&owner, &weekend(10, 30)).await;
    let mut buyers = tokio::task::JoinSet::new();
    for i in 0..64u16 {
        let hub = Arc::clone(&hub);
        let ticket_type = if i % 2 == 0 { WEEKEND } else { SATURDAY };
        buyers.spawn(async move { (ticket_type, buy(&hub, event, ticket_type, 1).await) });
    }
    let (mut passes, mut days) = (0, 0);
    while let Some(done) = buyers.join_next().await {
        let (ticket_type, (status, body)) = done.unwrap();
        match (status, ticket_type) {
            (201, WEEKEND) => passes += 1,
            (201, _) => days += 1,
            (409, _) => assert_eq!(body["code"], "sold_out", "{body}"),
            other => panic!("{other:?} {body}"),
        }
    }
    assert_eq!(passes + days, 10, "every Saturday sold, none twice");
    let held = counters(&owner, event).await;
    assert_eq!(held[..3], [(0, 10), (0, passes), (0, passes)]);
}

#[tokio::test]
async fn bad_bundles_are_refused_and_change_nothing() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let owner = Organizer::create(&hub, "bad").await;
    let event = put_on_sale(&owner, &weekend(10, 10)).await;
    let before = owner.get(&format!("/api/v1/events/{event}")).await;
    let part = |ticket_type: u16, quantity: u32| json!({"ticket_type": ticket_type, "quantity": quantity});
    let cases = [
        (CAMPING, json!([part(CAMPING, 1)]), "includes[0].ticket_type", "itself"),
        (CAMPING, json!([part(99, 1)]), "includes[0].ticket_type", "no ticket type 99"),
        (SATURDAY, json!([part(WEEKEND, 1)]), "includes", "part of bundle"),
        (DRINKS, json!([part(CAMPING, 1)]), "includes", "part of bundle 6"),
        (CAMPING, json!([part(VIP, 1)]), "includes[0].ticket_type", "bundle itself"),
        (CAMPING, json!([part(PARKING, 1), part(PARKING, 2)]), "includes[1].ticket_type", "twice"),
        (CAMPING, json!([part(PARKING, 0)]), "includes[0].quantity", "1–10"),
        (CAMPING, json!([part(PARKING, 11)]), "includes[0].quantity", "1–10"),
    ];
    for (number, includes, field, says) in cases {
        let path = format!("/api/v1/events/{event}/ticket-types/{number}");
        let (status, problem) =
            owner.send(reqwest::Method::PATCH, &path, &json!({"includes": includes})).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{includes}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(says), "{includes}: {problem}");
    }
    let (status, problem) = owner
        .post(
            &format!("/api/v1/events/{event}/ticket-types"),
            &json!({"name": "Nested", "price_minor": 1, "currency": "EUR", "capacity": 1, "entry_policy": "single_entry", "includes": [part(WEEKEND, 1)]}),
        )
        .await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("includes[0].ticket_type")), "{problem}");
    let mut new = weekend(1, 1);
    new["ticket_types"][0]["includes"] = json!([part(2, 1)]);
    let (status, problem) = owner.post("/api/v1/events", &new).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("ticket_types[0].includes")), "{problem}");
    assert_eq!(owner.get(&format!("/api/v1/events/{event}")).await, before, "nothing changed");
    assert_eq!(hub.number("SELECT COUNT(*) FROM events").await, 1);

    // Bundles are sold online only: not leased to a box office, and a leased type does not
    // become one.
    let dir = tempfile::tempdir().unwrap();
    let desk = enroll(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await).await;
    let lease =
        |ticket_type: u16| json!({"device_id": desk.device().0, "ticket_type": ticket_type, "quantity": 2});
    let leases = format!("/api/v1/events/{event}/leases");
    let (status, problem) = owner.post(&leases, &lease(WEEKEND)).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("bundle_not_leasable")), "{problem}");
    assert_eq!(owner.post(&leases, &lease(CAMPING)).await.0, 201);
    let path = format!("/api/v1/events/{event}/ticket-types/{CAMPING}");
    let (status, problem) =
        owner.send(reqwest::Method::PATCH, &path, &json!({"includes": [part(PARKING, 1)]})).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("bundle_not_leasable")), "{problem}");
}

/// In a real browser: the organizer makes the weekend pass a bundle of both days on the
/// event's page, the shop says what it includes, and a buyer's pass takes a Saturday.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_makes_a_bundle_in_the_console_and_a_buyer_buys_it_in_the_shop() {
    use common::browser::{ChromeDriver, buy_and_pay, click, eventually, fill, log_in, screenshot, text};
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "river").await;
    let mut plain = weekend(10, 10);
    plain["ticket_types"][2]["includes"] = json!([]);
    plain["ticket_types"][5]["includes"] = json!([]);
    let event = put_on_sale(&owner, &plain).await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub.url, "owner@river.example").await;

    b.goto(&format!("{}/events/{event}", hub.url)).await.unwrap();
    b.execute("document.querySelectorAll('details').forEach((d) => d.open = true)", vec![]).await.unwrap();
    // The pass's form lists the other types: Saturday first, Sunday second.
    let form = "#edit-type-3";
    fill(&b, &format!("{form} [name='includes[0].quantity']"), "1").await;
    fill(&b, &format!("{form} [name='includes[1].quantity']"), "1").await;
    click(&b, &format!("{form} [name='includes[0].separate_ticket']")).await;
    click(&b, &format!("{form} [name='includes[1].separate_ticket']")).await;
    b.execute("document.querySelector('#edit-type-3').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&b, "bundle-form").await;
    click(&b, &format!("{form} button[type=submit]")).await;
    eventually(10, "the bundle on the event's page", || async {
        text(&b, "tr[data-type='3'] .contains").await == "Contains 1 × Saturday, 1 × Sunday"
    })
    .await;
    screenshot(&b, "bundle-console").await;
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    assert_eq!(
        detail["ticket_types"][2]["includes"],
        json!([{"ticket_type": 1, "quantity": 1, "separate_ticket": false}, {"ticket_type": 2, "quantity": 1, "separate_ticket": false}])
    );
    assert_eq!(detail["ticket_types"][5]["includes"], json!([]), "other types left alone");

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await; // checkout's view of the event
    b.goto(&format!("{}/shop/{event}", hub.url)).await.unwrap();
    assert!(text(&b, "body").await.contains("Includes: 1 × Saturday, 1 × Sunday"));
    fill(&b, "#quantity-3", "1").await;
    buy_and_pay(&b, "Wim Weekend", "wim@example.org").await;
    assert_eq!(counters(&owner, event).await[..3], [(1, 0), (1, 0), (1, 0)]);
    b.close().await.unwrap();
}
