//! The event manifest: what a gate must know about an event to judge a ticket offline.
//!
//! The hub publishes it (keys, ticket types with their entry policies and allowed gates, gates,
//! device names, the clock-skew tolerance); devices keep the last copy they received. It holds
//! public keys only. Loading checks it for contradictions so the validator can trust its shape.
//!
//! Unknown fields are ignored, not refused: a device that has been offline since before a hub
//! upgrade must still read the manifest the newer hub sends.

use crate::ids::{DeviceId, EventId, GateId, KeyId, TicketTypeId};
use crate::keys::PublicEventKey;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use thiserror::Error;

/// How long a validity window or delegation is stretched by default to absorb device clocks
/// that are a little off: five minutes.
pub const DEFAULT_CLOCK_SKEW_TOLERANCE_SECS: u32 = 300;
/// The largest tolerance a manifest may set (a day): more would switch time checks off.
pub const MAX_CLOCK_SKEW_TOLERANCE_SECS: u32 = 86_400;

/// Everything a gate knows about one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventManifest {
    /// The event.
    pub event: EventId,
    /// Its name, for display.
    pub name: String,
    /// Every public key currently valid for the event (several during a rotation).
    pub keys: Vec<PublicEventKey>,
    /// The event's ticket types.
    pub ticket_types: Vec<TicketTypeSpec>,
    /// The event's gates.
    pub gates: Vec<GateSpec>,
    /// Names of known devices, so a verdict can say "scanned by North 2" instead of a number.
    #[serde(default)]
    pub devices: Vec<DeviceName>,
    /// Seconds by which validity windows and delegation expiries are stretched at both ends.
    #[serde(default = "default_tolerance")]
    pub clock_skew_tolerance_secs: u32,
}

fn default_tolerance() -> u32 {
    DEFAULT_CLOCK_SKEW_TOLERANCE_SECS
}

/// A ticket type as the gate needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTypeSpec {
    /// Its id (as in the ticket).
    pub id: TicketTypeId,
    /// Its name ("Weekend pass").
    pub name: String,
    /// How often and in which directions it may pass.
    pub entry_policy: EntryPolicy,
    /// Gates it may use; `None` (or absent) means every gate of the event.
    #[serde(default)]
    pub allowed_gates: Option<Vec<GateId>>,
    /// Its price at the door (box offices sell at it); gates ignore it.
    #[serde(default)]
    pub price: Option<Price>,
}

/// A price: minor units (cents) of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// Amount in minor units.
    pub minor: i64,
    /// ISO 4217 code ("EUR").
    pub currency: String,
}

/// How a ticket type may pass the gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPolicy {
    /// Admitted once; any later entry scan is refused as already inside.
    SingleEntry,
    /// Admitted on every entry scan (a day pass at a venue with no exit scanning).
    MultiEntry,
    /// Leaves through an exit scan and may come back; refused while inside (no pass-back).
    ExitReentry,
}

/// A gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateSpec {
    /// Its id.
    pub id: GateId,
    /// Its name ("North entrance").
    pub name: String,
    /// Which directions it serves.
    #[serde(default)]
    pub serves: GateDirections,
}

/// Which directions a gate serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateDirections {
    /// Entry and exit.
    #[default]
    Both,
    /// Entry only.
    EntryOnly,
    /// Exit only.
    ExitOnly,
}

/// The direction of a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Coming in.
    Entry,
    /// Going out.
    Exit,
}

impl GateDirections {
    /// Whether a scan in `direction` belongs at this gate.
    pub fn allows(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Self::Both, _) | (Self::EntryOnly, Direction::Entry) | (Self::ExitOnly, Direction::Exit)
        )
    }
}

/// A known device: its name, and its key when the hub shared it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceName {
    /// The device.
    pub id: DeviceId,
    /// Its name ("North 2").
    pub name: String,
    /// Its public key, registered at enrollment: peers on the venue LAN accept sync requests
    /// signed by it. A device removed from the manifest (revoked) is refused by every peer.
    /// (Always serialised, `null` when absent: manifests also travel in postcard, which has no
    /// field names and cannot skip one.)
    #[serde(default, with = "crate::keys::hex_public_key_opt")]
    pub public_key: Option<VerifyingKey>,
}

/// A manifest that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManifestError {
    /// Not JSON of the manifest's shape.
    #[error("not a valid event manifest: {0}")]
    Invalid(String),
    /// Two keys share an id.
    #[error("key id {0} appears twice")]
    DuplicateKey(KeyId),
    /// Two ticket types share an id.
    #[error("ticket type {0} appears twice")]
    DuplicateTicketType(TicketTypeId),
    /// Two gates share an id.
    #[error("gate {0} appears twice")]
    DuplicateGate(GateId),
    /// The clock-skew tolerance is larger than [`MAX_CLOCK_SKEW_TOLERANCE_SECS`].
    #[error("clock-skew tolerance of {0} s is more than a day")]
    ToleranceTooLarge(u32),
    /// A ticket type allows a gate the event does not have.
    #[error("ticket type {ticket_type} allows gate {gate}, which the event does not have")]
    UnknownGate {
        /// The ticket type.
        ticket_type: TicketTypeId,
        /// The missing gate.
        gate: GateId,
    },
}

