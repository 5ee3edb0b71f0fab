//! # Voelgoed gate scanner
//!
//! A thin Tauri 2 shell over sync-core: gate staff enroll the device once, choose event, gate
//! and direction behind a PIN, then scan. Every verdict is decided on the device and shown
//! only once the scan is durable; sync with the hub (and peers on the venue LAN) runs beside
//! it and only ever shows as the badge.
//!
//! | module | what it holds |
//! |---|---|
//! | [`station`] | the enrolled device: replica, settings, scans, status — no Tauri in it |
//! | [`settings`] | settings on disk; sync links, the badge, the PIN and the clock come from `voelgoed-app-core` |
//! | [`commands`] | the Tauri commands, one line each over [`station::Station`] |
//! | [`kiosk`] | kiosk mode: full screen, on top, close refused, focus taken back, out only with the PIN |
//! | [`camera`] | capture and decode threads, consecutive-frame debounce, the live preview |
//! | [`decode`] | frames → QR text: rxing and rqrr with pre-processing, panics contained |
//!
//! `scanner-decode FILE...` (`src/bin/`) runs the decoder over image files, one JSON line each.
//!
//! A camera code reaches the front end as the `camera-code` event and takes the same path as
//! a hardware scanner's; the preview is served as JPEG at `camera://localhost/frame`.
//!
//! The front end is static HTML, CSS and ES modules in `apps/ui/scanner/` with the pieces both
//! apps share in `apps/ui/common/` (no bundler), using Tauri's
//! global API (`withGlobalTauri`).

pub mod camera;
pub mod commands;
pub mod decode;
pub mod kiosk;
pub mod settings;
pub mod station;

use camera::{Camera, pipeline::Settings};
use station::Station;
use tauri::http::{Response, StatusCode, header};
use tauri::{Emitter, Manager, Runtime};

/// The environment variable that overrides the data directory (tests, several devices on one
/// machine).
pub const DATA_DIR_ENV: &str = "VOELGOED_SCANNER_DIR";

/// Set, the app exits as soon as it is ready to scan (the cold-start benchmark).
pub const EXIT_WHEN_READY_ENV: &str = "VOELGOED_EXIT_WHEN_READY";

/// The app's commands on `builder`: shared by [`run`] and the tests' mock builder.
pub fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::enroll,
            commands::unlock,
            commands::configure,
            commands::scan,
            commands::ready,
            commands::camera,
            commands::kiosk,
            commands::quit
        ])
        .on_window_event(kiosk::on_window_event)
        .register_uri_scheme_protocol("camera", |ctx, _request| preview(ctx.app_handle()))
}

/// The newest camera frame as JPEG, or 404 while there is none (the `<img>` tries again).
fn preview<R: Runtime>(app: &tauri::AppHandle<R>) -> Response<Vec<u8>> {
    let frame = app.try_state::<Camera>().and_then(|camera| camera.preview());
    let response = match frame {
        Some(frame) => Response::builder()
            .header(header::CONTENT_TYPE, "image/jpeg")
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-frame", frame.seq)
            .body(frame.jpeg.to_vec()),
        None => Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()),
    };
    response.unwrap_or_default()
}

/// The camera [`camera::CAMERA_ENV`] asks for, sending each code to the front end as the
/// `camera-code` event. A setting that is not understood leaves the app without a camera
/// and says why on the scan screen; the gate keeps working with the hand scanner.
fn start_camera<R: Runtime>(app: &tauri::AppHandle<R>) -> Camera {
    let setting = std::env::var(camera::CAMERA_ENV).ok();
    let opener = match camera::Choice::parse(setting.as_deref()) {
        Ok(choice) => choice.opener(),
        Err(message) => return Camera::refused(message),
    };
    let Some(opener) = opener else { return Camera::off() };
    let app = app.clone();
    let on_code = move |text: String| {
        if let Err(error) = app.emit("camera-code", text) {
            tracing::warn!(%error, "a camera code could not reach the screen");
        }
    };
    Camera::start(opener, decode::Decoder::default(), Settings::default(), on_code)
        .unwrap_or_else(|error| Camera::refused(format!("The camera could not start ({error}).")))
}

/// Runs the scanner.
pub fn run() {
    app_core::enrollment::init_logging();
    let app = app(tauri::Builder::default())
        .setup(|app| {
            let dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            let runtime = tauri::async_runtime::handle().inner().clone();
            let station = Station::open(dir, env!("CARGO_PKG_VERSION"), runtime)?;
            // Kiosk mode comes back with the app, before the front end has loaded.
            if station.kiosk()
                && let Some(window) = app.get_webview_window("main")
            {
                kiosk::follow(&window.as_ref().window(), true);
            }
            app.manage(station);
            app.manage(start_camera(app.handle()));
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the scanner app failed to start");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            handle.state::<Camera>().stop();
            handle.state::<Station>().shutdown();
        }
    });
}
