//! Event keys and device keys: generate, sign, save and load.
//!
//! - An **event key** lives on the hub (private part never leaves it). It signs tickets the hub
//!   sells and delegations for box-office devices. An event may have several keys at once, each
//!   with its own [`KeyId`], so keys rotate without reissuing old tickets.
//! - A **device key** is made by a device at enrollment and never leaves it. Under a delegation
//!   it signs the tickets the device sells at the door.
//!
//! Key files are small JSON documents (format in docs/ticket-format.md §Keys) written with
//! owner-only permissions; loading checks the kind, the lengths and that the public key
//! belongs to the secret, and says which of these failed.

use crate::ids::{EventId, KeyId, SeatNumber, Serial, TicketTypeId, Timestamp};
use crate::ticket::{
    Delegation, DelegationGrant, MAX_DELEGATION_TYPES, SignedTicket, Ticket, ValidityWindow,
};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a key could not be made, read or used.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("cannot access key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The content is not a key file at all.
    #[error("not a Voelgoed key file: {0}")]
    NotAKeyFile(String),
    /// A key file of another kind (a device key where an event key was expected, say).
    #[error("this is a {found} file, but a {expected} is needed")]
    WrongKind {
        /// The kind needed.
        expected: &'static str,
        /// The kind in the file.
        found: String,
    },
    /// A key field is not 64 hexadecimal digits.
    #[error("the {field} is not 64 hexadecimal digits")]
    InvalidHex {
        /// Which field.
        field: &'static str,
    },
    /// The public key in the file is not the secret key's.
    #[error("the public key does not belong to the secret key (is the file damaged?)")]
    Mismatch,
    /// The public key is not a valid Ed25519 point, or a weak (small-order) one.
    #[error("the {field} is not a valid Ed25519 public key")]
    InvalidPublicKey {
        /// Which field.
        field: &'static str,
    },
    /// The operating system's random source failed.
    #[error("the system random source failed: {0}")]
    Random(String),
}

/// Why a device refused to sign a ticket: it would have made a ticket no gate admits.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum IssueError {
    /// The delegation was granted to another device's key.
    #[error("the delegation belongs to another device")]
    NotThisDevice,
    /// The serial is outside the delegated range.
    #[error("serial {0} is outside the delegated range")]
    SerialOutOfRange(Serial),
    /// The ticket type is not delegated.
    #[error("ticket type {0} is not delegated to this device")]
    TypeNotAllowed(TicketTypeId),
    /// A grant must name 1 to 4 ticket types.
    #[error("a delegation must name 1 to {MAX_DELEGATION_TYPES} ticket types, not {0}")]
    TypeCount(usize),
    /// The serial range ends before it starts.
    #[error("the serial range ends before it starts")]
    EmptyRange,
    /// The delegation has expired: the device may no longer sell under it.
    #[error("the delegation has expired")]
    DelegationExpired,
    /// The device key is not a valid (canonical, not weak) Ed25519 public key.
    #[error("the device key is not a valid public key")]
    InvalidDeviceKey,
}

/// The part of an event key that gates hold: enough to verify, nothing to sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicEventKey {
    /// The key's id within the event.
    pub id: KeyId,
    /// The Ed25519 public key.
    #[serde(with = "hex_public_key")]
    pub key: VerifyingKey,
}

/// An event signing key (hub side).
pub struct EventKey {
    event: EventId,
    id: KeyId,
    signing: SigningKey,
}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("EventKey").field("event", &self.event).field("id", &self.id).finish_non_exhaustive()
    }
}

impl EventKey {
    /// A new random key for `event`, to be known as `id`.
    pub fn generate(event: EventId, id: KeyId) -> Result<Self, KeyError> {
        Ok(Self::from_seed(event, id, random_seed()?))
    }

    /// The key whose 32-byte Ed25519 secret is `seed` (test vectors, loading).
    pub fn from_seed(event: EventId, id: KeyId, seed: [u8; 32]) -> Self {
        Self { event, id, signing: SigningKey::from_bytes(&seed) }
    }

    /// The 32-byte secret seed — for the hub to seal it at rest. Handle with care: whoever
    /// holds it can sign tickets for the event.
    pub fn secret_seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The event the key belongs to.
    pub fn event(&self) -> EventId {
        self.event
    }

    /// The key's id within the event.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// What gates need to verify this key's signatures.
    pub fn public(&self) -> PublicEventKey {
        PublicEventKey { id: self.id, key: self.signing.verifying_key() }
    }

