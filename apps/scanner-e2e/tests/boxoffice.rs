//! The box office end to end: the real app under Xvfb, the real hub, a cashier's keystrokes.
//!
//! Seated too: a desk leased four seats sells two of them, tapped on the plan, with the hub
//! down, and the hub books them once it is back.
//!
//! One scenario, as a door lives it: enroll the box office, get a lease, open a shift, lose
//! the hub, sell a pair for cash from the keyboard, hand the codes over (a gate replica that
//! has not synced since admits both), be refused beyond the lease, print the receipt, and when
//! the hub returns find the sale there as an order with a cash payment, the lease's sold
//! count, the guest list the office keeps through the hub while the door checks a party in,
//! and the closed shift's report. Screenshots go to `target/e2e-screenshots/`.

use fantoccini::Client;
use scanner_e2e::{
    Driver, Hub, Xvfb, attr, binary, click, eventually, fill, screenshot, shown, text, type_keys,
};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{GateId, Timestamp};
use sync_core::journal::HUB;
use sync_core::keys::DeviceKey;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::http::enroll::{Invitation, create_replica, enroll};
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

fn rows(report: &Value) -> Vec<Value> {
    report["rows"].as_array().cloned().unwrap_or_default()
}

/// The scene every test here starts from: a hub, a gate that has synced once (and never again
/// before it checks the door's tickets), and the box office app enrolled, leased 3 day tickets,
/// with a shift open. Fields drop in order: the app before its driver and display, the hub last.
struct Door {
    app: Client,
    _driver: Driver,
    _x: Xvfb,
    gate: Arc<sync_core::replica::Replica>,
    owner: scanner_e2e::Owner,
    event: i64,
    hub: Hub,
    hub_data: tempfile::TempDir,
    _app_data: tempfile::TempDir,
    _gate_data: tempfile::TempDir,
}

