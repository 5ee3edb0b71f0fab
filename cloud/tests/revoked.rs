//! A revoked device learns it from a notice only the hub's key can sign — from the hub, or from
//! a peer that synced since — and what it never synced comes back to the hub through its
//! sealed export, uploaded by an administrator.

mod common;

use common::{BACKENDS, Organizer, TestHub, enroll, enroll_keeping_key, enrollment_code, event_on_sale};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{DoorSale, HUB, LeaseId, Payload, PaymentMethod};
use sync_core::keys::SignedDelegation;
use sync_core::manifest::Direction;
use sync_core::sync::http::{HttpTransport, Identity};
use sync_core::sync::{SyncError, TransportError, sync_with};
use sync_core::validate::ScanContext;

fn revoked_at(result: Result<sync_core::sync::SyncReport, SyncError>) -> Option<i64> {
    match result {
        Err(SyncError::Transport(TransportError::Revoked(notice))) => Some(notice.notice.revoked_at.0),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_box_office_is_told_and_its_unsynced_sales_come_back_sealed() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 100, 4500).await;
        let event_id = EventId(u32::try_from(event).unwrap());
        let (desk, desk_key) =
            enroll_keeping_key(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await)
                .await;
        let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Gate", "gate", event).await).await;
        let (status, granted) = owner
            .post(
                &format!("/api/v1/events/{event}/leases"),
                &json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 10}),
            )
            .await;
        assert_eq!(status, 201, "{granted}");
        let to_hub = HttpTransport::new(&hub.url, Arc::clone(&desk), HUB).unwrap();
        sync_with(&*desk, &to_hub).await.unwrap();
        let lease = LeaseId(granted["id"].as_u64().unwrap());
        let grant = desk.event_state(event_id).leases[&lease].grant.clone().unwrap().1;
        let delegation = SignedDelegation::from_bytes(&grant.delegation).unwrap();

        // Offline, the desk sells two tickets that never reach the hub …
        let now = Timestamp::now();
        for serial in [1, 2] {
            desk_key.issue(&delegation, Serial(serial), TicketTypeId(1), None, now).unwrap();
        }
        let sale = DoorSale {
            receipt: 1,
            lease,
            ticket_type: TicketTypeId(1),
            serials: vec![Serial(1), Serial(2)],
            total_minor: 9_000,
            currency: "EUR".into(),
            payment: PaymentMethod::Cash,
        };
        desk.record(event_id, Payload::DoorSale(sale)).unwrap();
        // … and the organizer revokes it.
        let (status, _) =
            owner.post(&format!("/api/v1/devices/{}/revoke", desk.device().0), &json!({})).await;
        assert_eq!(status, 204);

        // Its next sync brings the hub's notice, verified against the hub's key.
        let told = revoked_at(sync_with(&*desk, &to_hub).await).expect("the hub's notice");
        assert!((told - now.0).abs() < 60_000, "{backend:?}: revoked just now");

        // A gate that synced since holds the notice, and hands it to the desk on the LAN.
        let gate_to_hub = HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap();
        sync_with(&*gate, &gate_to_hub).await.unwrap();
        assert!(gate.revocation_notice(desk.device()).is_some());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sync_core::sync::http::serve(listener, Arc::clone(&gate), async {
            let _ = stopped.await;
        }));
        let to_peer = HttpTransport::connect(&peer_url, Arc::clone(&desk)).await.unwrap();
        assert_eq!(
            revoked_at(sync_with(&*desk, &to_peer).await),
            Some(told),
            "{backend:?}: told by the peer"
        );
        drop(stop);

        // What it never synced, sealed to the hub; the administrator uploads it.
        let notice =
            sync_core::revoked::RevocationNotice { device: desk.device(), revoked_at: Timestamp(told) };
        let (file, count) = desk.seal_unsynced(notice).unwrap();
        assert_eq!(count, 1, "the door sale");
        let upload = |bytes: Vec<u8>, device: u32| {
            let request = owner
                .authorize(hub.post(&format!("/api/v1/devices/{device}/exports")))
                .header("content-type", "application/octet-stream")
                .body(bytes);
            async move {
                let r = request.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let mut altered = file.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        let (status, problem) = upload(altered, desk.device().0).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("file")), "{backend:?}: {problem}");
        let (status, problem) = upload(file.clone(), gate.device().0).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("device_not_revoked")), "{problem}");
        let (status, imported) = upload(file.clone(), desk.device().0).await;
        assert_eq!(status, 201, "{backend:?}: {imported}");
        assert_eq!((imported["entries"].as_u64(), imported["imported"].as_u64()), (Some(1), Some(1)));
        assert_eq!(imported["door_sales"], 1);
        let orders = owner.get(&format!("/api/v1/events/{event}/orders")).await;
        let door: Vec<&Value> =
            orders["orders"].as_array().unwrap().iter().filter(|o| o["channel"] == "box_office").collect();
        assert_eq!(door.len(), 1, "{backend:?}: the sale is booked: {orders}");
        assert_eq!(door[0]["total_minor"], 9_000);
        // Uploaded twice, it changes nothing.
        let (status, again) = upload(file, desk.device().0).await;
        assert_eq!((status, again["imported"].as_u64()), (201, Some(0)));
        let audit = owner.get("/api/v1/audit").await;
        let line =
            audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "device.export_import");
        assert_eq!(line.unwrap()["detail"]["from_revoked_device"], true);

        // The gate was not revoked: nothing tells it otherwise, and it keeps syncing.
        sync_with(&*gate, &gate_to_hub).await.unwrap();
        let ctx = ScanContext { device: gate.device(), gate: GateId(1), direction: Direction::Entry, now };
        assert!(gate.gate(event_id).scan("not a ticket", &ctx).is_ok());
    }
}

