//! Reserved seating against a real hub: plans stored from the native format or pretix's and
//! exported back; bad plans refused with their path and nothing stored; an event sold by seat —
//! chosen seats and best available held, paid (the seat on the ticket), lapsed and refunded
//! back to free, blocked with a reason; what may not change once seats sell; the seat under the
//! ticket's signature, on its PDF and named at a gate, and a buyer moved to another seat (old
//! ticket revoked at the gate, new one issued); 64 buyers fighting over the same seats, each
//! seat sold once; and, in Chromium, the shop's live map and the console's builder (a hall built
//! from nothing, sold by an event, a seat of it bought) and seats page.

mod common;

use cloud::clock::Clock;
use common::{
    BACKENDS, Organizer, TestHub, enroll, enrollment_code, order_url, press_pay, put_on_sale, start_payment,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_core::display::{DisplayClock, describe};
use sync_core::ids::{EventId, GateId, SeatNumber, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::replica::Replica;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::ticket::SignedTicket;
use sync_core::validate::ScanContext;

/// A hall: `rows` rows of `per_row` "stalls" seats (ids "A-1"…), a stage, and a standing
/// area of 40 in its own category.
fn hall(rows: usize, per_row: usize) -> Value {
    let row = |r: usize| {
        let label = ((b'A' + u8::try_from(r).unwrap()) as char).to_string();
        json!({"label": label, "seats": (0..per_row).map(|i| json!({
            "id": format!("{label}-{}", i + 1), "label": (i + 1).to_string(),
            "x": 20 + 30 * i, "y": 80 + 30 * r, "category": "stalls",
            "wheelchair": r == 0 && i == 0
        })).collect::<Vec<_>>()})
    };
    let depth = 80 + 30 * rows;
    json!({
        "name": "Small Hall",
        "size": {"width": 40 + 30 * per_row, "height": depth + 300},
        "categories": [{"name": "stalls", "color": "#c33"}, {"name": "floor", "color": "#36c"}],
        "sections": [{"name": "Stalls", "rows": (0..rows).map(row).collect::<Vec<_>>(),
                      "standing": [{"id": "ga", "name": "Floor", "category": "floor", "capacity": 40,
                                    "x": 0, "y": depth + 50, "width": 100, "height": 200}]}],
        "shapes": [{"shape": "rectangle", "x": 0, "y": 0, "width": 100, "height": 40, "text": "STAGE"}]
    })
}

/// An event with seats (1), standing places (2) and a type not in the plan (3).
fn show() -> Value {
    let now = Timestamp::now().0;
    let t = |name: &str, price: i64| json!({"name": name, "price_minor": price, "currency": "EUR", "capacity": 500, "entry_policy": "single_entry"});
    json!({
        "name": "Evening Concert", "time_zone": "Europe/Amsterdam",
        "starts_at": now + 3_600_000, "ends_at": now + 36_000_000,
        "gates": [{"name": "Doors"}],
        "ticket_types": [t("Seat", 5000), t("Floor", 3000), t("Programme", 500)]
    })
}

async fn new_plan(owner: &Organizer, plan: &Value) -> i64 {
    let (status, made) = owner.post("/api/v1/seat-plans", plan).await;
    assert_eq!(status, 201, "{made}");
    made["id"].as_i64().unwrap()
}

/// An event on sale, sold by seat with `plan`; its id.
async fn seated_event(owner: &Organizer, plan: &Value) -> i64 {
    let plan = new_plan(owner, plan).await;
    let event = put_on_sale(owner, &show()).await;
    let (status, seating) = owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/events/{event}/seating"),
            &json!({"plan": plan, "categories": {"stalls": 1, "floor": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{seating}");
    event
}

async fn buy(hub: &TestHub, event: i64, lines: Value) -> (u16, Value) {
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": lines, "email": "fan@example.org", "name": "Fan"}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn taken(hub: &TestHub, event: i64) -> BTreeSet<String> {
    let map: Value =
        hub.get(&format!("/api/v1/public/events/{event}/seats")).send().await.unwrap().json().await.unwrap();
    map["taken"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn set(seats: &[&str]) -> BTreeSet<String> {
    seats.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn plans_come_in_either_format_go_out_as_pretix_and_bad_ones_change_nothing() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "hall").await;
    let id = new_plan(&owner, &hall(3, 8)).await;
    let shown = owner.get(&format!("/api/v1/seat-plans/{id}")).await;
    assert_eq!((shown["seats"].as_i64(), &shown["seats_per_category"]["stalls"]), (Some(24), &json!(24)));
    assert_eq!(shown["standing_per_category"]["floor"], 40);

    // Out as pretix's format, and back in (detected by its zones): the same 24 seats.
    let response = owner.authorize(hub.get(&format!("/api/v1/seat-plans/{id}/pretix"))).send().await.unwrap();
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let pretix: Value = response.json().await.unwrap();
    assert_eq!(pretix["zones"][0]["rows"][0]["seats"][0]["seat_guid"], "A-1");
    let again = new_plan(&owner, &pretix).await;
    let shown = owner.get(&format!("/api/v1/seat-plans/{again}")).await;
    assert_eq!(shown["seats_per_category"]["stalls"], 24);

    // Bad plans: refused with where and why, and nothing stored.
    let mut twice = hall(2, 3);
    twice["sections"][0]["rows"][1]["seats"][2]["id"] = json!("A-1");
    let mut no_category = hall(2, 3);
    no_category["sections"][0]["rows"][0]["seats"][1]["category"] = json!("");
    let mut crowded = hall(2, 3);
    crowded["sections"][0]["standing"][0]["capacity"] = json!(51);
    let mut overlapping = hall(2, 3);
    let area = overlapping["sections"][0]["standing"][0].clone();
    let mut second = area.clone();
    second["id"] = json!("ga2");
    second["x"] = json!(10);
    overlapping["sections"][0]["standing"] = json!([area, second]);
    for (plan, field, words) in [
        (twice, "plan.sections[0].rows[1].seats[2].id", "used twice"),
        (no_category, "plan.sections[0].rows[0].seats[1].category", "every seat needs a category"),
        (crowded, "plan.sections[0].standing[0].capacity", "between 1 and 50 "),
        (overlapping, "plan.sections[0].standing[1]", "overlaps"),
    ] {
        let (status, problem) = owner.post("/api/v1/seat-plans", &plan).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(words), "{problem}");
    }
    let junk = owner
        .authorize(hub.post("/api/v1/seat-plans"))
        .header("content-type", "application/json")
        .body(vec![b'{'; 5 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 422);
    let problem: Value = junk.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("not a seat plan"), "{problem}");
    let huge =
        owner.authorize(hub.post("/api/v1/seat-plans")).body(vec![b' '; 9 << 20]).send().await.unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(owner.get("/api/v1/seat-plans").await.as_array().unwrap().len(), 2, "nothing stored");

    // A plan an event is sold by stays.
    let event = put_on_sale(&owner, &show()).await;
    let body = json!({"plan": id, "categories": {"stalls": 1, "floor": 2}});
    assert_eq!(
        owner.send(reqwest::Method::PUT, &format!("/api/v1/events/{event}/seating"), &body).await.0,
        200
    );
    let (status, problem) =
        owner.send(reqwest::Method::DELETE, &format!("/api/v1/seat-plans/{id}"), &Value::Null).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("plan_in_use")));
    assert_eq!(
        owner.send(reqwest::Method::DELETE, &format!("/api/v1/seat-plans/{again}"), &Value::Null).await.0,
        204
    );
}

/// The seats report of `event`: one category "stalls" (ticket type "Seat") with `counts`
/// (seats, free, held, sold, blocked, leased), and the same total; the CSV says the same.
async fn seat_report_says(hub: &TestHub, owner: &Organizer, event: i64, counts: [i64; 6]) {
    let report = owner.get(&format!("/api/v1/events/{event}/reports/seats")).await;
    let columns = ["category", "ticket_type", "seats", "free", "held", "sold", "blocked", "leased"];
    assert_eq!(report["columns"], json!(columns));
    let row =
        |category: Value, name: Value| [vec![category, name], counts.map(Value::from).to_vec()].concat();
    assert_eq!(report["rows"], json!([row(json!("stalls"), json!("Seat")), row(Value::Null, Value::Null)]));
    let url = format!("{}/api/v1/events/{event}/reports/seats?format=csv", hub.url);
    let csv = owner.authorize(hub.client.get(url)).send().await.unwrap().text().await.unwrap();
    let numbers = counts.map(|n| n.to_string()).join(",");
    assert!(csv.starts_with(&format!("{}\nstalls,Seat,{numbers}\n", columns.join(","))), "{csv}");
}

#[tokio::test]
async fn seats_are_held_sold_lapsed_refunded_and_blocked_each_in_one_place() {
    for backend in BACKENDS {
        let hub = TestHub::start_configured(backend, Clock::manual(Timestamp::now().0), |_| {}).await;
        let owner = Organizer::create(&hub, "hall").await;
        let event = seated_event(&owner, &hall(3, 8)).await;
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(detail["ticket_types"][0]["capacity"], 24, "a seat each");
        assert_eq!(detail["ticket_types"][1]["capacity"], 40, "the standing area's places");

        // Chosen seats: held at once, and nobody else gets them.
        let (status, first) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 2, "seats": ["B-4", "B-5"]}])).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(first["seats"], json!(["Stalls · Row B · Seat 4", "Stalls · Row B · Seat 5"]));
        let (status, problem) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 2, "seats": ["B-5", "B-6"]}])).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_taken")), "{problem}");
        assert_eq!(taken(&hub, event).await, set(&["B-4", "B-5"]), "the refused order holds nothing");
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(detail["ticket_types"][0]["held"], 2, "nor any capacity");

        // Best available: together, in the front row's middle.
        let (status, best) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 3}, {"ticket_type": 2, "quantity": 1}]))
                .await;
        assert_eq!(status, 201, "{best}");
        let seats: Vec<&str> =
            best["seats"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(seats, ["Stalls · Row A · Seat 4", "Stalls · Row A · Seat 5", "Stalls · Row A · Seat 6"]);

        // Mistakes in the request are refused in words.
        for (lines, field) in [
            (json!([{"ticket_type": 1, "quantity": 2, "seats": ["C-1"]}]), "lines[0].seats"),
            (json!([{"ticket_type": 2, "quantity": 1, "seats": ["C-1"]}]), "lines[0].seats"),
            (json!([{"ticket_type": 1, "quantity": 2, "seats": ["C-1", "C-1"]}]), "lines[0].seats[1]"),
        ] {
            let (status, problem) = buy(&hub, event, lines).await;
            assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{problem}");
        }
        let (status, problem) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 2, "seats": ["C-1", "Z-9"]}])).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("seat_taken")),
            "an unknown seat: {problem}"
        );

        // Paid: the tickets carry their seats.
        press_pay(&hub, &start_payment(&hub, &first).await).await;
        let paid = owner.get(&format!("/api/v1/orders/{}", first["code"].as_str().unwrap())).await;
        let on_tickets: Vec<&str> =
            paid["tickets"].as_array().unwrap().iter().map(|t| t["seat"].as_str().unwrap()).collect();
        assert_eq!(on_tickets, ["Stalls · Row B · Seat 4", "Stalls · Row B · Seat 5"]);
        let sold = owner.get(&format!("/api/v1/events/{event}/seats?state=sold")).await;
        assert_eq!(sold.as_array().unwrap().len(), 2);
        assert_eq!(sold[0]["order"], first["code"]);

        // The unpaid one lapses: its seats come back.
        hub.clock.advance(16 * 60_000);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
        assert_eq!(taken(&hub, event).await, set(&["B-4", "B-5"]));

        // A refund frees the seat refunded, not the other.
        let serial = paid["tickets"][0]["serial"].as_i64().unwrap();
        let refunds = format!("/api/v1/orders/{}/refunds", first["code"].as_str().unwrap());
        let (status, refund) = owner.post(&refunds, &json!({"reason": "ill", "serials": [serial]})).await;
        assert_eq!(status, 201, "{refund}");
        assert_eq!(taken(&hub, event).await, set(&["B-5"]));

        // Blocked for the sound desk: not sold, with its reason; all or nothing.
        let block = format!("/api/v1/events/{event}/seats/block");
        let (status, problem) =
            owner.post(&block, &json!({"seats": ["C-7", "B-5"], "reason": "sound desk"})).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_not_free")));
        let (status, blocked) =
            owner.post(&block, &json!({"seats": ["C-7", "C-8"], "reason": "sound desk"})).await;
        assert_eq!(status, 200, "{blocked}");
        assert_eq!(blocked[0]["blocked_reason"], "sound desk");
        let (status, problem) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 1, "seats": ["C-8"]}])).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_taken")));
        let seating = owner.get(&format!("/api/v1/events/{event}/seating")).await;
        assert_eq!(seating["seats"][0]["blocked"], 2);
        assert_eq!(seating["seats"][0]["sold"], 1);
        // The report says the same, per category, with a total; as CSV too.
        seat_report_says(&hub, &owner, event, [24, 21, 0, 1, 2, 0]).await;

        // Once seats sell, the plan, the seated type's capacity and leases stay as they are.
        let (status, problem) = owner
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/events/{event}/seating"),
                &json!({"plan": seating["plan"], "categories": {"stalls": 1, "floor": 2}}),
            )
            .await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seats_in_use")), "{problem}");
        let (status, problem) = owner
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/events/{event}/ticket-types/1"),
                &json!({"capacity": 30}),
            )
            .await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seated_type")), "{problem}");
    }
}

