//! What the organizer sets on one device from the console: for now its settings PIN (its name
//! travels in the event manifest, where every device reads it for "scanned by North 2").
//!
//! A PIN is no business of the other devices, which all read the event's journal, so it travels
//! there sealed to the one device's key ([`crate::revoked::seal_to`]: only that device opens
//! it) and signed by the hub's key inside the seal (only the hub can set one: an enrolled
//! device that relays the journal cannot forge a PIN change for its neighbour). The device
//! applies the newest change it holds, once ([`RemoteSettings::set_at`] orders them).

use crate::ids::{DeviceId, Timestamp};
use crate::keys::DeviceKey;
use crate::revoked::{RevokedError, open_sealed, seal_to};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

const DOMAIN: &[u8] = b"voelgoed/device-settings/v1\n";

/// The largest sealed change a replica keeps (a PIN and a few fields, sealed and signed).
pub const MAX_SEALED_BYTES: usize = 1024;

/// What the organizer set for one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteSettings {
    /// The device.
    pub device: DeviceId,
    /// When the organizer set it (the hub's clock): a newer change replaces an older one.
    pub set_at: Timestamp,
    /// The new settings PIN (4–8 digits), if it was set; the device keeps only its hash.
    pub pin: Option<String>,
}

/// A change as it travels in the journal: who it is for and when, in the clear (so a replica
/// keeps the newest per device without opening it); the rest sealed to that device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSettings {
    /// The device it is for.
    pub device: DeviceId,
    /// When it was set.
    pub set_at: Timestamp,
    /// The signed change, sealed to the device's key.
    pub sealed: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Signed {
    settings: Vec<u8>,
    signature: Vec<u8>,
}

impl SealedSettings {
    /// `settings`, signed with the hub's key `hub` and sealed to the device's public key.
    pub fn seal(
        hub: &DeviceKey,
        device_key: &[u8; 32],
        settings: &RemoteSettings,
    ) -> Result<Self, RevokedError> {
        let bytes = postcard::to_stdvec(settings).map_err(|_| RevokedError::Malformed)?;
        let mut message = DOMAIN.to_vec();
        message.extend(&bytes);
        let signed = Signed { settings: bytes, signature: hub.sign(&message).to_vec() };
        let sealed =
            seal_to(device_key, &postcard::to_stdvec(&signed).map_err(|_| RevokedError::Malformed)?)?;
        Ok(Self { device: settings.device, set_at: settings.set_at, sealed })
    }

    /// The change, opened with the device's key `me` and verified against the hub's key;
    /// refused unless it is the hub's, for this device, as labelled outside the seal.
    pub fn open(&self, me: &DeviceKey, hub: &VerifyingKey) -> Result<RemoteSettings, RevokedError> {
        if self.sealed.len() > MAX_SEALED_BYTES {
            return Err(RevokedError::Malformed);
        }
        let signed: Signed =
            postcard::from_bytes(&open_sealed(me, &self.sealed)?).map_err(|_| RevokedError::Malformed)?;
        let signature: [u8; 64] =
            signed.signature.as_slice().try_into().map_err(|_| RevokedError::Malformed)?;
        let mut message = DOMAIN.to_vec();
        message.extend(&signed.settings);
        hub.verify_strict(&message, &Signature::from_bytes(&signature))
            .map_err(|_| RevokedError::BadSignature)?;
        let settings: RemoteSettings =
            postcard::from_bytes(&signed.settings).map_err(|_| RevokedError::Malformed)?;
        if settings.device != self.device || settings.set_at != self.set_at {
            return Err(RevokedError::OtherDevice(settings.device));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::strict_public_key;

    #[test]
    fn only_the_device_opens_it_and_only_the_hub_makes_it() {
        let (hub, device, other) =
            (DeviceKey::generate().unwrap(), DeviceKey::generate().unwrap(), DeviceKey::generate().unwrap());
        let hub_key = strict_public_key(&hub.public_key()).unwrap();
        let change = RemoteSettings { device: DeviceId(4), set_at: Timestamp(5), pin: Some("8642".into()) };
        let sealed = SealedSettings::seal(&hub, &device.public_key(), &change).unwrap();
        assert_eq!(sealed.open(&device, &hub_key), Ok(change.clone()));
        assert!(!sealed.sealed.windows(4).any(|w| w == b"8642"), "sealed");
        // Another device cannot open it; one signed by another key does not verify.
        assert_eq!(sealed.open(&other, &hub_key), Err(RevokedError::Sealed));
        let forged = SealedSettings::seal(&other, &device.public_key(), &change).unwrap();
        assert_eq!(forged.open(&device, &hub_key), Err(RevokedError::BadSignature));
        // Relabelled outside the seal (to pass as newer, or for another device): refused.
        let relabelled = SealedSettings { set_at: Timestamp(6), ..sealed.clone() };
        assert!(relabelled.open(&device, &hub_key).is_err());
        let mut altered = sealed;
        altered.sealed[40] ^= 1;
        assert_eq!(altered.open(&device, &hub_key), Err(RevokedError::Sealed));
    }
}
