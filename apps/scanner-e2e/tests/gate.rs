//! The gate scanner end to end: the real app under Xvfb, the real hub, staff's keystrokes.
//!
//! One scenario, in the order a gate lives it: enroll, choose the gate, admit a ticket, refuse
//! its copy, refuse a forgery, learn of a refund, show a seated ticket's seat, keep working
//! with the hub gone, and catch up when it returns. A screenshot of each verdict goes to `target/e2e-screenshots/`.

use fantoccini::{Client, Locator};
use scanner_e2e::{
    Driver, Hub, Xvfb, attr, binary, click, eventually, fill, screenshot, shown, text, type_keys,
};
use serde_json::{Value, json};
use std::time::Duration;
use sync_core::ids::{EventId, KeyId, Serial, TicketTypeId};
use sync_core::keys::EventKey;

/// Scans `ticket` as a wedge scanner does (the code, then Enter) and waits for its verdict.
async fn scan(app: &Client, ticket: &str) -> (String, String, String) {
    // A repeat of the same code within 2 s is one scan (a camera sees a code in many frames).
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    eventually(5, "the ready screen", || async {
        attr(app, "verdict", "class").await.as_deref() == Some("ready")
    })
    .await;
    type_keys(app, &format!("{ticket}\n")).await;
    eventually(5, "a verdict", || async { attr(app, "verdict", "class").await.as_deref() != Some("ready") })
        .await;
    (
        attr(app, "verdict", "class").await.unwrap(),
        text(app, "verdict-title").await,
        text(app, "verdict-reason").await,
    )
}

