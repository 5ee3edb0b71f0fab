//! The organizer console in a real browser (Debian's chromium, headless, driven through
//! chromium-driver by fantoccini) against the real hub: log in, create an event with a ticket
//! type, publish it, buy a ticket through the public shop and the payment provider's page,
//! create an enrollment code, enroll a sync-core device that checks the ticket in, and watch
//! the live dashboard count it without a reload. Screenshots of the main pages go to
//! `<target>/console-screenshots/`.
//!
//! Beside it, without a browser: what another organization, a viewer, a visitor and a forged
//! request meet.

mod common;

use common::browser::{ChromeDriver, click, eventually, fill, path, screenshot, text};
use common::{Organizer, PASSWORD, TestHub, enroll};
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

/// A console page's HTML, fetched with `who`'s session.
async fn page_text(hub: &TestHub, who: &Organizer, path: &str) -> String {
    let request = who.authorize(hub.client.get(format!("{}{path}", hub.url)));
    request.send().await.unwrap().text().await.unwrap()
}

/// Logs in as the owner of "festival" on the login page.
async fn log_in(b: &Client, hub: &TestHub) {
    common::browser::log_in(b, &hub.url, "owner@festival.example").await;
}

/// A datetime-local value `hours` from now (the browser's zone is the machine's, as is ours).
fn local_input(hours: i64) -> String {
    let at = jiff::Zoned::now().checked_add(jiff::Span::new().hours(hours)).unwrap();
    at.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// Sets a datetime-local input (typing into one depends on the browser's locale).
async fn set_value(b: &Client, name: &str, value: &str) {
    b.execute(
        "document.querySelector(`[name='${arguments[0]}']`).value = arguments[1];",
        vec![json!(name), json!(value)],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_sets_up_sells_enrolls_and_watches_the_gate_live() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;

    // A visitor at `/` sees the login page.
    b.goto(&format!("{}/", hub.url)).await.unwrap();
    eventually(10, "the login page", || async { b.find(Locator::Id("login")).await.is_ok() }).await;
    screenshot(&b, "login").await;
    // With the keyboard alone: the e-mail field has the focus; Tab to the password; Enter.
    b.active_element()
        .await
        .unwrap()
        .send_keys(&format!("owner@festival.example\u{E004}{PASSWORD}\u{E007}"))
        .await
        .unwrap();
    eventually(10, "the events page", || async { path(&b).await == "/events" }).await;

    let event = create_event_in_the_browser(&b).await;
    let (code, secret) = buy_in_the_shop(&b, &hub, event).await;
    let qr_text = create_enrollment_code(&b, &hub).await;

    // The dashboard is open before the device checks the ticket in.
    b.goto(&format!("{}/events/{event}/live", hub.url)).await.unwrap();
    eventually(10, "the live stream", || async { text(&b, "#live-state").await == "Live" }).await;
    assert_eq!(text(&b, "#admitted").await, "0");
    b.execute("window.notReloaded = true;", vec![]).await.unwrap();

    // A sync-core device enrolls with the code, syncs, admits the ticket, syncs again.
    let dir = tempfile::tempdir().unwrap();
    let device = enroll(&hub, dir.path(), &qr_text).await;
    let transport = HttpTransport::new(&hub.url, Arc::clone(&device), HUB).unwrap();
    sync_with(&*device, &transport).await.unwrap();
    let order = owner.get(&format!("/api/v1/orders/{code}")).await;
    let ticket = order["tickets"][0]["text"].as_str().unwrap().to_owned();
    let ctx = admit_and_sync(&device, &transport, event, &ticket).await;
    let gate = device.gate(EventId(u32::try_from(event).unwrap()));
    eventually(10, "the check-in on the dashboard", || async {
        text(&b, "#admitted").await == "1" && text(&b, "#inside").await == "1"
    })
    .await;
    // The fleet shows where the gate scanned and how fresh its revocations are.
    let fleet = page_text(&hub, &owner, "/devices").await;
    assert!(fleet.contains("Main gate") && fleet.contains("as of"), "{fleet}");
    let same_page = b.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(same_page, json!(true), "updated without a reload");
    assert_eq!(text(&b, "#sold-today").await, "1");
    eventually(5, "the gate's line in the chart", || async {
        b.find(Locator::Css("#chart polyline[data-gate='Main gate']")).await.is_ok()
    })
    .await;
    screenshot(&b, "live").await;
    // A tablet held upright: the dashboard fits without sideways scrolling.
    b.set_window_size(820, 1180).await.unwrap();
    let fits =
        b.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(fits, json!(true), "the dashboard fits a tablet");
    screenshot(&b, "live-tablet").await;
    b.set_window_size(1100, 1000).await.unwrap();

    refund_from_the_order_page(&b, &hub, event, &code).await;
    // The device learns of the refund at its next sync: the ticket is refused from then on.
    // (A minute later: the same code again within 2 s is the same scan, debounced.)
    sync_with(&*device, &transport).await.unwrap();
    let later = ScanContext { now: Timestamp(ctx.now.0 + 60_000), ..ctx };
    assert_eq!(gate.scan(&ticket, &later).unwrap().kind(), VerdictKind::Revoked);

    // The reports: tables with their CSV, a chart, and the printable summary.
    b.goto(&format!("{}/events/{event}/reports", hub.url)).await.unwrap();
    assert!(text(&b, "#report-sales").await.contains("Day ticket"));
    assert!(text(&b, "#report-double-admissions").await.contains("Nothing yet"));
    b.find(Locator::Css("#sales-chart svg rect")).await.expect("a bar for the day");
    screenshot(&b, "reports").await;
    let pdf = owner.authorize(hub.client.get(format!("{}/events/{event}/reports/summary.pdf", hub.url)));
    let pdf = pdf.send().await.unwrap().bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF summary");

    a_lost_device_is_renamed_revoked_and_its_export_uploaded(&b, &hub, (&device, event), &ticket, ctx).await;

    // The buyer's page shows the ticket as refunded; logging out ends the session.
    b.goto(&format!("{}/shop/orders/{code}/{secret}", hub.url)).await.unwrap();
    assert!(text(&b, ".ticket figcaption").await.ends_with("refunded"));
    b.goto(&format!("{}/events", hub.url)).await.unwrap();
    click(&b, "#logout").await;
    eventually(10, "back at the login page", || async { path(&b).await == "/login" }).await;
    b.goto(&format!("{}/events", hub.url)).await.unwrap();
    assert_eq!(path(&b).await, "/login", "the session is over");
    b.close().await.unwrap();
}

/// Creates "Test Festival" (one gate, a 45.00 day ticket for 100) through the form — after a
/// refusal shown beside its field — and publishes it. Returns its id.
async fn create_event_in_the_browser(b: &Client) -> i64 {
    screenshot(b, "events-empty").await;
    click(b, "#new-event").await;
    eventually(10, "the new-event form", || async { path(b).await == "/events/new" }).await;
    fill(b, "[name=name]", "Test Festival").await;
    set_value(b, "starts_at", &local_input(-1)).await;
    set_value(b, "ends_at", &local_input(24)).await;
    fill(b, "[name=time_zone]", "Nowhere").await;
    fill(b, "[name='ticket_types[0].price_minor']", "45.00").await;
    fill(b, "[name='ticket_types[0].capacity']", "100").await;
    click(b, "#event-submit").await;
    // The hub refuses the zone: the message stands beside the field, and nothing was made.
    eventually(10, "the time zone's error in place", || async {
        let Ok(field) = b.find(Locator::Css("[name=time_zone]")).await else { return false };
        field.attr("aria-invalid").await.ok().flatten().as_deref() == Some("true")
            && text(b, ".field-error").await.contains("IANA time zone")
    })
    .await;
    screenshot(b, "event-new-error").await;
    fill(b, "[name=time_zone]", "Europe/Amsterdam").await;
    click(b, "#event-submit").await;
    eventually(10, "the event's page", || async {
        path(b).await.starts_with("/events/") && !path(b).await.ends_with("/new")
    })
    .await;
    let event: i64 = path(b).await.trim_start_matches("/events/").parse().unwrap();
    assert_eq!(text(b, "#event-status").await, "Draft");
    click(b, "#to-on_sale").await;
    eventually(10, "on sale", || async { text(b, "#event-status").await == "On sale" }).await;
    // A change after publishing: the day ticket's capacity goes up to 200.
    b.find(Locator::XPath("//summary[.='Change Day ticket']")).await.unwrap().click().await.unwrap();
    fill(b, "#edit-type-1 [name=capacity]", "200").await;
    b.find(Locator::Css("#edit-type-1 button[type=submit]")).await.unwrap().click().await.unwrap();
    eventually(10, "the new capacity", || async {
        text(b, "tr[data-type='1']").await.split_whitespace().nth(4) == Some("200")
    })
    .await;
    screenshot(b, "event").await;
    event
}

/// Buys one day ticket in the shop, paying on the simulated provider's page. Returns the
/// order's code and secret.
async fn buy_in_the_shop(b: &Client, hub: &TestHub, event: i64) -> (String, String) {
    let shop = b.find(Locator::Id("shop-link")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert_eq!(shop, format!("{}/shop/{event}", hub.url));
    b.goto(&shop).await.unwrap();
    fill(b, "#quantity-1", "1").await;
    fill(b, "#buyer-name", "Ada Lovelace").await;
    fill(b, "#buyer-email", "ada@example.org").await;
    screenshot(b, "shop").await;
    click(b, "#buy").await;
    eventually(10, "the payment page", || async {
        text(b, "body").await.contains("Simulated payment provider")
    })
    .await;
    b.find(Locator::XPath("//button[starts-with(., 'Pay')]")).await.unwrap().click().await.unwrap();
    eventually(10, "the paid order", || async { text(b, "#order-status").await.starts_with("Paid") }).await;
    eventually(10, "the ticket's QR code", || async { b.find(Locator::Css(".ticket img")).await.is_ok() })
        .await;
    screenshot(b, "shop-order").await;
    let path = path(b).await;
    let mut parts = path.trim_start_matches("/shop/orders/").split('/');
    (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
}

/// Finds the order by the buyer's e-mail, refunds its ticket (after the confirmation step).
async fn refund_from_the_order_page(b: &Client, hub: &TestHub, event: i64, code: &str) {
    b.goto(&format!("{}/events/{event}", hub.url)).await.unwrap();
    click(b, "#orders-link").await;
    eventually(10, "the orders page", || async { b.find(Locator::Id("order-search")).await.is_ok() }).await;
    fill(b, "#order-search", "ADA@example").await;
    b.find(Locator::Id("order-search")).await.unwrap().send_keys("\n").await.unwrap();
    eventually(10, "the order found", || async { text(b, "#orders").await.contains(code) }).await;
    b.find(Locator::LinkText(code)).await.unwrap().click().await.unwrap();
    eventually(10, "the order's page", || async { path(b).await == format!("/orders/{code}") }).await;
    assert!(text(b, "#tickets").await.contains("admitted"), "the check-in is listed");
    click(b, "#refund-tickets input[type=checkbox]").await;
    fill(b, "#refund-tickets [name=reason]", "Cannot come").await;
    click(b, "#refund-submit").await;
    // Destructive: asked first, in place; nothing happens before "Yes".
    eventually(5, "the confirmation", || async {
        b.find(Locator::Css("#refund-tickets .confirm")).await.is_ok()
    })
    .await;
    assert_eq!(text(b, "#tickets .ticket-status").await, "valid");
    screenshot(b, "order-refund-confirm").await;
    click(b, "#refund-tickets .confirm-yes").await;
    eventually(10, "the ticket revoked", || async { text(b, "#tickets .ticket-status").await == "revoked" })
        .await;
    assert!(text(b, "#refunds").await.contains("Cannot come"));
    screenshot(b, "order").await;
}

/// Creates a gate's enrollment code on the devices page; returns its QR text.
async fn create_enrollment_code(b: &Client, hub: &TestHub) -> String {
    b.goto(&format!("{}/devices", hub.url)).await.unwrap();
    fill(b, "#code-form [name=name]", "North 1").await;
    click(b, "#code-submit").await;
    eventually(10, "the code and its QR code", || async {
        text(b, "#enrollment-text").await.starts_with("VGENROLL:")
            && b.find(Locator::Css("#enrollment .qr svg")).await.is_ok()
    })
    .await;
    screenshot(b, "devices").await;
    text(b, "#enrollment-text").await
}

/// On the devices page: the gate renamed and given a new PIN (which reaches it, sealed), then
/// revoked while it holds a scan the hub never got; its sealed export uploaded in the browser.
async fn a_lost_device_is_renamed_revoked_and_its_export_uploaded(
    b: &Client,
    hub: &TestHub,
    (device, event): (&Arc<sync_core::replica::Replica>, i64),
    ticket: &str,
    ctx: ScanContext,
) {
    let id = device.device().0;
    b.goto(&format!("{}/devices", hub.url)).await.unwrap();
    click(b, &format!("tr[data-device='{id}'] .device-edit summary")).await;
    fill(b, &format!("#edit-{id} [name=name]"), "North 2").await;
    fill(b, &format!("#edit-{id} [name=pin]"), "8642").await;
    click(b, &format!("#edit-{id} button[type=submit]")).await;
    eventually(10, "the new name in the fleet", || async {
        text(b, &format!("tr[data-device='{id}'] td")).await == "North 2"
    })
    .await;
    let transport = HttpTransport::new(&hub.url, Arc::clone(device), HUB).unwrap();
    sync_with(&**device, &transport).await.unwrap();
    assert_eq!(device.remote_settings().and_then(|s| s.pin).as_deref(), Some("8642"));

    // A scan the hub never gets; then the organizer revokes the gate (asked first, in place).
    let later = ScanContext { now: Timestamp(ctx.now.0 + 120_000), ..ctx };
    device.gate(EventId(u32::try_from(event).unwrap())).scan(ticket, &later).unwrap();
    click(b, &format!("tr[data-device='{id}'] form.inline button.danger")).await;
    click(b, &format!("tr[data-device='{id}'] .confirm-yes")).await;
    eventually(10, "the gate shown revoked", || async {
        text(b, &format!("tr[data-device='{id}']")).await.contains("Revoked")
    })
    .await;
    let told = sync_with(&**device, &transport).await;
    let Err(sync_core::sync::SyncError::Transport(sync_core::sync::TransportError::Revoked(notice))) = told
    else {
        panic!("the hub's notice: {told:?}");
    };
    let (file, count) = device.seal_unsynced(notice.notice).unwrap();
    assert_eq!(count, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("voelgoed-device-{id}-removed.vgexport"));
    std::fs::write(&path, file).unwrap();

    click(b, &format!("tr[data-device='{id}'] .device-upload summary")).await;
    let input = b.find(Locator::Css(&format!("#upload-{id} input[type=file]"))).await.unwrap();
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    click(b, &format!("#upload-{id} button[type=submit]")).await;
    eventually(10, "what the upload booked", || async {
        text(b, &format!("#imported-{id}")).await.contains("1 new to the hub: 0 door sales, 0 voids, 1 scans")
    })
    .await;
    screenshot(b, "devices-export-uploaded").await;
}

/// The device admits `ticket` at gate 1 of `event`, now, and syncs it to the hub; where and
/// when it scanned.
async fn admit_and_sync(
    device: &Arc<sync_core::replica::Replica>,
    transport: &HttpTransport<sync_core::replica::Replica>,
    event: i64,
    ticket: &str,
) -> ScanContext {
    let ctx = ScanContext {
        device: device.device(),
        gate: GateId(1),
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    let gate = device.gate(EventId(u32::try_from(event).unwrap()));
    assert_eq!(gate.scan(ticket, &ctx).unwrap().kind(), VerdictKind::Admitted);
    sync_with(&**device, transport).await.unwrap();
    ctx
}

/// A dashboard stream as a client reads it: the snapshots, as the JSON text they came as.
struct Dashboard {
    response: reqwest::Response,
    buffer: String,
}

impl Dashboard {
    async fn open(hub: &TestHub, who: &Organizer, path: &str) -> Self {
        let response = who.authorize(hub.client.get(format!("{}{path}", hub.url))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        Self { response, buffer: String::new() }
    }

    /// The next snapshot, or `None` if none comes within `within`.
    async fn next(&mut self, within: std::time::Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                    return Some(data.trim().to_owned());
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the stream stays open")));
        }
    }

    /// Snapshots until one counts `admitted`, then until none comes for half a second: the
    /// last one.
    async fn settled_at(&mut self, admitted: i64) -> Value {
        let mut last = loop {
            let data =
                self.next(std::time::Duration::from_secs(10)).await.expect("a snapshot with the check-in");
            if serde_json::from_str::<Value>(&data).unwrap()["admitted"] == admitted {
                break data;
            }
        };
        while let Some(data) = self.next(std::time::Duration::from_millis(500)).await {
            last = data;
        }
        serde_json::from_str(&last).unwrap()
    }
}

/// Many screens on one event's dashboard (a festival's staff, a screen per bar) share each
/// snapshot, yet each sees every check-in at once; a dashboard with another offline threshold,
/// or of another event, has its own figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_open_on_an_event_sees_each_check_in() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = common::event_on_sale(&owner, 10, 4500).await;
    let other = common::event_on_sale(&owner, 10, 4500).await;
    let (_, placed) = common::checkout(&hub, event, 1, None).await;
    common::press_pay(&hub, &common::start_payment(&hub, &placed).await).await;
    let order = owner.get(&format!("/api/v1/orders/{}", placed["code"].as_str().unwrap())).await;
    let ticket = order["tickets"][0]["text"].as_str().unwrap().to_owned();

    let stream = format!("/events/{event}/live/stream");
    let mut screens = Vec::new();
    for _ in 0..3 {
        screens.push(Dashboard::open(&hub, &owner, &stream).await);
    }
    let mut stricter = Dashboard::open(&hub, &owner, &format!("{stream}?offline_minutes=10")).await;
    let mut elsewhere = Dashboard::open(&hub, &owner, &format!("/events/{other}/live/stream")).await;
    for screen in screens.iter_mut().chain([&mut stricter, &mut elsewhere]) {
        let first: Value =
            serde_json::from_str(&screen.next(std::time::Duration::from_secs(10)).await.unwrap()).unwrap();
        assert_eq!(first["admitted"], 0);
    }

    let dir = tempfile::tempdir().unwrap();
    let device =
        enroll(&hub, dir.path(), &common::enrollment_code(&owner, "Gate", "gate", event).await).await;
    let transport = HttpTransport::new(&hub.url, Arc::clone(&device), HUB).unwrap();
    sync_with(&*device, &transport).await.unwrap();
    admit_and_sync(&device, &transport, event, &ticket).await;

    let mut seen = Vec::new();
    for screen in &mut screens {
        seen.push(screen.settled_at(1).await);
    }
    assert_eq!(seen[0]["inside"], 1);
    // One snapshot, made once and sent to every screen: the same moment on each.
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:?}");
    assert_eq!(stricter.settled_at(1).await["inside"], 1);
    while let Some(data) = elsewhere.next(std::time::Duration::from_millis(500)).await {
        assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["admitted"], 0, "another event's dashboard");
    }
}

/// Pages and writes an organizer must not reach: another organization's (404), a viewer's
/// writes (no buttons, and 403 anyway), a visitor (to the login page), a request without the
/// session's CSRF token (403).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_keeps_organizations_roles_and_sessions_apart() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = common::event_on_sale(&owner, 10, 4500).await;
        let (_, placed) = common::checkout(&hub, event, 1, None).await;
        common::press_pay(&hub, &common::start_payment(&hub, &placed).await).await;
        let order = placed["code"].as_str().unwrap().to_owned();
        let stranger = Organizer::create(&hub, "other").await;
        let page = |who: &Organizer, path: String| {
            let request = who.authorize(hub.client.get(format!("{}{path}", hub.url)));
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                // The live stream never ends: its first event is enough.
                if path.ends_with("/stream") && status == 200 {
                    let mut response = response;
                    let first = response.chunk().await.unwrap().unwrap_or_default();
                    return (status, String::from_utf8_lossy(&first).into_owned());
                }
                (status, response.text().await.unwrap())
            }
        };
        for path in [
            format!("/events/{event}"),
            format!("/events/{event}/live"),
            format!("/events/{event}/live/stream"),
            format!("/events/{event}/guests"),
            format!("/events/{event}/orders"),
            format!("/orders/{order}"),
            format!("/events/{event}/leases"),
            format!("/events/{event}/reports"),
            format!("/events/{event}/reports/summary.pdf"),
        ] {
            assert_eq!(page(&owner, path.clone()).await.0, 200, "{backend:?} {path}");
            let (status, body) = page(&stranger, path.clone()).await;
            assert_eq!(status, 404, "{backend:?} {path}: {body}");
            assert!(!body.contains("Summer Festival"), "{path}");
        }

        // A viewer sees the pages without a single write action, and the API refuses anyway.
        let viewer = owner.add_member(&hub, "viewer@festival.example", "viewer").await;
        for path in [
            "/events".to_owned(),
            format!("/events/{event}"),
            "/devices".to_owned(),
            format!("/orders/{order}"),
            format!("/events/{event}/guests"),
            format!("/events/{event}/leases"),
            format!("/events/{event}/reports"),
        ] {
            let (status, body) = page(&viewer, path.clone()).await;
            assert_eq!(status, 200, "{backend:?} {path}");
            let writes: Vec<&str> = body
                .match_indices("data-api=\"")
                .map(|(i, _)| &body[i..i + 30])
                .filter(|f| !f.contains("logout"))
                .collect();
            assert!(writes.is_empty(), "{backend:?} {path}: a viewer is offered {writes:?}");
        }
        for path in ["/events/new", "/members", "/audit"] {
            assert_eq!(page(&viewer, path.to_owned()).await.0, 403, "{backend:?} {path}");
        }
        let (status, _) =
            viewer.post(&format!("/api/v1/events/{event}/status"), &json!({"status": "cancelled"})).await;
        assert_eq!(status, 403);

        // A visitor is sent to log in; a write without the CSRF token is refused.
        let visitor = hub.client.get(format!("{}/events/{event}", hub.url)).send().await.unwrap();
        assert_eq!(visitor.url().path(), "/login", "{backend:?}");
        let forged = hub
            .client
            .post(format!("{}/api/v1/events/{event}/status", hub.url))
            .header("cookie", owner.cookie())
            .json(&json!({"status": "cancelled"}))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "{backend:?}");
        let (_, detail) = owner.send(Method::GET, &format!("/api/v1/events/{event}"), &Value::Null).await;
        assert_eq!(detail["status"], "on_sale", "{backend:?}: nothing changed");
        // Every form on the pages carries the session's token.
        let (_, body) = page(&owner, "/devices".to_owned()).await;
        assert_eq!(body.matches("<form").count(), body.matches("name=\"csrf\"").count());
    }
}