impl Door {
    async fn open() -> Self {
        let hub_data = tempfile::tempdir().unwrap();
        let app_data = tempfile::tempdir().unwrap();
        let gate_data = tempfile::tempdir().unwrap();
        let hub = Hub::start(hub_data.path());
        let owner = hub.owner().await;
        let event = hub.event;
        let gate_key = DeviceKey::generate().unwrap();
        let invitation = Invitation::parse(&format!("VGENROLL:{}#{}", hub.url, hub.code), None).unwrap();
        let gate_enrollment = enroll(&invitation, &gate_key, "e2e").await.unwrap();
        let gate =
            Arc::new(create_replica(&gate_data.path().join("gate.db"), &gate_enrollment, gate_key).unwrap());
        let x = Xvfb::start();
        let driver = Driver::start(&x.display, app_data.path());
        let app = driver.launch(&binary("boxoffice")).await;
        enroll_lease_and_open(&app, &hub, &owner, &gate, &gate_enrollment.hub_key).await;
        Door {
            app,
            _driver: driver,
            _x: x,
            gate,
            owner,
            event,
            hub,
            hub_data,
            _app_data: app_data,
            _gate_data: gate_data,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_office_sells_offline_within_its_lease_and_the_hub_books_it() {
    let mut door = Door::open().await;
    let (app, event) = (door.app.clone(), door.event);

    // The hub goes away; the badge says so.
    door.hub.stop();
    eventually(20, "the offline badge", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("offline")
    })
    .await;

    // A pair for cash from the keyboard: type 1, quantity 2, Enter, 100 tendered, Enter.
    type_keys(&app, "1").await;
    type_keys(&app, "2\n").await;
    type_keys(&app, "100\n").await;
    eventually(10, "the hand-over", || shown(&app, "handover")).await;
    let first = attr(&app, "handover-code", "data-text").await.unwrap();
    let change = text(&app, "handover-change").await;
    screenshot(&app, "boxoffice-handover").await;
    click(&app, "handover-next").await;
    let second = attr(&app, "handover-code", "data-text").await.unwrap();
    assert_ne!(first, second);
    assert!(first.starts_with("VG1:") && second.starts_with("VG1:"));
    assert!(change.starts_with("Change: "), "{change}");

    // Receipt and tickets as a PDF, written on the device.
    click(&app, "handover-pdf").await;
    eventually(10, "the PDF's path", || async { text(&app, "handover-file").await.contains(".pdf") }).await;
    let path = text(&app, "handover-file").await.split_once(": ").unwrap().1.to_owned();
    let pdf = std::fs::read(&path).unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.len() > 2_000, "{path}");
    click(&app, "handover-done").await;

    // The gate has not synced since the sale, and admits both tickets offline.
    let ctx = ScanContext {
        device: door.gate.device(),
        gate: GateId(1),
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    for ticket in [&first, &second] {
        assert_eq!(
            door.gate
                .gate(sync_core::ids::EventId(u32::try_from(event).unwrap()))
                .scan(ticket, &ctx)
                .unwrap()
                .kind(),
            VerdictKind::Admitted
        );
    }

    // Beyond the lease: refused, plainly, and nothing sold.
    eventually(5, "1 right left", || async {
        attr(&app, "type-1", "data-left").await.as_deref() == Some("1")
    })
    .await;
    type_keys(&app, "1").await;
    type_keys(&app, "2\n\n").await;
    eventually(10, "the refusal", || async {
        text(&app, "error").await.contains("left on this device's lease")
    })
    .await;
    assert!(text(&app, "error").await.starts_with("Only 1 "), "{}", text(&app, "error").await);
    assert!(!shown(&app, "handover").await);
    screenshot(&app, "boxoffice-beyond-lease").await;
    assert_ne!(
        attr(&app, "badge-pending", "data-count").await.as_deref(),
        Some("0"),
        "the sale waits for the hub"
    );

    // The hub returns: everything waiting goes up by itself.
    door.hub.resume();
    eventually(30, "the sale synced", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
            && attr(&app, "badge-pending", "data-count").await.as_deref() == Some("0")
    })
    .await;
    let orders = door.owner.get(&format!("/api/v1/events/{event}/orders")).await;
    let door_orders: Vec<&Value> =
        orders["orders"].as_array().unwrap().iter().filter(|o| o["channel"] == "box_office").collect();
    assert_eq!(door_orders.len(), 1, "{orders}");
    let total = door_orders[0]["total_minor"].as_i64().unwrap();
    assert!(total > 0);
    let revenue = door.owner.get(&format!("/api/v1/events/{event}/reports/revenue")).await;
    let cash = rows(&revenue).into_iter().find(|r| r[0] == "cash").unwrap_or_else(|| panic!("{revenue}"));
    assert_eq!(cash[1].as_i64(), Some(total), "the cash payment in the revenue report: {revenue}");
    let leases = door.owner.get(&format!("/api/v1/events/{event}/leases")).await;
    assert_eq!(leases["leases"][0]["sold"].as_i64(), Some(2), "{leases}");

    email_the_tickets(&app, door.hub_data.path(), &first).await;
    the_guest_list_kept_by_the_office(&app, &door.owner, event).await;
    close_the_shift(&app, &door.owner, event, total).await;
}

/// The office adds a guest with a companion through the hub while the guest-list screen is
/// open at the door: the name appears without a keystroke, the cashier checks the pair in, and
/// the office sees both in; a name the office adds next appears too.
async fn the_guest_list_kept_by_the_office(app: &Client, owner: &scanner_e2e::Owner, event: i64) {
    let path = format!("/api/v1/events/{event}/guests");
    type_keys(app, "\u{E038}").await; // F8
    eventually(5, "the guest-list screen", || shown(app, "guests-screen")).await;
    let (status, body) = owner.post(&path, &json!({"name": "Ada Lovelace", "plus_ones": 1})).await;
    assert_eq!(status, 201, "{body}");
    let ada_row = "//tbody[@id='guests']/tr[td[1]='Ada Lovelace']";
    eventually(20, "Ada on the door's list", || async {
        app.find(fantoccini::Locator::XPath(ada_row)).await.is_ok()
    })
    .await;
    screenshot(app, "boxoffice-guest-list").await;
    let both = format!("{ada_row}//button[.='2']");
    app.find(fantoccini::Locator::XPath(&both)).await.unwrap().click().await.unwrap();
    eventually(10, "the party shown as in", || async {
        let row = app.find(fantoccini::Locator::XPath(ada_row)).await;
        match row {
            Ok(row) => row.text().await.is_ok_and(|t| t.contains("2 of 2") && t.contains("All in")),
            Err(_) => false,
        }
    })
    .await;
    eventually(20, "the check-in at the office", || async {
        owner.get(&path).await["guests"][0]["checked_in"].as_u64() == Some(2)
    })
    .await;
    let (status, body) = owner.post(&path, &json!({"name": "Grace Hopper"})).await;
    assert_eq!(status, 201, "{body}");
    eventually(20, "Grace on the door's list", || async {
        app.find(fantoccini::Locator::XPath("//tbody[@id='guests']/tr[td[1]='Grace Hopper']")).await.is_ok()
    })
    .await;
}

/// Closes the shift (100.00 float + the sale of `total`, counted 5.00 short) and finds the
/// report as CSV on the device and in the hub's shifts report.
async fn close_the_shift(app: &Client, owner: &scanner_e2e::Owner, event: i64, total: i64) {
    // Close the shift: 100 float + the sale, counted 5.00 short.
    type_keys(app, "\u{E039}").await; // F9
    eventually(5, "the shift screen", || shown(app, "shift-screen")).await;
    let counted = 10_000 + total - 500;
    fill(app, "close-counted", &format!("{}.{:02}", counted / 100, counted % 100)).await;
    click(app, "close-submit").await;
    eventually(10, "the shift report", || shown(app, "close-report")).await;
    assert_eq!(text(app, "close-difference").await, "Short by 5.00 EUR");
    screenshot(app, "boxoffice-shift-report").await;
    let files = text(app, "close-files").await;
    let csv_path = files.split(" and ").nth(1).unwrap();
    let csv = std::fs::read_to_string(csv_path).unwrap();
    assert!(csv.ends_with("cash,,difference,,,,,-500,EUR\n"), "{csv}");
    eventually(20, "the shift on the hub", || async {
        let shifts = owner.get(&format!("/api/v1/events/{event}/reports/shifts")).await;
        rows(&shifts).first().is_some_and(|r| r[2] == "Anna" && r[13].as_i64() == Some(-500))
    })
    .await;
}

/// Enrolls the box office, leases it 3 day tickets (the gate syncs right after: its last
/// contact before the sale), opens a shift with a 100.00 float.
async fn enroll_lease_and_open(
    app: &Client,
    hub: &Hub,
    owner: &scanner_e2e::Owner,
    gate: &Arc<sync_core::replica::Replica>,
    hub_key: &[u8; 32],
) {
    let event = hub.event;
    // The organizer creates the box office's enrollment code.
    let (status, code) = owner
        .post(
            "/api/v1/devices/enrollment-codes",
            &json!({"name": "Door 1", "role": "box_office", "events": [event]}),
        )
        .await;
    assert_eq!(status, 201, "{code}");

    eventually(10, "the enrollment screen", || shown(app, "enroll-screen")).await;
    fill(app, "enroll-text", code["qr_text"].as_str().unwrap()).await;
    fill(app, "enroll-pin", "1357").await;
    click(app, "enroll-submit").await;
    // One event: chosen already; no shift yet, so the float comes first.
    eventually(15, "the open-shift screen", || shown(app, "open-screen")).await;

    // The organizer leases the door 3 day tickets.
    let devices = owner.get("/api/v1/devices").await;
    let door = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Door 1")
        .unwrap_or_else(|| panic!("the door among {devices}"))["id"]
        .as_i64()
        .unwrap();
    let (status, lease) = owner
        .post(
            &format!("/api/v1/events/{event}/leases"),
            &json!({"device_id": door, "ticket_type": 1, "quantity": 3}),
        )
        .await;
    assert_eq!(status, 201, "{lease}");
    gate.trust(HUB, hub_key).unwrap();
    sync_with(&**gate, &HttpTransport::new(&hub.url, Arc::clone(gate), HUB).unwrap()).await.unwrap();

    fill(app, "open-cashier", "Anna").await;
    fill(app, "open-float", "100.00").await;
    click(app, "open-submit").await;
    eventually(10, "the sale screen with the lease's 3 rights", || async {
        shown(app, "sell-screen").await && attr(app, "type-1", "data-left").await.as_deref() == Some("3")
    })
    .await;
}

/// The buyer wants the tickets by e-mail too: the sale shown again (the same codes), the
/// address typed, the message in the hub's mail drop.
async fn email_the_tickets(app: &Client, hub_data: &std::path::Path, first: &str) {
    // The buyer wants the tickets by e-mail too: through the hub, now that it is back.
    app.find(fantoccini::Locator::Css("#sales li button")).await.unwrap().click().await.unwrap();
    eventually(10, "the hand-over again", || shown(app, "handover")).await;
    assert_eq!(
        attr(app, "handover-code", "data-text").await.unwrap(),
        first,
        "the same ticket, signed again"
    );
    fill(app, "handover-email", "buyer@example.org").await;
    click(app, "handover-email-send").await;
    eventually(20, "the e-mail queued", || async {
        text(app, "handover-file").await.contains("buyer@example.org")
    })
    .await;
    let mail_dir = hub_data.join("mail-outbox");
    eventually(20, "the message in the hub's mail drop", || async {
        std::fs::read_dir(&mail_dir).ok().and_then(|mut d| d.next()).is_some_and(|f| {
            std::fs::read_to_string(f.unwrap().path()).unwrap().contains("To: buyer@example.org")
        })
    })
    .await;
    click(app, "handover-done").await;
}

/// Vouchers at the door, in the real app: the organizer leases one use of a code to the box
/// office; with the hub gone, the cashier types the code, sees the discount before selling,
/// sells at the discounted price, and is told in words that a second redemption has no use
/// left; when the hub returns, the code's use is on the hub as redeemed, with the sale's
/// discount and reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_office_redeems_a_leased_code_offline_and_no_more() {
    let mut door = Door::open().await;
    let (app, event) = (door.app.clone(), door.event);

