//! What a device learns and leaves behind when its organizer revokes it.
//!
//! **The notice.** The hub signs a [`RevocationNotice`] — this device, revoked at this time —
//! with its own key, and answers a revoked device's request with it (HTTP 410); it also puts it
//! in the journal ([`crate::journal::Payload::DeviceRevoked`]), so a peer on the venue LAN that
//! synced since answers with the same notice. A device acts only on a notice that verifies
//! against the hub key it received at enrollment and names itself ([`SignedNotice::verify`]):
//! a bare 401, a network error, a captive portal's page or a peer without the notice is never
//! one, and nobody without the hub's key can make one — so nobody can wipe a device that was
//! not revoked.
//!
//! **The sealed export.** What the device recorded that never reached the hub (its last door
//! sales, its last scans) is not destroyed with the rest: it is signed with the device's key
//! (the hub checks it came from this device) and sealed to the hub's public key (only the hub
//! can read it: a thief holding the file learns nothing) — [`SealedExport`]. An administrator
//! uploads the file in the console.
//!
//! Sealing is libsodium's sealed box (X25519 with an ephemeral key, XSalsa20-Poly1305) from the
//! `crypto_box` crate, to the X25519 form of the recipient's Ed25519 key (the birational map
//! libsodium's `crypto_sign_ed25519_pk_to_curve25519` uses). Using one key pair for both
//! signing and sealing is what lets a device seal to the hub with nothing but the key it was
//! given at enrollment; the two uses share no message format, so neither can be turned into
//! the other.

use crate::ids::{DeviceId, Timestamp};
use crate::journal::Entry;
use crate::keys::{DeviceKey, strict_public_key};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The content type of a revocation notice on the wire.
pub const NOTICE_CONTENT_TYPE: &str = "application/vnd.voelgoed.revocation-notice";
/// The HTTP status a revoked device's request is answered with (with the notice as body).
pub const NOTICE_STATUS: u16 = 410;
/// The first bytes of a sealed export file.
pub const EXPORT_MAGIC: &[u8; 8] = b"VGSEALED";
/// The largest sealed export the hub reads (a device's unsynced journal, with room).
pub const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;

const NOTICE_DOMAIN: &[u8] = b"voelgoed/device-revoked/v1\n";
const EXPORT_DOMAIN: &[u8] = b"voelgoed/revoked-export/v1\n";

/// The hub's statement that a device was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationNotice {
    /// The device.
    pub device: DeviceId,
    /// When the organizer revoked it.
    pub revoked_at: Timestamp,
}

/// A notice with the hub's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedNotice {
    /// What the hub states.
    pub notice: RevocationNotice,
    /// Ed25519 over the domain and the notice.
    pub signature: Vec<u8>,
}

/// Why something offered as a notice or an export was not one.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RevokedError {
    /// Not decodable.
    #[error("not a revocation notice or export")]
    Malformed,
    /// Not signed by the key it must be signed by.
    #[error("the signature does not verify")]
    BadSignature,
    /// A valid notice, for another device.
    #[error("the notice names device {0}, not this one")]
    OtherDevice(DeviceId),
    /// The sealed box does not open with this key.
    #[error("the export is not sealed to this hub, or was altered")]
    Sealed,
    /// The random source failed.
    #[error("system random source: {0}")]
    Random(String),
}

fn notice_message(notice: &RevocationNotice) -> Vec<u8> {
    let mut message = NOTICE_DOMAIN.to_vec();
    message.extend(postcard::to_stdvec(notice).unwrap_or_default());
    message
}

impl SignedNotice {
    /// The hub's notice that `device` was revoked at `revoked_at`, signed with its key.
    pub fn sign(hub: &DeviceKey, device: DeviceId, revoked_at: Timestamp) -> Self {
        let notice = RevocationNotice { device, revoked_at };
        Self { notice, signature: hub.sign(&notice_message(&notice)).to_vec() }
    }