/// The box office's side of the console: a box office gets 5 rights from the form, the table
/// shows them, and reclaiming (after the confirmation) ends the lease; a guest is added to the
/// door's list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_grants_and_reclaims_a_box_office_lease() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = common::event_on_sale(&owner, 10, 4500).await;
    let dir = tempfile::tempdir().unwrap();
    enroll(&hub, dir.path(), &common::enrollment_code(&owner, "Door 1", "box_office", event).await).await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub).await;
    b.goto(&format!("{}/events/{event}/leases", hub.url)).await.unwrap();
    fill(&b, "#grant-form [name=quantity]", "50").await;
    click(&b, "#grant-submit").await;
    // More than capacity: refused, in words, and nothing granted.
    eventually(10, "the refusal", || async {
        !text(&b, "#grant-form .form-error, #grant-form .field-error").await.is_empty()
    })
    .await;
    fill(&b, "#grant-form [name=quantity]", "5").await;
    click(&b, "#grant-submit").await;
    eventually(10, "the lease in the table", || async { text(&b, "#leases").await.contains("Door 1") }).await;
    let row = text(&b, "#leases tbody tr").await;
    assert!(row.contains("1–5") && row.contains("active"), "{row}");
    screenshot(&b, "leases").await;
    click(&b, "#leases form[data-confirm] button").await;
    click(&b, "#leases .confirm-yes").await;
    eventually(10, "the lease reclaimed", || async {
        text(&b, "#leases tbody tr").await.contains("revoked")
    })
    .await;
    let leases = owner.get(&format!("/api/v1/events/{event}/leases")).await;
    assert_eq!(leases["leases"][0]["status"], "revoked", "{leases}");

    // The door's guest list, kept from the console.
    b.goto(&format!("{}/events/{event}/guests", hub.url)).await.unwrap();
    fill(&b, "#guest-form [name=name]", "Ada Lovelace").await;
    fill(&b, "#guest-form [name=plus_ones]", "1").await;
    click(&b, "#guest-submit").await;
    eventually(10, "Ada on the list", || async { text(&b, "#guests").await.contains("Ada Lovelace") }).await;
    assert!(text(&b, "#guests tbody tr").await.contains("0 of 2"));
    screenshot(&b, "guests").await;
    let list = owner.get(&format!("/api/v1/events/{event}/guests")).await;
    assert_eq!(list["guests"][0]["plus_ones"], 1, "{list}");
    b.close().await.unwrap();
}

