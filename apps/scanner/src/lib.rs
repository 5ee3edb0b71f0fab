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
//! | [`links`] | background sync: hub, peer, peer server; the badge |
//! | [`settings`] | settings on disk (atomic writes), the PIN (argon2id) |
//! | [`commands`] | the Tauri commands, one line each over [`station::Station`] |
//! | [`decode`] | frames → QR text: rxing and rqrr with pre-processing, panics contained |
//!
//! `scanner-decode FILE...` (`src/bin/`) runs the decoder over image files, one JSON line each.
//!
//! The front end is static HTML, CSS and one ES module in `ui/` (no bundler), using Tauri's
//! global API (`withGlobalTauri`).

pub mod commands;
pub mod decode;
pub mod links;
pub mod settings;
pub mod station;

use station::Station;
use tauri::{Manager, Runtime};

/// The environment variable that overrides the data directory (tests, several devices on one
/// machine).
pub const DATA_DIR_ENV: &str = "VOELGOED_SCANNER_DIR";

/// Set, the app exits as soon as it is ready to scan (the cold-start benchmark).
pub const EXIT_WHEN_READY_ENV: &str = "VOELGOED_EXIT_WHEN_READY";

/// The app's commands on `builder`: shared by [`run`] and the tests' mock builder.
pub fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::status,
        commands::enroll,
        commands::unlock,
        commands::configure,
        commands::scan,
        commands::ready
    ])
}

/// Runs the scanner.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let app = app(tauri::Builder::default())
        .setup(|app| {
            let dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            let runtime = tauri::async_runtime::handle().inner().clone();
            let station = Station::open(dir, env!("CARGO_PKG_VERSION"), runtime)?;
            app.manage(station);
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the scanner app failed to start");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            handle.state::<Station>().shutdown();
        }
    });
}
