//! Password hashing with argon2id at the OWASP-recommended parameters (the crate's defaults:
//! 19 MiB, 2 passes, 1 lane), stored as PHC strings so parameters can be raised later.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password for storage.
pub fn hash(password: &str) -> anyhow::Result<String> {
    Ok(Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?.to_string())
}

/// Whether `password` matches the stored PHC string.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let stored = super::hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(super::verify("correct horse battery", &stored));
        assert!(!super::verify("wrong", &stored));
        assert!(!super::verify("x", "not a hash"));
    }
}
