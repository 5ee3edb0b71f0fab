//! The scanner's settings: which hub, which event, gate and direction, the PIN that guards
//! them, and peer sync. Kept as JSON beside the replica, written atomically (a temporary file,
//! fsync, rename) so a power cut leaves the old settings or the new, never half of either.

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use sync_core::manifest::Direction;

/// The file name, inside the app's data directory.
pub const FILE: &str = "settings.json";

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
    /// Serve peers on the LAN at this port (`None`: don't).
    #[serde(default)]
    pub peer_port: Option<u16>,
    /// Also sync with the peer at this address (`http://10.0.0.7:7878`).
    #[serde(default)]
    pub peer_address: Option<String>,
}

/// Why a PIN was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    /// Not 4–8 digits.
    #[error("The PIN is 4 to 8 digits.")]
    Format,
    /// Not the PIN set at enrollment.
    #[error("Wrong PIN.")]
    Wrong,
}

/// Hashes a new PIN (4–8 digits).
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    Argon2::default().hash_password(pin.as_bytes()).map(|h| h.to_string()).map_err(|_| PinError::Format)
}

impl Settings {
    /// Checks `pin` against the one set at enrollment.
    pub fn check_pin(&self, pin: &str) -> Result<(), PinError> {
        let hash = PasswordHash::new(&self.pin_hash).map_err(|_| PinError::Wrong)?;
        Argon2::default().verify_password(pin.as_bytes(), &hash).map_err(|_| PinError::Wrong)
    }

    /// Reads the settings in `dir`; `None` if the device was never enrolled.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is damaged", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the settings into `dir`, atomically.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let path = dir.join(FILE);
        let temporary: PathBuf = dir.join(format!("{FILE}.new"));
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(&serde_json::to_vec_pretty(self)?)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path).with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
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
            peer_port: None,
            peer_address: None,
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

    #[test]
    fn a_pin_is_digits_and_a_damaged_file_is_named() {
        for bad in ["123", "123456789", "12a4", ""] {
            assert_eq!(hash_pin(bad), Err(PinError::Format), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{\"hub_url\": 5").unwrap();
        let e = Settings::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("settings.json is damaged"), "{e}");
    }
}
