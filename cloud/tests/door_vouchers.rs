//! Vouchers and discounts at the box office, against the real hub: a code's uses leased to a
//! desk are redeemed there offline and no more; online buyers share what is left, so door and
//! online together use the code exactly `max_uses` times; each door sale keeps its list price,
//! discount and reason; unused uses come back when the desk returns them; the organizer's
//! automatic discounts reach the desk through sync.

mod common;

use common::{Organizer, TestHub, enroll, enrollment_code, event_on_sale, press_pay, start_payment};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, TicketTypeId, Timestamp};
use sync_core::journal::{HUB, LeaseId, PaymentMethod};
use sync_core::replica::{Replica, SaleRequest, SellError};
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;

async fn sync(desk: &Arc<Replica>, hub: &TestHub) {
    sync_with(&**desk, &HttpTransport::new(&hub.url, Arc::clone(desk), HUB).unwrap()).await.unwrap();
}

fn sale(quantity: u32, voucher: Option<&str>) -> SaleRequest {
    SaleRequest {
        ticket_type: TicketTypeId(1),
        quantity,
        payment: PaymentMethod::Cash,
        voucher: voucher.map(str::to_owned),
        seats: Vec::new(),
    }
}

async fn voucher(owner: &Organizer, event: i64, code: &str) -> Value {
    owner.get(&format!("/api/v1/events/{event}/vouchers/{code}")).await
}

/// (redeemed, held, leased) of a voucher.
fn counts(v: &Value) -> (i64, i64, i64) {
    let v = &v["voucher"];
    (v["redeemed"].as_i64().unwrap(), v["held"].as_i64().unwrap(), v["leased"].as_i64().unwrap())
}

