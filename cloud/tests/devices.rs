//! A gate device's whole life against the real hub, on both backends: enrolled with a code,
//! handed its event's manifest through sync, scanning offline, its scans reaching the hub's
//! check-in records, learning of refunds as revocations — and refused the moment it is revoked.

mod common;

use cloud::db::Backend;
use common::{
    BACKENDS, Organizer, TestHub, checkout, enroll, event_on_sale, festival, order, press_pay, start_payment,
};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::HUB;
use sync_core::keys::DeviceKey;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::store::SyncStore;
use sync_core::sync::{SyncError, TransportError, sync_with};
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

async fn issue(hub: &TestHub, org: i64, event: i64, serial: u32) -> String {
    let master = cloud::crypto::MasterKey::from_bytes(common::MASTER_KEY);
    let mut tx = hub.db.tenant(org).await.unwrap();
    let key = cloud::events::signing_key(&mut tx, &master, event).await.unwrap();
    key.issue(Serial(serial), TicketTypeId(1), None).to_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_gate_syncs_scans_offline_and_is_cut_off_when_revoked() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let organizer = Organizer::create(&hub, "festival").await;
        let (status, created) = organizer.post("/api/v1/events", &festival()).await;
        assert_eq!(status, 201, "{backend:?}: {created}");
        let event = created["id"].as_i64().unwrap();

        let (status, code) = organizer
            .post(
                "/api/v1/devices/enrollment-codes",
                &json!({"name": "Main gate 1", "role": "gate", "events": [event]}),
            )
            .await;
        assert_eq!(status, 201, "{code}");
        let code = code["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX: {code}");
        let device = enroll(&hub, dir.path(), &code).await;

        // A code enrolls one device only.
        let again = hub
            .post("/api/v1/devices/enroll")
            .json(&json!({"code": code, "public_key": hex::encode(DeviceKey::generate().unwrap().public_key()), "app_version": "t"}))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 422);
        assert!(again.text().await.unwrap().contains("unknown, used or expired"));

        // Before syncing, the device knows nothing of the event and admits nobody.
        let transport = HttpTransport::new(&hub.url, Arc::clone(&device), HUB).unwrap();
        let report = sync_with(&*device, &transport).await.unwrap();
        assert!(report.received > 0, "{backend:?}: the manifest arrives through sync");
        let event_id = EventId(u32::try_from(event).unwrap());
        let manifest = device.manifest(event_id).expect("the hub's manifest");
        assert_eq!(manifest.name, "Summer Festival");
        assert!(manifest.devices.iter().any(|d| d.id == device.device()), "the device is listed");

        // Offline, the gate admits once and refuses the copy.
        let gate = device.gate(event_id);
        let ctx = ScanContext {
            device: device.device(),
            gate: GateId(1),
            direction: Direction::Entry,
            now: Timestamp::now(),
        };
        let ticket = issue(&hub, organizer.org_id, event, 7).await;
        assert_eq!(gate.scan(&ticket, &ctx).unwrap().kind(), VerdictKind::Admitted);
        let later = ScanContext { now: Timestamp(ctx.now.0 + 60_000), ..ctx };
        assert_eq!(gate.scan(&ticket, &later).unwrap().kind(), VerdictKind::AlreadyInside);
        let mut forged: Vec<char> = issue(&hub, organizer.org_id, event, 8).await.chars().collect();
        let middle = forged.len() / 2;
        forged[middle] = if forged[middle] == '0' { '1' } else { '0' };
        let forged: String = forged.into_iter().collect();
        assert_ne!(gate.scan(&forged, &later).unwrap().kind(), VerdictKind::Admitted);

        // Back online: the hub records the check-ins and the device as seen with nothing pending.
        let report = sync_with(&*device, &transport).await.unwrap();
        assert!(report.sent >= 2, "{report:?}");
        let checkins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM checkins WHERE event_id = $1 AND serial = 7")
                .bind(event)
                .fetch_one(&mut *hub.inspect().await)
                .await
                .unwrap();
        assert_eq!(checkins, 2, "{backend:?}: the admission and the refused copy");
        let devices = organizer.get("/api/v1/devices").await;
        let listed = &devices["devices"][0];
        assert_eq!(listed["name"], "Main gate 1");
        assert_eq!((listed["role"].as_str(), listed["app_version"].as_str()), (Some("gate"), Some("test")));
        assert_eq!(listed["events"], json!([event]));
        assert_eq!(listed["pending_entries"], 0);
        assert!(listed["last_seen_at"].is_i64());

        // Syncing again sends nothing twice and changes nothing.
        let report = sync_with(&*device, &transport).await.unwrap();
        assert_eq!((report.sent, report.received), (0, 0), "{report:?}");

        // Revoked: the hub refuses it at once with its signed notice (tests/revoked.rs follows
        // the device from there), and the manifest no longer lists it.
        let id = listed["id"].as_i64().unwrap();
        let (status, _) = organizer.post(&format!("/api/v1/devices/{id}/revoke"), &json!({})).await;
        assert_eq!(status, 204);
        match sync_with(&*device, &transport).await {
            Err(SyncError::Transport(TransportError::Revoked(notice))) => {
                assert_eq!(i64::from(notice.notice.device.0), id);
            }
            other => panic!("{backend:?}: a revoked device must be refused, got {other:?}"),
        }
        let manifest = organizer.get(&format!("/api/v1/events/{event}/manifest")).await;
        assert!(
            !manifest["devices"].as_array().unwrap().iter().any(|d| d["id"] == id),
            "{backend:?}: {manifest}"
        );
    }
}