    /// Signs a ticket for this key's event.
    pub fn issue(
        &self,
        serial: Serial,
        ticket_type: TicketTypeId,
        validity: Option<ValidityWindow>,
    ) -> SignedTicket {
        self.issue_seat(serial, ticket_type, validity, None)
    }

    /// Signs a ticket for this key's event that holds `seat` (its number in the event's seat
    /// map), or none.
    pub fn issue_seat(
        &self,
        serial: Serial,
        ticket_type: TicketTypeId,
        validity: Option<ValidityWindow>,
        seat: Option<SeatNumber>,
    ) -> SignedTicket {
        let ticket = Ticket {
            event: self.event,
            key_id: self.id,
            serial,
            ticket_type,
            validity,
            seat,
            delegation: None,
        };
        SignedTicket::sign_with(ticket, |msg| self.signing.sign(msg).to_bytes())
    }

    /// Grants a device the right to sign tickets described by `grant`.
    pub fn delegate(&self, grant: DelegationGrant) -> Result<SignedDelegation, IssueError> {
        if grant.ticket_types.is_empty() || grant.ticket_types.len() > MAX_DELEGATION_TYPES {
            return Err(IssueError::TypeCount(grant.ticket_types.len()));
        }
        if grant.last_serial < grant.first_serial {
            return Err(IssueError::EmptyRange);
        }
        if strict_public_key(&grant.device_key).is_none() {
            return Err(IssueError::InvalidDeviceKey);
        }
        let msg = grant.signed_message(self.event, self.id);
        let signature = self.signing.sign(&msg).to_bytes();
        Ok(SignedDelegation {
            event: self.event,
            key_id: self.id,
            delegation: grant.with_signature(signature),
        })
    }

    /// The key file's JSON (contains the secret).
    pub fn to_json(&self) -> String {
        KeyFile {
            kind: EVENT_KEY_KIND.into(),
            event: Some(self.event),
            key_id: Some(self.id),
            secret_key: hex::encode(self.signing.to_bytes()),
            public_key: hex::encode(self.signing.verifying_key().to_bytes()),
        }
        .to_json()
    }

    /// Reads a key file's JSON.
    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        let file = KeyFile::parse(json, EVENT_KEY_KIND)?;
        let (Some(event), Some(id)) = (file.event, file.key_id) else {
            return Err(KeyError::NotAKeyFile("an event key file needs \"event\" and \"key_id\"".into()));
        };
        Ok(Self::from_seed(event, id, file.checked_seed()?))
    }

    /// Writes the key file with owner-only permissions; never overwrites an existing file.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        write_secret_file(path, &self.to_json())
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_json(&read_file(path)?)
    }
}

/// A delegation together with the event key that signed it, as a device stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDelegation {
    /// The event.
    pub event: EventId,
    /// The event key that signed it.
    pub key_id: KeyId,
    /// The delegation as it rides in tickets.
    pub delegation: Delegation,
}

impl SignedDelegation {
    /// Its bytes, as a lease carries it to the box office.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::ticket::codec::encode_signed_delegation(self.key_id, self.event, &self.delegation)
    }

    /// Reads [`Self::to_bytes`]'s form. Checks the shape only: check the signature with
    /// [`Self::is_signed_by`] before selling under it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::ticket::DecodeError> {
        let (key_id, event, delegation) = crate::ticket::codec::decode_signed_delegation(bytes)?;
        Ok(Self { event, key_id, delegation })
    }

    /// Whether `event_key` (the event's key `key_id`) signed this delegation: a device checks
    /// a delegation it receives before selling under it.
    pub fn is_signed_by(&self, event_key: &VerifyingKey) -> bool {
        let msg = self.delegation.grant.signed_message(self.event, self.key_id);
        event_key
            .verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&self.delegation.signature))
            .is_ok()
    }
}

