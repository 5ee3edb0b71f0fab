//! Selling online, on both backends, over HTTP: checkout with holds and idempotency keys,
//! paying through the simulated provider (its webhooks signed, replays changing nothing),
//! tickets every gate accepts, holds that lapse, refunds that revoke — and the ledger balanced
//! after all of it.

mod common;

use common::{
    BACKENDS, MASTER_KEY, Organizer, TestHub, checkout, event_on_sale, festival, order, press_pay,
    start_payment,
};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::admission::AdmissionState;
use sync_core::ids::{GateId, Timestamp};
use sync_core::manifest::{Direction, EventManifest};
use sync_core::revocation::RevocationSet;
use sync_core::validate::{ScanContext, validate};
use sync_core::verdict::VerdictKind;

/// (sum of every ledger entry, balance of the provider's account).
async fn ledger(hub: &TestHub) -> (i64, i64) {
    let sum = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *hub.inspect().await).await.unwrap()
    };
    (
        sum("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries").await,
        sum("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account = 'psp:simulated'")
            .await,
    )
}

async fn manifest(owner: &Organizer, event: i64) -> EventManifest {
    EventManifest::from_json(&owner.get(&format!("/api/v1/events/{event}/manifest")).await.to_string())
        .unwrap()
}

/// Decodes the QR code in a PNG the way a camera app would.
fn scan_png(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

fn webhook_secret() -> Vec<u8> {
    cloud::crypto::MasterKey::from_bytes(MASTER_KEY).derive("simulated-psp:webhook-secret").to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_buys_pays_and_gets_tickets_every_gate_accepts() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;

        let (status, placed) = checkout(&hub, event, 2, Some("basket-1")).await;
        assert_eq!(status, 201, "{backend:?}: {placed}");
        assert_eq!(
            (placed["status"].as_str(), placed["total_minor"].as_i64()),
            (Some("pending"), Some(9000))
        );
        assert!(placed["hold_expires_at"].as_i64().unwrap() > Timestamp::now().0);
        // A retry with the key is the same order; the key with another basket is refused.
        let (status, again) = checkout(&hub, event, 2, Some("basket-1")).await;
        assert_eq!((status, &again["code"]), (201, &placed["code"]));
        let (status, problem) = checkout(&hub, event, 3, Some("basket-1")).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("Idempotency-Key")), "{problem}");
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(detail["ticket_types"][0]["held"], 2, "one hold, not three");

        let page = start_payment(&hub, &placed).await;
        let html = hub.client.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Simulated payment provider") && html.contains("90.00 EUR"), "{html}");
        press_pay(&hub, &page).await;

        let paid = order(&hub, &placed).await;
        assert_eq!(paid["status"], "paid", "{backend:?}: {paid}");
        let tickets = paid["tickets"].as_array().unwrap();
        let serials: Vec<i64> = tickets.iter().map(|t| t["serial"].as_i64().unwrap()).collect();
        assert_eq!(serials, [1, 2], "serials are dense from 1");
        let manifest = manifest(&owner, event).await;
        let ctx = ScanContext {
            device: sync_core::ids::DeviceId(1),
            gate: GateId(1),
            direction: Direction::Entry,
            now: Timestamp::now(),
        };
        for t in tickets {
            let verdict = validate(
                &manifest,
                &RevocationSet::default(),
                &AdmissionState::default(),
                &ctx,
                t["text"].as_str().unwrap(),
            );
            assert_eq!(verdict.kind(), VerdictKind::Admitted, "{backend:?}: {t}");
        }
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(
            (detail["ticket_types"][0]["held"].as_i64(), detail["ticket_types"][0]["sold"].as_i64()),
            (Some(0), Some(2))
        );

        // Delivered: a QR code that scans back to the ticket, and a printable PDF, one page each.
        let link = common::order_url(&placed);
        let png = hub.get(&format!("{link}/tickets/1/qr.png")).send().await.unwrap();
        assert_eq!(png.headers()["content-type"], "image/png");
        assert_eq!(
            scan_png(&png.bytes().await.unwrap()),
            tickets[0]["text"].as_str().unwrap(),
            "{backend:?}"
        );
        let pdf = hub.get(&format!("{link}/tickets.pdf")).send().await.unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let pdf = pdf.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let pdf_text = String::from_utf8_lossy(&pdf);
        assert!(pdf_text.contains("Summer Festival") && pdf_text.contains(placed["code"].as_str().unwrap()));
        assert!(pdf_text.contains("/Count 2"), "two tickets, two pages");
        assert_eq!(hub.get(&format!("{link}/tickets/99/qr.png")).send().await.unwrap().status(), 404);
        let code = placed["code"].as_str().unwrap();
        let wrong_secret = format!("/api/v1/public/orders/{code}/{}/tickets.pdf", "0".repeat(64));
        assert_eq!(hub.get(&wrong_secret).send().await.unwrap().status(), 404);
        assert_eq!(ledger(&hub).await, (0, 9000), "{backend:?}: balanced, the provider holds the money");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_that_are_forged_stale_or_replayed_change_nothing() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;
        let (_, placed) = checkout(&hub, event, 2, None).await;
        press_pay(&hub, &start_payment(&hub, &placed).await).await;
        assert_eq!(order(&hub, &placed).await["status"], "paid");
        // Webhooks: a forged one is refused, a stale one too, a replay changes nothing.
        let payment: i64 =
            sqlx::query_scalar("SELECT id FROM payments").fetch_one(&mut *hub.inspect().await).await.unwrap();
        let provider_ref: String = sqlx::query_scalar("SELECT provider_ref FROM payments")
            .fetch_one(&mut *hub.inspect().await)
            .await
            .unwrap();
        let body = json!({"id": "simevt_replayed", "kind": "payment_succeeded", "payment": provider_ref,
                          "reference": format!("pay_{payment}"), "amount_minor": 9000, "currency": "EUR"})
        .to_string();
        let send = |signature: String| {
            let request = hub
                .post("/api/v1/webhooks/payments")
                .header("voelgoed-sim-signature", signature)
                .header("content-type", "application/json")
                .body(body.clone());
            async move {
                let r = request.send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let now = Timestamp::now().0 / 1000;
        let signed = cloud::payments::signature::sign(&webhook_secret(), now, body.as_bytes());
        let (status, answer) = send(signed.clone()).await;
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!((status, answer), (200, json!({"received": "simevt_replayed", "outcome": "duplicate"})));
        assert_eq!(send(signed).await.0, 200);
        assert_eq!(
            send(cloud::payments::signature::sign(b"not the secret", now, body.as_bytes())).await.0,
            401
        );
        let stale = cloud::payments::signature::sign(&webhook_secret(), now - 3600, body.as_bytes());
        assert_eq!(send(stale).await.0, 401);
        let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
            .fetch_one(&mut *hub.inspect().await)
            .await
            .unwrap();
        assert_eq!(tickets, 2, "{backend:?}: no ticket issued twice");
        assert_eq!(ledger(&hub).await, (0, 9000), "{backend:?}: nothing booked twice");
    }
}