impl EventManifest {
    /// Parses and checks a manifest.
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        let manifest: Self = serde_json::from_str(json).map_err(|e| ManifestError::Invalid(e.to_string()))?;
        manifest.check()?;
        Ok(manifest)
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Refuses duplicate ids, references to gates that do not exist and a tolerance that
    /// would disable time checks.
    pub fn check(&self) -> Result<(), ManifestError> {
        if self.clock_skew_tolerance_secs > MAX_CLOCK_SKEW_TOLERANCE_SECS {
            return Err(ManifestError::ToleranceTooLarge(self.clock_skew_tolerance_secs));
        }
        first_duplicate(self.keys.iter().map(|k| k.id))
            .map_or(Ok(()), |id| Err(ManifestError::DuplicateKey(id)))?;
        first_duplicate(self.ticket_types.iter().map(|t| t.id))
            .map_or(Ok(()), |id| Err(ManifestError::DuplicateTicketType(id)))?;
        first_duplicate(self.gates.iter().map(|g| g.id))
            .map_or(Ok(()), |id| Err(ManifestError::DuplicateGate(id)))?;
        for t in &self.ticket_types {
            for &gate in t.allowed_gates.iter().flatten() {
                if self.gate(gate).is_none() {
                    return Err(ManifestError::UnknownGate { ticket_type: t.id, gate });
                }
            }
        }
        Ok(())
    }

    /// The public key with this id.
    pub fn key(&self, id: KeyId) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.id == id).map(|k| &k.key)
    }

    /// The ticket type with this id.
    pub fn ticket_type(&self, id: TicketTypeId) -> Option<&TicketTypeSpec> {
        self.ticket_types.iter().find(|t| t.id == id)
    }

    /// The gate with this id.
    pub fn gate(&self, id: GateId) -> Option<&GateSpec> {
        self.gates.iter().find(|g| g.id == id)
    }

    /// A device's display name, if the manifest knows it.
    pub fn device_name(&self, id: DeviceId) -> Option<&str> {
        self.devices.iter().find(|d| d.id == id).map(|d| d.name.as_str())
    }
}

impl TicketTypeSpec {
    /// Whether this type may pass `gate`.
    pub fn allows_gate(&self, gate: GateId) -> bool {
        self.allowed_gates.as_ref().is_none_or(|gates| gates.contains(&gate))
    }
}

fn first_duplicate<T: Eq + std::hash::Hash + Copy>(ids: impl Iterator<Item = T>) -> Option<T> {
    let mut seen = HashSet::new();
    ids.into_iter().find(|id| !seen.insert(*id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "event": 1, "name": "Test", "keys": [],
        "ticket_types": [{"id": 1, "name": "GA", "entry_policy": "single_entry", "allowed_gates": [9]}],
        "gates": [{"id": 1, "name": "North"}]
    }"#;

    #[test]
    fn device_keys_survive_postcard_and_json() {
        // Manifests travel in journal entries (postcard) and as files (JSON); a device with a
        // key next to one without must come back identical from both.
        let (_, key, _) = crate::demo::festival();
        let mut manifest = crate::demo::manifest(vec![key.public()]);
        let device_key = crate::keys::DeviceKey::from_seed([3; 32]);
        manifest.devices = vec![
            DeviceName {
                id: DeviceId(1),
                name: "gate".into(),
                public_key: Some(VerifyingKey::from_bytes(&device_key.public_key()).unwrap()),
            },
            DeviceName { id: DeviceId(2), name: "old".into(), public_key: None },
        ];
        let bytes = postcard::to_stdvec(&manifest).unwrap();
        assert_eq!(postcard::from_bytes::<EventManifest>(&bytes).unwrap(), manifest);
        assert_eq!(EventManifest::from_json(&serde_json::to_string(&manifest).unwrap()).unwrap(), manifest);
    }

    #[test]
    fn a_manifest_naming_a_missing_gate_is_refused() {
        assert_eq!(
            EventManifest::from_json(MINIMAL),
            Err(ManifestError::UnknownGate { ticket_type: TicketTypeId(1), gate: GateId(9) })
        );
    }

    #[test]
    fn a_broken_manifest_says_what_is_wrong() {
        let err = EventManifest::from_json(&MINIMAL.replace("single_entry", "twice")).unwrap_err();
        assert!(err.to_string().contains("unknown variant `twice`"), "{err}");
        let err = EventManifest::from_json("[1,2]").unwrap_err();
        assert!(err.to_string().starts_with("not a valid event manifest"), "{err}");
    }

    #[test]
    fn fields_from_a_newer_hub_are_ignored_and_absurd_tolerances_refused() {
        let newer = MINIMAL
            .replace("[9]", "[1]")
            .replace(r#""name": "Test","#, r#""name": "Test", "seating_plan": {},"#);
        assert!(EventManifest::from_json(&newer).is_ok());
        let lax = MINIMAL
            .replace("[9]", "[1]")
            .replace(r#""keys": [],"#, r#""keys": [], "clock_skew_tolerance_secs": 4000000000,"#);
        assert_eq!(EventManifest::from_json(&lax), Err(ManifestError::ToleranceTooLarge(4_000_000_000)));
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let m = EventManifest::from_json(&MINIMAL.replace("[9]", "[1]")).unwrap();
        assert_eq!(m.clock_skew_tolerance_secs, DEFAULT_CLOCK_SKEW_TOLERANCE_SECS);
        assert_eq!(m.gates[0].serves, GateDirections::Both);
        assert!(m.devices.is_empty());
    }
}