/// A device's own key (device side).
pub struct DeviceKey {
    signing: SigningKey,
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey").field("public", &hex::encode(self.public_key())).finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A new random device key.
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Self::from_seed(random_seed()?))
    }

    /// The key whose 32-byte Ed25519 secret is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&seed) }
    }

    /// The secret seed, for the replica to store (it never leaves the device) or the hub to
    /// seal its own key at rest.
    pub fn secret_seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// Signs `message` (the device signs its sync requests and responses).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The public key the hub registers at enrollment.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The clamped X25519 scalar of this key (the secret half of sealing to its public key,
    /// see [`crate::revoked`]).
    pub fn scalar_bytes(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
    }

    /// Signs a ticket under `delegation`. Refuses a ticket the delegation does not cover, so
    /// the device can never sell a ticket that gates will reject.
    pub fn issue(
        &self,
        delegation: &SignedDelegation,
        serial: Serial,
        ticket_type: TicketTypeId,
        validity: Option<ValidityWindow>,
        now: Timestamp,
    ) -> Result<SignedTicket, IssueError> {
        self.issue_seat(delegation, serial, ticket_type, validity, None, now)
    }

    /// [`Self::issue`] for a ticket that holds `seat` (its number in the event's seat map).
    /// Which seats a box office may sell is its seat lease's business, not the delegation's.
    pub fn issue_seat(
        &self,
        delegation: &SignedDelegation,
        serial: Serial,
        ticket_type: TicketTypeId,
        validity: Option<ValidityWindow>,
        seat: Option<SeatNumber>,
        now: Timestamp,
    ) -> Result<SignedTicket, IssueError> {
        let d = &delegation.delegation.grant;
        if now > d.expires_at() {
            return Err(IssueError::DelegationExpired);
        }
        if d.device_key != self.public_key() {
            return Err(IssueError::NotThisDevice);
        }
        if !d.covers_serial(serial) {
            return Err(IssueError::SerialOutOfRange(serial));
        }
        if !d.ticket_types.contains(&ticket_type) {
            return Err(IssueError::TypeNotAllowed(ticket_type));
        }
        let ticket = Ticket {
            event: delegation.event,
            key_id: delegation.key_id,
            serial,
            ticket_type,
            validity,
            seat,
            delegation: Some(delegation.delegation.clone()),
        };
        Ok(SignedTicket::sign_with(ticket, |msg| self.signing.sign(msg).to_bytes()))
    }

    /// The key file's JSON (contains the secret).
    pub fn to_json(&self) -> String {
        KeyFile {
            kind: DEVICE_KEY_KIND.into(),
            event: None,
            key_id: None,
            secret_key: hex::encode(self.signing.to_bytes()),
            public_key: hex::encode(self.public_key()),
        }
        .to_json()
    }

    /// Reads a key file's JSON.
    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        Ok(Self::from_seed(KeyFile::parse(json, DEVICE_KEY_KIND)?.checked_seed()?))
    }

    /// Writes the key file with owner-only permissions; never overwrites an existing file.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        write_secret_file(path, &self.to_json())
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_json(&read_file(path)?)
    }
}

const EVENT_KEY_KIND: &str = "voelgoed-event-key";
const DEVICE_KEY_KIND: &str = "voelgoed-device-key";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_id: Option<KeyId>,
    secret_key: String,
    public_key: String,
}

impl KeyFile {
    fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    fn parse(json: &str, expected: &'static str) -> Result<Self, KeyError> {
        let file: Self = serde_json::from_str(json).map_err(|e| KeyError::NotAKeyFile(e.to_string()))?;
        if file.kind != expected {
            return Err(KeyError::WrongKind { expected, found: file.kind });
        }
        Ok(file)
    }

    fn checked_seed(&self) -> Result<[u8; 32], KeyError> {
        let seed = hex32(&self.secret_key, "secret key")?;
        let public = hex32(&self.public_key, "public key")?;
        if SigningKey::from_bytes(&seed).verifying_key().to_bytes() != public {
            return Err(KeyError::Mismatch);
        }
        Ok(seed)
    }
}

fn hex32(s: &str, field: &'static str) -> Result<[u8; 32], KeyError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).map_err(|_| KeyError::InvalidHex { field })?;
    Ok(out)
}

/// Parses a hex public key; see [`strict_public_key`] for what is refused.
pub fn parse_public_key(s: &str, field: &'static str) -> Result<VerifyingKey, KeyError> {
    strict_public_key(&hex32(s, field)?).ok_or(KeyError::InvalidPublicKey { field })
}