#[tokio::test]
async fn a_peer_without_the_notice_or_a_forged_one_tells_nothing() {
    // A server answering 410 with a notice signed by another key than the hub's.
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Gate", "gate", event).await).await;
    let forger = sync_core::keys::DeviceKey::generate().unwrap();
    let forged = sync_core::revoked::SignedNotice::sign(&forger, gate.device(), Timestamp::now());
    let app = axum::Router::new().route(
        "/v1/sync",
        axum::routing::post(move || async move { sync_core::sync::http::revoked(&forged) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let transport = HttpTransport::new(&url, Arc::clone(&gate), HUB).unwrap();
    let result = sync_with(&*gate, &transport).await;
    assert!(
        matches!(result, Err(SyncError::Transport(TransportError::Refused { status: 410, .. }))),
        "a forged notice is an ordinary refusal: {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_renames_a_device_and_sets_its_pin_which_only_that_device_reads() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 0).await;
    let event_id = EventId(u32::try_from(event).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Gate", "gate", event).await).await;
    let other = enroll(&hub, dir.path(), &enrollment_code(&owner, "Other", "gate", event).await).await;
    let path = format!("/api/v1/devices/{}", gate.device().0);
    let patch = async |body: Value| owner.send(reqwest::Method::PATCH, &path, &body).await;

    // Bad changes are refused whole, naming the field.
    for (body, field) in [
        (json!({"pin": "12a4"}), "pin"),
        (json!({"pin": "123"}), "pin"),
        (json!({"name": " ", "pin": "8642"}), "name"),
    ] {
        let (status, problem) = patch(body.clone()).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{body}: {problem}");
    }
    let (status, _) = patch(json!({"colour": "red"})).await;
    assert_eq!(status, 422);

    let (status, body) = patch(json!({"name": "North 2", "pin": "8642"})).await;
    assert_eq!(status, 204, "{body}");
    for device in [&gate, &other] {
        sync_with(&**device, &HttpTransport::new(&hub.url, Arc::clone(device), HUB).unwrap()).await.unwrap();
    }
    // The name, in the manifest every device reads …
    let manifest = other.manifest(event_id).unwrap();
    assert_eq!(manifest.device_name(gate.device()), Some("North 2"));
    // … the PIN, for the one device only; nowhere in the audit log.
    let change = gate.remote_settings().expect("the gate's new PIN");
    assert_eq!(change.pin.as_deref(), Some("8642"));
    assert_eq!(other.remote_settings(), None);
    let audit = owner.get("/api/v1/audit").await;
    assert!(!audit.to_string().contains("8642"), "{audit}");
    assert!(audit.to_string().contains("pin_changed"));
    // A later change replaces it.
    let (status, _) = patch(json!({"pin": "97531"})).await;
    assert_eq!(status, 204);
    sync_with(&*gate, &HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap()).await.unwrap();
    assert_eq!(gate.remote_settings().unwrap().pin.as_deref(), Some("97531"));

    // A revoked device takes no more changes; another organization's is not found.
    let (status, _) = owner.post(&format!("{path}/revoke"), &json!({})).await;
    assert_eq!(status, 204);
    let (status, problem) = patch(json!({"pin": "1111"})).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("device_revoked")));
    let stranger = Organizer::create(&hub, "stranger").await;
    let (status, _) = stranger
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/devices/{}", other.device().0),
            &json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(status, 404);
}
