//! Signed sync requests and responses, in the spirit of RFC 9421 (HTTP Message Signatures) and
//! RFC 9530 (`Content-Digest`), reduced to what two Voelgoed replicas need.
//!
//! Every request carries the sender's device id, a timestamp, a random nonce, the SHA-256 of
//! its body, and an Ed25519 signature by the device key over all of them plus method, path and
//! the *recipient's* device id (so a request captured on the LAN cannot be replayed to another
//! peer).
//! Every response carries the responder's id, the SHA-256 of its body and a signature over them
//! plus the status and the *request's* nonce — so a response cannot be replayed to another
//! request. A receiver refuses an unsigned, unknown-key, badly signed, stale or replayed
//! request with a clear [`AuthError`]; the HTTP server checks the sender and the timestamp
//! before it reads the body.
//!
//! Why not mutual TLS: peers on a venue LAN have no certificates, and the hub sits behind
//! TLS-terminating proxies; signing the messages works the same over both. Pure functions here;
//! the HTTP layer moves the headers.

use crate::hlc::DEFAULT_MAX_DRIFT_MS;
use crate::ids::{DeviceId, Timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use thiserror::Error;

/// Header: the signer's device id.
pub const DEVICE: &str = "voelgoed-device";
/// Header: the signer's clock, Unix milliseconds.
pub const TIMESTAMP: &str = "voelgoed-timestamp";
/// Header: 16 random bytes, hex; the responder echoes it into its signature.
pub const NONCE: &str = "voelgoed-nonce";
/// Header: `sha-256=:<base64>:` of the body (RFC 9530).
pub const CONTENT_DIGEST: &str = "content-digest";
/// Header: base64 Ed25519 signature.
pub const SIGNATURE: &str = "voelgoed-signature";

/// How far a request's timestamp may be from the receiver's clock. As wide as the clock drift
/// journals accept: a gate whose clock is twenty minutes off must still be able to sync.
pub const MAX_REQUEST_AGE_MS: i64 = DEFAULT_MAX_DRIFT_MS;

/// Why a signed message was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthError {
    /// A required header is absent or unreadable.
    #[error("unsigned request: header {0} is missing or invalid")]
    Missing(&'static str),
    /// The body does not match its digest.
    #[error("the body does not match its Content-Digest")]
    Digest,
    /// The signer is not a device this replica trusts (unknown, or revoked).
    #[error("device {0} is not known here (not enrolled, or revoked)")]
    UnknownDevice(DeviceId),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// Too old or too far in the future.
    #[error("the request is {age_ms} ms from this device's clock (at most {MAX_REQUEST_AGE_MS} ms)")]
    Stale {
        /// Request time minus receiver time.
        age_ms: i64,
    },
    /// The same nonce was seen before.
    #[error("replayed request refused")]
    Replayed,
    /// The response came from another device than the one asked.
    #[error("the response is signed by device {got}, not by device {expected}")]
    WrongResponder {
        /// The peer asked.
        expected: DeviceId,
        /// The signer.
        got: DeviceId,
    },
}

/// The signed headers of a request or response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `voelgoed-device`.
    pub device: DeviceId,
    /// `voelgoed-timestamp`.
    pub timestamp: Timestamp,
    /// `voelgoed-nonce`.
    pub nonce: String,
    /// `content-digest`.
    pub digest: String,
    /// `voelgoed-signature`.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs.
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            (DEVICE, self.device.to_string()),
            (TIMESTAMP, self.timestamp.0.to_string()),
            (NONCE, self.nonce.clone()),
            (CONTENT_DIGEST, self.digest.clone()),
            (SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers through `get` (header name → value).
    pub fn read<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let header = |name: &'static str| get(name).ok_or(AuthError::Missing(name));
        Ok(Self {
            device: DeviceId(header(DEVICE)?.parse().map_err(|_| AuthError::Missing(DEVICE))?),
            timestamp: Timestamp(header(TIMESTAMP)?.parse().map_err(|_| AuthError::Missing(TIMESTAMP))?),
            nonce: header(NONCE)?.to_owned(),
            digest: header(CONTENT_DIGEST)?.to_owned(),
            signature: header(SIGNATURE)?.to_owned(),
        })
    }
}