/// Payments settled in one transaction (as the hub batches its webhooks) each get the answer
/// they would have got alone: a payment whose amount is wrong is refused and rolled back
/// without taking the others with it, one reported twice is settled once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_settled_together_each_get_their_own_answer() {
    use cloud::sales::fulfil::{Settled, Succeeded, settle, settle_all};
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 1000).await;
        let mut placed = Vec::new();
        for quantity in [1, 2, 3] {
            let (_, order) = checkout(&hub, event, quantity, None).await;
            start_payment(&hub, &order).await;
            placed.push(order);
        }
        let payments: Vec<(i64, i64)> = sqlx::query_as("SELECT id, amount_minor FROM payments ORDER BY id")
            .fetch_all(&mut *hub.inspect().await)
            .await
            .unwrap();
        let paid = |(payment, amount_minor): (i64, i64), event: &str| Succeeded {
            payment,
            amount_minor,
            currency: "EUR".into(),
            webhook_event: Some(event.into()),
        };
        let wrong = (payments[1].0, 1);
        let batch = [
            paid(payments[0], "evt-a"),
            paid(wrong, "evt-b"),
            paid(payments[0], "evt-c"),
            paid(payments[2], "evt-d"),
        ];
        let org = owner.org_id;
        let state = &hub.state;
        let outcomes = settle_all(&state.db, &state.master, &state.sales, org, &batch).await.unwrap();
        let outcomes: Vec<Option<Settled>> = outcomes.into_iter().map(Result::ok).collect();
        assert_eq!(
            outcomes,
            [Some(Settled::Paid), None, Some(Settled::Already), Some(Settled::Paid)],
            "{backend:?}"
        );
        let mut statuses = Vec::new();
        for p in &placed {
            statuses.push(order(&hub, p).await["status"].as_str().unwrap().to_owned());
        }
        assert_eq!(statuses, ["paid", "pending", "paid"], "{backend:?}: the refused one is untouched");
        assert_eq!(ledger(&hub).await, (0, 4000), "{backend:?}: only what was settled is booked");
        // Its provider event was rolled back too: the right report of it settles it now.
        let again = settle(&state.db, &state.master, &state.sales, org, paid(payments[1], "evt-b")).await;
        assert_eq!(again.unwrap(), Settled::Paid, "{backend:?}");
        let serials: Vec<(i64, i64)> = sqlx::query_as("SELECT order_id, serial FROM tickets ORDER BY serial")
            .fetch_all(&mut *hub.inspect().await)
            .await
            .unwrap();
        assert_eq!(
            serials.iter().map(|s| s.1).collect::<Vec<_>>(),
            (1..=6).collect::<Vec<_>>(),
            "{backend:?}: dense"
        );
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(
            (detail["ticket_types"][0]["sold"].as_i64(), detail["ticket_types"][0]["held"].as_i64()),
            (Some(6), Some(0))
        );
    }
}

