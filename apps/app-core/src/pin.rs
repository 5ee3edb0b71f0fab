//! The PIN that guards a device's settings: 4–8 digits, stored only as an argon2id hash.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

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

/// Checks `pin` against `hash` (from [`hash_pin`]).
pub fn check_pin(hash: &str, pin: &str) -> Result<(), PinError> {
    let hash = PasswordHash::new(hash).map_err(|_| PinError::Wrong)?;
    Argon2::default().verify_password(pin.as_bytes(), &hash).map_err(|_| PinError::Wrong)
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
}