/// Decodes a public key strictly: the bytes must be the canonical encoding of a curve point
/// (curve25519-dalek alone also accepts y ≥ p and a "negative zero" x, so two byte strings
/// could name one key) and the point must not be of small order (a weak key, for which
/// signatures can be forged; `verify_strict` would refuse them later anyway — refusing the key
/// itself gives the clearer error).
///
/// Keys accepted are remembered (up to [`KEYS_REMEMBERED`] per process): the three point
/// operations cost ~30 µs, and every manifest lists every device's key — a gate that was offline
/// while 100 devices enrolled decodes 100 manifests of up to 100 keys each, and the first
/// reconnect storm of the fleet simulator spent a third of its CPU here. A hit gives exactly
/// what the checks would (the same bytes, already found canonical and strong). A plain map
/// emptied when full: the working set is one venue's devices, far below the bound.
pub fn strict_public_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    static ACCEPTED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<[u8; 32], VerifyingKey>>,
    > = std::sync::OnceLock::new();
    let accepted = ACCEPTED.get_or_init(Default::default);
    if let Some(key) = accepted.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(bytes) {
        return Some(*key);
    }
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    let canonical = key.to_edwards().compress().to_bytes() == *bytes;
    if !canonical || key.is_weak() {
        return None;
    }
    let mut accepted = accepted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if accepted.len() >= KEYS_REMEMBERED {
        accepted.clear();
    }
    accepted.insert(*bytes, key);
    Some(key)
}

/// How many accepted public keys [`strict_public_key`] remembers.
pub const KEYS_REMEMBERED: usize = 4_096;

fn random_seed() -> Result<[u8; 32], KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(seed)
}

fn read_file(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.into(), source })
}

