//! The scanner's settings: which hub, which event, gate and direction, the PIN that guards
//! them, and peer sync. Kept as JSON beside the replica, written atomically
//! ([`app_core::json_file`]), by the device lifecycle both apps share ([`app_core::device`]).

use app_core::device::DeviceSettings;
use app_core::enrollment::Enrolled;
use app_core::links::LinkConfig;
pub use app_core::pin::{PinError, hash_pin};
use serde::{Deserialize, Serialize};
use std::path::Path;
use sync_core::manifest::Direction;

/// The file name, inside the app's data directory.
pub const FILE: &str = app_core::device::SETTINGS_FILE;

/// How long a verdict stays on screen by default.
pub const DEFAULT_VERDICT_MS: u32 = 3_000;

/// Everything the scanner keeps besides its replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The hub this device enrolled with.
    pub hub_url: String,
    /// Its device id there.
    pub device: u32,
    /// The events it works for.
    pub events: Vec<u32>,
    /// The chosen event, gate and direction (`None` until staff choose).
    pub event: Option<u32>,
    /// The chosen gate.
    pub gate: Option<u16>,
    /// Entry or exit.
    pub direction: Direction,
    /// How long a verdict stays on screen, in milliseconds.
    pub verdict_ms: u32,
    /// An argon2id hash of the settings PIN.
    pub pin_hash: String,
    /// When the organizer last set the PIN from the console (Unix ms; 0: never).
    #[serde(default)]
    pub pin_set_at: i64,
    /// Serve peers on the LAN at this port (`None`: don't).
    #[serde(default)]
    pub peer_port: Option<u16>,
    /// Also sync with the peer at this address (`http://10.0.0.7:7878`).
    #[serde(default)]
    pub peer_address: Option<String>,
    /// Run as a kiosk: full screen, no way out without the PIN ([`crate::kiosk`]).
    #[serde(default)]
    pub kiosk: bool,
}

impl Settings {
    /// Checks `pin` against the one set at enrollment.
    pub fn check_pin(&self, pin: &str) -> Result<(), PinError> {
        app_core::pin::check_pin(&self.pin_hash, pin)
    }

    /// Reads the settings in `dir`; `None` if the device was never enrolled.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Self>> {
        app_core::json_file::load(dir, FILE)
    }

    /// Writes the settings into `dir`, atomically.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        app_core::json_file::save(dir, FILE, self)
    }
}

impl DeviceSettings for Settings {
    fn enrolled(enrolled: &Enrolled) -> Self {
        Self {
            hub_url: enrolled.hub_url.clone(),
            device: enrolled.device,
            events: enrolled.events.clone(),
            // One event (the usual case) is chosen already; its gate once the manifest is here.
            event: enrolled.only_event(),
            gate: None,
            direction: Direction::Entry,
            verdict_ms: DEFAULT_VERDICT_MS,
            pin_hash: enrolled.pin_hash.clone(),
            pin_set_at: 0,
            peer_port: None,
            peer_address: None,
            kiosk: false,
        }
    }

    fn device(&self) -> u32 {
        self.device
    }

    fn pin_hash(&self) -> &str {
        &self.pin_hash
    }

    fn pin_set_at(&self) -> i64 {
        self.pin_set_at
    }

    fn set_pin(&mut self, hash: String, set_at: i64) {
        (self.pin_hash, self.pin_set_at) = (hash, set_at);
    }

    /// The hub, and the peer and peer server staff set.
    fn links(&self) -> LinkConfig {
        LinkConfig {
            hub_url: self.hub_url.clone(),
            peer_address: self.peer_address.clone(),
            peer_port: self.peer_port,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Settings {
        Settings {
            hub_url: "https://hub.example".into(),
            device: 3,
            events: vec![1],
            event: Some(1),
            gate: Some(2),
            direction: Direction::Entry,
            verdict_ms: DEFAULT_VERDICT_MS,
            pin_hash: hash_pin("2468").unwrap(),
            pin_set_at: 0,
            peer_port: None,
            peer_address: None,
            kiosk: true,
        }
    }

    #[test]
    fn settings_survive_a_restart_and_guard_themselves_with_the_pin() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), None);
        let settings = example();
        settings.save(dir.path()).unwrap();
        let loaded = Settings::load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded, settings);
        assert_eq!(loaded.check_pin("2468"), Ok(()));
        assert_eq!(loaded.check_pin("1357"), Err(PinError::Wrong));
        assert!(!std::fs::read_to_string(dir.path().join(FILE)).unwrap().contains("2468"));
    }
}
