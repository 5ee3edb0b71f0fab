//! Webhook signatures: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, Stripe's
//! `Stripe-Signature` scheme, which the simulated provider speaks too. The timestamp is inside
//! the MAC, so an old request cannot be re-dated; the receiver refuses timestamps more than
//! [`TOLERANCE_SECS`] away from its clock, and remembers event ids so a replay inside that
//! window changes nothing either.
//!
//! **Rotation.** While a provider rolls its signing secret it signs with the old and the new
//! one, sending one `v1=` per secret; while the hub's configuration moves to the new secret it
//! knows both. So a header may hold several `v1` signatures and the hub several secrets: one
//! match of any with any is enough. Other schemes in the header (Stripe's `v0`) are ignored.
//! Every comparison is constant-time (`Mac::verify_slice`).

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

/// The most `v1` signatures one header may carry (a provider sends one per secret it is
/// rolling; more is not a provider).
const MAX_SIGNATURES: usize = 8;

/// Checks `header` for `body` at `now` (Unix seconds) against any of `secrets`, in constant
/// time per comparison.
pub fn verify<S: AsRef<[u8]>>(
    secrets: &[S],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Malformed)?;
    let (mut timestamp, mut signatures) = (None, Vec::new());
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => {
                timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            Some(("t", _)) => return Err(SignatureError::Malformed),
            Some(("v1", v)) => signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
        return Err(SignatureError::Malformed);
    }
    let skew = (now - timestamp).abs();
    if skew > TOLERANCE_SECS {
        return Err(SignatureError::Stale(skew));
    }
    let matches = secrets.iter().any(|secret| {
        let expected = mac(secret.as_ref(), timestamp, body);
        signatures.iter().any(|signature| expected.clone().verify_slice(signature).is_ok())
    });
    if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_any_change_is_refused() {
        let secret = [b"whsec_test".as_slice()];
        let header = sign(secret[0], 1_000, b"{\"id\":1}");
        assert_eq!(verify(&secret, Some(&header), b"{\"id\":1}", 1_010), Ok(()));
        assert_eq!(verify(&secret, Some(&header), b"{\"id\":2}", 1_010), Err(SignatureError::Mismatch));
        assert_eq!(verify(&[b"other"], Some(&header), b"{\"id\":1}", 1_010), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(&secret, Some(&header), b"{\"id\":1}", 1_000 + 301),
            Err(SignatureError::Stale(301))
        );
        // Re-dating an old signature breaks the MAC.
        let redated = header.replace("t=1000", "t=1300");
        assert_eq!(verify(&secret, Some(&redated), b"{\"id\":1}", 1_300), Err(SignatureError::Mismatch));
        for bad in ["", "t=1000", "v1=00", "t=x,v1=00", "t=1000,v1=zz", "t=1000,t=1000,v1=00", "nonsense"] {
            assert_eq!(verify(&secret, Some(bad), b"", 1_000), Err(SignatureError::Malformed), "{bad}");
        }
        assert_eq!(verify(&secret, None, b"", 1_000), Err(SignatureError::Malformed));
        let no_secrets: [&[u8]; 0] = [];
        assert_eq!(verify(&no_secrets, Some(&header), b"{\"id\":1}", 1_010), Err(SignatureError::Mismatch));
    }

    #[test]
    fn during_a_rotation_any_signature_by_any_known_secret_counts() {
        let (old, new) = (b"whsec_old".as_slice(), b"whsec_new".as_slice());
        let body = b"{\"id\":\"evt_1\"}";
        let by_old = sign(old, 1_000, body);
        let by_new = sign(new, 1_000, body);
        // The provider rolling its secret: both signatures, Stripe's v0 beside them.
        let both = format!("{by_old},{},v0=00ff", by_new.split_once(',').unwrap().1);
        for secrets in [[old], [new]] {
            assert_eq!(verify(&secrets, Some(&both), body, 1_000), Ok(()));
        }
        // The hub moving to a new secret: it knows both, the provider signs with either.
        for header in [&by_old, &by_new] {
            assert_eq!(verify(&[new, old], Some(header), body, 1_000), Ok(()));
        }
        assert_eq!(verify(&[b"whsec_other"], Some(&both), body, 1_000), Err(SignatureError::Mismatch));
        let many = format!("t=1000{}", ",v1=00".repeat(MAX_SIGNATURES + 1));
        assert_eq!(verify(&[old], Some(&many), body, 1_000), Err(SignatureError::Malformed));
    }

    proptest::proptest! {
        /// Whatever the body and the moment, a signature verifies with its secret within the
        /// tolerance, and no other body, secret or flipped signature bit does.
        #[test]
        fn only_the_signed_body_with_the_secret_verifies(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            other in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            secret in proptest::collection::vec(proptest::num::u8::ANY, 1..64),
            at in 0i64..4_000_000_000,
            skew in -TOLERANCE_SECS..=TOLERANCE_SECS,
            bit in 0usize..256,
        ) {
            let header = sign(&secret, at, &body);
            proptest::prop_assert_eq!(verify(&[&secret], Some(&header), &body, at + skew), Ok(()));
            if other != body {
                proptest::prop_assert_eq!(verify(&[&secret], Some(&header), &other, at), Err(SignatureError::Mismatch));
            }
            let (prefix, hex_mac) = header.split_once("v1=").unwrap();
            let mut mac = hex::decode(hex_mac).unwrap();
            mac[bit / 8] ^= 1 << (bit % 8);
            let flipped = format!("{prefix}v1={}", hex::encode(mac));
            proptest::prop_assert_eq!(verify(&[&secret], Some(&flipped), &body, at), Err(SignatureError::Mismatch));
        }
    }
}
