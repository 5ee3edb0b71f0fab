//! The commands the front end calls: each one line over [`Station`]. Errors arrive in the
//! front end as the sentence to show.

// Tauri hands commands their state and arguments by value (deserialized per call).
#![allow(clippy::needless_pass_by_value)]

use crate::camera::{Camera, CameraStatus};
use crate::kiosk;
use crate::station::{Choice, RecentScan, Station, StationError, Status};
use tauri::{AppHandle, Runtime, State, Window};

/// What the screen shows now; `offset` is the screen's UTC offset in minutes.
#[tauri::command]
pub fn status(station: State<'_, Station>, offset: i32) -> Status {
    station.status(offset)
}

/// Enrolls with an enrollment code (QR text, or code plus hub address) and sets the PIN.
#[tauri::command]
pub async fn enroll(
    station: State<'_, Station>,
    text: String,
    hub_url: Option<String>,
    pin: String,
    offset: i32,
) -> Result<Status, StationError> {
    station.enroll(&text, hub_url.as_deref(), &pin).await?;
    Ok(station.status(offset))
}

/// Checks the settings PIN.
#[tauri::command]
pub fn unlock(station: State<'_, Station>, pin: String) -> Result<(), StationError> {
    station.unlock(&pin)
}

/// Saves event, gate, direction, verdict time, peer settings and kiosk mode (PIN required);
/// the window follows kiosk mode at once.
#[tauri::command]
pub fn configure<R: Runtime>(
    window: Window<R>,
    station: State<'_, Station>,
    pin: String,
    choice: Choice,
    offset: i32,
) -> Result<Status, StationError> {
    station.configure(&pin, choice)?;
    kiosk::follow(&window, station.kiosk());
    Ok(station.status(offset))
}

/// The window follows the saved kiosk setting (the front end asks when the device was
/// removed, whose settings are gone).
#[tauri::command]
pub fn kiosk<R: Runtime>(window: Window<R>, station: State<'_, Station>) {
    kiosk::follow(&window, station.kiosk());
}

/// Quits the app with the PIN: the way out of kiosk mode that leaves it on for next time.
#[tauri::command]
pub fn quit<R: Runtime>(
    app: AppHandle<R>,
    station: State<'_, Station>,
    pin: String,
) -> Result<(), StationError> {
    station.unlock(&pin)?;
    app.exit(0);
    Ok(())
}

/// A scanned or typed code → the verdict, once the scan is durable.
#[tauri::command]
pub fn scan(station: State<'_, Station>, text: String, offset: i32) -> Result<RecentScan, StationError> {
    station.scan(&text, offset)
}

/// The camera's state (and its counts), shown under the verdict when it needs a word.
#[tauri::command]
pub fn camera(camera: State<'_, Camera>) -> CameraStatus {
    camera.status()
}

/// The front end shows the scan screen. With `VOELGOED_EXIT_WHEN_READY` set, the app prints
/// `ready` and exits: how the cold-start benchmark times launch → ready to scan.
#[tauri::command]
pub fn ready<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    if std::env::var_os(crate::EXIT_WHEN_READY_ENV).is_some() {
        println!("ready");
        app.exit(0);
    }
}