    let terms = json!({"price": {"mode": "percent", "percent": 25}, "max_uses": 5, "tag": "crew"});
    let (status, made) = door
        .owner
        .post(&format!("/api/v1/events/{event}/vouchers"), &json!({"code": "DOOR25", "terms": terms}))
        .await;
    assert_eq!(status, 201, "{made}");
    let devices = door.owner.get("/api/v1/devices").await;
    let desk =
        devices["devices"].as_array().unwrap().iter().find(|d| d["name"] == "Door 1").unwrap()["id"].clone();
    let leases = format!("/api/v1/events/{event}/vouchers/DOOR25/leases");
    let (status, granted) = door.owner.post(&leases, &json!({"device_id": desk, "uses": 1})).await;
    assert_eq!(status, 201, "{granted}");
    type_keys(&app, "\u{E037}").await; // F7: the leases screen
    eventually(20, "the code's use on the device", || async {
        text(&app, "voucher-leases").await.contains("DOOR25")
    })
    .await;
    door.hub.stop();
    eventually(20, "the offline badge", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("offline")
    })
    .await;

    // The price with the code, before selling; then the sale at that price.
    type_keys(&app, "\u{E036}").await; // F6: the sale screen
    type_keys(&app, "1").await;
    fill(&app, "sale-voucher", "door25").await;
    eventually(10, "the discount shown", || async {
        text(&app, "sale-discount").await.starts_with("Voucher DOOR25: −")
    })
    .await;
    let total = text(&app, "sale-total").await;
    screenshot(&app, "boxoffice-voucher").await;
    click(&app, "sale-submit").await;
    eventually(10, "the hand-over", || shown(&app, "handover")).await;
    click(&app, "handover-done").await;

    // The one use is spent: the device says so before anything is sold.
    type_keys(&app, "1").await;
    fill(&app, "sale-voucher", "DOOR25").await;
    eventually(10, "no use left", || async { text(&app, "sale-discount").await.contains("no uses left") })
        .await;
    click(&app, "sale-submit").await;
    eventually(10, "the refusal", || async { text(&app, "error").await.contains("no uses left") }).await;
    assert!(!shown(&app, "handover").await);

    door.hub.resume();
    eventually(30, "the sale synced", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
            && attr(&app, "badge-pending", "data-count").await.as_deref() == Some("0")
    })
    .await;
    let v = door.owner.get(&format!("/api/v1/events/{event}/vouchers/DOOR25")).await;
    assert_eq!(
        (v["voucher"]["redeemed"].as_i64(), v["voucher"]["leased"].as_i64()),
        (Some(1), Some(0)),
        "{v}"
    );
    let redemption = &v["redemptions"][0];
    assert_eq!(redemption["uses"], 1, "{v}");
    // A quarter off: the total shown was three times the discount.
    let discount = redemption["discount_minor"].as_i64().unwrap();
    assert!(
        discount > 0 && total.contains(&sync_core::money::format_amount(3 * discount, "EUR")),
        "{total} {v}"
    );
}