/// What `gate` shows for `text` scanned at the event's doors: (verdict code, seat line).
fn at_the_gate(gate: &Arc<Replica>, event: EventId, text: &str) -> (&'static str, Option<String>) {
    let now = Timestamp::now();
    let ctx = ScanContext { device: gate.device(), gate: GateId(1), direction: Direction::Entry, now };
    let verdict = gate.gate(event).scan(text, &ctx).unwrap();
    let manifest = gate.manifest(event).unwrap();
    let clock = DisplayClock { now, offset: time::UtcOffset::UTC };
    let shown = gate
        .with_event_state(event, |s| describe(&verdict, &manifest, s.seats.as_ref().map(|(_, m)| m), clock));
    (shown.code, shown.seat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_rides_under_the_signature_to_the_gate_and_a_move_reissues_the_ticket() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "theatre").await;
        let event = seated_event(&owner, &hall(3, 8)).await;
        let event_id = EventId(u32::try_from(event).unwrap());
        let (status, order) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 2, "seats": ["B-4", "B-5"]}])).await;
        assert_eq!(status, 201, "{order}");
        press_pay(&hub, &start_payment(&hub, &order).await).await;
        let code = order["code"].as_str().unwrap();
        let paid = owner.get(&format!("/api/v1/orders/{code}")).await;
        let old = paid["tickets"][0].clone();

        // Under the signature: B-4 is the plan's twelfth seat, number 11, as the seat list says.
        let signed = SignedTicket::from_text(old["text"].as_str().unwrap()).unwrap();
        assert_eq!(signed.ticket().seat, Some(SeatNumber(11)));
        let seats = owner.get(&format!("/api/v1/events/{event}/seats")).await;
        let b4 = seats.as_array().unwrap().iter().find(|s| s["seat"] == "B-4").unwrap();
        assert_eq!(b4["number"], 11);

        // Printed on the PDF, large.
        let pdf = hub
            .get(&format!("{}/tickets.pdf", order_url(&order)))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        // Text with a "·" is written as a hex string of its WinAnsi bytes (0xB7 for the dot).
        let pdf = String::from_utf8_lossy(&pdf).to_ascii_lowercase();
        for seat in [b"Stalls \xb7 Row B \xb7 Seat 4", b"Stalls \xb7 Row B \xb7 Seat 5"] {
            assert!(pdf.contains(&format!("<{}>", hex::encode(seat))), "{seat:?} on the PDF");
        }

        // A gate, offline from the hub once synced, names the seat from the map the hub sent.
        let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Doors 1", "gate", event).await).await;
        let to_hub = HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap();
        sync_with(&*gate, &to_hub).await.unwrap();
        let second = paid["tickets"][1]["text"].as_str().unwrap();
        assert_eq!(
            at_the_gate(&gate, event_id, second),
            ("admitted", Some("Stalls · Row B · Seat 5".into()))
        );

        // The console's order page offers the move, with the free seats to choose from.
        let serial = old["serial"].as_i64().unwrap();
        let path = format!("/api/v1/orders/{code}/tickets/{serial}/seat");
        let request = owner.authorize(hub.client.get(format!("{}/orders/{code}", hub.url)));
        let page = request.send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("data-api=\"{path}\"")), "a move form per seated ticket");
        assert!(page.contains("<option value=\"C-1\">") && !page.contains("<option value=\"B-5\">"));

        // Moved: B-4's ticket is replaced by one for C-1, at the same price; B-4 is free again.
        let (status, moved) = owner.post(&path, &json!({"seat": "C-1"})).await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["seat"], "Stalls · Row C · Seat 1");
        assert_eq!(taken(&hub, event).await, set(&["B-5", "C-1"]));
        let after = owner.get(&format!("/api/v1/orders/{code}")).await;
        let tickets = after["tickets"].as_array().unwrap();
        let state = |s: i64| tickets.iter().find(|t| t["serial"] == s).unwrap();
        assert_eq!(state(serial)["status"], "revoked");
        let new = state(moved["serial"].as_i64().unwrap());
        assert_eq!(
            (new["status"].as_str(), new["seat"].as_str()),
            (Some("valid"), Some("Stalls · Row C · Seat 1"))
        );
        assert_eq!(new["price_minor"], old["price_minor"]);

        // The gate learns both at its next sync: the old ticket refused, the new one in its seat.
        sync_with(&*gate, &to_hub).await.unwrap();
        let (code_old, seat_old) = at_the_gate(&gate, event_id, old["text"].as_str().unwrap());
        assert_eq!((code_old, seat_old.as_deref()), ("revoked", Some("Stalls · Row B · Seat 4")));
        let (code_new, seat_new) = at_the_gate(&gate, event_id, moved["text"].as_str().unwrap());
        assert_eq!((code_new, seat_new.as_deref()), ("admitted", Some("Stalls · Row C · Seat 1")));

        // Refused, changing nothing: a seat taken, one of another type, a revoked ticket.
        let other = paid["tickets"][1]["serial"].as_i64().unwrap();
        let other_path = format!("/api/v1/orders/{code}/tickets/{other}/seat");
        let (status, problem) = owner.post(&other_path, &json!({"seat": "C-1"})).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_taken")), "{problem}");
        let (status, problem) = owner.post(&other_path, &json!({"seat": "ga"})).await;
        assert_eq!(status, 422, "a standing area is no seat: {problem}");
        let (status, problem) = owner.post(&path, &json!({"seat": "C-2"})).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("ticket_not_valid")), "{problem}");
        assert_eq!(taken(&hub, event).await, set(&["B-5", "C-1"]));
    }
}