/// A payment that comes after its order's hold lapsed, settled in one batch with an on-time
/// one: its tickets are still there, so it is sold them again and both get their tickets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_payment_settled_in_a_batch_gets_its_tickets_if_they_are_still_there() {
    use cloud::sales::fulfil::{Settled, Succeeded, settle_all};
    for backend in BACKENDS {
        let clock = cloud::clock::Clock::manual(Timestamp::now().0);
        let hub = TestHub::start_configured(backend, clock, |c| c.checkouts_per_minute = 1_000_000).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 1000).await;
        let (_, slow) = checkout(&hub, event, 2, None).await;
        start_payment(&hub, &slow).await;
        hub.clock.advance(16 * 60_000);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
        let (_, fast) = checkout(&hub, event, 3, None).await;
        start_payment(&hub, &fast).await;
        let payments: Vec<(i64, i64)> = sqlx::query_as("SELECT id, amount_minor FROM payments ORDER BY id")
            .fetch_all(&mut *hub.inspect().await)
            .await
            .unwrap();
        let batch: Vec<Succeeded> = payments
            .iter()
            .map(|&(payment, amount_minor)| Succeeded {
                payment,
                amount_minor,
                currency: "EUR".into(),
                webhook_event: Some(format!("evt-{payment}")),
            })
            .collect();
        let state = &hub.state;
        let outcomes =
            settle_all(&state.db, &state.master, &state.sales, owner.org_id, &batch).await.unwrap();
        let outcomes: Vec<Settled> = outcomes.into_iter().map(Result::unwrap).collect();
        assert_eq!(outcomes, [Settled::Paid, Settled::Paid], "{backend:?}");
        for (placed, tickets) in [(&slow, 2), (&fast, 3)] {
            let now = order(&hub, placed).await;
            assert_eq!(
                (now["status"].as_str(), now["tickets"].as_array().map(Vec::len)),
                (Some("paid"), Some(tickets))
            );
        }
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        let counters =
            (detail["ticket_types"][0]["sold"].as_i64(), detail["ticket_types"][0]["held"].as_i64());
        assert_eq!(counters, (Some(5), Some(0)), "{backend:?}");
        assert_eq!(ledger(&hub).await, (0, 5000), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_lapse_and_a_late_payment_without_tickets_left_is_refunded() {
    for backend in BACKENDS {
        // The hub's time moves only when the test says: the hold lapses by the clock, not by
        // waiting 15 minutes.
        let clock = cloud::clock::Clock::manual(Timestamp::now().0);
        let hub = TestHub::start_configured(backend, clock, |c| c.checkouts_per_minute = 1_000_000).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 2, 1000).await;
        let (status, slow) = checkout(&hub, event, 2, None).await;
        assert_eq!(status, 201);
        let (status, problem) = checkout(&hub, event, 1, Some("second")).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("sold_out")),
            "{backend:?}: held tickets are taken"
        );
        let (status, _) = checkout(&hub, event, 1, Some("second")).await;
        assert_eq!(status, 409, "a retry with the key gets the same answer");

        // The slow customer opens the payment page, then the hold lapses.
        let page = start_payment(&hub, &slow).await;
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 0, "not yet");
        hub.clock.advance(16 * 60_000);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 0, "once");
        assert_eq!(order(&hub, &slow).await["status"], "expired");
        let (status, fast) = checkout(&hub, event, 1, None).await;
        assert_eq!(status, 201, "{backend:?}: the lapsed hold is on sale again");

        // Paid anyway: 2 tickets are no longer there (1 is held), so the money goes back.
        press_pay(&hub, &page).await;
        let slow_now = order(&hub, &slow).await;
        assert_eq!(
            (slow_now["status"].as_str(), slow_now["tickets"].as_array().map(Vec::len)),
            (Some("expired"), Some(0))
        );
        let refund: (String, i64) = sqlx::query_as("SELECT status, amount_minor FROM refunds")
            .fetch_one(&mut *hub.inspect().await)
            .await
            .unwrap();
        assert_eq!(refund, ("succeeded".into(), 2000), "{backend:?}");
        assert_eq!(ledger(&hub).await, (0, 0), "{backend:?}: received and paid back");
        assert_eq!(order(&hub, &fast).await["status"], "pending");
    }
}