/// `sha-256=:<base64>:` of `body`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(Sha256::digest(body)))
}

fn request_message(method: &str, path: &str, to: DeviceId, h: &SignedHeaders) -> Vec<u8> {
    format!(
        "voelgoed/request/v1\n{method}\n{path}\n{to}\n{}\n{}\n{}\n{}",
        h.digest, h.timestamp.0, h.nonce, h.device
    )
    .into_bytes()
}

fn response_message(status: u16, request_nonce: &str, h: &SignedHeaders) -> Vec<u8> {
    format!("voelgoed/response/v1\n{status}\n{request_nonce}\n{}\n{}\n{}", h.digest, h.timestamp.0, h.device)
        .into_bytes()
}

/// Signs a request from `device` to `to`.
pub fn sign_request(
    device: DeviceId,
    to: DeviceId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
    method: &str,
    path: &str,
    body: &[u8],
    now: Timestamp,
) -> SignedHeaders {
    let mut nonce = [0u8; 16];
    // A failing system RNG leaves a zero nonce; the receiver then refuses repeats as replays,
    // which fails safe.
    let _ = getrandom::fill(&mut nonce);
    let mut h = SignedHeaders {
        device,
        timestamp: now,
        nonce: hex::encode(nonce),
        digest: content_digest(body),
        signature: String::new(),
    };
    h.signature = BASE64.encode(sign(&request_message(method, path, to, &h)));
    h
}

/// Signs a response to the request whose nonce was `request_nonce`.
pub fn sign_response(
    device: DeviceId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
    status: u16,
    request_nonce: &str,
    body: &[u8],
    now: Timestamp,
) -> SignedHeaders {
    let mut h = SignedHeaders {
        device,
        timestamp: now,
        nonce: request_nonce.to_owned(),
        digest: content_digest(body),
        signature: String::new(),
    };
    h.signature = BASE64.encode(sign(&response_message(status, request_nonce, &h)));
    h
}

fn check_signature(key: &VerifyingKey, message: &[u8], signature: &str) -> Result<(), AuthError> {
    let bytes = BASE64.decode(signature).map_err(|_| AuthError::Missing(SIGNATURE))?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| AuthError::Missing(SIGNATURE))?;
    key.verify_strict(message, &Signature::from_bytes(&bytes)).map_err(|_| AuthError::BadSignature)
}

/// Verifies a response from `expected` to the request with nonce `request_nonce`.
pub fn verify_response(
    key_of: impl Fn(DeviceId) -> Option<VerifyingKey>,
    expected: DeviceId,
    status: u16,
    request_nonce: &str,
    headers: &SignedHeaders,
    body: &[u8],
) -> Result<(), AuthError> {
    if headers.device != expected {
        return Err(AuthError::WrongResponder { expected, got: headers.device });
    }
    if headers.digest != content_digest(body) {
        return Err(AuthError::Digest);
    }
    let key = key_of(headers.device).ok_or(AuthError::UnknownDevice(headers.device))?;
    check_signature(&key, &response_message(status, request_nonce, headers), &headers.signature)
}

/// Checks requests to device `me`: signature and freshness. Whether a nonce was seen before is
/// a [`NonceStore`]'s to say: in memory for one device's LAN server, in the database for hub
/// instances that must refuse each other's replays.
pub struct RequestVerifier {
    me: DeviceId,
}

impl RequestVerifier {
    /// A verifier for requests addressed to `me`.
    pub fn new(me: DeviceId) -> Self {
        Self { me }
    }

