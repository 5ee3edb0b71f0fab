//! Outgoing webhooks, checked the way a partner checks them: with the Standard Webhooks
//! reference library (Python), never with the hub's own verifier.

mod common;

use cloud::webhooks::signature::{Secret, header};
use common::standard_webhooks::{Received, Receiver, verify};
use common::{
    Organizer, TestHub, checkout, enroll, enrollment_code, event_on_sale, press_pay, start_payment,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use sync_core::ids::{EventId, GateId, TicketTypeId, Timestamp};
use sync_core::journal::{HUB, PaymentMethod};
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, SaleRequest};
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

/// The hub's signing of a message, as the partner receives it.
fn delivered(partner_has: &Secret, signing: &[&Secret], id: &str, timestamp: i64, body: &str) -> Received {
    Received {
        secret: partner_has.to_text(),
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature: header(signing, id, timestamp, body.as_bytes()),
        body: body.to_owned(),
    }
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
        .unwrap()
}

/// Message ids and bodies as the hub will send them: `msg_` and a token; JSON with any text.
fn message() -> impl Strategy<Value = (String, String)> {
    ("[0-9A-Za-z]{8,32}", any::<String>(), any::<i64>()).prop_map(|(id, name, amount)| {
        let body = serde_json::json!({"type": "order.paid", "data": {"name": name, "total_minor": amount}});
        (format!("msg_{id}"), body.to_string())
    })
}

#[test]
fn every_signature_the_hub_makes_verifies_with_the_reference_library_and_a_wrong_one_does_not() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    let cases: Vec<(String, String)> =
        (0..64).map(|_| message().new_tree(&mut runner).unwrap().current()).collect();
    let (old, new, stranger) =
        (Secret::generate().unwrap(), Secret::generate().unwrap(), Secret::generate().unwrap());
    let at = now();
    let mut deliveries = Vec::new();
    for (id, body) in &cases {
        // One secret; then while rotating (both sign), as partners holding either see it.
        deliveries.push(delivered(&old, &[&old], id, at, body));
        deliveries.push(delivered(&old, &[&old, &new], id, at, body));
        deliveries.push(delivered(&new, &[&old, &new], id, at, body));
    }
    assert!(verify(&deliveries).iter().all(Result::is_ok), "{:?}", verify(&deliveries));

    // The same library refuses what the hub did not sign: a changed body, another secret, an
    // old timestamp, the rotation over (only the new secret signs, the partner has the old).
    let (id, body) = &cases[0];
    let mut changed = delivered(&old, &[&old], id, at, body);
    changed.body.push(' ');
    let refused = verify(&[
        changed,
        delivered(&stranger, &[&old, &new], id, at, body),
        delivered(&old, &[&old], id, at - 3_600, body),
        delivered(&old, &[&new], id, at, body),
    ]);
    assert!(refused.iter().all(Result::is_err), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_fails_times_out_redirects_or_recovers_is_told_apart_and_every_request_verifies() {
    use cloud::webhooks::send::Sender;
    let secret = Secret::generate().unwrap();
    let partner = common::standard_webhooks::Receiver::start(&secret.to_text());
    let sender = Sender::new(true, std::time::Duration::from_secs(1)).unwrap();
    let body = r#"{"type":"order.paid","data":{"code":"ABC123"}}"#;
    let send = |path: &'static str, id: &'static str| {
        let (sender, url, secret) = (sender.clone(), format!("{}{path}", partner.url), secret.clone());
        async move { sender.attempt(&url, &[&secret], id, now(), body).await }
    };

    let ok = send("/ok", "msg_ok").await;
    assert!(ok.delivered && ok.status == Some(200) && ok.answer == "thanks", "{ok:?}");
    let failed = send("/fail", "msg_fail").await;
    assert!(
        !failed.delivered && failed.status == Some(500) && failed.answer == "database down",
        "{failed:?}"
    );
    let slow = send("/slow", "msg_slow").await;
    assert!(!slow.delivered && slow.status.is_none() && slow.answer.contains("no answer"), "{slow:?}");
    let moved = send("/moved", "msg_moved").await;
    assert!(!moved.delivered && moved.status == Some(302), "a redirect is not followed: {moved:?}");
    let mut tries = Vec::new();
    for _ in 0..3 {
        tries.push(send("/flaky", "msg_flaky").await.status);
    }
    assert_eq!(tries, [Some(503), Some(503), Some(200)], "the same message, until it is taken");

    let log = partner.log().await;
    let paths: Vec<&str> = log.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["/ok", "/fail", "/slow", "/moved", "/flaky", "/flaky", "/flaky"],
        "no redirect followed"
    );
    assert!(log.iter().all(|r| r["verified"] == "ok"), "{log:?}");
    assert!(log[4..].iter().all(|r| r["id"] == "msg_flaky"), "one id across attempts: {log:?}");

    // Outside development, loopback is not an endpoint, whatever the port.
    let production = Sender::new(false, std::time::Duration::from_secs(1)).unwrap();
    let refused = production.attempt(&format!("{}/ok", partner.url), &[&secret], "msg_x", now(), body).await;
    assert!(!refused.delivered && refused.answer.contains("https"), "{refused:?}");
    assert_eq!(partner.log().await.len(), 7, "nothing sent");
}