#[tokio::test]
async fn a_venue_enrolls_sixty_devices_from_one_address_without_waiting() {
    // Found by the fleet simulator: enrollment shared the login limit (20, then one every 3 s),
    // so a venue's gates behind one NAT address waited minutes.
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "venue").await;
    let (_, created) = owner.post("/api/v1/events", &festival()).await;
    let event = created["id"].as_i64().unwrap();
    for n in 0..60 {
        let code = common::enrollment_code(&owner, &format!("Gate {n}"), "gate", event).await;
        let key = hex::encode(DeviceKey::generate().unwrap().public_key());
        let response = hub
            .post("/api/v1/devices/enroll")
            .json(&json!({"code": code, "public_key": key, "app_version": "t"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "device {n}: {}", response.text().await.unwrap());
    }
}

#[tokio::test]
async fn bad_enrollment_requests_change_nothing() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let organizer = Organizer::create(&hub, "festival").await;
        let (_, created) = organizer.post("/api/v1/events", &festival()).await;
        let event = created["id"].as_i64().unwrap();
        let (status, problem) = organizer
            .post("/api/v1/devices/enrollment-codes", &json!({"name": "x", "role": "gate", "events": [999]}))
            .await;
        assert_eq!(status, 422);
        assert_eq!(problem["detail"], "events: event 999 does not exist", "{problem}");
        let (_, code) = organizer
            .post(
                "/api/v1/devices/enrollment-codes",
                &json!({"name": "x", "role": "gate", "events": [event]}),
            )
            .await;
        let code = code["code"].as_str().unwrap();

        let attempt = |body: Value| {
            let request = hub.post("/api/v1/devices/enroll").json(&body);
            async move {
                let r = request.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (status, problem) =
            attempt(json!({"code": code, "public_key": "not hex", "app_version": "t"})).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("public_key")), "{problem}");
        // All zeros is a small-order point, not a key anyone holds.
        let (status, problem) =
            attempt(json!({"code": code, "public_key": "00".repeat(32), "app_version": "t"})).await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("not a valid Ed25519 public key"));
        let (status, _) = attempt(json!({"code": code, "public_key": 5})).await;
        assert_eq!(status, 422);

        // The code was not spent by any of those: it still enrolls.
        let key = DeviceKey::generate().unwrap();
        let (status, enrolled) =
            attempt(json!({"code": code, "public_key": hex::encode(key.public_key()), "app_version": "t"}))
                .await;
        assert_eq!(status, 201, "{backend:?}: {enrolled}");
        let devices = organizer.get("/api/v1/devices").await;
        assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_reaches_the_gate_as_a_revocation() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 100, 3000).await;
        let (status, placed) = checkout(&hub, event, 3, None).await;
        assert_eq!(status, 201);
        press_pay(&hub, &start_payment(&hub, &placed).await).await;
        let paid = order(&hub, &placed).await;
        let texts: Vec<String> = paid["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(texts.len(), 3, "{paid}");

        let (_, code) = owner
            .post(
                "/api/v1/devices/enrollment-codes",
                &json!({"name": "Gate", "role": "gate", "events": [event]}),
            )
            .await;
        let device = enroll(&hub, dir.path(), code["code"].as_str().unwrap()).await;
        let transport = HttpTransport::new(&hub.url, Arc::clone(&device), HUB).unwrap();
        sync_with(&*device, &transport).await.unwrap();

        // Gate staff cannot refund; the box office can, once per idempotency key.
        let (status, _) = owner
            .post(
                "/api/v1/members",
                &json!({"email": "gate@festival.example", "name": "G", "role": "gate_staff",
                                             "initial_password": common::PASSWORD}),
            )
            .await;
        assert_eq!(status, 201);
        let gate_staff = Organizer::login(&hub, "gate@festival.example").await;
        let order_code = placed["code"].as_str().unwrap();
        let refund_path = format!("/api/v1/orders/{order_code}/refunds");
        let body = json!({"serials": [2], "reason": "cannot come"});
        assert_eq!(gate_staff.post(&refund_path, &body).await.0, 403, "{backend:?}");
        let refund = |key: &'static str| {
            let request = owner
                .client
                .post(format!("{}{refund_path}", owner.hub_url))
                .header("idempotency-key", key)
                .json(&body);
            owner.authorize(request)
        };
        let first = refund("refund-1").send().await.unwrap();
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        assert_eq!(
            (first["amount_minor"].as_i64(), first["status"].as_str()),
            (Some(3000), Some("succeeded")),
            "{first}"
        );
        let again: Value = refund("refund-1").send().await.unwrap().json().await.unwrap();
        assert_eq!(again["id"], first["id"], "the same refund, not a second one");
        let (status, problem) = owner.post(&refund_path, &body).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("ticket_not_refundable")),
            "ticket 2 is refunded already: {problem}"
        );

        // The gate learns it on its next sync, and refuses that ticket only.
        sync_with(&*device, &transport).await.unwrap();
        let gate = device.gate(EventId(u32::try_from(event).unwrap()));
        let ctx = ScanContext {
            device: device.device(),
            gate: GateId(1),
            direction: Direction::Entry,
            now: Timestamp::now(),
        };
        assert_eq!(gate.scan(&texts[1], &ctx).unwrap().kind(), VerdictKind::Revoked, "{backend:?}");
        assert_eq!(gate.scan(&texts[0], &ctx).unwrap().kind(), VerdictKind::Admitted);
        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(detail["ticket_types"][0]["sold"], 2, "the refunded ticket is on sale again");
        let link = common::order_url(&placed);
        let refunded =
            owner.client.get(format!("{}{link}/tickets/2/qr.png", owner.hub_url)).send().await.unwrap();
        assert_eq!(refunded.status(), 410, "a refunded ticket is no longer delivered");
        let staff_view = owner.get(&format!("/api/v1/orders/{order_code}")).await;
        assert_eq!(staff_view["refunded_minor"], 3000);
        assert_eq!(staff_view["tickets"][1]["status"], "revoked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_instances_wake_each_others_devices_through_postgres() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let other = hub.another_instance().await;
    let dir = tempfile::tempdir().unwrap();
    let owner = Organizer::create(&hub, "festival").await;
    let (_, created) = owner.post("/api/v1/events", &festival()).await;
    let event = created["id"].as_i64().unwrap();
    let mut devices = Vec::new();
    for name in ["North", "South"] {
        let (_, code) = owner
            .post(
                "/api/v1/devices/enrollment-codes",
                &json!({"name": name, "role": "gate", "events": [event]}),
            )
            .await;
        devices.push(enroll(&hub, dir.path(), code["code"].as_str().unwrap()).await);
    }
    // North talks to the first instance, South to the second (a load balancer's choice).
    let north = HttpTransport::new(&hub.url, Arc::clone(&devices[0]), HUB).unwrap();
    let south = HttpTransport::new(&other.url, Arc::clone(&devices[1]), HUB).unwrap();
    sync_with(&*devices[0], &north).await.unwrap();
    sync_with(&*devices[1], &south).await.unwrap();

    // North holds a long-poll open on the first instance for up to 20 s …
    let waiting = {
        let (device, transport) = (Arc::clone(&devices[0]), north);
        tokio::spawn(async move { sync_core::sync::live::poll_once(&*device, &transport, 20_000).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // … South scans and syncs through the second; the first hears of it through PostgreSQL.
    let ticket = issue(&hub, owner.org_id, event, 1).await;
    let event_id = EventId(u32::try_from(event).unwrap());
    let ctx = ScanContext {
        device: devices[1].device(),
        gate: GateId(1),
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    assert_eq!(devices[1].gate(event_id).scan(&ticket, &ctx).unwrap().kind(), VerdictKind::Admitted);
    sync_with(&*devices[1], &south).await.unwrap();
    let woke = tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await;
    assert!(
        matches!(woke, Ok(Ok(Ok(sync_core::sync::live::Polled::Delta(_))))),
        "the long-poll must answer with South's scan, not time out: {woke:?}"
    );
    // North now refuses the same ticket: it was admitted at South.
    let later = ScanContext { device: devices[0].device(), now: Timestamp(ctx.now.0 + 60_000), ..ctx };
    assert_eq!(devices[0].gate(event_id).scan(&ticket, &later).unwrap().kind(), VerdictKind::AlreadyInside);
}

/// A change devices sync wakes their long-polls when it commits, whichever handler made it: a
/// new discount rule used to reach a box office only at its next exchange (its handler never
/// woke the devices). On PostgreSQL the box office waits on another instance than the one
/// the organizer's change went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_discount_rule_wakes_the_box_offices_long_poll_at_once() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let other = match backend {
            Backend::Postgres => Some(hub.another_instance().await),
            Backend::Sqlite => None,
        };
        let url = other.as_ref().map_or(&hub.url, |o| &o.url);
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "theatre").await;
        let event = event_on_sale(&owner, 100, 3000).await;
        let code = common::enrollment_code(&owner, "Box office", "box_office", event).await;
        let device = enroll(&hub, dir.path(), &code).await;
        let transport = HttpTransport::new(url, Arc::clone(&device), HUB).unwrap();
        sync_with(&*device, &transport).await.unwrap();
        let before = SyncStore::have(&*device).await.unwrap().get(HUB);

        let waiting = {
            let device = Arc::clone(&device);
            tokio::spawn(async move { sync_core::sync::live::poll_once(&*device, &transport, 20_000).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let rule =
            json!({"name": "Four or more", "effect": {"mode": "percent", "percent": 30}, "min_quantity": 4});
        let (status, made) = owner.post(&format!("/api/v1/events/{event}/discounts"), &rule).await;
        assert_eq!(status, 201, "{made}");
        let woke = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert!(
            matches!(woke, Ok(Ok(Ok(sync_core::sync::live::Polled::Delta(_))))),
            "{backend:?}: the long-poll must answer with the rule, not wait out its 20 s: {woke:?}"
        );
        let after = SyncStore::have(&*device).await.unwrap().get(HUB);
        assert!(
            after > before,
            "{backend:?}: the box office holds the hub's new entry ({before} -> {after})"
        );
    }
}

#[tokio::test]
async fn an_enrollment_that_fails_halfway_leaves_the_code_unspent_and_no_device_behind() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let (_, created) = owner.post("/api/v1/events", &festival()).await;
        let event = created["id"].as_i64().unwrap();
        let code = common::enrollment_code(&owner, "North 1", "gate", event).await;
        // A failure injected after the code is spent and the device stored: linking the device
        // to its event fails (as a dropped connection or a full disk would).
        let admin = cloud::db::Db::connect(hub.db.url()).await.unwrap();
        let inject = match backend {
            Backend::Sqlite => vec![
                "CREATE TRIGGER injected_failure BEFORE INSERT ON device_events \
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            ],
            Backend::Postgres => vec![
                "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
                "CREATE TRIGGER injected_failure BEFORE INSERT ON device_events \
                 FOR EACH ROW EXECUTE FUNCTION injected_failure()",
            ],
        };
        for sql in inject {
            sqlx::query(sql).execute(admin.pool()).await.unwrap();
        }
        let key = DeviceKey::generate().unwrap();
        let body = json!({"code": code, "public_key": hex::encode(key.public_key()), "app_version": "t"});
        let failed = hub.post("/api/v1/devices/enroll").json(&body).send().await.unwrap();
        assert_eq!(failed.status(), 500, "{backend:?}");
        assert_eq!(failed.json::<Value>().await.unwrap()["code"], "internal");
        // Nothing of it happened.
        assert_eq!(
            hub.number("SELECT COUNT(*) FROM devices").await,
            0,
            "{backend:?}: no half-enrolled device"
        );
        assert_eq!(hub.number("SELECT COUNT(*) FROM enrollment_codes WHERE used_at IS NOT NULL").await, 0);
        assert_eq!(hub.number("SELECT COUNT(*) FROM audit_log WHERE action = 'device.enroll'").await, 0);

        // With the failure gone, the same code enrolls the same key.
        let drop = match backend {
            Backend::Sqlite => "DROP TRIGGER injected_failure",
            Backend::Postgres => "DROP TRIGGER injected_failure ON device_events",
        };
        sqlx::query(drop).execute(admin.pool()).await.unwrap();
        let enrolled = hub.post("/api/v1/devices/enroll").json(&body).send().await.unwrap();
        assert_eq!(enrolled.status(), 201, "{backend:?}");
        assert_eq!(hub.number("SELECT COUNT(*) FROM devices").await, 1);
        assert_eq!(hub.number("SELECT COUNT(*) FROM device_events").await, 1);
    }
}