    /// As it travels.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// Reads one from the wire (at most a few hundred bytes; anything else is refused).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RevokedError> {
        if bytes.len() > 1024 {
            return Err(RevokedError::Malformed);
        }
        postcard::from_bytes(bytes).map_err(|_| RevokedError::Malformed)
    }

    /// The notice, if the hub whose key is `hub` signed it and it names `me`.
    pub fn verify(&self, hub: &VerifyingKey, me: DeviceId) -> Result<RevocationNotice, RevokedError> {
        let signature: [u8; 64] =
            self.signature.as_slice().try_into().map_err(|_| RevokedError::Malformed)?;
        hub.verify_strict(&notice_message(&self.notice), &Signature::from_bytes(&signature))
            .map_err(|_| RevokedError::BadSignature)?;
        if self.notice.device != me {
            return Err(RevokedError::OtherDevice(self.notice.device));
        }
        Ok(self.notice)
    }
}

/// `plaintext` sealed to the holder of the Ed25519 key `recipient`: only its secret opens it.
pub fn seal_to(recipient: &[u8; 32], plaintext: &[u8]) -> Result<Vec<u8>, RevokedError> {
    let key = strict_public_key(recipient).ok_or(RevokedError::Malformed)?;
    let public = crypto_box::PublicKey::from(key.to_montgomery().to_bytes());
    public.seal(&mut crypto_box::aead::OsRng, plaintext).map_err(|e| RevokedError::Random(e.to_string()))
}

/// Opens what was sealed to `key`'s public key.
pub fn open_sealed(key: &DeviceKey, sealed: &[u8]) -> Result<Vec<u8>, RevokedError> {
    let secret = crypto_box::SecretKey::from(key.scalar_bytes());
    secret.unseal(sealed).map_err(|_| RevokedError::Sealed)
}

/// What a revoked device leaves for the hub: the entries it recorded that the hub never
/// acknowledged, signed with the device's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The device.
    pub device: DeviceId,
    /// When it was made (the device's clock).
    pub made_at: Timestamp,
    /// The notice that made the device leave it.
    pub notice: RevocationNotice,
    /// Its own entries the hub had not acknowledged, in order.
    pub entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct SignedExport {
    export: Vec<u8>,
    signature: Vec<u8>,
}

/// An export as a file: [`EXPORT_MAGIC`], then the signed export sealed to the hub.
pub struct SealedExport;

impl SealedExport {
    /// `export`, signed with `device` (the device's own key, before it is wiped) and sealed to
    /// the hub's public key `hub`.
    pub fn seal(export: &Export, device: &DeviceKey, hub: &[u8; 32]) -> Result<Vec<u8>, RevokedError> {
        let bytes = postcard::to_stdvec(export).map_err(|_| RevokedError::Malformed)?;
        let mut message = EXPORT_DOMAIN.to_vec();
        message.extend(&bytes);
        let signed = SignedExport { export: bytes, signature: device.sign(&message).to_vec() };
        let mut file = EXPORT_MAGIC.to_vec();
        file.extend(seal_to(hub, &postcard::to_stdvec(&signed).map_err(|_| RevokedError::Malformed)?)?);
        Ok(file)
    }