/// The map's seat `id` (its circle): its classes.
async fn seat_classes(b: &fantoccini::Client, id: &str) -> String {
    let circle = b.find(fantoccini::Locator::Css(&format!("circle[data-id=\"{id}\"]"))).await.unwrap();
    circle.attr("class").await.unwrap().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_on_a_phone_picks_seats_on_the_live_map_while_others_take_theirs() {
    use common::browser::{ChromeDriver, click, eventually, fill, screenshot, text};
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "hall").await;
    let event = seated_event(&owner, &hall(3, 8)).await;
    let (status, _) = owner
        .post(&format!("/api/v1/events/{event}/seats/block"), &json!({"seats": ["C-8"], "reason": "camera"}))
        .await;
    assert_eq!(status, 200);
    let driver = ChromeDriver::start();
    let b = driver.browser_as(390, 844, "en").await;
    b.goto(&format!("{}/shop/{event}", hub.url)).await.unwrap();
    eventually(10, "the live map", || async {
        b.find(fantoccini::Locator::Css("#seat-map[data-live=on]")).await.is_ok()
    })
    .await;
    let legend = text(&b, "#map-legend").await;
    for expected in ["stalls · €50.00", "floor · €30.00", "being bought", "taken", "♿ wheelchair space"]
    {
        assert!(legend.contains(expected), "{expected:?} in the legend: {legend}");
    }
    assert!(seat_classes(&b, "C-8").await.contains("taken"), "a blocked seat is not for sale");
    let overflow: Value =
        b.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap() <= 0, "the map fits the phone: {overflow}");

    // Another buyer holds B-5: it turns colour on this page, without a reload.
    let (status, other) =
        buy(&hub, event, json!([{"ticket_type": 1, "quantity": 1, "seats": ["B-5"]}])).await;
    assert_eq!(status, 201, "{other}");
    eventually(5, "the other buyer's hold", || async { seat_classes(&b, "B-5").await.contains("held") })
        .await;

    // Zoom in, then pick two seats by tapping them; a held seat cannot be picked.
    let width = |b: &fantoccini::Client| {
        let b = b.clone();
        async move {
            let v: Value = b
                .execute("return document.getElementById('map-svg').viewBox.baseVal.width", vec![])
                .await
                .unwrap();
            v.as_f64().unwrap()
        }
    };
    let whole = width(&b).await;
    click(&b, "#map-zoom-in").await;
    assert!(width(&b).await < whole, "zoomed in");
    click(&b, "#map-fit").await;
    for seat in ["C-1", "C-2", "B-5"] {
        b.find(fantoccini::Locator::Css(&format!("circle[data-id=\"{seat}\"]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    eventually(5, "two seats picked", || async { text(&b, "#picked").await.matches("Row C").count() == 2 })
        .await;
    assert!(!seat_classes(&b, "B-5").await.contains("picked"));
    let quantity: Value = b
        .execute("const i = document.getElementById('quantity-1'); return [i.value, i.readOnly]", vec![])
        .await
        .unwrap();
    assert_eq!(quantity, json!(["2", true]));
    eventually(5, "the total", || async { text(&b, "#shop-total").await.contains("100.00") }).await;
    screenshot(&b, "shop-seat-map-phone").await;

    // Bought: the order holds exactly the seats picked, and the map shows them taken.
    fill(&b, "#buyer-name", "Pia Picker").await;
    fill(&b, "#buyer-email", "pia@example.org").await;
    click(&b, "#buy").await;
    eventually(10, "the payment page", || async {
        text(&b, "body").await.contains("Simulated payment provider")
    })
    .await;
    assert_eq!(taken(&hub, event).await, set(&["B-5", "C-1", "C-2", "C-8"]));
}

/// An arena of `rows` × `per_row` seats in one category, sold as ticket type 1.
fn arena(rows: usize, per_row: usize) -> Value {
    let row = |r: usize| {
        json!({"label": (r + 1).to_string(), "seats": (0..per_row).map(|i| json!({
            "id": format!("{r}-{i}"), "label": (i + 1).to_string(),
            "x": 20 + 25 * i, "y": 80 + 25 * r, "category": "stalls"
        })).collect::<Vec<_>>()})
    };
    json!({
        "name": "Arena", "size": {"width": 40 + 25 * per_row, "height": 120 + 25 * rows},
        "categories": [{"name": "stalls", "color": "#c33"}, {"name": "floor", "color": "#36c"}],
        "sections": [{"name": "Bowl", "rows": (0..rows).map(row).collect::<Vec<_>>()}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20000_seat_arena_draws_whole_in_the_shop_and_goes_live() {
    use common::browser::{ChromeDriver, eventually};
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "arena").await;
    let plan = new_plan(&owner, &arena(100, 200)).await;
    let event = put_on_sale(&owner, &show()).await;
    let (status, seating) = owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/events/{event}/seating"),
            &json!({"plan": plan, "categories": {"stalls": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{seating}");
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    let opened = std::time::Instant::now();
    b.goto(&format!("{}/shop/{event}", hub.url)).await.unwrap();
    eventually(30, "the live map", || async {
        b.find(fantoccini::Locator::Css("#seat-map[data-live=on]")).await.is_ok()
    })
    .await;
    let live = opened.elapsed();
    let drawn: Value = b
        .execute(
            "const m = document.getElementById('seat-map'); return [document.querySelectorAll('circle.seat').length, Number(m.dataset.drawnMs)]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn[0], 20_000, "every seat drawn");
    // The figure docs/benchmarks.md quotes (not a target: a test machine is too noisy for one).
    println!("20,000-seat map: drawn in {} ms; page open to live stream {} ms", drawn[1], live.as_millis());
}

#[tokio::test]
async fn sixty_four_buyers_fighting_for_the_same_seats_get_each_seat_once() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let owner = Organizer::create(&hub, "hall").await;
    let event = seated_event(&owner, &hall(2, 10)).await;
    // Half choose pairs that overlap their neighbours'; half ask for the best two.
    let buyers = (0..64).map(|i| {
        let hub = &hub;
        async move {
            let line = if i % 2 == 0 {
                let row = if i % 4 == 0 { "A" } else { "B" };
                let first = (i / 4) % 9 + 1;
                json!({"ticket_type": 1, "quantity": 2, "seats": [format!("{row}-{first}"), format!("{row}-{}", first + 1)]})
            } else {
                json!({"ticket_type": 1, "quantity": 2})
            };
            buy(hub, event, json!([line])).await
        }
    });
    let answers = futures_util::future::join_all(buyers).await;
    let mut held = BTreeSet::new();
    for (status, answer) in &answers {
        match status {
            201 => {
                for seat in answer["seats"].as_array().unwrap() {
                    assert!(held.insert(seat.as_str().unwrap().to_owned()), "{seat} sold twice");
                }
            }
            409 => assert!(
                ["seat_taken", "seats_not_together", "sold_out"].contains(&answer["code"].as_str().unwrap()),
                "{answer}"
            ),
            other => panic!("{other}: {answer}"),
        }
    }
    assert!(held.len() >= 14, "most seats went: {}", held.len());
    assert_eq!(taken(&hub, event).await.len(), held.len(), "the map shows exactly the seats held");
    let detail = owner.get(&format!("/api/v1/events/{event}")).await;
    assert_eq!(
        usize::try_from(detail["ticket_types"][0]["held"].as_u64().unwrap()).unwrap(),
        held.len(),
        "counters agree with seats"
    );
    let doubled = hub
        .number("SELECT COUNT(*) FROM (SELECT os.seat_id FROM order_seats os JOIN orders o ON o.id = os.order_id WHERE o.status = 'pending' GROUP BY os.seat_id HAVING COUNT(*) > 1) d")
        .await;
    assert_eq!(doubled, 0);
}

/// The builder's count of `category`'s seats (its table row), as shown.
async fn counted(b: &fantoccini::Client, category: &str) -> String {
    common::browser::text(b, &format!("#counts tr[data-category=\"{category}\"] .seats")).await
}

/// Sends keys to the element at `css`, `keys` in WebDriver's notation (\u{E009}: Control held
/// until \u{E000}).
async fn keys(b: &fantoccini::Client, css: &str, keys: &str) {
    b.find(fantoccini::Locator::Css(css)).await.unwrap().send_keys(keys).await.unwrap();
}

/// A press on seat `from`, dragged to seat `to` (none: a click), with key `modifier` held
/// (\u{E008} Shift, \u{E009} Control): WebDriver actions, as a person's mouse.
async fn gesture(b: &fantoccini::Client, modifier: char, from: &str, to: &str) {
    use fantoccini::actions::{
        Actions, InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
    };
    let circle = |id: &str| {
        let css = format!("circle[data-id=\"{id}\"]");
        async move { b.find(fantoccini::Locator::Css(&css)).await.unwrap() }
    };
    let (a, z) = (circle(from).await, circle(to).await);
    let (off, duration) =
        if from == to { (0.0, None) } else { (14.0, Some(std::time::Duration::from_millis(150))) };
    let pause = KeyAction::Pause { duration: std::time::Duration::from_millis(20) };
    let keys = KeyActions::new("keys".into())
        .then(KeyAction::Down { value: modifier })
        .then(pause.clone())
        .then(pause.clone())
        .then(pause.clone())
        .then(pause)
        .then(KeyAction::Up { value: modifier });
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::Pause { duration: std::time::Duration::from_millis(20) })
        .then(PointerAction::MoveToElement { element: a, duration: None, x: -off, y: -off })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveToElement { element: z, duration, x: off, y: off })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Pause { duration: std::time::Duration::from_millis(20) });
    b.perform_actions(Actions::from(keys).and(mouse)).await.unwrap();
}

/// Seat `id`'s place as drawn: (cx, cy).
async fn drawn_at(b: &fantoccini::Client, id: &str) -> (f64, f64) {
    let at: Value = b
        .execute(
            "const c = document.querySelector(`circle[data-id=\"${arguments[0]}\"]`); return [c.cx.baseVal.value, c.cy.baseVal.value]",
            vec![json!(id)],
        )
        .await
        .unwrap();
    (at[0].as_f64().unwrap(), at[1].as_f64().unwrap())
}

/// On event `event`'s seats page (open in `b`), two seats of row A selected and leased to a
/// box office enrolled for it; a selection spanning two ticket types refused in words.
async fn lease_seats_on_the_seats_page(b: &fantoccini::Client, hub: &TestHub, owner: &Organizer, event: i64) {
    use common::browser::{click, eventually, text};
    let dir = tempfile::tempdir().unwrap();
    let desk =
        enroll(hub, dir.path(), &enrollment_code(owner, "Foyer desk", "box_office", event).await).await;
    b.refresh().await.unwrap();
    eventually(10, "the seats page", || async {
        b.find(fantoccini::Locator::Css("#seats[data-ready=yes]")).await.is_ok()
    })
    .await;
    gesture(b, '\u{E008}', "s4", "s9").await; // A-4 … B-1: Standard and Balcony
    click(b, "#lease-submit").await;
    eventually(5, "refused", || async { text(b, "#lease-form").await.contains("different ticket types") })
        .await;
    b.find(fantoccini::Locator::Css("circle[data-id=\"s5\"]")).await.unwrap().click().await.unwrap();
    gesture(b, '\u{E009}', "s6", "s6").await;
    click(b, "#lease-submit").await;
    eventually(10, "leased", || async { text(b, "#leased").await.matches("Foyer desk").count() == 2 }).await;
    let leases = owner.get(&format!("/api/v1/events/{event}/leases")).await;
    assert_eq!(leases["leases"][0]["seats"], json!(["s5", "s6"]), "{leases}");
    assert_eq!(leases["leases"][0]["device_id"], desk.device().0);
    assert!(seat_classes(b, "s5").await.contains("leased"));
    // The event's leases page names the lease's seats.
    b.goto(&format!("{}/events/{event}/leases", hub.url)).await.unwrap();
    let row = text(b, "#leases tbody tr").await;
    assert!(row.contains("Foyer desk") && row.contains("Stalls · Row A · Seats 5, 6"), "{row}");
}

/// Plan `plan`'s builder and event `event`'s seats page: another organization's 404; a viewer
/// reads the plans without a write action and may not start one.
async fn seat_pages_are_the_organizations_own(hub: &TestHub, owner: &Organizer, plan: i64, event: i64) {
    // Another organization sees neither page; a viewer reads plans without a write action.
    let stranger = Organizer::create(hub, "elsewhere").await;
    let page = |who: &Organizer, path: String| {
        let request = who.authorize(hub.client.get(format!("{}{path}", hub.url)));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for path in [format!("/seat-plans/{plan}"), format!("/events/{event}/seats")] {
        assert_eq!(page(owner, path.clone()).await.0, 200, "{path}");
        assert_eq!(page(&stranger, path.clone()).await.0, 404, "{path}");
    }
    let viewer = owner.add_member(hub, "viewer@builder.example", "viewer").await;
    assert_eq!(page(&viewer, "/seat-plans/new".into()).await.0, 403);
    let (status, list) = page(&viewer, "/seat-plans".into()).await;
    assert_eq!(status, 200);
    assert!(list.contains("Small Hall") && !list.contains("data-api=\"/api/v1/seat-plans"), "{list}");
}

/// In the builder, from a new plan: categories Balcony and Floor beside Standard; row A of 8
/// curved, copied behind as row B, which is renumbered right to left, made the balcony and
/// moved by the keyboard (undone and redone from it); a Shift-dragged block; seat A-8 a
/// wheelchair space; a standing area of 50 and a stage; a nameless save refused; saved as
/// "Small Hall".
async fn build_a_small_hall(b: &fantoccini::Client, owner: &Organizer) {
    use common::browser::{click, eventually, fill, path, screenshot, text};
    let b = b.clone();
    // Two categories more, a row of 8, curved; copied behind as row B.
    fill(&b, "#category-name", "Balcony").await;
    keys(&b, "#category-name", "\u{E007}").await;
    fill(&b, "#category-name", "Floor").await;
    keys(&b, "#category-name", "\u{E007}").await;
    fill(&b, "#row-seats", "8").await;
    click(&b, "#add-row-submit").await;
    eventually(5, "row A", || async { counted(&b, "Standard").await == "8" }).await;
    assert_eq!(text(&b, "#selection-count").await, "8 seats in 1 row");
    fill(&b, "#curve", "15").await;
    click(&b, "#apply-curve").await;
    let ((_, end), (_, middle)) = (drawn_at(&b, "s1").await, drawn_at(&b, "s4").await);
    assert!(middle > end + 10.0, "the row bends away from the stage: {end} → {middle}");
    click(&b, "#copy-block").await;
    eventually(5, "row B", || async { counted(&b, "Standard").await == "16" }).await;
    click(&b, "#rows-tool summary").await;
    assert!(text(&b, "#rows").await.contains("Stalls · Row B · 8 seats"), "{}", text(&b, "#rows").await);

    // Row B (selected as copied): numbered right to left, made the balcony, moved by the keyboard.
    b.find(fantoccini::Locator::Css("#number-order")).await.unwrap().select_by_value("rtl").await.unwrap();
    click(&b, "#apply-numbering").await;
    b.find(fantoccini::Locator::Css("#selection-category"))
        .await
        .unwrap()
        .select_by_value("Balcony")
        .await
        .unwrap();
    click(&b, "#apply-category").await;
    eventually(5, "the balcony counted", || async { counted(&b, "Balcony").await == "8" }).await;
    assert_eq!(counted(&b, "Standard").await, "8");
    let before = drawn_at(&b, "s9").await;
    keys(&b, "#plan-view", "\u{E014}").await; // →
    assert!((drawn_at(&b, "s9").await.0 - before.0 - 5.0).abs() < 0.01, "the arrow key moved the selection");

    // Undo and redo from the keyboard.
    keys(&b, "#plan-view", "\u{E009}z\u{E000}").await;
    keys(&b, "#plan-view", "\u{E009}z\u{E000}").await;
    eventually(5, "undone", || async { counted(&b, "Balcony").await == "0" }).await;
    assert_eq!(counted(&b, "Standard").await, "16");
    keys(&b, "#plan-view", "\u{E009}\u{E008}z\u{E000}").await;
    keys(&b, "#plan-view", "\u{E009}y\u{E000}").await;
    eventually(5, "redone", || async { counted(&b, "Balcony").await == "8" }).await;
    assert!((drawn_at(&b, "s9").await.0 - before.0 - 5.0).abs() < 0.01, "redone");

    // A block dragged with Shift held is selected: three seats of row A.
    gesture(&b, '\u{E008}', "s1", "s3").await;
    eventually(5, "a block selected", || async { text(&b, "#selection-count").await == "3 seats in 1 row" })
        .await;

    // A seat tapped alone becomes a wheelchair space; a standing area and the stage.
    b.find(fantoccini::Locator::Css("circle[data-id=\"s8\"]")).await.unwrap().click().await.unwrap();
    eventually(5, "one seat selected", || async { text(&b, "#selection-count").await == "1 seat in 1 row" })
        .await;
    click(&b, "#toggle-wheelchair").await;
    click(&b, "#area-tool summary").await;
    fill(&b, "#area-name", "Floor").await;
    b.find(fantoccini::Locator::Css("#area-category")).await.unwrap().select_by_value("Floor").await.unwrap();
    fill(&b, "#area-capacity", "50").await;
    click(&b, "#add-area-submit").await;
    eventually(5, "the standing area counted", || async {
        text(&b, "#counts tr[data-category=\"Floor\"] .standing").await == "50"
    })
    .await;
    click(&b, "#shape-tool summary").await;
    click(&b, "#add-shape-submit").await;
    eventually(5, "the stage", || async { text(&b, "#extras").await.contains("“STAGE”") }).await;

    // A plan without a name is refused, in words, and nothing is stored; then saved.
    fill(&b, "#plan-name", " ").await;
    click(&b, "#save").await;
    eventually(5, "the refusal", || async { text(&b, "#save-error").await.contains("name") }).await;
    assert_eq!(owner.get("/api/v1/seat-plans").await, json!([]));
    fill(&b, "#plan-name", "Small Hall").await;
    click(&b, "#save").await;
    eventually(10, "saved", || async { path(&b).await != "/seat-plans/new" }).await;
    eventually(10, "the saved plan open", || async { text(&b, "#save-state").await == "Saved" }).await;
    screenshot(&b, "seat-plan-builder").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_builds_a_small_hall_from_nothing_and_a_buyer_sells_out_a_seat_in_it() {
    use common::browser::{ChromeDriver, buy_and_pay, click, eventually, fill, log_in, text};
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "builder").await;
    let now = Timestamp::now().0;
    let t = |name: &str, price: i64| json!({"name": name, "price_minor": price, "currency": "EUR", "capacity": 100, "entry_policy": "single_entry"});
    let event = put_on_sale(
        &owner,
        &json!({"name": "Chamber Music", "time_zone": "Europe/Amsterdam", "starts_at": now + 3_600_000,
                "ends_at": now + 7_200_000, "gates": [{"name": "Foyer"}],
                "ticket_types": [t("Standard", 4000), t("Balcony", 2500), t("Floor", 1500)]}),
    )
    .await;
    let driver = ChromeDriver::start();
    let b = driver.browser_as(1300, 1000, "en").await;
    log_in(&b, &hub.url, "owner@builder.example").await;
    click(&b, "#plans-link").await;
    click(&b, "#new-plan").await;
    eventually(10, "the builder", || async {
        b.find(fantoccini::Locator::Css("#builder[data-ready=yes]")).await.is_ok()
    })
    .await;

    build_a_small_hall(&b, &owner).await;
    let plans = owner.get("/api/v1/seat-plans").await;
    assert_eq!(plans[0]["name"], "Small Hall");
    assert_eq!(plans[0]["seats"], 16);
    let plan = owner.get(&format!("/api/v1/seat-plans/{}", plans[0]["id"])).await;
    assert_eq!(plan["seats_per_category"], json!({"Balcony": 8, "Floor": 0, "Standard": 8}));
    assert_eq!(plan["standing_per_category"], json!({"Floor": 50}));
    let rows = &plan["plan"]["sections"][0]["rows"];
    let labels = |r: usize| {
        rows[r]["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["label"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(0), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert_eq!(labels(1), ["8", "7", "6", "5", "4", "3", "2", "1"], "row B numbered right to left");
    assert_eq!(rows[0]["curve"], 15.0);
    assert_eq!(rows[0]["seats"][7]["wheelchair"], true);
    assert_eq!(plan["plan"]["shapes"][0]["text"], "STAGE");

    // The event is sold by it (each category preselected as the type of its name) …
    b.goto(&format!("{}/events/{event}", hub.url)).await.unwrap();
    click(&b, "#seating details summary").await;
    click(&b, "#seating form button[type=submit]").await;
    eventually(10, "the event sold by seat", || async { text(&b, "#seating-plan").await == "Small Hall" })
        .await;
    assert!(
        text(&b, "#seating-counts").await.contains("Balcony Balcony 8 0 0 0"),
        "{}",
        text(&b, "#seating-counts").await
    );

    // … and a buyer picks seat 3 of row A on the map and pays.
    b.goto(&format!("{}/shop/{event}", hub.url)).await.unwrap();
    eventually(10, "the live map", || async {
        b.find(fantoccini::Locator::Css("#seat-map[data-live=on]")).await.is_ok()
    })
    .await;
    b.find(fantoccini::Locator::Css("circle[data-id=\"s3\"]")).await.unwrap().click().await.unwrap();
    eventually(5, "the seat picked", || async {
        text(&b, "#picked").await.contains("Stalls · Row A · Seat 3")
    })
    .await;
    buy_and_pay(&b, "Sam Seated", "sam@example.org").await;
    let sold = owner.get(&format!("/api/v1/events/{event}/seats?state=sold")).await;
    assert_eq!(sold.as_array().unwrap().len(), 1, "{sold}");
    assert_eq!(
        (&sold[0]["seat"], &sold[0]["row"], &sold[0]["label"]),
        (&json!("s3"), &json!("A"), &json!("3"))
    );

    // Staff block two balcony seats for a camera on the event's seats page.
    b.goto(&format!("{}/events/{event}/seats", hub.url)).await.unwrap();
    eventually(10, "the seats page", || async {
        b.find(fantoccini::Locator::Css("#seats[data-ready=yes]")).await.is_ok()
    })
    .await;
    assert!(seat_classes(&b, "s3").await.contains("taken"), "the sold seat is shown sold");
    b.find(fantoccini::Locator::Css("circle[data-id=\"s9\"]")).await.unwrap().click().await.unwrap();
    gesture(&b, '\u{E009}', "s10", "s10").await; // Ctrl-click: one more
    eventually(5, "two seats selected", || async {
        text(&b, "#selected-seats").await.matches("Row B").count() == 2
    })
    .await;
    fill(&b, "#block-reason", "Camera").await;
    click(&b, "#block-submit").await;
    eventually(10, "blocked", || async { text(&b, "#blocked").await.matches("Camera").count() == 2 }).await;
    let blocked = owner.get(&format!("/api/v1/events/{event}/seats?state=blocked")).await;
    assert_eq!(blocked.as_array().unwrap().len(), 2, "{blocked}");

    lease_seats_on_the_seats_page(&b, &hub, &owner, event).await;
    seat_pages_are_the_organizations_own(&hub, &owner, plans[0]["id"].as_i64().unwrap(), event).await;
}

/// A cash sale of `seats` (numbers in plan order: A-1 is 0, B-1 is 8) of ticket type 1.
fn door_seats(seats: &[u16]) -> sync_core::replica::SaleRequest {
    sync_core::replica::SaleRequest {
        ticket_type: sync_core::ids::TicketTypeId(1),
        quantity: u32::try_from(seats.len()).unwrap(),
        payment: sync_core::journal::PaymentMethod::Cash,
        voucher: None,
        seats: seats.iter().copied().map(SeatNumber).collect(),
    }
}

/// The event's seats in `state`, by id.
async fn seats_in(owner: &Organizer, event: i64, state: &str) -> BTreeSet<String> {
    let seats = owner.get(&format!("/api/v1/events/{event}/seats?state={state}")).await;
    seats.as_array().unwrap().iter().map(|s| s["seat"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_leased_to_two_box_offices_sell_offline_never_online_and_never_twice() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "theatre").await;
        let event = seated_event(&owner, &hall(3, 8)).await;
        let event_id = EventId(u32::try_from(event).unwrap());
        let front =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Front", "box_office", event).await).await;
        let side =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Side", "box_office", event).await).await;
        let leases = format!("/api/v1/events/{event}/leases");
        let lease = |desk: &Arc<Replica>, seats: &[&str]| json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": seats.len(), "seats": seats});

        // Grants that cannot be are refused, in words, and lease nothing.
        let f = front.device().0;
        for (body, field) in [
            (json!({"device_id": f, "ticket_type": 1, "quantity": 2}), "seats"),
            (json!({"device_id": f, "ticket_type": 2, "quantity": 1, "seats": ["A-1"]}), "seats"),
            (json!({"device_id": f, "ticket_type": 1, "quantity": 2, "seats": ["A-1", "A-1"]}), "seats"),
            (json!({"device_id": f, "ticket_type": 1, "quantity": 2, "seats": ["A-1"]}), "quantity"),
            (json!({"device_id": f, "ticket_type": 1, "quantity": 1, "seats": ["Z-9"]}), "seats"),
        ] {
            let (status, problem) = owner.post(&leases, &body).await;
            assert_eq!(
                (status, problem["field"].as_str()),
                (422, Some(field)),
                "{backend:?} {body}: {problem}"
            );
        }
        let (status, granted) = owner.post(&leases, &lease(&front, &["A-1", "A-2", "A-3", "A-4"])).await;
        assert_eq!(status, 201, "{backend:?}: {granted}");
        let (status, problem) = owner.post(&leases, &lease(&side, &["B-1", "A-4"])).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_taken")), "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("Stalls · Row A · Seat 4 is leased"),
            "{problem}"
        );
        let (status, side_lease) = owner.post(&leases, &lease(&side, &["B-1", "B-2", "B-3"])).await;
        assert_eq!(status, 201, "{side_lease}");
        assert_eq!(seats_in(&owner, event, "leased").await.len(), 7, "{backend:?}: nothing else leased");

        // Online, a leased seat is taken: refused when chosen, passed over by best available.
        let (status, problem) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 1, "seats": ["A-2"]}])).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("seat_taken")), "{problem}");
        let (status, best) = buy(&hub, event, json!([{"ticket_type": 1, "quantity": 8}])).await;
        assert_eq!(status, 201, "{best}");
        assert!(
            best["seats"].as_array().unwrap().iter().all(|s| s.as_str().unwrap().contains("Row C")),
            "{best}"
        );

        // Offline, each desk sells seats of its own lease and no other.
        for desk in [&front, &side] {
            sync_with(&**desk, &HttpTransport::new(&hub.url, Arc::clone(desk), HUB).unwrap()).await.unwrap();
        }
        let (a, b) = (front.box_office(event_id), side.box_office(event_id));
        a.open_shift_with("Ada", 0).unwrap();
        b.open_shift_with("Bo", 0).unwrap();
        let now = Timestamp::now();
        let sold = a.sell(&door_seats(&[0, 1]), now).unwrap();
        assert_eq!(sold.seats, vec![0, 1]);
        b.sell(&door_seats(&[10]), now).unwrap();
        let refused = a.sell(&door_seats(&[10]), now).unwrap_err().to_string();
        assert_eq!(
            refused,
            "Stalls · Row B · Seat 3 is not this desk's to sell: it is sold, or not in its lease."
        );
        assert_eq!(a.return_unsold(sync_core::journal::LeaseId(granted["id"].as_u64().unwrap())).unwrap(), 2);
        for desk in [&front, &side] {
            sync_with(&**desk, &HttpTransport::new(&hub.url, Arc::clone(desk), HUB).unwrap()).await.unwrap();
        }

        // The hub: the door's seats sold to door orders whose tickets name them, the returned
        // seats free again, the side desk's unsold seats still its own.
        let door_sold: BTreeSet<String> = seats_in(&owner, event, "sold").await;
        assert_eq!(door_sold, set(&["A-1", "A-2", "B-3"]), "{backend:?}");
        assert_eq!(seats_in(&owner, event, "leased").await, set(&["B-1", "B-2"]));
        assert!(seats_in(&owner, event, "free").await.is_superset(&set(&["A-3", "A-4"])));
        let seat_a1 = owner.get(&format!("/api/v1/events/{event}/seats?state=sold")).await;
        let code = seat_a1.as_array().unwrap().iter().find(|s| s["seat"] == "A-1").unwrap()["order"].clone();
        let order = owner.get(&format!("/api/v1/orders/{}", code.as_str().unwrap())).await;
        assert_eq!(order["channel"], "box_office");
        let on_tickets: Vec<&str> =
            order["tickets"].as_array().unwrap().iter().map(|t| t["seat"].as_str().unwrap()).collect();
        assert_eq!(on_tickets, ["Stalls · Row A · Seat 1", "Stalls · Row A · Seat 2"]);
        let listed = owner.get(&leases).await;
        assert_eq!(listed["leases"][1]["seats"], json!(["B-1", "B-2", "B-3"]), "{listed}");
        let seating = owner.get(&format!("/api/v1/events/{event}/seating")).await;
        let counts = &seating["seats"][0];
        assert_eq!(
            (counts["leased"].as_i64(), counts["sold"].as_i64(), counts["held"].as_i64()),
            (Some(2), Some(3), Some(8)),
            "{backend:?}: the online order of row C is held, unpaid"
        );

        // The side desk's lease reclaimed: its unsold seats are for sale online again.
        let (status, _) =
            owner.post(&format!("/api/v1/leases/{}/revoke", side_lease["id"]), &json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(seats_in(&owner, event, "leased").await, BTreeSet::new(), "{backend:?}");
        let (status, again) =
            buy(&hub, event, json!([{"ticket_type": 1, "quantity": 1, "seats": ["B-1"]}])).await;
        assert_eq!(status, 201, "{again}");
    }
}