/// Every event type a partner may want.
const ALL_TYPES: [&str; 13] = [
    "order.placed",
    "order.paid",
    "order.refunded",
    "order.cancelled",
    "ticket.checked_in",
    "ticket.checked_out",
    "ticket.revoked",
    "admission.double",
    "device.enrolled",
    "device.revoked",
    "event.published",
    "lease.granted",
    "door_sale.recorded",
];

/// An endpoint of `owner` to `url` for `types`: its id and secret.
async fn endpoint(owner: &Organizer, url: &str, types: &[&str], ordered: bool) -> (i64, String) {
    let body = json!({"url": url, "description": "Partner", "event_types": types, "ordered": ordered});
    let (status, made) = owner.post("/api/v1/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    (made["endpoint"]["id"].as_i64().unwrap(), made["secret"].as_str().unwrap().to_owned())
}

/// The partner's log once it holds at least `n` requests (within 30 s).
async fn received(partner: &Receiver, n: usize) -> Vec<Value> {
    let started = std::time::Instant::now();
    loop {
        let log = partner.log().await;
        if log.len() >= n {
            return log;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {n} requests arrived: {log:?}",
            log.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Endpoint `id`'s deliveries, oldest first.
async fn deliveries(owner: &Organizer, id: i64) -> Vec<Value> {
    let page = owner.get(&format!("/api/v1/webhooks/{id}/deliveries?limit=200")).await;
    let mut all = page["deliveries"].as_array().cloned().unwrap_or_else(|| panic!("{page}"));
    all.reverse();
    all
}

async fn sync(hub: &TestHub, device: &Arc<Replica>) {
    let transport = HttpTransport::new(&hub.url, Arc::clone(device), HUB).unwrap();
    sync_with(&**device, &transport).await.unwrap();
}

fn scan(device: &Arc<Replica>, event: i64, direction: Direction, ticket: &Value) -> VerdictKind {
    let ctx = ScanContext { device: device.device(), gate: GateId(1), direction, now: Timestamp::now() };
    let text = ticket["text"].as_str().unwrap();
    device.gate(EventId(u32::try_from(event).unwrap())).scan(text, &ctx).unwrap().kind()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_partner_once_in_order_and_verifies_with_the_reference_library() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "partners").await;
        let partner = Receiver::start(&Secret::generate().unwrap().to_text());
        let (id, secret) = endpoint(&owner, &format!("{}/ok", partner.url), &ALL_TYPES, true).await;
        partner.set_secret(&secret).await;

        let event = event_on_sale(&owner, 100, 2500).await; // event.published
        let (_, order) = checkout(&hub, event, 2, None).await; // order.placed
        press_pay(&hub, &start_payment(&hub, &order).await).await; // order.paid
        let paid = common::order(&hub, &order).await;
        let tickets = paid["tickets"].as_array().unwrap().clone();
        let code = order["code"].as_str().unwrap();
        let refund = json!({"serials": [tickets[0]["serial"]], "reason": "cannot come"});
        let (status, answer) = owner.post(&format!("/api/v1/orders/{code}/refunds"), &refund).await;
        assert_eq!(status, 201, "{answer}"); // ticket.revoked, order.refunded
        let (_, lapsing) = checkout(&hub, event, 1, None).await; // order.placed
        let cancel = format!("/api/v1/orders/{}/cancel", lapsing["code"].as_str().unwrap());
        assert_eq!(owner.post(&cancel, &Value::Null).await.0, 204); // order.cancelled

        // Two gates apart admit the same ticket; one lets it out again.
        let gate = |name: &'static str| {
            let (hub, owner, dir) = (&hub, &owner, dir.path());
            async move { enroll(hub, dir, &enrollment_code(owner, name, "gate", event).await).await }
        };
        let (north, south) = (gate("North").await, gate("South").await); // device.enrolled ×2
        sync(&hub, &north).await;
        sync(&hub, &south).await;
        assert_eq!(scan(&north, event, Direction::Entry, &tickets[1]), VerdictKind::Admitted);
        assert_eq!(scan(&south, event, Direction::Entry, &tickets[1]), VerdictKind::Admitted);
        assert_eq!(scan(&north, event, Direction::Exit, &tickets[1]), VerdictKind::ExitRecorded);
        sync(&hub, &north).await; // ticket.checked_in, ticket.checked_out
        sync(&hub, &south).await; // ticket.checked_in, admission.double

        // A box office: leased tickets, one sold at the door.
        let desk =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await).await;
        let lease = json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 3});
        let (status, answer) = owner.post(&format!("/api/v1/events/{event}/leases"), &lease).await;
        assert_eq!(status, 201, "{answer}"); // device.enrolled, lease.granted
        sync(&hub, &desk).await;
        let sale = SaleRequest {
            ticket_type: TicketTypeId(1),
            quantity: 1,
            payment: PaymentMethod::Cash,
            voucher: None,
            seats: Vec::new(),
        };
        let office = desk.box_office(EventId(u32::try_from(event).unwrap()));
        office.open_shift_with("Anna", 0).unwrap();
        office.sell(&sale, Timestamp::now()).unwrap();
        sync(&hub, &desk).await; // door_sale.recorded
        let revoke = format!("/api/v1/devices/{}/revoke", south.device().0);
        assert_eq!(owner.post(&revoke, &Value::Null).await.0, 204, "device.revoked");

        let expected = [
            "event.published",
            "order.placed",
            "order.paid",
            "ticket.revoked",
            "order.refunded",
            "order.placed",
            "order.cancelled",
            "device.enrolled",
            "device.enrolled",
            "ticket.checked_in",
            "ticket.checked_out",
            "ticket.checked_in",
            "admission.double",
            "device.enrolled",
            "lease.granted",
            "door_sale.recorded",
            "device.revoked",
        ];
        let log = received(&partner, expected.len()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let log = if partner.log().await.len() > log.len() { partner.log().await } else { log };
        let types: Vec<&str> = log.iter().map(|r| r["type"].as_str().unwrap_or("?")).collect();
        assert_eq!(types, expected, "{backend:?}: each once, in the order they happened");
        for r in &log {
            assert_eq!(r["verified"], "ok", "the reference library verifies every request: {r}");
        }
        // The hub's log: each delivered at the first attempt, in the order the partner saw.
        let log_ids: Vec<&str> = log.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let hub_log = deliveries(&owner, id).await;
        let hub_ids: Vec<&str> = hub_log.iter().map(|d| d["msg_id"].as_str().unwrap()).collect();
        assert_eq!(log_ids, hub_ids);
        assert!(hub_log.iter().all(|d| d["state"] == "delivered" && d["attempts"] == 1), "{hub_log:?}");

        // What the partner reads.
        let body = |i: usize| serde_json::from_str::<Value>(log[i]["body"].as_str().unwrap()).unwrap();
        let paid_event = body(2);
        assert_eq!(paid_event["data"]["order"], code);
        assert_eq!(paid_event["data"]["tickets"].as_array().map(Vec::len), Some(2), "{paid_event}");
        assert!(paid_event["timestamp"].as_str().unwrap().ends_with('Z'), "{paid_event}");
        assert_eq!(body(4)["data"]["amount_minor"], 2500);
        assert_eq!(body(12)["data"]["admissions"], 2, "{}", body(12));
        assert_eq!(body(12)["data"]["ticket"]["serial"], tickets[1]["serial"]);
        let detail = owner.get(&format!("/api/v1/webhooks/{id}/deliveries/{}", hub_log[2]["id"])).await;
        assert_eq!(detail["attempts"][0]["status"], 200, "{detail}");
        assert_eq!(detail["attempts"][0]["answer"], "thanks");
        assert_eq!(serde_json::from_str::<Value>(detail["payload"].as_str().unwrap()).unwrap(), paid_event);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_partner_is_retried_over_a_day_then_disabled_told_and_caught_up_without_loss() {
    let clock = cloud::clock::Clock::manual(now() * 1000);
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, clock.clone(), |_| {}).await;
    let owner = Organizer::create(&hub, "outage").await;
    let partner = Receiver::start(&Secret::generate().unwrap().to_text());
    partner.set_down(true).await;
    let (id, secret) = endpoint(&owner, &format!("{}/switch", partner.url), &["order.placed"], false).await;
    partner.set_secret(&secret).await;
    let mut festival = common::festival();
    festival["ends_at"] = json!(clock.now_ms() + 5 * 24 * 3_600_000); // outlasts the outage
    let event = common::put_on_sale(&owner, &festival).await;
    let (_, first) = checkout(&hub, event, 1, None).await;
    // Read from the database: a day on the hub's clock outlives the console session.
    let state = async || {
        let row: (String, i64, i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT state, attempts, next_at, last_at, last_status FROM webhook_deliveries ORDER BY id LIMIT 1",
        )
        .fetch_one(&mut *hub.inspect().await)
        .await
        .unwrap();
        json!({"state": row.0, "attempts": row.1, "next_at": row.2, "last_at": row.3, "last_status": row.4})
    };
    // Attempt `n` made and recorded (the claim and the record are two steps).
    let attempts_reach = async |n: i64| {
        let started = std::time::Instant::now();
        while hub.number("SELECT COUNT(*) FROM webhook_attempts").await < n {
            assert!(started.elapsed() < Duration::from_secs(20), "attempt {n}: {}", state().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    attempts_reach(1).await;
    let mut waits = Vec::new();
    for attempt in 2..=8 {
        let d = state().await;
        assert_eq!((d["state"].as_str(), d["last_status"].as_i64()), (Some("pending"), Some(503)), "{d}");
        let wait = d["next_at"].as_i64().unwrap() - d["last_at"].as_i64().unwrap();
        waits.push(wait);
        // Not before it is due.
        clock.advance(wait - 1_000);
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        assert_eq!(state().await["attempts"], attempt - 1, "not retried early");
        clock.advance(1_000);
        attempts_reach(attempt).await;
    }
    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each ±20 %: growing until the last two.
    assert!(waits[..6].windows(2).all(|w| w[0] < w[1]), "backs off: {waits:?}");
    let total: i64 = waits.iter().sum();
    assert!((20 * 3_600_000..36 * 3_600_000).contains(&total), "about a day: {waits:?}");
    let d = state().await;
    assert_eq!((d["state"].as_str(), d["attempts"].as_i64()), (Some("failed"), Some(8)), "{d}");
    let owner = Organizer::login(&hub, "owner@outage.example").await;
    let e = owner.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(e["enabled"], false, "{e}");
    assert!(e["disabled_reason"].as_str().unwrap().contains("503"), "{e}");
    hub.deliver_all_mail().await;
    let mail: Vec<String> = std::fs::read_dir(&hub.mail_dir)
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .filter(|m| m.contains("Webhook endpoint disabled"))
        .collect();
    assert_eq!(mail.len(), 1, "the owner is told once");
    assert!(mail[0].contains(&partner.url), "{}", mail[0]);

    // Disabled, it is sent nothing; its events are kept.
    let (status, second) = checkout(&hub, event, 1, None).await;
    assert_eq!(status, 201, "{second}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(partner.log().await.len(), 8, "nothing sent while disabled");
    // The partner is back: enabled, the kept event goes; a replay sends the failed one again.
    partner.set_down(false).await;
    let (status, enabled) = owner
        .send(reqwest::Method::PATCH, &format!("/api/v1/webhooks/{id}"), &json!({"enabled": true}))
        .await;
    assert_eq!((status, enabled["enabled"].as_bool()), (200, Some(true)), "{enabled}");
    let since = json!({"since": clock.now_ms() - 48 * 3_600_000});
    let (status, replayed) = owner.post(&format!("/api/v1/webhooks/{id}/replay"), &since).await;
    assert_eq!((status, replayed["replayed"].as_i64()), (200, Some(1)), "{replayed}");
    let log = received(&partner, 10).await;
    let ok: Vec<&Value> = log.iter().filter(|r| r["path"] == "/switch").skip(8).collect();
    let orders: Vec<String> = ok
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["data"]["order"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut orders = orders;
    orders.sort();
    let mut want =
        vec![first["code"].as_str().unwrap().to_owned(), second["code"].as_str().unwrap().to_owned()];
    want.sort();
    assert_eq!(orders, want, "both orders reached the partner");
    let all = deliveries(&owner, id).await;
    assert!(all.iter().all(|d| d["state"] == "delivered"), "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_instances_attempt_each_delivery_once() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let _second = hub.another_instance().await;
    let owner = Organizer::create(&hub, "twins").await;
    let partner = Receiver::start(&Secret::generate().unwrap().to_text());
    let (_, secret) = endpoint(&owner, &format!("{}/ok", partner.url), &["order.placed"], false).await;
    partner.set_secret(&secret).await;
    let event = event_on_sale(&owner, 1000, 2500).await;
    for _ in 0..40 {
        assert_eq!(checkout(&hub, event, 1, None).await.0, 201);
    }
    let log = received(&partner, 40).await;
    // Both instances' workers look every second: give them the time to (wrongly) send again.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let log = if partner.log().await.len() > log.len() { partner.log().await } else { log };
    let ids: std::collections::BTreeSet<&str> = log.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!((log.len(), ids.len()), (40, 40), "each message sent once");
    assert!(log.iter().all(|r| r["verified"] == "ok"));
}

#[tokio::test]
async fn endpoints_are_checked_kept_to_their_organization_and_their_secret_rotates() {
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, cloud::clock::Clock::wall(), |c| {
        c.webhooks_allow_private = false; // production
    })
    .await;
    let owner = Organizer::create(&hub, "strict").await;
    for (url, words) in [
        ("http://partner.example/hook", "https"),
        ("https://127.0.0.1/hook", "private"),
        ("https://169.254.169.254/latest", "private"),
        ("https://localhost/hook", "private"),
        ("https://user:pw@partner.example/", "password"),
        ("ftp://partner.example/", "http"),
    ] {
        let (status, refused) =
            owner.post("/api/v1/webhooks", &json!({"url": url, "event_types": ["order.paid"]})).await;
        assert_eq!((status, refused["field"].as_str()), (422, Some("url")), "{url}: {refused}");
        assert!(refused["detail"].as_str().unwrap().contains(words), "{url}: {refused}");
    }
    for types in [json!([]), json!(["order.shipped"]), json!(["webhook.test"])] {
        let (status, refused) = owner
            .post("/api/v1/webhooks", &json!({"url": "https://partner.example/", "event_types": types}))
            .await;
        assert_eq!(status, 422, "{types}: {refused}");
    }
    assert_eq!(owner.get("/api/v1/webhooks").await["endpoints"], json!([]), "nothing made");
    let (id, secret) =
        endpoint(&owner, "https://partner.example/hook", &["order.paid", "order.paid"], false).await;
    let shown = owner.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(shown["event_types"], json!(["order.paid"]));
    let path = format!("/api/v1/webhooks/{id}");
    let two_lines = owner.send(reqwest::Method::PATCH, &path, &json!({"description": "\n"})).await;
    assert_eq!((two_lines.0, two_lines.1["field"].as_str()), (422, Some("description")), "{two_lines:?}");
    let with_test = json!({"event_types": ["order.paid", "webhook.test"]});
    let changed = owner.send(reqwest::Method::PATCH, &path, &with_test).await;
    assert_eq!(
        (changed.0, &changed.1["event_types"]),
        (200, &json!(["order.paid"])),
        "test events go on request"
    );
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(owner.get(&format!("/api/v1/webhooks/{id}/secret")).await["secret"], secret.as_str());
    let (status, rotated) = owner.post(&format!("/api/v1/webhooks/{id}/rotate"), &Value::Null).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["secret"], secret.as_str());
    assert!(rotated["previous_valid_until"].as_i64().unwrap() > hub.clock.now_ms() + 23 * 3_600_000);
    // Another organization, or a viewer, sees none of it.
    let stranger = Organizer::create(&hub, "stranger").await;
    assert_eq!(stranger.get("/api/v1/webhooks").await["endpoints"], json!([]));
    let (status, _) =
        stranger.send(reqwest::Method::GET, &format!("/api/v1/webhooks/{id}/secret"), &Value::Null).await;
    assert_eq!(status, 404);
    let viewer = owner.add_member(&hub, "viewer@strict.example", "viewer").await;
    let (status, _) = viewer.send(reqwest::Method::GET, "/api/v1/webhooks", &Value::Null).await;
    assert_eq!(status, 403);
    assert_eq!(
        owner.send(reqwest::Method::DELETE, &format!("/api/v1/webhooks/{id}"), &Value::Null).await.0,
        204
    );
    assert_eq!(owner.get("/api/v1/webhooks").await["endpoints"], json!([]));
}

/// In a real browser: the organizer adds an endpoint in the console, hands its secret to the
/// partner, sends a test event and sees it delivered in the log, then sends it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_adds_an_endpoint_sends_a_test_event_and_reads_the_delivery_log() {
    use common::browser::{ChromeDriver, click, eventually, fill, log_in, screenshot, text};
    use fantoccini::Locator;
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let _owner = Organizer::create(&hub, "console").await;
    let partner = Receiver::start(&Secret::generate().unwrap().to_text());
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub.url, "owner@console.example").await;
    b.goto(&format!("{}/webhooks", hub.url)).await.unwrap();
    // Nothing chosen: refused in words beside the events.
    fill(&b, "#endpoint-form input[name=url]", &format!("{}/ok", partner.url)).await;
    click(&b, "#endpoint-submit").await;
    eventually(10, "the refusal", || async {
        text(&b, "#endpoint-form .field-error").await.contains("event type")
    })
    .await;
    click(&b, "#endpoint-form input[value='order.paid']").await;
    click(&b, "#endpoint-submit").await;
    eventually(10, "the secret shown", || async { text(&b, "#endpoint-secret").await.starts_with("whsec_") })
        .await;
    partner.set_secret(&text(&b, "#endpoint-secret").await).await;
    screenshot(&b, "webhooks-added").await;
    b.goto(&format!("{}/webhooks", hub.url)).await.unwrap();
    click(&b, "#endpoints a").await;
    click(&b, "#send-test-button").await;
    eventually(15, "the test event delivered", || async {
        b.refresh().await.unwrap();
        text(&b, "#deliveries tbody tr").await.contains("delivered")
    })
    .await;
    let log = partner.log().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0]["type"].as_str(), log[0]["verified"].as_str()), (Some("webhook.test"), Some("ok")));
    screenshot(&b, "webhooks-log").await;
    // Its attempts, then once more.
    b.find(Locator::Css("#deliveries tbody tr a")).await.unwrap().click().await.unwrap();
    eventually(10, "the attempt", || async { text(&b, "#attempts").await.contains("200") }).await;
    assert!(text(&b, "#delivery-body").await.contains("\"webhook.test\""));
    click(&b, "form[data-api$='/replay'] button").await;
    eventually(15, "sent again, the same message", || async { partner.log().await.len() == 2 }).await;
    let log = partner.log().await;
    assert_eq!(log[0]["id"], log[1]["id"], "a replay is the same message");
}

