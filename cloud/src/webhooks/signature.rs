//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>), as every delivery
//! carries them, so a partner verifies them with any of that specification's libraries:
//!
//! - `webhook-id`: the message's id, the same on every attempt (the partner's idempotency key);
//! - `webhook-timestamp`: when this attempt was signed, Unix seconds;
//! - `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, one per
//!   secret, space-separated: during a secret's rotation both the old and the new one sign, so
//!   a partner still holding the old secret verifies, and one holding the new one too.
//!
//! A secret is `whsec_` followed by the base64 of its key bytes (24 random bytes here, as the
//! reference libraries make them).
//!
//! Written here rather than taken from the `standardwebhooks` crate: that crate signs with
//! one secret per value and brings a second HMAC implementation and an older base64 beside
//! ours; the scheme is one HMAC over three joined fields. Conformance is checked against the
//! specification's reference Python library in the webhook tests, and against its published
//! example below.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header naming the message.
pub const ID: &str = "webhook-id";
/// The header with the signing time.
pub const TIMESTAMP: &str = "webhook-timestamp";
/// The header with the signatures.
pub const SIGNATURE: &str = "webhook-signature";
/// What every secret starts with.
const PREFIX: &str = "whsec_";
/// Key bytes of a new secret.
const KEY_BYTES: usize = 24;

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why a secret was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is \"whsec_\" and the base64 of 24 to 64 bytes")]
pub struct BadSecret;

impl Secret {
    /// A new random secret.
    ///
    /// # Errors
    /// The system's random source failed.
    pub fn generate() -> anyhow::Result<Self> {
        let mut key = vec![0u8; KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
        Ok(Self(key))
    }

    /// Reads `whsec_<base64>`.
    ///
    /// # Errors
    /// Not that form, or a key shorter than 24 or longer than 64 bytes.
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let key = text.strip_prefix(PREFIX).and_then(|b| BASE64.decode(b).ok()).ok_or(BadSecret)?;
        if (KEY_BYTES..=64).contains(&key.len()) { Ok(Self(key)) } else { Err(BadSecret) }
    }

    /// `whsec_<base64>`, as the organizer copies it to the partner.
    pub fn to_text(&self) -> String {
        format!("{PREFIX}{}", BASE64.encode(&self.0))
    }

    /// `v1,<base64 signature>` of message `id` signed at `timestamp` (Unix seconds).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per secret in force (two while rotating).
pub fn header(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_signs_as_its_reference_library_does() {
        // The example of the specification's libraries; the reference Python library
        // (standardwebhooks 1.1.0) gives this signature for it.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotating_endpoint_signs_with_both_secrets() {
        let (old, new) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        let both = header(&[&old, &new], "msg_1", 1_700_000_000, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [old.sign("msg_1", 1_700_000_000, b"{}"), new.sign("msg_1", 1_700_000_000, b"{}")]);
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn secrets_read_back_what_they_write_and_refuse_anything_else() {
        let secret = Secret::generate().unwrap();
        assert_eq!(Secret::parse(&secret.to_text()), Ok(secret.clone()));
        assert!(secret.to_text().starts_with("whsec_"));
        assert_eq!(format!("{secret:?}"), "Secret(…)", "never printed");
        for bad in ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_AAAA"] {
            assert_eq!(Secret::parse(bad), Err(BadSecret), "{bad}");
        }
    }
}