    /// Opens a file with the hub's key and returns the export, once its signature verifies
    /// against `device_key` — the public key of the device it claims to come from, looked up
    /// by `device_key(claimed id)`.
    pub fn open(
        file: &[u8],
        hub: &DeviceKey,
        device_key: impl FnOnce(DeviceId) -> Option<VerifyingKey>,
    ) -> Result<Export, RevokedError> {
        if file.len() > MAX_EXPORT_BYTES {
            return Err(RevokedError::Malformed);
        }
        let sealed = file.strip_prefix(EXPORT_MAGIC.as_slice()).ok_or(RevokedError::Malformed)?;
        let signed: SignedExport =
            postcard::from_bytes(&open_sealed(hub, sealed)?).map_err(|_| RevokedError::Malformed)?;
        let export: Export = postcard::from_bytes(&signed.export).map_err(|_| RevokedError::Malformed)?;
        let key = device_key(export.device).ok_or(RevokedError::BadSignature)?;
        let signature: [u8; 64] =
            signed.signature.as_slice().try_into().map_err(|_| RevokedError::Malformed)?;
        let mut message = EXPORT_DOMAIN.to_vec();
        message.extend(&signed.export);
        key.verify_strict(&message, &Signature::from_bytes(&signature))
            .map_err(|_| RevokedError::BadSignature)?;
        if export.entries.iter().any(|e| e.origin != export.device) {
            return Err(RevokedError::Malformed);
        }
        Ok(export)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::ids::{EventId, GateId};
    use crate::journal::{Payload, ScanEntry};
    use crate::manifest::Direction;
    use crate::verdict::VerdictKind;

    fn verifying(key: &DeviceKey) -> VerifyingKey {
        VerifyingKey::from_bytes(&key.public_key()).unwrap()
    }

    #[test]
    fn only_the_hubs_notice_naming_this_device_counts() {
        let hub = DeviceKey::from_seed([1; 32]);
        let stranger = DeviceKey::from_seed([2; 32]);
        let notice = SignedNotice::sign(&hub, DeviceId(7), Timestamp(1_000));
        let wire = SignedNotice::from_bytes(&notice.to_bytes()).unwrap();
        assert_eq!(wire.verify(&verifying(&hub), DeviceId(7)).unwrap().revoked_at, Timestamp(1_000));
        assert_eq!(wire.verify(&verifying(&hub), DeviceId(8)), Err(RevokedError::OtherDevice(DeviceId(7))));
        // Signed by anyone else (an attacker, a peer, a captive portal): not a notice.
        let forged = SignedNotice::sign(&stranger, DeviceId(7), Timestamp(1_000));
        assert_eq!(forged.verify(&verifying(&hub), DeviceId(7)), Err(RevokedError::BadSignature));
        // Altered after signing: the time, the device.
        let mut altered = notice.clone();
        altered.notice.revoked_at = Timestamp(2_000);
        assert_eq!(altered.verify(&verifying(&hub), DeviceId(7)), Err(RevokedError::BadSignature));
        assert_eq!(
            SignedNotice::from_bytes(b"<html>Sign in to the Wi-Fi</html>"),
            Err(RevokedError::Malformed)
        );
        assert_eq!(SignedNotice::from_bytes(&[0; 4096]), Err(RevokedError::Malformed));
    }

    #[test]
    fn an_export_opens_only_at_the_hub_and_only_as_the_device_signed_it() {
        let hub = DeviceKey::from_seed([3; 32]);
        let device = DeviceKey::from_seed([4; 32]);
        let scan = Payload::Scan(ScanEntry {
            gate: GateId(1),
            direction: Direction::Entry,
            at: Timestamp(5),
            verdict: VerdictKind::Admitted,
            ticket: None,
        });
        let entry = Entry { origin: DeviceId(9), seq: 4, hlc: Hlc(77), event: EventId(2), payload: scan };
        let export = Export {
            device: DeviceId(9),
            made_at: Timestamp(10),
            notice: RevocationNotice { device: DeviceId(9), revoked_at: Timestamp(8) },
            entries: vec![entry],
        };
        let file = SealedExport::seal(&export, &device, &hub.public_key()).unwrap();
        assert!(file.starts_with(EXPORT_MAGIC));
        let opened =
            SealedExport::open(&file, &hub, |d| (d == DeviceId(9)).then(|| verifying(&device))).unwrap();
        assert_eq!(opened, export);
        // Another hub cannot open it; a thief holding the file reads nothing of it.
        let other_hub = DeviceKey::from_seed([5; 32]);
        assert!(matches!(
            SealedExport::open(&file, &other_hub, |_| Some(verifying(&device))),
            Err(RevokedError::Sealed)
        ));
        assert!(!file.windows(4).any(|w| w == b"\x09\x04\x4d\x02"), "sealed, not plain");
        // Signed by another key than the device's registered one: refused.
        let impostor = DeviceKey::from_seed([6; 32]);
        assert_eq!(
            SealedExport::open(&file, &hub, |_| Some(verifying(&impostor))),
            Err(RevokedError::BadSignature)
        );
        // One flipped byte anywhere: refused.
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(SealedExport::open(&flipped, &hub, |_| Some(verifying(&device))).is_err());
        assert_eq!(SealedExport::open(b"VGSEALE", &hub, |_| None), Err(RevokedError::Malformed));
    }
}