    /// Checks what can be checked before the body is read: the timestamp and that the sender
    /// is trusted. A refusal here costs the server nothing.
    pub fn precheck(
        &self,
        key_of: impl Fn(DeviceId) -> Option<VerifyingKey>,
        headers: &SignedHeaders,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        let age_ms = headers.timestamp.0.saturating_sub(now.0);
        if age_ms.abs() > MAX_REQUEST_AGE_MS {
            return Err(AuthError::Stale { age_ms });
        }
        key_of(headers.device).map(|_| ()).ok_or(AuthError::UnknownDevice(headers.device))
    }

    /// Verifies a request's freshness, digest and signature, and returns its sender. `key_of`
    /// names the keys trusted now (a revoked device has none). The nonce is not checked here:
    /// remember it in a [`NonceStore`] once this succeeded (a forged request must not use up a
    /// real one's nonce).
    pub fn verify(
        &self,
        key_of: impl Fn(DeviceId) -> Option<VerifyingKey>,
        method: &str,
        path: &str,
        headers: &SignedHeaders,
        body: &[u8],
        now: Timestamp,
    ) -> Result<DeviceId, AuthError> {
        self.precheck(&key_of, headers, now)?;
        if headers.digest != content_digest(body) {
            return Err(AuthError::Digest);
        }
        let key = key_of(headers.device).ok_or(AuthError::UnknownDevice(headers.device))?;
        check_signature(&key, &request_message(method, path, self.me, headers), &headers.signature)?;
        Ok(headers.device)
    }
}

/// Where the nonces of accepted requests are remembered for the freshness window
/// ([`MAX_REQUEST_AGE_MS`] either side), so that none is accepted twice. Older ones may be
/// forgotten: their requests are refused as stale anyway.
pub trait NonceStore: Send + Sync {
    /// Remembers `device`'s `nonce` (of a request dated `timestamp`, received at `now`).
    /// `Ok(false)`: it was seen before — a replay. `Err`: the store could not answer (the
    /// request is refused as "try again", never accepted unchecked).
    fn remember(
        &self,
        device: DeviceId,
        nonce: &str,
        timestamp: Timestamp,
        now: Timestamp,
    ) -> impl std::future::Future<Output = Result<bool, String>> + Send;
}

/// Nonces in this process's memory: for a device serving its LAN peers (one process is the
/// whole server).
#[derive(Default)]
pub struct MemoryNonces(Mutex<Nonces>);

#[derive(Default)]
struct Nonces {
    by_key: HashMap<(DeviceId, String), i64>,
    last_pruned: i64,
}

impl MemoryNonces {
    /// [`NonceStore::remember`], at once: `false` for a nonce seen before.
    pub fn remember_now(&self, device: DeviceId, nonce: &str, timestamp: Timestamp, now: Timestamp) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget nonces older than the freshness window (their requests are refused as stale
        // anyway), at most once a minute so a busy server does not scan the map every time.
        if now.0.saturating_sub(seen.last_pruned) > 60_000 {
            seen.by_key.retain(|_, &mut t| now.0.saturating_sub(t) <= MAX_REQUEST_AGE_MS);
            seen.last_pruned = now.0;
        }
        seen.by_key.insert((device, nonce.to_owned()), timestamp.0).is_none()
    }
}

