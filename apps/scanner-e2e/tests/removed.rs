//! A lost or stolen device, end to end, for both apps: the real apps under Xvfb, the real hub
//! behind a network cable the test unplugs.
//!
//! Each app enrolls, works online, loses the network, records what then cannot reach the hub
//! (a door sale with its receipt; a scan), and is revoked by the organizer meanwhile. When the
//! network returns, the hub's signed notice reaches it: the screen says the organizer removed
//! it, the files on disk are gone but for the sealed export and the marker (read here from the
//! disk itself, for guest and cashier names), and the export uploaded to the hub books every
//! sale and scan it held. Screenshots go to `target/e2e-screenshots/`.

use fantoccini::Client;
use scanner_e2e::{
    Cable, Driver, Hub, Owner, Xvfb, attr, binary, click, eventually, fill, screenshot, shown, text,
    type_keys,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_holding(&path, needle));
        } else if std::fs::read(&path)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

/// What is left in the data directory (the tests' driver logs aside).
fn left_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("driver"))
        .collect();
    names.sort();
    names
}

/// The enrollment code the organizer makes for a new device `name` of `role`.
async fn code_for(owner: &Owner, event: i64, name: &str, role: &str) -> String {
    let body = json!({"name": name, "role": role, "events": [event]});
    let (status, code) = owner.post("/api/v1/devices/enrollment-codes", &body).await;
    assert_eq!(status, 201, "{code}");
    code["qr_text"].as_str().unwrap().to_owned()
}

async fn device_id(owner: &Owner, name: &str) -> i64 {
    let devices = owner.get("/api/v1/devices").await;
    let device = devices["devices"].as_array().unwrap().iter().find(|d| d["name"] == name).cloned();
    device.unwrap_or_else(|| panic!("{name} among {devices}"))["id"].as_i64().unwrap()
}

/// Cuts the network, waits until the app's badge says so.
async fn unplug(app: &Client, cable: &Cable) {
    cable.unplug();
    eventually(40, "the offline badge", || async {
        attr(app, "badge", "data-link").await.as_deref() == Some("offline")
    })
    .await;
}