#[tokio::test]
async fn bad_checkouts_are_refused_and_hold_nothing() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let (_, draft) = owner.post("/api/v1/events", &festival()).await;
        let draft = draft["id"].as_i64().unwrap();
        let (status, problem) = checkout(&hub, draft, 1, None).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("not_on_sale")), "a draft is not for sale");
        assert_eq!(checkout(&hub, 999_999, 1, None).await.0, 404);
        let event = event_on_sale(&owner, 100, 1000).await;
        let post = |body: Value| {
            let request = hub.post(&format!("/api/v1/public/events/{event}/orders")).json(&body);
            async move {
                let r = request.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let line = |t: u16, q: u32| json!({"ticket_type": t, "quantity": q});
        let order = |lines: Vec<Value>, email: &str| json!({"lines": lines, "email": email, "name": "N"});
        for (body, field) in [
            (order(vec![line(1, 0)], "a@b.c"), "lines[0].quantity"),
            (order(vec![line(7, 1)], "a@b.c"), "lines[0].ticket_type"),
            (order(vec![line(1, 1), line(1, 1)], "a@b.c"), "lines[1].ticket_type"),
            (order(vec![line(1, 51)], "a@b.c"), "lines"),
            (order(vec![], "a@b.c"), "lines"),
            (order(vec![line(1, 1)], "not an address"), "email"),
        ] {
            let (status, problem) = post(body).await;
            assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{backend:?}: {problem}");
        }
        for body in [
            json!({"lines": [{"ticket_type": 1, "quantity": -1}], "email": "a@b.c", "name": "N"}),
            json!({"lines": [], "email": "a@b.c", "name": "N", "coupon": "FREE"}),
            json!("just a string"),
        ] {
            assert_eq!(post(body).await.0, 422);
        }
        let held = owner.get(&format!("/api/v1/events/{event}")).await["ticket_types"][0]["held"].clone();
        assert_eq!(held, 0, "{backend:?}");
        let orders = owner.get(&format!("/api/v1/events/{event}/orders")).await;
        assert_eq!(orders["orders"], json!([]));
    }
}