/// Members and the audit log: the owner adds a viewer (a field refusal first), makes them an
/// admin, and finds both changes in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_manages_members_and_reads_the_audit_log() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    Organizer::create(&hub, "festival").await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub).await;
    b.find(Locator::LinkText("Members")).await.unwrap().click().await.unwrap();
    eventually(10, "the members page", || async { path(&b).await == "/members" }).await;
    fill(&b, "#member-form [name=email]", "grace@festival.example").await;
    fill(&b, "#member-form [name=name]", "Grace").await;
    click(&b, "#member-submit").await;
    // A new account needs a first password: said beside the field.
    eventually(10, "the password's refusal", || async {
        let Ok(field) = b.find(Locator::Css("#member-form [name=initial_password]")).await else {
            return false;
        };
        field.attr("aria-invalid").await.ok().flatten().as_deref() == Some("true")
            && text(&b, "#member-form .field-error").await.contains("required for a new account")
    })
    .await;
    fill(&b, "#member-form [name=initial_password]", "a long enough password").await;
    click(&b, "#member-submit").await;
    eventually(10, "Grace listed", || async {
        text(&b, "#members").await.contains("grace@festival.example")
    })
    .await;
    let row = "//table[@id='members']//tr[td[2]='grace@festival.example']";
    let select = b.find(Locator::XPath(&format!("{row}//select"))).await.unwrap();
    select.select_by_value("admin").await.unwrap();
    b.find(Locator::XPath(&format!("{row}//button[.='Change']"))).await.unwrap().click().await.unwrap();
    eventually(10, "Grace an admin", || async {
        let Ok(select) = b.find(Locator::XPath(&format!("{row}//select"))).await else { return false };
        select.prop("value").await.ok().flatten().as_deref() == Some("admin")
    })
    .await;
    screenshot(&b, "members").await;
    b.find(Locator::LinkText("Audit log")).await.unwrap().click().await.unwrap();
    eventually(10, "the audit log", || async { text(&b, "#audit").await.contains("member.role") }).await;
    assert!(text(&b, "#audit").await.contains("owner@festival.example"), "who did it, by e-mail");
    screenshot(&b, "audit").await;
    b.close().await.unwrap();
}