/// Adds a "Grandstand" ticket type to the demo festival, sold by the seats of row F (F-1 …
/// F-12) of a new plan: its number.
async fn grandstand(hub: &Hub) -> i64 {
    let owner = hub.owner().await;
    let (status, added) = owner
        .post(
            &format!("/api/v1/events/{}/ticket-types", hub.event),
            &json!({"name": "Grandstand", "price_minor": 6000, "currency": "EUR", "capacity": 12,
                    "entry_policy": "single_entry"}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let number = added["number"].as_i64().unwrap();
    let seats: Vec<Value> = (1..=12)
        .map(|i| json!({"id": format!("F-{i}"), "label": i.to_string(), "x": 20 + 30 * i, "y": 80, "category": "stand"}))
        .collect();
    let plan = json!({"name": "Grandstand", "size": {"width": 420, "height": 120},
                      "categories": [{"name": "stand", "color": "#36c"}],
                      "sections": [{"name": "Stalls", "rows": [{"label": "F", "seats": seats}]}]});
    let (status, plan) = owner.post("/api/v1/seat-plans", &plan).await;
    assert_eq!(status, 201, "{plan}");
    let body = json!({"plan": plan["id"], "categories": {"stand": number}});
    let (status, seating) = owner.put(&format!("/api/v1/events/{}/seating", hub.event), &body).await;
    assert_eq!(status, 200, "{seating}");
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_admits_refuses_and_keeps_going_without_the_hub() {
    let hub_data = tempfile::tempdir().unwrap();
    let app_data = tempfile::tempdir().unwrap();
    let mut hub = Hub::start(hub_data.path());
    let x = Xvfb::start();
    let driver = Driver::start(&x.display, app_data.path());
    let app = driver.launch(&binary("scanner")).await;

    // First start: the enrollment screen. A wrong code is refused in words.
    eventually(10, "the enrollment screen", || shown(&app, "enroll-screen")).await;
    fill(&app, "enroll-text", "WRONG-CODE").await;
    fill(&app, "enroll-hub", &hub.url).await;
    fill(&app, "enroll-pin", "2468").await;
    click(&app, "enroll-submit").await;
    eventually(10, "a refusal", || async { text(&app, "enroll-error").await.contains("refused") }).await;

    // The real code (as the console's QR code carries it): enrolled, the event arrives by sync,
    // staff choose the gate.
    fill(&app, "enroll-text", &format!("VGENROLL:{}#{}", hub.url, hub.code)).await;
    click(&app, "enroll-submit").await;
    eventually(15, "the gates of the event", || async {
        shown(&app, "settings-form").await && !shown(&app, "settings-wait").await
    })
    .await;
    let gate_name = app.find(Locator::Css("#gate option:checked")).await.unwrap().text().await.unwrap();
    click(&app, "settings-save").await;
    eventually(5, "the scan screen", || shown(&app, "scan-screen")).await;
    eventually(5, "the gate named in the bar", || async {
        !gate_name.is_empty() && text(&app, "place").await.contains(&gate_name)
    })
    .await;
    eventually(10, "online", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
    })
    .await;

    // A valid ticket: green. The same again: amber, already inside, with the gate.
    let (_, _, first) = hub.buy_ticket("Ada").await;
    let (colour, title, _) = scan(&app, &first).await;
    assert_eq!((colour.as_str(), title.as_str()), ("green", "Admitted"));
    screenshot(&app, "scanner-admitted").await;
    assert_eq!(text(&app, "admitted").await, "1");
    let (colour, title, reason) = scan(&app, &first).await;
    assert_eq!(colour, "amber", "{title}: {reason}");
    assert_eq!(attr(&app, "verdict", "data-code").await.as_deref(), Some("already_inside"), "{title}");
    // "Entered 14:02 at Main entrance (Demo scanner), 0 min ago": when and where.
    assert!(reason.contains(&gate_name) && reason.contains(':'), "when and where: {reason}");
    screenshot(&app, "scanner-already-inside").await;

    // A forgery: a ticket signed by a key the event never had.
    let forger = EventKey::generate(EventId(u32::try_from(hub.event).unwrap()), KeyId(1)).unwrap();
    let forged = forger.issue(Serial(9_999), TicketTypeId(1), None).to_text();
    let (colour, title, reason) = scan(&app, &forged).await;
    assert_eq!(colour, "red", "{title}: {reason}");
    assert!(!reason.is_empty());
    screenshot(&app, "scanner-forged").await;

    // A refund reaches the gate as a revocation (pushed while connected).
    let (order, serial, refunded) = hub.buy_ticket("Bea").await;
    hub.refund(&order, serial).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (colour, title, reason) = scan(&app, &refunded).await;
    assert_eq!(colour, "red", "{title}: {reason}");
    assert_eq!(attr(&app, "verdict", "data-code").await.as_deref(), Some("revoked"), "{title}: {reason}");
    screenshot(&app, "scanner-revoked").await;

    // The organizer opens a grandstand sold by seat; a buyer takes F-12. The gate admits the
    // ticket and shows its seat, read from under the signature and named by the synced plan.
    let grandstand = grandstand(&hub).await;
    let (_, _, seated) =
        hub.buy("Dee", json!({"ticket_type": grandstand, "quantity": 1, "seats": ["F-12"]})).await;
    // (Until the new type reaches the gate by sync its tickets are refused, and nothing is
    // recorded: scanned again, each scan waiting 2 s.)
    let mut verdict = scan(&app, &seated).await;
    for _ in 0..10 {
        if verdict.0 != "red" {
            break;
        }
        verdict = scan(&app, &seated).await;
    }
    assert_eq!((verdict.0.as_str(), verdict.1.as_str()), ("green", "Admitted"), "{verdict:?}");
    assert_eq!(text(&app, "verdict-seat").await, "Stalls · Row F · Seat 12");
    screenshot(&app, "scanner-seat").await;

    // The hub goes away: verdicts go on, the badge says offline and counts what waits.
    let (_, _, third) = hub.buy_ticket("Cem").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    hub.stop();
    let (colour, _, _) = scan(&app, &third).await;
    assert_eq!(colour, "green", "offline, the verdict is still local");
    screenshot(&app, "scanner-offline-admitted").await;
    eventually(20, "offline with one scan waiting", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("offline")
            && attr(&app, "badge-pending", "data-count").await.as_deref() != Some("0")
    })
    .await;
    screenshot(&app, "scanner-badge-offline").await;

    // The hub returns: what waited is delivered, the count drains to zero.
    hub.resume();
    eventually(60, "pending drained", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
            && attr(&app, "badge-pending", "data-count").await.as_deref() == Some("0")
    })
    .await;
    app.close().await.unwrap();
}