/// Revokes `device` while the app is offline, plugs the network back in, and waits for the
/// removed screen; returns the export file's bytes (its path as the screen shows it).
async fn revoke_and_reconnect(
    app: &Client,
    owner: &Owner,
    cable: &Cable,
    device: i64,
    name: &str,
) -> Vec<u8> {
    // The badge follows the scan it counts a moment later: wait for it rather than race it.
    eventually(10, "something waiting to sync on the badge", || async {
        attr(app, "badge-pending", "data-count").await.as_deref().is_some_and(|n| n != "0")
    })
    .await;
    let (status, body) = owner.post(&format!("/api/v1/devices/{device}/revoke"), &json!({})).await;
    assert_eq!(status, 204, "{body}");
    cable.plug();
    // The link retries with a backoff of up to 30 s.
    eventually(60, "the removed screen", || shown(app, "removed-screen")).await;
    let said = text(app, "removed-screen").await;
    assert!(said.contains("The organizer removed this device"), "{said}");
    assert!(said.contains("had not reached the organizer yet"), "{said}");
    assert_eq!(text(app, "place").await, "Removed by the organizer");
    screenshot(app, &format!("{name}-removed")).await;
    std::fs::read(text(app, "removed-export").await).expect("the export file the screen names")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_told_wiped_and_what_it_held_is_booked_from_its_export() {
    let hub_data = tempfile::tempdir().unwrap();
    let (hub, cable) = Hub::start_behind(hub_data.path()).await;
    let owner = hub.owner().await;
    let x = Xvfb::start();
    box_office(&hub, &owner, &cable, &x).await;
    scanner(&hub, &owner, &cable, &x).await;
}

/// The box office: a guest list on the device, a shift, an offline sale with its receipt.
async fn box_office(hub: &Hub, owner: &Owner, cable: &Cable, x: &Xvfb) {
    let event = hub.event;
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(&x.display, data.path());
    let app = driver.launch(&binary("boxoffice")).await;
    eventually(10, "the enrollment screen", || shown(&app, "enroll-screen")).await;
    fill(&app, "enroll-text", &code_for(owner, event, "Door 9", "box_office").await).await;
    fill(&app, "enroll-pin", "1357").await;
    click(&app, "enroll-submit").await;
    eventually(15, "the open-shift screen", || shown(&app, "open-screen")).await;
    let door = device_id(owner, "Door 9").await;
    let lease = json!({"device_id": door, "ticket_type": 1, "quantity": 3});
    let (status, body) = owner.post(&format!("/api/v1/events/{event}/leases"), &lease).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        owner.post(&format!("/api/v1/events/{event}/guests"), &json!({"name": "Ada Lovelace"})).await;
    assert_eq!(status, 201, "{body}");
    fill(&app, "open-cashier", "Quintessa").await;
    fill(&app, "open-float", "100.00").await;
    click(&app, "open-submit").await;
    eventually(20, "the sale screen with the lease's 3 rights", || async {
        shown(&app, "sell-screen").await && attr(&app, "type-1", "data-left").await.as_deref() == Some("3")
    })
    .await;
    eventually(20, "the guest list on the device's disk", || async {
        !files_holding(data.path(), "Ada Lovelace").is_empty()
    })
    .await;

    // Offline, a pair for cash, and its receipt printed to a file.
    unplug(&app, cable).await;
    type_keys(&app, "1").await;
    type_keys(&app, "2\n").await;
    type_keys(&app, "100\n").await;
    eventually(10, "the hand-over", || shown(&app, "handover")).await;
    click(&app, "handover-pdf").await;
    eventually(10, "the receipt's path", || async { text(&app, "handover-file").await.contains(".pdf") })
        .await;
    click(&app, "handover-done").await;
    assert!(!files_holding(data.path(), "Quintessa").is_empty(), "the cashier's name is on disk");

    let export = revoke_and_reconnect(&app, owner, cable, door, "boxoffice").await;
    // Wiped: what is left is the marker and the sealed export; no name is anywhere on disk.
    assert_eq!(left_in(data.path()), ["exports", "removed.json"]);
    for name in ["Ada Lovelace", "Quintessa"] {
        assert_eq!(files_holding(data.path(), name), Vec::<PathBuf>::new(), "{name} is gone from disk");
    }
    // Selling is refused in words (the screen offers nothing else, the command says why).
    let refused = app
        .execute(
            "return window.__TAURI__.core.invoke('open_shift', {cashier: 'x', floatMinor: 0}).catch(String);",
            vec![],
        )
        .await
        .unwrap();
    assert!(refused.as_str().unwrap_or_default().contains("organizer removed this device"), "{refused}");

    // The administrator uploads the export: the sale is booked, the lease counts it.
    let path = format!("/api/v1/devices/{door}/exports");
    let (status, imported) = owner.upload(&path, export.clone()).await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!((imported["door_sales"].as_u64(), imported["imported"].as_u64()), (Some(1), Some(1)));
    let orders = owner.get(&format!("/api/v1/events/{event}/orders")).await;
    let door_orders = orders["orders"].as_array().unwrap().iter().filter(|o| o["channel"] == "box_office");
    assert_eq!(door_orders.count(), 1, "{orders}");
    let leases = owner.get(&format!("/api/v1/events/{event}/leases")).await;
    let sold: Vec<&Value> =
        leases["leases"].as_array().unwrap().iter().filter(|l| l["device_id"] == door).collect();
    assert_eq!(sold[0]["sold"].as_i64(), Some(2), "{leases}");
    let (status, again) = owner.upload(&path, export).await;
    assert_eq!((status, again["imported"].as_u64()), (201, Some(0)), "uploaded twice, booked once");
    app.close().await.unwrap();
}

/// The scanner: an offline scan.
async fn scanner(hub: &Hub, owner: &Owner, cable: &Cable, x: &Xvfb) {
    let event = hub.event;
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(&x.display, data.path());
    let app = driver.launch(&binary("scanner")).await;
    eventually(10, "the enrollment screen", || shown(&app, "enroll-screen")).await;
    fill(&app, "enroll-text", &code_for(owner, event, "Gate 9", "gate").await).await;
    fill(&app, "enroll-pin", "2468").await;
    click(&app, "enroll-submit").await;
    eventually(15, "the gates of the event", || async {
        shown(&app, "settings-form").await && !shown(&app, "settings-wait").await
    })
    .await;
    click(&app, "settings-save").await;
    eventually(5, "the scan screen", || shown(&app, "scan-screen")).await;
    let gate = device_id(owner, "Gate 9").await;
    let (_, _, ticket) = hub.buy_ticket("Bea").await;
    eventually(20, "the buyer's ticket known on the device", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
    })
    .await;

    unplug(&app, cable).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_keys(&app, &format!("{ticket}\n")).await;
    eventually(5, "admitted offline", || async {
        attr(&app, "verdict", "class").await.as_deref() == Some("green")
    })
    .await;

    let export = revoke_and_reconnect(&app, owner, cable, gate, "scanner").await;
    assert_eq!(left_in(data.path()), ["exports", "removed.json"]);
    assert!(!shown(&app, "scan-screen").await, "no scanning");
    let (status, imported) = owner.upload(&format!("/api/v1/devices/{gate}/exports"), export).await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!((imported["scans"].as_u64(), imported["imported"].as_u64()), (Some(1), Some(1)), "{imported}");
    app.close().await.unwrap();
}
