//! # What both Voelgoed apps share on the Rust side
//!
//! The gate scanner and the box office are each a thin Tauri shell over sync-core; what they
//! have in common beyond sync-core lives here, without Tauri, so it is tested once — first of
//! all the enrolled device itself ([`device::Device`]), which the scanner's `Station` and the
//! box office's `Desk` each wrap:
//!
//! | module | what it holds |
//! |---|---|
//! | [`device`] | the enrolled device's lifecycle: data directory, enrollment, replica, settings file, PIN, links, removal |
//! | [`enrollment`] | enrolling with a code: key, hub, fresh replica; the apps' log |
//! | [`links`] | background sync with the hub and peers (sync-core's live loop); the badge |
//! | [`pin`] | the settings PIN (argon2id), guarded against guessing across restarts |
//! | [`removed`] | a device the organizer removed: the hub's notice verified, what never synced sealed to the hub, the rest wiped |
//! | [`json_file`] | settings files written atomically (temporary file, fsync, rename) |
//! | [`clock`] | the screen's clock: the venue's UTC offset, "14:02:07" |
//!
//! The front ends share their pieces the same way: `apps/ui/common/` (the badge, money as
//! sync-core writes and reads it, the base styles), served by both apps.

pub mod clock;
pub mod device;
pub mod enrollment;
pub mod json_file;
pub mod links;
pub mod pin;
pub mod removed;