fn write_secret_file(path: &Path, content: &str) -> Result<(), KeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io_err = |source| KeyError::Io { path: path.into(), source };
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(content.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

/// Serde helpers: an Ed25519 public key as 64 hex digits.
pub(crate) mod hex_public_key {
    use ed25519_dalek::VerifyingKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(key: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(key.to_bytes()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_public_key(&s, "public key").map_err(serde::de::Error::custom)
    }
}

/// Serde helpers: an optional Ed25519 public key as 64 hex digits.
pub(crate) mod hex_public_key_opt {
    use ed25519_dalek::VerifyingKey;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<T>`
    pub(crate) fn serialize<S: Serializer>(key: &Option<VerifyingKey>, s: S) -> Result<S::Ok, S::Error> {
        match key {
            // `serialize_some`, not the bare string: JSON cannot tell, but postcard writes
            // the option's tag and reads it back.
            Some(k) => s.serialize_some(&hex::encode(k.to_bytes())),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VerifyingKey>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| super::parse_public_key(&s, "public key").map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delegation_survives_its_bytes_and_a_damaged_one_is_refused() {
        let key = EventKey::generate(EventId(7), KeyId(2)).unwrap();
        let device = DeviceKey::from_seed([4; 32]);
        let grant = crate::ticket::DelegationGrant {
            device_key: device.public_key(),
            first_serial: Serial(100),
            last_serial: Serial(199),
            expires: 2_000_000_000,
            ticket_types: vec![TicketTypeId(1), TicketTypeId(3)],
        };
        let signed = key.delegate(grant).unwrap();
        let back = SignedDelegation::from_bytes(&signed.to_bytes()).unwrap();
        assert_eq!(back, signed);
        assert!(back.is_signed_by(&key.public().key));
        let mut bytes = signed.to_bytes();
        bytes.push(0);
        assert!(SignedDelegation::from_bytes(&bytes).is_err(), "trailing byte");
        assert!(SignedDelegation::from_bytes(&bytes[..20]).is_err(), "truncated");
        let mut tampered = signed.to_bytes();
        tampered[10] ^= 1;
        assert!(!SignedDelegation::from_bytes(&tampered).unwrap().is_signed_by(&key.public().key));
    }

    #[test]
    fn event_key_file_round_trips() {
        let key = EventKey::generate(EventId(7), KeyId(2)).unwrap();
        let loaded = EventKey::from_json(&key.to_json()).unwrap();
        assert_eq!(loaded.public(), key.public());
        assert_eq!(loaded.event(), EventId(7));
        assert!(!format!("{key:?}").contains(&hex::encode(key.signing.to_bytes())), "Debug leaks the secret");
    }

    #[test]
    fn a_file_that_is_not_a_key_says_so() {
        let err = EventKey::from_json("hello").unwrap_err();
        assert!(err.to_string().starts_with("not a Voelgoed key file"), "{err}");

        let device = DeviceKey::from_seed([1; 32]).to_json();
        let err = EventKey::from_json(&device).unwrap_err();
        assert_eq!(err.to_string(), "this is a voelgoed-device-key file, but a voelgoed-event-key is needed");

        let bad_hex = device.replace(&hex::encode(DeviceKey::from_seed([1; 32]).public_key()), "abc");
        let err = DeviceKey::from_json(&bad_hex).unwrap_err();
        assert_eq!(err.to_string(), "the public key is not 64 hexadecimal digits");

        let other = hex::encode(DeviceKey::from_seed([2; 32]).public_key());
        let swapped = device.replace(&hex::encode(DeviceKey::from_seed([1; 32]).public_key()), &other);
        assert!(matches!(DeviceKey::from_json(&swapped), Err(KeyError::Mismatch)));
    }

    #[test]
    fn saving_never_overwrites_and_is_private() {
        let dir = std::env::temp_dir().join(format!("vg-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("device.json");
        let _ = std::fs::remove_file(&path);
        let key = DeviceKey::generate().unwrap();
        key.save(&path).unwrap();
        assert!(matches!(key.save(&path), Err(KeyError::Io { .. })), "overwrote a key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(DeviceKey::load(&path).unwrap().public_key(), key.public_key());
        let err = DeviceKey::load(&dir.join("missing.json")).unwrap_err();
        assert!(err.to_string().starts_with("cannot access key file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn weak_public_keys_are_refused() {
        // The identity point: a small-order key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let err = parse_public_key(&hex::encode(identity), "public key").unwrap_err();
        assert!(matches!(err, KeyError::InvalidPublicKey { .. }));
        // Refusals are never remembered as acceptances: the second time is refused too.
        assert!(strict_public_key(&identity).is_none());
        assert!(strict_public_key(&identity).is_none());
    }

    #[test]
    fn a_remembered_key_is_the_key_before_and_after_the_memory_fills() {
        let keys: Vec<[u8; 32]> = (0..u32::try_from(KEYS_REMEMBERED).unwrap() + 10)
            .map(|n| {
                let mut seed = [0u8; 32];
                seed[..4].copy_from_slice(&n.to_le_bytes());
                DeviceKey::from_seed(seed).public_key()
            })
            .collect();
        for bytes in &keys {
            assert_eq!(strict_public_key(bytes).unwrap().to_bytes(), *bytes);
        }
        // Past the bound (the memory was emptied once): still each key, remembered or not.
        for bytes in keys.iter().rev().take(20) {
            assert_eq!(strict_public_key(bytes).unwrap().to_bytes(), *bytes);
        }
    }

    #[test]
    fn a_device_only_signs_what_its_delegation_covers() {
        let event = EventKey::from_seed(EventId(1), KeyId(1), [9; 32]);
        let device = DeviceKey::from_seed([3; 32]);
        let grant = DelegationGrant {
            device_key: device.public_key(),
            first_serial: Serial(100),
            last_serial: Serial(199),
            expires: 2_000_000_000,
            ticket_types: vec![TicketTypeId(1)],
        };
        let d = event.delegate(grant.clone()).unwrap();
        assert!(d.is_signed_by(&event.public().key));
        assert!(!d.is_signed_by(&EventKey::from_seed(EventId(1), KeyId(1), [8; 32]).public().key));
        let now = Timestamp::from_unix_seconds(1_900_000_000);
        let sell = |key: &DeviceKey, serial, ticket_type, now| {
            key.issue(&d, Serial(serial), TicketTypeId(ticket_type), None, now)
        };
        assert!(sell(&device, 150, 1, now).is_ok());
        assert_eq!(sell(&device, 200, 1, now), Err(IssueError::SerialOutOfRange(Serial(200))));
        assert_eq!(sell(&device, 150, 2, now), Err(IssueError::TypeNotAllowed(TicketTypeId(2))));
        let stranger = DeviceKey::from_seed([4; 32]);
        assert_eq!(sell(&stranger, 150, 1, now), Err(IssueError::NotThisDevice));
        let after_expiry = Timestamp::from_unix_seconds(2_000_000_001);
        assert_eq!(sell(&device, 150, 1, after_expiry), Err(IssueError::DelegationExpired));

        let too_many = DelegationGrant { ticket_types: (1..=5).map(TicketTypeId).collect(), ..grant.clone() };
        assert_eq!(event.delegate(too_many), Err(IssueError::TypeCount(5)));
        let weak = DelegationGrant { device_key: [0; 32], ..grant };
        assert_eq!(event.delegate(weak), Err(IssueError::InvalidDeviceKey));
    }
}