impl NonceStore for MemoryNonces {
    fn remember(
        &self,
        device: DeviceId,
        nonce: &str,
        timestamp: Timestamp,
        now: Timestamp,
    ) -> impl std::future::Future<Output = Result<bool, String>> + Send {
        std::future::ready(Ok(self.remember_now(device, nonce, timestamp, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;

    fn setup() -> (DeviceKey, impl Fn(DeviceId) -> Option<VerifyingKey>) {
        let key = DeviceKey::from_seed([1; 32]);
        let public = VerifyingKey::from_bytes(&key.public_key()).unwrap();
        (key, move |d: DeviceId| (d == DeviceId(7)).then_some(public))
    }

    #[test]
    fn a_signed_request_verifies_once() {
        let (key, keys) = setup();
        let now = Timestamp(1_000_000_000);
        let h = sign_request(DeviceId(7), DeviceId(0), |m| key.sign(m), "POST", "/v1/sync", b"body", now);
        let v = RequestVerifier::new(DeviceId(0));
        let nonces = MemoryNonces::default();
        assert_eq!(v.verify(&keys, "POST", "/v1/sync", &h, b"body", now), Ok(DeviceId(7)));
        assert!(nonces.remember_now(h.device, &h.nonce, h.timestamp, now));
        assert!(!nonces.remember_now(h.device, &h.nonce, h.timestamp, now), "the replay is refused");
        // Another device may use the same nonce: it names a request per device.
        assert!(nonces.remember_now(DeviceId(8), &h.nonce, h.timestamp, now));
        // Past the freshness window it is forgotten (its request is stale by then).
        let later = Timestamp(now.0 + 2 * MAX_REQUEST_AGE_MS);
        assert!(nonces.remember_now(h.device, "other", later, later));
        assert!(nonces.remember_now(h.device, &h.nonce, h.timestamp, later));
    }

    #[test]
    fn every_kind_of_bad_request_is_refused() {
        let (key, keys) = setup();
        let now = Timestamp(1_000_000_000);
        let v = RequestVerifier::new(DeviceId(0));
        let sign = |device, body: &[u8], at| {
            sign_request(device, DeviceId(0), |m| key.sign(m), "POST", "/v1/sync", body, at)
        };
        let h = sign(DeviceId(7), b"body", now);
        assert_eq!(v.verify(&keys, "POST", "/v1/sync", &h, b"tampered", now), Err(AuthError::Digest));
        assert_eq!(v.verify(&keys, "POST", "/v1/other", &h, b"body", now), Err(AuthError::BadSignature));
        let stranger = sign(DeviceId(8), b"body", now);
        assert_eq!(
            v.verify(&keys, "POST", "/v1/sync", &stranger, b"body", now),
            Err(AuthError::UnknownDevice(DeviceId(8)))
        );
        let old = sign(DeviceId(7), b"body", Timestamp(now.0 - MAX_REQUEST_AGE_MS - 1));
        assert!(matches!(
            v.verify(&keys, "POST", "/v1/sync", &old, b"body", now),
            Err(AuthError::Stale { .. })
        ));
        let mut forged = sign(DeviceId(7), b"body", now);
        forged.timestamp = Timestamp(now.0 + 1);
        assert_eq!(v.verify(&keys, "POST", "/v1/sync", &forged, b"body", now), Err(AuthError::BadSignature));
        let unsigned = SignedHeaders::read(|name| (name != SIGNATURE).then_some("1"));
        assert_eq!(unsigned, Err(AuthError::Missing(SIGNATURE)));
        // A request signed for another peer is refused here.
        let elsewhere =
            sign_request(DeviceId(7), DeviceId(5), |m| key.sign(m), "POST", "/v1/sync", b"body", now);
        assert_eq!(
            v.verify(&keys, "POST", "/v1/sync", &elsewhere, b"body", now),
            Err(AuthError::BadSignature)
        );
        // The good one still verifies.
        assert_eq!(v.verify(&keys, "POST", "/v1/sync", &h, b"body", now), Ok(DeviceId(7)));
    }

    #[test]
    fn a_response_is_bound_to_its_request() {
        let (key, keys) = setup();
        let now = Timestamp(5);
        let h = sign_response(DeviceId(7), |m| key.sign(m), 200, "n1", b"reply", now);
        assert_eq!(verify_response(&keys, DeviceId(7), 200, "n1", &h, b"reply"), Ok(()));
        assert_eq!(
            verify_response(&keys, DeviceId(7), 200, "n2", &h, b"reply"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_response(&keys, DeviceId(9), 200, "n1", &h, b"reply"),
            Err(AuthError::WrongResponder { expected: DeviceId(9), got: DeviceId(7) })
        );
    }
}