async fn buy_online(hub: &TestHub, event: i64, code: &str) -> (u16, Value) {
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": [{"ticket_type": 1, "quantity": 1}], "email": "fan@example.org", "name": "Fan", "voucher": code}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn door_and_online_together_redeem_a_code_exactly_its_uses() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "door").await;
        let event = event_on_sale(&owner, 1000, 4000).await;
        let event_id = EventId(u32::try_from(event).unwrap());
        let desk =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await).await;
        let desk_id = desk.device().0;
        let terms = json!({"price": {"mode": "percent", "percent": 25}, "max_uses": 30, "tag": "crew"});
        let (status, _) = owner
            .post(&format!("/api/v1/events/{event}/vouchers"), &json!({"code": "CREW", "terms": terms}))
            .await;
        assert_eq!(status, 201);
        let (status, _) = owner
            .post(
                &format!("/api/v1/events/{event}/leases"),
                &json!({"device_id": desk_id, "ticket_type": 1, "quantity": 50}),
            )
            .await;
        assert_eq!(status, 201);

        // 20 of the 30 uses go to the desk: online has 10 left.
        let leases = format!("/api/v1/events/{event}/vouchers/crew/leases");
        let (status, granted) = owner.post(&leases, &json!({"device_id": desk_id, "uses": 20})).await;
        assert_eq!((status, granted["uses"].as_i64()), (201, Some(20)), "{backend:?}: {granted}");
        let (status, problem) = owner.post(&leases, &json!({"device_id": desk_id, "uses": 11})).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("voucher_used_up")), "{problem}");
        assert_eq!(counts(&voucher(&owner, event, "CREW").await), (0, 0, 20));
        sync(&desk, &hub).await;

        // Online: 12 buyers, 10 get the code.
        let mut online = 0;
        for _ in 0..12 {
            match buy_online(&hub, event, "crew").await {
                (201, order) => {
                    press_pay(&hub, &start_payment(&hub, &order).await).await;
                    online += 1;
                }
                (409, problem) => assert_eq!(problem["code"], "voucher_used_up", "{problem}"),
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!(online, 10);

        // At the door, offline: 20 redemptions and no more.
        let office = desk.box_office(event_id);
        office.open_shift_with("Dirk", 0).unwrap();
        let now = Timestamp::now();
        let quote = office.quote(&sale(2, Some("crew")), now).unwrap();
        assert_eq!(
            (quote.total_minor, quote.discount_minor, quote.reason.as_str()),
            (6000, 2000, "Voucher CREW")
        );
        for _ in 0..10 {
            let sold = office.sell(&sale(2, Some("Crew")), now).unwrap();
            assert_eq!((sold.total_minor, sold.discount_minor), (6000, 2000));
        }
        match office.sell(&sale(1, Some("CREW")), now) {
            Err(SellError::Voucher(words)) => assert!(words.contains("no uses left"), "{words}"),
            other => panic!("{backend:?}: the 21st use must be refused, got {other:?}"),
        }
        assert_eq!(office.sales().unwrap().len(), 10, "the refusal sold nothing");
        // Without the code the desk still sells at the list price.
        assert_eq!(office.sell(&sale(1, None), now).unwrap().total_minor, 4000);

        // Back online: exactly 30 uses, 20 of them at the door, each sale priced.
        sync(&desk, &hub).await;
        let v = voucher(&owner, event, "CREW").await;
        assert_eq!(counts(&v), (30, 0, 0), "{backend:?}: {v}");
        assert_eq!(v["leases"][0]["used"], 20, "{v}");
        let door: Vec<&Value> = v["redemptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"].as_str().unwrap().starts_with("Door sale"))
            .collect();
        assert_eq!(door.len(), 10, "{v}");
        assert!(door.iter().all(|r| r["uses"] == 2 && r["discount_minor"] == 2000), "{v}");
        let report = owner.get(&format!("/api/v1/events/{event}/reports/discounts")).await;
        // tag, reason, orders, tickets, list, discount, paid, currency
        let crew =
            report["rows"].as_array().unwrap().iter().find(|r| r[0] == "crew" && r[1] == "Voucher CREW");
        let crew = crew.unwrap_or_else(|| panic!("{report}"));
        assert_eq!(
            crew.as_array().unwrap()[3..6],
            [json!(30), json!(30 * 4000), json!(30 * 1000)],
            "{backend:?}: {report}"
        );
        // The revenue report says what each way of paying gave away.
        let revenue = owner.get(&format!("/api/v1/events/{event}/reports/revenue")).await;
        let given = |method: &str| {
            let rows = revenue["rows"].as_array().unwrap();
            rows.iter().find(|r| r[0] == method).map_or_else(|| panic!("{revenue}"), |r| r[4].clone())
        };
        assert_eq!((given("online"), given("cash")), (json!(10 * 1000), json!(20 * 1000)), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_uses_come_back_and_the_hubs_discounts_reach_the_desk() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let owner = Organizer::create(&hub, "desk").await;
    let event = event_on_sale(&owner, 1000, 4000).await;
    let event_id = EventId(u32::try_from(event).unwrap());
    let desk = enroll(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await).await;
    let desk_id = desk.device().0;
    let (status, _) = owner
        .post(
            &format!("/api/v1/events/{event}/leases"),
            &json!({"device_id": desk_id, "ticket_type": 1, "quantity": 20}),
        )
        .await;
    assert_eq!(status, 201);
    let terms = json!({"price": {"mode": "set", "price_minor": 1000}, "max_uses": 10});
    owner.post(&format!("/api/v1/events/{event}/vouchers"), &json!({"code": "PRESS", "terms": terms})).await;
    let reserving = json!({"price": {"mode": "set", "price_minor": 0}, "ticket_types": [1], "max_uses": 2, "reserves": true});
    owner
        .post(&format!("/api/v1/events/{event}/vouchers"), &json!({"code": "SPONSOR", "terms": reserving}))
        .await;
    let (status, problem) = owner
        .post(
            &format!("/api/v1/events/{event}/vouchers/sponsor/leases"),
            &json!({"device_id": desk_id, "uses": 1}),
        )
        .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("voucher_reserves")), "{problem}");
    let (status, granted) = owner
        .post(
            &format!("/api/v1/events/{event}/vouchers/press/leases"),
            &json!({"device_id": desk_id, "uses": 8}),
        )
        .await;
    assert_eq!(status, 201, "{granted}");
    let rule = json!({"name": "Four for three", "effect": {"mode": "buy_get", "buy": 3, "free": 1}});
    let (status, made) = owner.post(&format!("/api/v1/events/{event}/discounts"), &rule).await;
    assert_eq!(status, 201, "{made}");
    sync(&desk, &hub).await;

    let office = desk.box_office(event_id);
    office.open_shift_with("Dirk", 0).unwrap();
    let now = Timestamp::now();
    let four = office.sell(&sale(4, None), now).unwrap();
    assert_eq!(
        (four.total_minor, four.reason.as_str()),
        (12000, "Four for three"),
        "the hub's discount, offline"
    );
    let press = office.sell(&sale(3, Some("press")), now).unwrap();
    assert_eq!((press.total_minor, press.reason.as_str()), (3000, "Voucher PRESS"));
    let comp = SaleRequest {
        payment: PaymentMethod::Comp { reason: "artist guest".into() },
        ..sale(1, Some("PRESS"))
    };
    assert!(matches!(office.sell(&comp, now), Err(SellError::Invalid(_))), "a comp needs no code");
    let comp = SaleRequest { voucher: None, ..comp };
    assert_eq!(office.sell(&comp, now).unwrap().total_minor, 0);
    let lease = office.vouchers(now)[0].lease;
    assert_eq!(office.return_voucher(LeaseId(lease)).unwrap(), 5);
    assert!(matches!(office.sell(&sale(1, Some("PRESS")), now), Err(SellError::Voucher(_))));
    sync(&desk, &hub).await;

    let v = voucher(&owner, event, "PRESS").await;
    assert_eq!(counts(&v), (3, 0, 0), "5 came back: {v}");
    assert!(v["leases"][0]["returned_at"].is_i64(), "{v}");
    // Each door sale's line keeps its list price, discount and reason; the comp its reason.
    let lines: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT l.quantity, l.unit_price_minor, l.discount_minor, l.discount_reason FROM order_lines l \
         JOIN orders o ON o.id = l.order_id WHERE o.channel = 'box_office' ORDER BY o.id",
    )
    .fetch_all(&mut *hub.inspect().await)
    .await
    .unwrap();
    assert_eq!(
        lines,
        [
            (4, 4000, 4000, "Four for three".to_owned()),
            (3, 4000, 9000, "Voucher PRESS".to_owned()),
            (1, 4000, 4000, "Comp: artist guest".to_owned()),
        ]
    );
}
