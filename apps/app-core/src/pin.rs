//! The PIN that guards a device's settings (and the scanner's kiosk): 4–8 digits, stored only
//! as an argon2id hash, and guarded against guessing.
//!
//! A 4-digit PIN has 10,000 values: unguarded, someone holding a stolen device tries them all
//! in an afternoon. So wrong PINs are counted in a file beside the settings ([`GUARD_FILE`]),
//! which a restart does not reset, and the count is raised *before* a PIN is checked (killing
//! the app mid-check still counts the try):
//!
//! - the first [`FREE_TRIES`] wrong PINs cost nothing (staff mistype);
//! - after that each try waits, 30 s after the 5th, doubling with each further one (capped at
//!   an hour);
//! - after [`LOCK_AFTER`] the settings are locked until the organizer sets a new PIN from the
//!   console ([`PinGuard::reset`]) — guessing then needs the hub.
//!
//! A right PIN clears the count.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use serde::{Deserialize, Serialize};
use std::path::Path;
use sync_core::ids::Timestamp;

/// The wrong-PIN count's file, inside the app's data directory.
pub const GUARD_FILE: &str = "pin-guard.json";
/// Wrong PINs in a row that cost nothing.
pub const FREE_TRIES: u32 = 5;
/// Wrong PINs in a row that lock the settings until the organizer sets a new PIN.
pub const LOCK_AFTER: u32 = 10;
/// The wait after the first wrong PIN beyond the free ones; it doubles with each further one.
const FIRST_WAIT_MS: i64 = 30_000;
/// The longest wait.
const MAX_WAIT_MS: i64 = 3_600_000;

/// Why a PIN was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    /// Not 4–8 digits.
    #[error("The PIN is 4 to 8 digits.")]
    Format,
    /// Not the PIN set for this device.
    #[error("Wrong PIN.")]
    Wrong,
    /// Too many wrong PINs: the next try must wait.
    #[error("Too many wrong PINs. Try again in {seconds} s.")]
    Wait {
        /// Until the next try.
        seconds: i64,
    },
    /// Too many wrong PINs: locked until the organizer sets a new one.
    #[error(
        "Too many wrong PINs: the settings are locked. Ask the organizer to set a new PIN for this device in the console."
    )]
    Locked,
}

/// Hashes a new PIN (4–8 digits).
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    Argon2::default().hash_password(pin.as_bytes()).map(|h| h.to_string()).map_err(|_| PinError::Format)
}

/// Checks `pin` against `hash` (from [`hash_pin`]), unguarded: [`PinGuard::check`] is what
/// the apps call.
pub fn check_pin(hash: &str, pin: &str) -> Result<(), PinError> {
    let hash = PasswordHash::new(hash).map_err(|_| PinError::Wrong)?;
    Argon2::default().verify_password(pin.as_bytes(), &hash).map_err(|_| PinError::Wrong)
}

/// The wrong PINs in a row, as kept in [`GUARD_FILE`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinGuard {
    /// Wrong PINs since the last right one (or the last reset).
    pub failures: u32,
    /// When the last one was tried (Unix ms).
    pub last_failure_ms: i64,
}

impl PinGuard {
    /// Whether a try is allowed at `now`, or why not.
    pub fn allows(&self, now: Timestamp) -> Result<(), PinError> {
        if self.failures >= LOCK_AFTER {
            return Err(PinError::Locked);
        }
        if self.failures < FREE_TRIES {
            return Ok(());
        }
        let wait = FIRST_WAIT_MS.saturating_mul(1 << (self.failures - FREE_TRIES).min(20)).min(MAX_WAIT_MS);
        let left = self.last_failure_ms.saturating_add(wait).saturating_sub(now.0);
        // A clock set back does not extend the wait beyond its length.
        if left > 0 { Err(PinError::Wait { seconds: (left.min(wait) + 999) / 1000 }) } else { Ok(()) }
    }

