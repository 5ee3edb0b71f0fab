//! The scanner as a kiosk, end to end: the real app under Xvfb with a real window manager
//! (openbox), the real hub, and the X tools a person at the device stands for (Alt+F4, another
//! window popping up, a hand scanner typing into whatever has the focus).
//!
//! Staff turn kiosk mode on behind the PIN. The window is then full screen and above the rest;
//! Alt+F4 does not close it; a window that takes the focus loses it again, and a hand scanner's
//! code still reaches the gate. The organizer renames the device and sets a new PIN from the
//! hub: the old PIN no longer opens anything, the new one quits the app. Kiosk mode comes back
//! with the app; turned off, the same Alt+F4 and the same stolen focus behave as on any
//! desktop, which shows it was the kiosk that held them before.

use fantoccini::Client;
use scanner_e2e::{
    Driver, Hub, WindowManager, Xvfb, attr, binary, click, eventually, fill, screenshot, shown, text, x11,
};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TITLE: &str = "^Voelgoed Scanner$";

/// The scanner's X window (the one openbox shows), if it is open.
fn scanner_window(display: &str) -> Option<String> {
    let found = x11(display, "xdotool", &["search", "--onlyvisible", "--name", TITLE]);
    found.lines().next().map(str::to_owned)
}

/// Width × height of X window `id`.
fn size(display: &str, id: &str) -> (u32, u32) {
    let shell = x11(display, "xdotool", &["getwindowgeometry", "--shell", id]);
    let value =
        |key: &str| shell.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.parse().ok()).unwrap_or(0);
    (value("WIDTH="), value("HEIGHT="))
}

/// The window that has the keyboard now, as the window manager says.
fn active(display: &str) -> String {
    x11(display, "xdotool", &["getactivewindow"])
}

/// Opens a window of another program and gives it the focus, as a pop-up or a thief's
/// second program would. Returns it, to close later, with its X window id.
fn steal_focus(display: &str) -> (Child, String) {
    let child = Command::new("xmessage")
        .args(["-name", "intruder", "Another program"])
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xmessage (Debian package x11-utils)");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let id = loop {
        let found = x11(display, "xdotool", &["search", "--onlyvisible", "--classname", "intruder"]);
        if let Some(id) = found.lines().next() {
            break id.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "the other window never showed");
        std::thread::sleep(Duration::from_millis(50));
    };
    // As a pager or a taskbar click asks the window manager: openbox obeys that at once.
    x11(display, "xdotool", &["windowactivate", &id]);
    (child, id)
}

/// Opens the settings with `pin`; the unlock error ("" when it opened).
async fn unlock(app: &Client, pin: &str) -> String {
    if !shown(app, "settings-screen").await {
        click(app, "settings-open").await;
    }
    eventually(5, "the PIN field", || shown(app, "unlock-form")).await;
    fill(app, "unlock-pin", pin).await;
    click(app, "unlock-submit").await;
    eventually(5, "the PIN checked", || async {
        !text(app, "unlock-error").await.is_empty() || shown(app, "settings-form").await
    })
    .await;
    text(app, "unlock-error").await
}

/// Sets the kiosk box to `on` and saves (settings open and unlocked).
async fn save_kiosk(app: &Client, on: bool) {
    let checked = app.execute("return document.getElementById('kiosk').checked", vec![]).await.unwrap();
    if checked.as_bool() != Some(on) {
        click(app, "kiosk").await;
    }
    click(app, "settings-save").await;
    eventually(5, "the scan screen", || shown(app, "scan-screen")).await;
}