/// Someone in two organizations switches between them in one session: the pages and the API
/// follow, in their role there; an organization they do not belong to is "not found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_two_organizations_switches_between_them() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let festival = Organizer::create(&hub, "festival").await;
        let theatre = Organizer::create(&hub, "theatre").await;
        common::event_on_sale(&theatre, 10, 1000).await;
        Organizer::create(&hub, "stranger").await;
        // The festival's owner is a viewer at the theatre.
        let (status, _) = theatre
            .post(
                "/api/v1/members",
                &json!({"email": "owner@festival.example", "name": "F", "role": "viewer"}),
            )
            .await;
        assert_eq!(status, 201);
        let me = Organizer::login(&hub, "owner@festival.example").await;
        let page = |path: &str| {
            let request = me.authorize(hub.client.get(format!("{}{path}", hub.url)));
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let events = page("/events").await;
        assert!(
            events.contains("id=\"switch-org\"") && events.contains("Org theatre"),
            "{backend:?}: offered"
        );
        assert!(!events.contains("Summer Festival"), "the festival has no events");
        let (status, session) =
            me.post("/api/v1/session/organization", &json!({"organization": "theatre"})).await;
        assert_eq!(status, 200, "{backend:?} {session}");
        assert_eq!(session["role"], "viewer");
        assert!(page("/events").await.contains("Summer Festival"), "{backend:?}: the theatre's event");
        assert_eq!(me.get("/api/v1/me").await["org_id"], theatre.org_id);
        let (status, _) = me.post("/api/v1/session/organization", &json!({"organization": "stranger"})).await;
        assert_eq!(status, 404, "{backend:?}");
        let (status, _) = me.post("/api/v1/session/organization", &json!({"organization": "festival"})).await;
        assert_eq!(status, 200);
        assert_eq!(me.get("/api/v1/me").await["role"], "owner");
        assert_ne!(festival.org_id, theatre.org_id);
    }
}