/// An integrator reads a big event's orders a page at a time: oldest first, `has_more` while
/// more follow, the next page after the last code seen; a bad page is refused, not guessed.
#[tokio::test]
async fn the_orders_of_an_event_are_read_a_page_at_a_time() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        let (status, order) = checkout(&hub, event, 1, None).await;
        assert_eq!(status, 201, "{order}");
        placed.push(order["code"].as_str().unwrap().to_owned());
    }
    let mut read = Vec::new();
    let mut after = String::new();
    let mut pages = 0;
    loop {
        let query = if after.is_empty() { String::new() } else { format!("&starting_after={after}") };
        let page = owner.get(&format!("/api/v1/events/{event}/orders?limit=2{query}")).await;
        let codes: Vec<String> = page["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["code"].as_str().unwrap().to_owned())
            .collect();
        pages += 1;
        assert!(codes.len() <= 2, "{page}");
        read.extend(codes.clone());
        if page["has_more"] == false {
            break;
        }
        after = codes.last().unwrap().clone();
    }
    assert_eq!((read, pages), (placed.clone(), 3), "every order once, oldest first");
    let all = owner.get(&format!("/api/v1/events/{event}/orders")).await;
    assert_eq!(
        (all["orders"].as_array().unwrap().len(), &all["has_more"]),
        (5, &json!(false)),
        "100 by default"
    );
    for (query, expected) in [("limit=0", 422), ("limit=1001", 422), ("starting_after=NOSUCHCODE", 404)] {
        let (status, problem) = owner
            .send(reqwest::Method::GET, &format!("/api/v1/events/{event}/orders?{query}"), &Value::Null)
            .await;
        assert_eq!(status, expected, "{query}: {problem}");
    }
}

#[tokio::test]
async fn checkout_is_rate_limited_per_address() {
    let hub = TestHub::start_with_limit(cloud::db::Backend::Sqlite, 3).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    for _ in 0..3 {
        assert_eq!(checkout(&hub, event, 1, None).await.0, 201);
    }
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": [{"ticket_type": 1, "quantity": 1}], "email": "a@b.c", "name": "N"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

/// Many buyers at once, each all-or-nothing: exactly the capacity is sold, serials are unique
/// and dense, and the ledger balances.
async fn flash_sale(hub: Arc<TestHub>, attempts: usize, capacity: i64) {
    let owner = Organizer::create(&hub, "flash").await;
    let event = event_on_sale(&owner, capacity, 2500).await;
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut buyers = tokio::task::JoinSet::new();
    for i in 0..attempts {
        let (hub, limit) = (Arc::clone(&hub), Arc::clone(&limit));
        buyers.spawn(async move {
            let _slot = limit.acquire().await.unwrap();
            let key = format!("buyer-{i}");
            let (status, placed) = checkout(&hub, event, 1, Some(&key)).await;
            match status {
                201 => {
                    let page = start_payment(&hub, &placed).await;
                    press_pay(&hub, &page).await;
                    true
                }
                409 => {
                    assert_eq!(placed["code"], "sold_out");
                    false
                }
                other => panic!("checkout answered {other}: {placed}"),
            }
        });
    }
    let mut bought = 0;
    while let Some(result) = buyers.join_next().await {
        bought += usize::from(result.unwrap());
    }
    assert_eq!(i64::try_from(bought).unwrap(), capacity, "{:?}", hub.backend);
    let serials: Vec<i64> =
        sqlx::query_scalar("SELECT serial FROM tickets WHERE event_id = $1 ORDER BY serial")
            .bind(event)
            .fetch_all(&mut *hub.inspect().await)
            .await
            .unwrap();
    assert_eq!(serials, (1..=capacity).collect::<Vec<_>>(), "unique and dense");
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    assert_eq!(detail["ticket_types"][0]["sold"], capacity);
    assert_eq!(detail["ticket_types"][0]["held"], 0);
    assert_eq!(ledger(&hub).await, (0, capacity * 2500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_sale_sells_exactly_the_capacity_on_postgres() {
    flash_sale(Arc::new(TestHub::start(cloud::db::Backend::Postgres).await), 2000, 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_sale_sells_exactly_the_capacity_on_sqlite() {
    flash_sale(Arc::new(TestHub::start(cloud::db::Backend::Sqlite).await), 600, 150).await;
}