/// Types `code` and Enter with X key events into whatever has the focus, as a hand scanner
/// does, and waits for the verdict's colour.
async fn hand_scan(display: &str, app: &Client, code: &str) -> String {
    eventually(5, "the ready screen", || async {
        attr(app, "verdict", "class").await.as_deref() == Some("ready")
    })
    .await;
    x11(display, "xdotool", &["type", "--delay", "2", code]);
    x11(display, "xdotool", &["key", "Return"]);
    eventually(5, "a verdict", || async { attr(app, "verdict", "class").await.as_deref() != Some("ready") })
        .await;
    attr(app, "verdict", "class").await.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_holds_the_screen_and_lets_go_only_with_the_pin_the_organizer_set() {
    let hub_data = tempfile::tempdir().unwrap();
    let app_data = tempfile::tempdir().unwrap();
    let hub = Hub::start(hub_data.path());
    let owner = hub.owner().await;
    let x = Xvfb::start();
    let _wm = WindowManager::start(&x.display);
    let display = x.display.as_str();

    // Enrolled as "Gate 3" with PIN 2468; kiosk mode turned on with the gate.
    let body = json!({"name": "Gate 3", "role": "gate", "events": [hub.event]});
    let (status, code) = owner.post("/api/v1/devices/enrollment-codes", &body).await;
    assert_eq!(status, 201, "{code}");
    let driver = Driver::start(display, app_data.path());
    let app = driver.launch(&binary("scanner")).await;
    eventually(10, "the enrollment screen", || shown(&app, "enroll-screen")).await;
    fill(&app, "enroll-text", code["qr_text"].as_str().unwrap()).await;
    fill(&app, "enroll-pin", "2468").await;
    click(&app, "enroll-submit").await;
    eventually(15, "the gates of the event", || async {
        shown(&app, "settings-form").await && !shown(&app, "settings-wait").await
    })
    .await;
    assert_eq!(text(&app, "device-name").await, "This device: Gate 3");
    save_kiosk(&app, true).await;

    // Full screen (Xvfb's 1280×800), above other windows.
    let window = scanner_window(display).expect("the scanner's window");
    eventually(5, "full screen", || async { size(display, &window) == (1280, 800) }).await;
    let state = x11(display, "xprop", &["-id", &window, "_NET_WM_STATE"]);
    assert!(state.contains("_NET_WM_STATE_FULLSCREEN") && state.contains("_NET_WM_STATE_ABOVE"), "{state}");
    screenshot(&app, "scanner-kiosk").await;

    // Alt+F4: the window stays, and the app still answers.
    x11(display, "xdotool", &["key", "alt+F4"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(scanner_window(display).as_deref(), Some(window.as_str()), "Alt+F4 closed the kiosk");
    assert!(shown(&app, "scan-screen").await);

    // Another window takes the focus: the scanner takes it back, and a hand scanner's code
    // typed into "whatever has the focus" reaches the gate.
    let (mut intruder, _) = steal_focus(display);
    eventually(5, "the focus back with the scanner", || async { active(display) == window }).await;
    let (_, _, ticket) = hub.buy_ticket("Kim").await;
    eventually(20, "online", || async {
        attr(&app, "badge", "data-link").await.as_deref() == Some("online")
    })
    .await;
    assert_eq!(hand_scan(display, &app, &ticket).await, "green", "{}", text(&app, "verdict-reason").await);
    let _ = intruder.kill();
    let _ = intruder.wait();

    // The organizer renames the device and sets a new PIN from the hub.
    let devices = owner.get("/api/v1/devices").await;
    let id =
        devices["devices"].as_array().unwrap().iter().find(|d| d["name"] == "Gate 3").unwrap()["id"].clone();
    let edit = json!({"name": "North kiosk", "pin": "1357"});
    let (status, answer) = owner.patch(&format!("/api/v1/devices/{id}"), &edit).await;
    assert_eq!(status, 204, "{answer}");
    // At the next sync (pushed at once to a connected device): the old PIN opens nothing, the
    // new one does, and the settings show the new name.
    eventually(20, "the new name on the device", || async {
        let script = "return window.__TAURI__.core.invoke('status', {offset: 0}).then(s => s.device_name)";
        app.execute(script, vec![]).await.ok() == Some(json!("North kiosk"))
    })
    .await;
    // The PIN travels beside the name; give it a moment if it came second.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(unlock(&app, "2468").await, "Wrong PIN.", "the old PIN still works");
    assert_eq!(unlock(&app, "1357").await, "");
    assert_eq!(text(&app, "device-name").await, "This device: North kiosk");

    // Quitting is the way out: not with a wrong PIN, with the new one.
    let refused = app
        .execute(
            "return window.__TAURI__.core.invoke('quit', {pin: '0000'}).then(() => 'quit', String)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refused, json!("Wrong PIN."));
    assert!(scanner_window(display).is_some());
    // The app ends within the click: WebDriver may not get to answer it.
    let _ = app.find(fantoccini::Locator::Id("quit")).await.unwrap().click().await;
    eventually(10, "the app gone", || async { scanner_window(display).is_none() }).await;
    drop(app);
    drop(driver);

    // Kiosk mode comes back with the app (before anyone unlocks anything).
    let driver = Driver::start(display, app_data.path());
    let app = driver.launch(&binary("scanner")).await;
    eventually(10, "the scan screen", || shown(&app, "scan-screen")).await;
    let window = scanner_window(display).expect("the scanner's window");
    eventually(5, "full screen again", || async { size(display, &window) == (1280, 800) }).await;

    // Turned off with the PIN: an ordinary window that gives up the focus and closes on Alt+F4.
    assert_eq!(unlock(&app, "1357").await, "");
    save_kiosk(&app, false).await;
    eventually(5, "an ordinary window", || async { size(display, &window) != (1280, 800) }).await;
    let (mut intruder, intruder_id) = steal_focus(display);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(active(display), intruder_id, "kiosk off: the other window keeps the focus");
    let _ = intruder.kill();
    let _ = intruder.wait();
    x11(display, "xdotool", &["windowactivate", "--sync", &window]);
    x11(display, "xdotool", &["key", "alt+F4"]);
    eventually(10, "Alt+F4 closing the ordinary window", || async { scanner_window(display).is_none() })
        .await;
}
