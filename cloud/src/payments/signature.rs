//! Webhook signatures: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//! scheme Stripe popularised. The timestamp is inside the MAC, so an old request cannot be
//! re-dated; the receiver refuses timestamps more than [`TOLERANCE_SECS`] away from its clock,
//! and remembers event ids so a replay inside that window changes nothing either.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const HEADER: &str = "voelgoed-sim-signature";
/// How far a webhook's timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header, or not `t=…,v1=…`.
    #[error("missing or malformed signature header")]
    Malformed,
    /// Signed too long ago (or in the future): a replay, or a clock badly off.
    #[error("signature timestamp is {0} s away from now (at most {TOLERANCE_SECS} s accepted)")]
    Stale(i64),
    /// The MAC does not match: not from the provider, or altered.
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Checks `header` for `body` at `now` (Unix seconds), in constant time.
pub fn verify(secret: &[u8], header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Malformed)?;
    let (mut timestamp, mut signature) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signature = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (timestamp, signature) = timestamp.zip(signature).ok_or(SignatureError::Malformed)?;
    let skew = (now - timestamp).abs();
    if skew > TOLERANCE_SECS {
        return Err(SignatureError::Stale(skew));
    }
    mac(secret, timestamp, body).verify_slice(&signature).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_any_change_is_refused() {
        let secret = b"whsec_test";
        let header = sign(secret, 1_000, b"{\"id\":1}");
        assert_eq!(verify(secret, Some(&header), b"{\"id\":1}", 1_010), Ok(()));
        assert_eq!(verify(secret, Some(&header), b"{\"id\":2}", 1_010), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", Some(&header), b"{\"id\":1}", 1_010), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(secret, Some(&header), b"{\"id\":1}", 1_000 + 301),
            Err(SignatureError::Stale(301))
        );
        // Re-dating an old signature breaks the MAC.
        let redated = header.replace("t=1000", "t=1300");
        assert_eq!(verify(secret, Some(&redated), b"{\"id\":1}", 1_300), Err(SignatureError::Mismatch));
        for bad in ["", "t=1000", "v1=00", "t=x,v1=zz", "nonsense"] {
            assert_eq!(verify(secret, Some(bad), b"", 1_000), Err(SignatureError::Malformed), "{bad}");
        }
        assert_eq!(verify(secret, None, b"", 1_000), Err(SignatureError::Malformed));
    }
}