/// An endpoint that asked for order gets nothing newer while an older message is pending: a
/// failing first message holds the second back until it is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordered_endpoint_gets_nothing_newer_while_an_older_message_is_pending() {
    let clock = cloud::clock::Clock::manual(now() * 1000);
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, clock.clone(), |_| {}).await;
    let owner = Organizer::create(&hub, "ordered").await;
    let partner = Receiver::start(&Secret::generate().unwrap().to_text());
    partner.set_down(true).await;
    let (id, secret) = endpoint(&owner, &format!("{}/switch", partner.url), &["order.placed"], true).await;
    partner.set_secret(&secret).await;
    let event = event_on_sale(&owner, 100, 2500).await;
    let (_, first) = checkout(&hub, event, 1, None).await;
    received(&partner, 1).await;
    let (_, second) = checkout(&hub, event, 1, None).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(partner.log().await.len(), 1, "the second waits while the first is pending");
    partner.set_down(false).await;
    clock.advance(7_000); // past the first retry's wait (5 s ± 20 %)
    let log = received(&partner, 3).await;
    let orders: Vec<String> = log
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            body["data"]["order"].as_str().unwrap().to_owned()
        })
        .collect();
    let code = |o: &Value| o["code"].as_str().unwrap().to_owned();
    assert_eq!(orders, [code(&first), code(&first), code(&second)], "oldest first");
    let all = deliveries(&owner, id).await;
    assert!(all.iter().all(|d| d["state"] == "delivered"), "{all:?}");
}