    /// Reads the count in `dir` (none: no wrong PIN yet). A damaged file counts as locked:
    /// deleting it must not be a way around the count.
    pub fn load(dir: &Path) -> Self {
        match crate::json_file::load::<Self>(dir, GUARD_FILE) {
            Ok(guard) => guard.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "the PIN guard is damaged; the settings stay locked");
                Self { failures: LOCK_AFTER, last_failure_ms: 0 }
            }
        }
    }

    /// Checks `pin` against `hash` for the device in `dir` at `now`: refused unguessed while
    /// the guard says wait or locked; otherwise the try is counted on disk first, then checked,
    /// and a right PIN clears the count.
    pub fn check(dir: &Path, hash: &str, pin: &str, now: Timestamp) -> Result<(), PinError> {
        let guard = Self::load(dir);
        guard.allows(now)?;
        let tried = Self { failures: guard.failures + 1, last_failure_ms: now.0 };
        crate::json_file::save(dir, GUARD_FILE, &tried).map_err(|e| {
            tracing::error!(error = %e, "cannot count a PIN try; refusing it");
            PinError::Wait { seconds: 1 }
        })?;
        check_pin(hash, pin)?;
        Self::reset(dir);
        Ok(())
    }

    /// Clears the count (a right PIN, or a new one from the organizer).
    pub fn reset(dir: &Path) {
        match std::fs::remove_file(dir.join(GUARD_FILE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "cannot clear the PIN guard"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_digits_and_only_its_hash_is_kept() {
        for bad in ["123", "123456789", "12a4", ""] {
            assert_eq!(hash_pin(bad), Err(PinError::Format), "{bad}");
        }
        let hash = hash_pin("2468").unwrap();
        assert!(!hash.contains("2468"));
        assert_eq!(check_pin(&hash, "2468"), Ok(()));
        assert_eq!(check_pin(&hash, "1357"), Err(PinError::Wrong));
    }

    #[test]
    fn guessing_waits_longer_each_time_then_locks_and_a_restart_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let hash = hash_pin("2468").unwrap();
        let mut now = Timestamp(1_000_000_000);
        // Five mistypes are free, and a right PIN clears them.
        for _ in 0..4 {
            assert_eq!(PinGuard::check(dir.path(), &hash, "1111", now), Err(PinError::Wrong));
        }
        assert_eq!(PinGuard::check(dir.path(), &hash, "2468", now), Ok(()));
        assert_eq!(PinGuard::load(dir.path()), PinGuard::default());
        for _ in 0..FREE_TRIES {
            assert_eq!(PinGuard::check(dir.path(), &hash, "1111", now), Err(PinError::Wrong));
        }
        // Then every try waits, twice as long as the one before — even the right PIN.
        for wait in [30, 60, 120, 240, 480] {
            assert_eq!(
                PinGuard::check(dir.path(), &hash, "2468", now),
                Err(PinError::Wait { seconds: wait })
            );
            now = Timestamp(now.0 + wait * 1000 - 1);
            assert_eq!(PinGuard::check(dir.path(), &hash, "1111", now), Err(PinError::Wait { seconds: 1 }));
            now = Timestamp(now.0 + 1);
            // The guard is on disk: what a restarted app reads.
            assert_eq!(PinGuard::check(dir.path(), &hash, "1111", now), Err(PinError::Wrong));
        }
        // The tenth wrong PIN locked it: time does not help, the right PIN does not either.
        now = Timestamp(now.0 + 86_400_000);
        assert_eq!(PinGuard::check(dir.path(), &hash, "2468", now), Err(PinError::Locked));
        // Until the organizer sets a new PIN.
        PinGuard::reset(dir.path());
        assert_eq!(PinGuard::check(dir.path(), &hash, "2468", now), Ok(()));
    }

    #[test]
    fn a_damaged_or_clock_shifted_guard_never_opens_more() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GUARD_FILE), "{").unwrap();
        assert_eq!(PinGuard::load(dir.path()).allows(Timestamp(0)), Err(PinError::Locked));
        // A clock set back an hour still waits only the wait's length.
        let guard = PinGuard { failures: FREE_TRIES, last_failure_ms: 10_000_000 };
        assert_eq!(guard.allows(Timestamp(10_000_000 - 3_600_000)), Err(PinError::Wait { seconds: 30 }));
    }
}