/// A concert on sale whose type 1 ("Seat") sells the 16 seats of two rows, A and B: its id.
async fn seated_concert(owner: &scanner_e2e::Owner) -> i64 {
    let now = Timestamp::now().0;
    let (status, event) = owner
        .post(
            "/api/v1/events",
            &json!({"name": "Chamber Concert", "time_zone": "Europe/Amsterdam", "starts_at": now + 3_600_000,
                    "ends_at": now + 10_800_000, "gates": [{"name": "Foyer"}],
                    "ticket_types": [{"name": "Seat", "price_minor": 3000, "currency": "EUR", "capacity": 16,
                                      "entry_policy": "single_entry"}]}),
        )
        .await;
    assert_eq!(status, 201, "{event}");
    let event = event["id"].as_i64().unwrap();
    let row = |r: usize, label: &str| {
        let seats: Vec<Value> = (0..8)
            .map(|i| {
                json!({"id": format!("{label}-{}", i + 1), "label": (i + 1).to_string(),
                            "x": 40 + 30 * i, "y": 80 + 30 * r, "category": "stalls"})
            })
            .collect();
        json!({"label": label, "seats": seats})
    };
    let plan = json!({"name": "Recital Room", "size": {"width": 320, "height": 180},
                      "categories": [{"name": "stalls", "color": "#c33"}],
                      "sections": [{"name": "Stalls", "rows": [row(0, "A"), row(1, "B")]}],
                      "shapes": [{"shape": "rectangle", "x": 40, "y": 10, "width": 230, "height": 40, "text": "STAGE"}]});
    let (status, plan) = owner.post("/api/v1/seat-plans", &plan).await;
    assert_eq!(status, 201, "{plan}");
    let body = json!({"plan": plan["id"], "categories": {"stalls": 1}});
    let (status, seating) = owner.put(&format!("/api/v1/events/{event}/seating"), &body).await;
    assert_eq!(status, 200, "{seating}");
    let (status, on_sale) =
        owner.post(&format!("/api/v1/events/{event}/status"), &json!({"status": "on_sale"})).await;
    assert_eq!(status, 204, "{on_sale}");
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_office_sells_the_seats_of_its_lease_offline_and_the_hub_books_them() {
    let (hub_data, app_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Hub::start(hub_data.path());
    let owner = hub.owner().await;
    let event = seated_concert(&owner).await;
    let x = Xvfb::start();
    let driver = Driver::start(&x.display, app_data.path());
    let app = driver.launch(&binary("boxoffice")).await;

    // Enrolled for the concert; the organizer leases it seats A-1 … A-4.
    let (status, code) = owner
        .post(
            "/api/v1/devices/enrollment-codes",
            &json!({"name": "Foyer desk", "role": "box_office", "events": [event]}),
        )
        .await;
    assert_eq!(status, 201, "{code}");
    eventually(10, "the enrollment screen", || shown(&app, "enroll-screen")).await;
    fill(&app, "enroll-text", code["qr_text"].as_str().unwrap()).await;
    fill(&app, "enroll-pin", "1357").await;
    click(&app, "enroll-submit").await;
    eventually(15, "the open-shift screen", || shown(&app, "open-screen")).await;
    let devices = owner.get("/api/v1/devices").await;
    let desk =
        devices["devices"].as_array().unwrap().iter().find(|d| d["name"] == "Foyer desk").unwrap()["id"]
            .clone();
    let lease =
        json!({"device_id": desk, "ticket_type": 1, "quantity": 4, "seats": ["A-1", "A-2", "A-3", "A-4"]});
    let (status, granted) = owner.post(&format!("/api/v1/events/{event}/leases"), &lease).await;
    assert_eq!(status, 201, "{granted}");
    fill(&app, "open-cashier", "Ben").await;
    fill(&app, "open-float", "50.00").await;
    click(&app, "open-submit").await;
    eventually(20, "the plan with the desk's four seats", || async {
        shown(&app, "seat-pick").await && text(&app, "seat-list").await.matches("Row A").count() == 4
    })
    .await;
    // The plan's stage is drawn with the seats.
    let stage = app.find(fantoccini::Locator::Css("#seat-pick text.shape-text")).await.unwrap();
    assert_eq!(stage.text().await.unwrap(), "STAGE");

    // Offline: seats tapped on the plan; a seat not the desk's cannot be picked.
    hub.stop();
    let tap = |seat: &'static str| {
        let app = app.clone();
        async move {
            let css = format!("circle[data-id=\"{seat}\"]");
            app.find(fantoccini::Locator::Css(&css)).await.unwrap().click().await.unwrap();
        }
    };
    tap("1").await;
    tap("2").await;
    tap("9").await; // B-2: taken for this desk
    eventually(5, "two seats picked", || async {
        text(&app, "picked-seats").await == "Stalls · Row A · Seat 2; Stalls · Row A · Seat 3"
    })
    .await;
    eventually(5, "the total of two seats", || async { text(&app, "sale-total").await.contains("60.00") })
        .await;
    screenshot(&app, "boxoffice-seats").await;
    fill(&app, "sale-tendered", "60.00").await;
    click(&app, "sale-submit").await;
    eventually(10, "the hand-over", || shown(&app, "handover")).await;
    assert!(text(&app, "handover-title").await.contains("Stalls · Row A · Seat 2"));
    let ticket =
        sync_core::ticket::SignedTicket::from_text(&attr(&app, "handover-code", "data-text").await.unwrap())
            .unwrap();
    assert_eq!(ticket.ticket().seat, Some(sync_core::ids::SeatNumber(1)), "the seat under the signature");
    click(&app, "handover-done").await;
    eventually(5, "the sold seats gone from the list", || async {
        text(&app, "seat-list").await.matches("Row A").count() == 2
    })
    .await;

    // The hub returns: the seats are sold to the door order, the other two still leased.
    hub.resume();
    let seats = |state: &'static str| {
        let owner = &owner;
        async move {
            let seats = owner.get(&format!("/api/v1/events/{event}/seats?state={state}")).await;
            seats
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["seat"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    eventually(30, "the door's seats sold on the hub", || async { seats("sold").await == ["A-2", "A-3"] })
        .await;
    assert_eq!(seats("leased").await, ["A-1", "A-4"]);
}
