//! Kiosk mode: the scanner as the only thing a mounted tablet or a gate handheld shows.
//!
//! Staff turn it on in the settings (behind the PIN); it is kept in the settings file, so it
//! survives a restart and comes back before the front end has loaded. While it is on:
//!
//! 1. the window is full screen, above every other window, without decorations, and cannot be
//!    minimized, maximized or closed from the window manager ([`follow`]);
//! 2. a close request (Alt+F4, the window manager's close, a `WM_DELETE_WINDOW`) is refused
//!    ([`on_window_event`]);
//! 3. when another window takes the focus, the scanner takes it back at once, so a hand
//!    scanner's keystrokes keep reaching the gate;
//! 4. the way out is the settings: turn kiosk mode off, or quit the app, both with the PIN
//!    ([`crate::commands::quit`]).
//!
//! The rules read the saved setting at the moment an event arrives, not a copy: a device the
//! organizer removed has no settings left, so it closes like any window.
//!
//! What this cannot stop is the operating system's own: switching to a text console
//! (Ctrl+Alt+F-keys), the power button, a USB keyboard's SysRq. A fixed installation runs the
//! scanner as the session's only program (a kiosk compositor such as `cage`), which closes
//! those; docs/architecture.md ("A device in the wrong hands") says what that leaves.

use crate::station::Station;
use std::time::Duration;
use tauri::{Manager, Runtime, Window, WindowEvent};

/// How long after losing the focus the kiosk window asks for it back.
const REFOCUS_AFTER: Duration = Duration::from_millis(100);

/// Makes `window` follow the kiosk setting `on`: full screen, on top, undecorated and
/// unclosable while on; an ordinary window when off. A window system that refuses a part
/// (a window manager without full-screen support) leaves the rest in force, and says so in
/// the log.
pub fn follow<R: Runtime>(window: &Window<R>, on: bool) {
    let steps: [(&str, tauri::Result<()>); 6] = [
        ("decorations", window.set_decorations(!on)),
        ("closable", window.set_closable(!on)),
        ("minimizable", window.set_minimizable(!on)),
        ("maximizable", window.set_maximizable(!on)),
        ("always on top", window.set_always_on_top(on)),
        ("full screen", window.set_fullscreen(on)),
    ];
    for (what, result) in steps {
        if let Err(error) = result {
            tracing::warn!(%error, kiosk = on, "the window refused {what}");
        }
    }
    if on && let Err(error) = window.set_focus() {
        tracing::warn!(%error, "the kiosk window could not take the focus");
    }
}

/// The window's events under kiosk mode: a close request is refused and a lost focus taken
/// back. Outside kiosk mode (or before the station exists) nothing changes.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    // Moves and resizes come in streams: the setting is read only for the two events it rules.
    let on = || window.try_state::<Station>().is_some_and(|station| station.kiosk());
    match event {
        WindowEvent::CloseRequested { api, .. } if on() => {
            tracing::info!("kiosk mode: a close request was refused");
            api.prevent_close();
        }
        WindowEvent::Focused(false) if on() => {
            tracing::info!("kiosk mode: another window took the focus; taking it back");
            // After the window manager has finished giving it away: asked at once, a window
            // manager still busy focusing the other window may simply ignore the request.
            let window = window.clone();
            std::thread::spawn(move || {
                std::thread::sleep(REFOCUS_AFTER);
                if let Err(error) = window.set_focus() {
                    tracing::warn!(%error, "the kiosk window could not take the focus back");
                }
            });
        }
        _ => {}
    }
}
