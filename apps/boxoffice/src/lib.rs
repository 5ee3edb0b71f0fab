//! # Voelgoed box office
//!
//! A thin Tauri 2 shell over sync-core for selling at the door: the cashier enrolls the device
//! once, opens a shift with a cash float, and sells — for cash (tendered, change), card
//! (terminal reference) or comp (reason) — within the rights the hub leased to this device,
//! online or not. Tickets are signed on the device under the lease's delegation, so every gate
//! admits them offline, and appear only once the sale is durable. A sale is handed over as
//! large QR codes on screen and a printable PDF; the shift closes with a counted-cash report
//! (PDF, CSV, and the journal entry that carries it to the hub).
//!
//! | module | what it holds |
//! |---|---|
//! | [`desk`] | the enrolled device: replica, settings, selling, shifts, leases, guest list — no Tauri in it |
//! | [`papers`] | the receipt and shift report PDFs |
//! | [`terminal`] | card-present payments: the terminal trait, manual reference entry |
//! | [`commands`] | the Tauri commands, one line each over [`desk::Desk`] |
//!
//! Sync links, the badge, the PIN and the clock are shared with the scanner (`voelgoed-app-core`);
//! so are the front end's common pieces (`apps/ui/common/`). The front end is
//! `apps/ui/boxoffice/`: static HTML, CSS and ES modules using Tauri's global API.

pub mod commands;
pub mod desk;
pub mod papers;
pub mod terminal;

use desk::Desk;
use tauri::{Manager, Runtime};

/// The environment variable that overrides the data directory (tests, several devices on one
/// machine).
pub const DATA_DIR_ENV: &str = "VOELGOED_BOXOFFICE_DIR";

/// The app's commands on `builder`: shared by [`run`] and the tests' mock builder.
pub fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::status,
        commands::enroll,
        commands::unlock,
        commands::choose_event,
        commands::open_shift,
        commands::sell,
        commands::quote,
        commands::return_voucher,
        commands::show_sale,
        commands::seats,
        commands::void,
        commands::receipt_pdf,
        commands::email_sale,
        commands::close_shift,
        commands::request_rights,
        commands::return_lease,
        commands::guests,
        commands::check_in
    ])
}

/// Runs the box office.
pub fn run() {
    app_core::enrollment::init_logging();
    let app = app(tauri::Builder::default())
        .setup(|app| {
            let dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            let runtime = tauri::async_runtime::handle().inner().clone();
            app.manage(Desk::open(dir, env!("CARGO_PKG_VERSION"), runtime)?);
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the box office failed to start");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            handle.state::<Desk>().shutdown();
        }
    });
}
